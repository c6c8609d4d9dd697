"""A stack machine that evaluates a compiled user formula as a jet.

A program is ``code`` (int64) and ``consts`` (float64).  ``code[0]`` is the
stack depth the program needs; the instructions follow.  Operands of
``PUSH_CONST`` and ``POW_CONST`` are indices into ``consts``.  The parser in
``surfaces.formula`` is the only producer of programs; it guarantees a valid
stack discipline, so the machine only has to be fast and exact.

Evaluation is jet arithmetic (value, gradient and Hessian at once): a formula
is compiled once and runs inside the same kernels as the built-in surfaces.

A user formula may be undefined somewhere (``1/x`` at 0, ``log`` of a negative):
there the machine returns inf/NaN and never raises.  ``eval_program`` is
compiled with Numba's ``error_model="numpy"`` so that a float division by zero
(also one inside an inlined jet rule, such as ``-1/v²`` of ``log`` for a tiny
``v``) gives inf/NaN instead of raising ZeroDivisionError; integer powers with a
negative exponent go through ``recip`` for the same reason.  Non-finite values
end an optimizer run as diverged.

Semantics (mirrored by ``surfaces.formula.Program.evaluate_numpy``):
``POW_CONST p`` is ``a**p`` (exact repeated multiplication for integer
``|p| ≤ 64``, ``NaN`` for ``a < 0`` and non-integer ``p``); ``POW`` (a
non-constant exponent) is ``exp(b·log a)``, defined only for ``a > 0``;
``LOG`` of ``a ≤ 0`` is NaN.
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
        if p < 0.0:
            # Numba's integer power raises ZeroDivisionError for 0 ** -n; recip gives inf
            return J.recip(J.powi(a, int(-p)))
        return J.powi(a, int(p))
    return J.powc(a, p)


@njit(inline="always", cache=True)
def _pow(a, b):
    """a ** b for two jets: exp(b·log a), defined for a > 0 (NaN for a ≤ 0)."""
    return J.exp(J.mul(b, J.log(a)))


@njit(cache=True, error_model="numpy")
def eval_program(code, consts, x, y):
    """Jet of the program at (x, y); NaN jet for an empty program."""
    nan = math.nan
    if code.size == 0 or code[0] <= 0:
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


#: opcode → mnemonic, for ``disassemble`` and error messages
OPCODE_NAMES = {
    PUSH_X: "PUSH_X",
    PUSH_Y: "PUSH_Y",
    PUSH_CONST: "PUSH_CONST",
    ADD: "ADD",
    SUB: "SUB",
    MUL: "MUL",
    DIV: "DIV",
    POW: "POW",
    NEG: "NEG",
    POW_CONST: "POW_CONST",
    **{op: name.upper() for name, op in UNARY.items()},
}


def validate_program(code, consts) -> int:
    """Check the stack discipline of a program; return the depth it needs.

    Raises ValueError for an unknown opcode, an operand index outside
    ``consts``, a stack underflow, a program that does not leave exactly one
    value, or a ``code[0]`` smaller than the depth actually used.  The machine
    itself does no such checks (it trusts its producer); this is for tests and
    for defensive callers.
    """
    code = np.asarray(code)
    if code.dtype != np.int64 or code.ndim != 1 or code.size < 2:
        raise ValueError("a program is a 1-d int64 array of at least two entries")
    n_consts = np.asarray(consts).size
    sp = 0
    peak = 0
    pc = 1
    while pc < code.size:
        op = int(code[pc])
        pc += 1
        if op not in OPCODE_NAMES:
            raise ValueError(f"unknown opcode {op} at {pc - 1}")
        if op in WITH_OPERAND:
            if pc >= code.size or not 0 <= int(code[pc]) < n_consts:
                raise ValueError(f"bad operand for {OPCODE_NAMES[op]} at {pc - 1}")
            pc += 1
        if op in (PUSH_X, PUSH_Y, PUSH_CONST):
            sp += 1
        elif ADD <= op <= POW:
            if sp < 2:
                raise ValueError(f"stack underflow at {pc - 1}")
            sp -= 1
        elif sp < 1:
            raise ValueError(f"stack underflow at {pc - 1}")
        peak = max(peak, sp)
    if sp != 1:
        raise ValueError(f"the program leaves {sp} values on the stack, not 1")
    if int(code[0]) < peak:
        raise ValueError(f"code[0] = {int(code[0])} is less than the stack depth {peak}")
    return peak


def disassemble(code, consts) -> list[str]:
    """Human-readable listing of a program, one instruction a line."""
    out = [f"depth {int(code[0])}"]
    pc = 1
    while pc < len(code):
        op = int(code[pc])
        pc += 1
        name = OPCODE_NAMES.get(op, f"?{op}")
        if op in WITH_OPERAND:
            out.append(f"{name} {float(consts[int(code[pc])])!r}")
            pc += 1
        else:
            out.append(name)
    return out
