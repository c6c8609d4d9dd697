"""A stack machine that evaluates a compiled user formula as a jet.

A program is ``code`` (int64) and ``consts`` (float64).  ``code[0]`` is the
stack depth the program needs; the instructions follow.  Operands of
``PUSH_CONST`` and ``POW_CONST`` are indices into ``consts``.  The parser in
``surfaces.formula`` is the only producer of programs; it guarantees a valid
stack discipline, so the machine only has to be fast and exact.

Evaluation is jet arithmetic (value, gradient and Hessian at once): a formula
is compiled once and runs inside the same kernels as the built-in surfaces.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from surfaces import _jet as J

PUSH_X = 0
PUSH_Y = 1
PUSH_CONST = 2
ADD = 3
SUB = 4
MUL = 5
DIV = 6
POW = 7
NEG = 8
POW_CONST = 9

SIN = 20
COS = 21
TAN = 22
EXP = 23
LOG = 24
SQRT = 25
ABS = 26
TANH = 27
SINH = 28
COSH = 29
ARCTAN = 30
ARCSIN = 31
ARCCOS = 32
SIGMOID = 33
LOGCOSH = 34

#: opcodes that take one operand from ``consts``
WITH_OPERAND = (PUSH_CONST, POW_CONST)
#: name → opcode of the unary functions a formula may call
UNARY = {
    "sin": SIN,
    "cos": COS,
    "tan": TAN,
    "exp": EXP,
    "log": LOG,
    "sqrt": SQRT,
    "abs": ABS,
    "tanh": TANH,
    "sinh": SINH,
    "cosh": COSH,
    "arctan": ARCTAN,
    "arcsin": ARCSIN,
    "arccos": ARCCOS,
    "sigmoid": SIGMOID,
    "logcosh": LOGCOSH,
}


@njit(inline="always", cache=True)
def _unary(op, a):
    if op == SIN:
        return J.sin(a)
    if op == COS:
        return J.cos(a)
    if op == TAN:
        return J.tan(a)
    if op == EXP:
        return J.exp(a)
    if op == LOG:
        return J.log(a)
    if op == SQRT:
        return J.sqrt(a)
    if op == ABS:
        return J.absval(a)
    if op == TANH:
        return J.tanh(a)
    if op == SINH:
        return J.sinh(a)
    if op == COSH:
        return J.cosh(a)
    if op == ARCTAN:
        return J.arctan(a)
    if op == ARCSIN:
        return J.arcsin(a)
    if op == ARCCOS:
        return J.arccos(a)
    if op == SIGMOID:
        return J.sigmoid(a)
    if op == LOGCOSH:
        return J.logcosh(a)
    return (math.nan, math.nan, math.nan, math.nan, math.nan, math.nan)


@njit(inline="always", cache=True)
def _pow_const(a, p):
    if p == math.floor(p) and abs(p) <= 64.0:
        return J.powi(a, int(p))
    return J.powc(a, p)


@njit(inline="always", cache=True)
def _pow(a, b):
    """a ** b for two jets: exp(b·log a), defined for a > 0."""
    if b[1] == 0.0 and b[2] == 0.0 and b[3] == 0.0 and b[4] == 0.0 and b[5] == 0.0:
        return _pow_const(a, b[0])
    return J.exp(J.mul(b, J.log(a)))


@njit(cache=True)
def eval_program(code, consts, x, y):
    """Jet of the program at (x, y); NaN jet for an empty program."""
    nan = math.nan
    if code.size == 0:
        return (nan, nan, nan, nan, nan, nan)
    depth = code[0]
    st = np.empty((depth, 6))
    sp = 0
    pc = 1
    n = code.size
    while pc < n:
        op = code[pc]
        pc += 1
        if op == PUSH_X or op == PUSH_Y or op == PUSH_CONST:
            if op == PUSH_X:
                j = J.var_x(x)
            elif op == PUSH_Y:
                j = J.var_y(y)
            else:
                j = J.const(consts[code[pc]])
                pc += 1
            for c in range(6):
                st[sp, c] = j[c]
            sp += 1
            continue
        a = (st[sp - 1, 0], st[sp - 1, 1], st[sp - 1, 2], st[sp - 1, 3], st[sp - 1, 4], st[sp - 1, 5])
        if op >= ADD and op <= POW:
            b = a
            sp -= 1
            a = (st[sp - 1, 0], st[sp - 1, 1], st[sp - 1, 2], st[sp - 1, 3], st[sp - 1, 4], st[sp - 1, 5])
            if op == ADD:
                r = J.add(a, b)
            elif op == SUB:
                r = J.sub(a, b)
            elif op == MUL:
                r = J.mul(a, b)
            elif op == DIV:
                r = J.div(a, b)
            else:
                r = _pow(a, b)
        elif op == NEG:
            r = J.neg(a)
        elif op == POW_CONST:
            r = _pow_const(a, consts[code[pc]])
            pc += 1
        else:
            r = _unary(op, a)
        for c in range(6):
            st[sp - 1, c] = r[c]
    return (st[0, 0], st[0, 1], st[0, 2], st[0, 3], st[0, 4], st[0, 5])
