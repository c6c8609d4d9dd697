"""Surfaces from a formula typed by a user, parsed safely.

>>> s = surface_from_formula("sin(x)*y^2 + exp(-x)")
>>> s.formula
'sin(x)*y^2 + exp(-x)'
>>> round(s.value(0.0, 1.0), 12)
1.0

The text is never evaluated as Python.  A hand-written tokenizer and
recursive-descent parser turn it into a small tree, which is checked, constant
folded and compiled to a program for the jet stack machine in ``surfaces._vm``
(value, gradient and Hessian at once, with exact derivative rules).  Programs
are cached per normalized text, so the Numba kernels never compile per formula.

Language (see ``LANGUAGE_HELP``)::

    expr    := term (('+' | '-') term)*
    term    := unary (('*' | '/') unary)*
    unary   := ('+' | '-') unary | power
    power   := primary (('^' | '**') unary)?        # right-associative: 2^3^2 = 2^9
    primary := number | 'x' | 'y' | 'pi' | 'e' | function '(' expr ')' | '(' expr ')'

so ``-x^2 = -(x^2)`` and ``x^-2`` is allowed.  Numbers: ``3``, ``0.5``, ``.5``,
``5.``, ``1e-3``, ``2.5E+4``.  There is no implicit multiplication (``2x`` is
refused with the hint "write 2*x").  Functions take exactly one argument:
sin cos tan exp log (natural; alias ln) sqrt abs tanh sinh cosh arctan (atan)
arcsin (asin) arccos (acos) sigmoid logcosh log10 log2 exp2 sec csc cot.

Semantics: a power whose exponent contains no x or y (``x^3``, ``x^(1/2)``) is
a real power (negative bases allowed for integer exponents); a power whose
exponent depends on x or y is ``exp(b·log a)``, defined only where ``a > 0``.
``log`` of ``a ≤ 0`` and ``sqrt`` of ``a < 0`` are NaN; division by zero is
inf/NaN.  Such non-finite regions are not errors: an optimizer run that steps
into one ends as "diverged".  A constant sub-expression that is not finite
(``1/0``, ``log(-1)``, ``exp(1000)``) is refused, since it is undefined everywhere.

Limits (each refused with a FormulaError that says what and where): at most
500 characters (checked before anything else), nesting depth 50 (brackets,
function calls, unary signs and exponents), 400 nodes (numbers, names and
operations), constant exponents within ±64, numbers that overflow.  Only
printable ASCII is accepted, except that the Unicode minus U+2212 '−' is read as
'-', '×' (U+00D7), '·' (U+00B7) and '⋅' (U+22C5) as '*', and '÷' (U+00F7) as
'/'; anything else (Cyrillic or fullwidth look-alikes, en dashes, control
characters such as newlines or NUL) is refused.

Normalization (``normalize``) re-renders the parse tree canonically: minimal
brackets, '^' for powers, canonical function names, spaces around + and -.  If
that text would exceed the length limit, a compact rendering (no spaces,
shortest numbers and aliases) is used instead, which is never longer than the
input.  ``normalize`` is idempotent and ``parse(normalize(t)) is parse(t)``.
"""

from __future__ import annotations

import functools
import keyword
import math
import unicodedata
from dataclasses import dataclass
from typing import Any

import numpy as np

from surfaces.surface import Surface
from surfaces import _kernels as K
from surfaces import _vm as V
from surfaces.catalog import Minimum

__all__ = [
    "FUNCTIONS",
    "LANGUAGE_HELP",
    "MAX_DEPTH",
    "MAX_EXPONENT",
    "MAX_LENGTH",
    "MAX_NODES",
    "FormulaError",
    "Node",
    "Program",
    "normalize",
    "parse",
    "surface_from_formula",
]

MAX_LENGTH = 500
MAX_DEPTH = 50
MAX_NODES = 400
MAX_EXPONENT = 64.0
MAX_BOUND = 1e6

#: Unicode characters read as ASCII operators (everything else non-ASCII is refused)
REPLACEMENTS = {"\u2212": "-", "\u00d7": "*", "\u00b7": "*", "\u22c5": "*", "\u00f7": "/"}

VARIABLES = ("x", "y")
CONSTANTS = {"pi": math.pi, "e": math.e}
#: canonical function names, in the order the help lists them
FUNCTIONS = (
    "sin", "cos", "tan", "exp", "log", "sqrt", "abs", "tanh", "sinh", "cosh",
    "arctan", "arcsin", "arccos", "sigmoid", "logcosh", "log10", "log2", "exp2", "sec", "csc", "cot",
)  # fmt: skip
ALIASES = {"ln": "log", "atan": "arctan", "asin": "arcsin", "acos": "arccos"}
#: shortest spelling of each function, used by the compact rendering
_SHORTEST = {"log": "ln", "arctan": "atan", "arcsin": "asin", "arccos": "acos"}

_ALIAS_OF = {v: k for k, v in ALIASES.items()}
_ALLOWED_TEXT = ", ".join(
    [*VARIABLES, *CONSTANTS, *(f"{f} ({_ALIAS_OF[f]})" if f in _ALIAS_OF else f for f in FUNCTIONS)]
)

LANGUAGE_HELP = f"""\
Type f(x, y) with x and y, numbers (3, 0.5, 1e-3), + - * / and ^ (or **) for powers,
parentheses, the constants pi and e, and the functions {", ".join(FUNCTIONS)}
(ln, atan, asin, acos are accepted too).  Write every product with * (2*x, not 2x).
Example: sin(x)*y^2 + exp(-x).  Limits: {MAX_LENGTH} characters, {MAX_NODES} terms,
nesting depth {MAX_DEPTH}, constant exponents within ±{MAX_EXPONENT:g}.  The Unicode signs
− × · ÷ are read as - * * /; other non-ASCII characters are refused."""

_DIGITS = "0123456789"
_LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_"
_OPERATORS = "+-*/^()"

#: why a printable ASCII character that is not part of the language is refused
_BAD_CHAR = {
    ",": "functions take exactly one argument, and lists or tuples are not part of formulas",
    ".": "a '.' must be part of a number such as 0.5 (no attribute access)",
    "'": "quotes (strings) are not allowed",
    '"': "quotes (strings) are not allowed",
    "`": "backquotes are not allowed",
    "[": "square brackets (lists, indexing) are not allowed; use ( ) for grouping",
    "]": "square brackets (lists, indexing) are not allowed; use ( ) for grouping",
    "{": "braces are not allowed; use ( ) for grouping",
    "}": "braces are not allowed; use ( ) for grouping",
    ";": "a formula is a single expression (no ';')",
    ":": "':' is not allowed (no slices, dictionaries or lambdas)",
    "=": "write only the expression, e.g. x^2 + y^2 (no '=', assignments or comparisons)",
    "<": "comparisons are not supported",
    ">": "comparisons are not supported",
    "@": "'@' is not an operator here; use * for products",
    "!": "'!' is not supported (no factorial or negation)",
    "%": "'%' (modulo) is not supported",
    "&": "logical and bitwise operators are not supported",
    "|": "'|' is not supported; write abs(...) for absolute values",
    "~": "bitwise operators are not supported",
    "#": "comments ('#') are not allowed",
    "\\": "backslashes are not allowed",
    "$": "'$' is not allowed (type the formula as plain text, not LaTeX)",
    "?": "conditional expressions are not supported",
}
_CONTROL_NAMES = {0: "NUL", 9: "tab", 10: "line feed", 11: "vertical tab", 12: "form feed", 13: "carriage return"}
#: look-alikes of ASCII letters that NFKC does not map (Cyrillic, Greek)
_CONFUSABLES = {
    "\u0445": "x", "\u0425": "X", "\u0443": "y", "\u0423": "Y", "\u0435": "e", "\u0415": "E",
    "\u043e": "o", "\u041e": "O", "\u0430": "a", "\u0410": "A", "\u0441": "c", "\u0421": "C",
    "\u0440": "p", "\u0420": "P", "\u0456": "i", "\u0455": "s", "\u03bf": "o", "\u03c7": "x",
    "\u0391": "A", "\u0395": "E", "\u039f": "O", "\u03a7": "X", "\u03c0": "pi",
    "\u2013": "-", "\u2014": "-", "\u2010": "-", "\u2011": "-", "\u2012": "-", "\ufe63": "-", "\uff0d": "-",
    "\u00a0": " ", "\u2217": "*", "\u2044": "/",
}  # fmt: skip

# precedence of each node kind for rendering (higher binds tighter)
_PREC = {"add": 1, "sub": 1, "mul": 2, "div": 2, "neg": 3, "pow": 4, "num": 5, "var": 5, "const": 5, "call": 5}
_BINARY = {"+": "add", "-": "sub", "*": "mul", "/": "div", "^": "pow"}
_SYMBOL = {v: k for k, v in _BINARY.items()}
_OPCODE = {"add": V.ADD, "sub": V.SUB, "mul": V.MUL, "div": V.DIV}


class FormulaError(ValueError):
    """A formula that cannot be accepted; ``position`` is the 0-based character index (or None)."""

    def __init__(self, message: str, position: int | None = None):
        super().__init__(message)
        self.message = message
        self.position = position

    def __reduce__(self):
        return (type(self), (self.message, self.position))


# ---------------------------------------------------------------------------
# tree


class Node:
    """A node of the parse tree; ``pos``/``end`` locate it in the source text.

    ``kind`` is one of num, var, const, neg, add, sub, mul, div, pow, call;
    ``value`` is the number (num), the name (var, const) or the canonical
    function name (call); ``cval`` is the folded value of a constant subtree
    (one without x and y), else None.
    """

    __slots__ = ("kind", "value", "children", "pos", "end", "cval")

    def __init__(self, kind: str, value: Any, children: tuple[Node, ...], pos: int, end: int):
        self.kind = kind
        self.value = value
        self.children = children
        self.pos = pos
        self.end = end
        self.cval: float | None = None

    def key(self) -> tuple:
        """Structure without positions, for comparing trees."""
        return (self.kind, self.value, tuple(c.key() for c in self.children))

    def __repr__(self) -> str:
        return f"Node({render(self)!r})"


# ---------------------------------------------------------------------------
# numpy semantics (shared by constant folding and Program.evaluate_numpy)

_LN10 = math.log(10.0)
_LN2 = math.log(2.0)


def _np_log(a):
    return np.where(a > 0, np.log(np.where(a > 0, a, 1.0)), np.nan)


def _np_sqrt(a):
    return np.where(a >= 0, np.sqrt(np.where(a >= 0, a, 0.0)), np.nan)


def _np_sigmoid(a):
    e = np.exp(-np.abs(a))
    return np.where(a >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def _np_logcosh(a):
    b = np.abs(a)
    return b + np.log1p(np.exp(-2.0 * b)) - _LN2


_NP_FUNCS = {
    "sin": np.sin,
    "cos": np.cos,
    "tan": np.tan,
    "exp": np.exp,
    "log": _np_log,
    "sqrt": _np_sqrt,
    "abs": np.abs,
    "tanh": np.tanh,
    "sinh": np.sinh,
    "cosh": np.cosh,
    "arctan": np.arctan,
    "arcsin": np.arcsin,
    "arccos": np.arccos,
    "sigmoid": _np_sigmoid,
    "logcosh": _np_logcosh,
    "log10": lambda a: _np_log(a) * (1.0 / _LN10),
    "log2": lambda a: _np_log(a) * (1.0 / _LN2),
    "exp2": lambda a: np.exp(a * _LN2),
    "sec": lambda a: 1.0 / np.cos(a),
    "csc": lambda a: 1.0 / np.sin(a),
    "cot": lambda a: 1.0 / np.tan(a),
}


def _np_pow_const(a, p: float):
    if p == math.floor(p) and abs(p) <= MAX_EXPONENT:
        if p < 0:
            return 1.0 / np.power(a, -p)
        return np.power(a, p)
    return np.where(a >= 0, np.power(np.abs(a), p), np.nan)


def _np_node(node: Node, args: list, x, y):
    """Value of one node given its children's values (numpy, errors ignored by the caller)."""
    k = node.kind
    if node.cval is not None:
        return np.float64(node.cval)
    if k == "num":
        return np.float64(node.value)
    if k == "const":
        return np.float64(CONSTANTS[node.value])
    if k == "var":
        return x if node.value == "x" else y
    if k == "neg":
        return -args[0]
    if k == "add":
        return args[0] + args[1]
    if k == "sub":
        return args[0] - args[1]
    if k == "mul":
        return args[0] * args[1]
    if k == "div":
        return args[0] * (1.0 / args[1])
    if k == "pow":
        b = node.children[1]
        if b.cval is not None:
            return _np_pow_const(args[0], b.cval)
        return np.exp(args[1] * _np_log(args[0]))
    return _NP_FUNCS[node.value](args[0])


def _evaluate_numpy(node: Node, x, y):
    return _np_node(node, [] if node.cval is not None else [_evaluate_numpy(c, x, y) for c in node.children], x, y)


# ---------------------------------------------------------------------------
# tokenizer

_NUM, _NAME, _OP, _END = "number", "name", "operator", "end"


class _Token:
    __slots__ = ("kind", "text", "pos", "value")

    def __init__(self, kind: str, text: str, pos: int, value: Any = None):
        self.kind = kind
        self.text = text
        self.pos = pos
        self.value = value

    def describe(self) -> str:
        if self.kind == _END:
            return "the end of the formula"
        return f"'{_clip(self.text)}'"


def _clip(s: str, n: int = 30) -> str:
    return s if len(s) <= n else s[: n - 1] + "…"


def _char_error(c: str, i: int) -> FormulaError:
    o = ord(c)
    if o < 32 or o == 127:
        name = _CONTROL_NAMES.get(o, "control character")
        return FormulaError(
            f"control character U+{o:04X} ({name}) at position {i} is not allowed; "
            "a formula is a single line of plain text",
            i,
        )
    if o < 128:
        why = _BAD_CHAR.get(c, "it is not part of the formula language")
        return FormulaError(f"character '{c}' at position {i} is not allowed: {why}", i)
    try:
        uname = unicodedata.name(c)
    except ValueError:
        uname = "unnamed character"
    plain = _CONFUSABLES.get(c) or unicodedata.normalize("NFKC", c)
    hint = ""
    if plain and plain.isascii() and plain.isprintable() and plain != c:
        hint = f"; it looks like '{plain}': type the plain ASCII character"
    return FormulaError(
        f"non-ASCII character U+{o:04X} ({uname}) at position {i} is not allowed{hint}. "
        "Use plain ASCII (the signs − × · ÷ are accepted as - * * /)",
        i,
    )


def _name_error(name: str, pos: int) -> FormulaError:
    shown = _clip(name)
    if keyword.iskeyword(name) or keyword.issoftkeyword(name):
        what = f"'{shown}' at position {pos} is a Python keyword, not part of the formula language"
    elif name.startswith("_") or "_" in name:
        what = f"unknown name '{shown}' at position {pos} (names with underscores are not allowed)"
    else:
        what = f"unknown name '{shown}' at position {pos}"
    hint = _name_hint(name)
    return FormulaError(f"{what}; allowed: {_ALLOWED_TEXT}{hint}", pos)


def _name_hint(name: str) -> str:
    low = name.lower()
    if low != name and (low in VARIABLES or low in CONSTANTS or low in FUNCTIONS or low in ALIASES):
        return f". Names are lowercase: write '{low}'"
    for f in sorted(list(FUNCTIONS) + list(ALIASES), key=len, reverse=True):
        rest = name[len(f) :]
        if name.startswith(f) and rest and _split_names(rest) is not None:
            return f". Functions need parentheses: write {f}({'*'.join(_split_names(rest))})"
    parts = _split_names(name)
    if parts and len(parts) > 1:
        return f". There is no implicit multiplication: write {'*'.join(parts)}"
    return ""


def _split_names(s: str) -> list[str] | None:
    """Split s into variables, constants and digit runs, or None."""
    out: list[str] = []
    i = 0
    while i < len(s):
        if s[i] in _DIGITS:
            j = i
            while j < len(s) and s[j] in _DIGITS:
                j += 1
            out.append(s[i:j])
            i = j
            continue
        for n in ("pi", "x", "y", "e"):
            if s.startswith(n, i):
                out.append(n)
                i += len(n)
                break
        else:
            return None
    return out


def _tokenize(text: str) -> list[_Token]:
    toks: list[_Token] = []
    n = len(text)
    i = 0
    while i < n:
        c = text[i]
        if c == " ":
            i += 1
            continue
        c = REPLACEMENTS.get(c, c)
        if c in _DIGITS or (c == "." and i + 1 < n and text[i + 1] in _DIGITS):
            j = i
            while j < n and text[j] in _DIGITS:
                j += 1
            if j < n and text[j] == ".":
                j += 1
                while j < n and text[j] in _DIGITS:
                    j += 1
            if j < n and text[j] in "eE":
                k = j + 1
                if k < n and text[k] in "+-":
                    k += 1
                if k < n and text[k] in _DIGITS:
                    while k < n and text[k] in _DIGITS:
                        k += 1
                    j = k
            if j < n and text[j] == ".":
                raise FormulaError(f"malformed number '{_clip(text[i : j + 1])}' at position {i}", i)
            lit = text[i:j]
            value = float(lit)  # a validated decimal literal, never Python code
            if not math.isfinite(value):
                raise FormulaError(
                    f"number '{_clip(lit)}' at position {i} is too large (it overflows to infinity)", i
                )
            toks.append(_Token(_NUM, lit, i, value))
            i = j
        elif c in _LETTERS:
            j = i
            while j < n and (text[j] in _LETTERS or text[j] in _DIGITS):
                j += 1
            name = text[i:j]
            if j < n and ord(text[j]) > 127 and text[j] not in REPLACEMENTS:
                raise _char_error(text[j], j)  # a look-alike inside a name: report the character
            if name in VARIABLES or name in CONSTANTS or name in FUNCTIONS:
                canon = name
            elif name in ALIASES:
                canon = ALIASES[name]
            else:
                raise _name_error(name, i)
            toks.append(_Token(_NAME, name, i, canon))
            i = j
        elif c in _OPERATORS:
            if c == "*" and i + 1 < n and REPLACEMENTS.get(text[i + 1], text[i + 1]) == "*":
                toks.append(_Token(_OP, "**", i, "^"))
                i += 2
                continue
            if c == "/" and i + 1 < n and REPLACEMENTS.get(text[i + 1], text[i + 1]) == "/":
                raise FormulaError(f"'//' at position {i} is not supported; use / for division", i)
            toks.append(_Token(_OP, text[i], i, c))
            i += 1
        else:
            raise _char_error(text[i], i)
    toks.append(_Token(_END, "", n))
    return toks


# ---------------------------------------------------------------------------
# parser


class _Parser:
    def __init__(self, text: str):
        self.text = text
        self.toks = _tokenize(text)
        self.i = 0
        self.depth = 0
        self.nodes = 0

    @property
    def tok(self) -> _Token:
        return self.toks[self.i]

    def _advance(self) -> _Token:
        t = self.toks[self.i]
        self.i += 1
        return t

    def _enter(self, pos: int) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise FormulaError(
                f"nesting too deep at position {pos}: at most {MAX_DEPTH} levels of brackets, "
                "function calls, signs and exponents",
                pos,
            )

    def _leave(self) -> None:
        self.depth -= 1

    def _node(self, kind: str, value: Any, children: tuple[Node, ...], pos: int, end: int, at: int = -1) -> Node:
        self.nodes += 1
        if self.nodes > MAX_NODES:
            at = pos if at < 0 else at
            raise FormulaError(
                f"formula too large at position {at}: at most {MAX_NODES} numbers, names and operations", at
            )
        node = Node(kind, value, children, pos, end)
        if kind == "num":
            node.cval = float(value)
        elif kind == "const":
            node.cval = CONSTANTS[value]
        elif children and all(c.cval is not None for c in children):
            with np.errstate(all="ignore"):
                v = float(_np_node(node, [np.float64(c.cval) for c in children], None, None))
            if not math.isfinite(v):
                snippet = _clip(self.text[pos:end], 40)
                raise FormulaError(
                    f"the constant expression '{snippet}' at position {pos} is not finite ({v}): "
                    f"{_why_not_finite(node)}",
                    pos,
                )
            node.cval = v
        return node

    def parse(self) -> Node:
        if self.tok.kind == _END:
            raise FormulaError("empty formula: type an expression in x and y, e.g. x^2 + y^2", 0)
        node = self.expr()
        t = self.tok
        if t.kind != _END:
            if t.kind == _OP and t.value == ")":
                raise FormulaError(f"unmatched ')' at position {t.pos}", t.pos)
            raise self._unexpected(t)
        return node

    def expr(self) -> Node:
        node = self.term()
        while self.tok.kind == _OP and self.tok.value in "+-":
            op = self._advance()
            rhs = self.term()
            node = self._node(_BINARY[op.value], op.value, (node, rhs), node.pos, rhs.end, op.pos)
        return node

    def term(self) -> Node:
        node = self.unary()
        while True:
            t = self.tok
            if t.kind == _OP and t.value in "*/":
                self._advance()
                rhs = self.unary()
                node = self._node(_BINARY[t.value], t.value, (node, rhs), node.pos, rhs.end, t.pos)
            elif t.kind in (_NUM, _NAME) or (t.kind == _OP and t.value == "("):
                raise self._juxtaposed(t)
            else:
                return node

    def unary(self) -> Node:
        t = self.tok
        if t.kind == _OP and t.value in "+-":
            self._advance()
            self._enter(t.pos)
            operand = self.unary()
            self._leave()
            if t.value == "+":
                return operand
            return self._node("neg", "-", (operand,), t.pos, operand.end)
        return self.power()

    def power(self) -> Node:
        base = self.primary()
        t = self.tok
        if t.kind == _OP and t.value == "^":
            self._advance()
            self._enter(t.pos)
            exponent = self.unary()
            self._leave()
            p = exponent.cval
            if p is not None and abs(p) > MAX_EXPONENT:
                raise FormulaError(
                    f"exponent {p:.6g} at position {exponent.pos} is too large: constant exponents must be "
                    f"within ±{MAX_EXPONENT:g}",
                    exponent.pos,
                )
            return self._node("pow", "^", (base, exponent), base.pos, exponent.end, t.pos)
        return base

    def primary(self) -> Node:
        t = self.tok
        if t.kind == _NUM:
            self._advance()
            return self._node("num", t.value, (), t.pos, t.pos + len(t.text))
        if t.kind == _NAME:
            self._advance()
            name = t.value
            end = t.pos + len(t.text)
            if name in VARIABLES:
                return self._node("var", name, (), t.pos, end)
            if name in CONSTANTS:
                return self._node("const", name, (), t.pos, end)
            nxt = self.tok
            if not (nxt.kind == _OP and nxt.value == "("):
                if nxt.kind == _OP and nxt.value == "^":
                    hint = f"write {t.text}(...)^2, not {t.text}^2(...)"
                else:
                    hint = f"write {t.text}(...)"
                raise FormulaError(
                    f"function '{t.text}' at position {t.pos} needs its argument in parentheses: {hint}", t.pos
                )
            self._advance()
            self._enter(nxt.pos)
            if self.tok.kind == _OP and self.tok.value == ")":
                raise FormulaError(
                    f"function '{t.text}' needs an argument: nothing between the parentheses at position "
                    f"{self.tok.pos}",
                    self.tok.pos,
                )
            arg = self.expr()
            close = self._close(nxt)
            self._leave()
            return self._node("call", name, (arg,), t.pos, close.pos + 1)
        if t.kind == _OP and t.value == "(":
            self._advance()
            self._enter(t.pos)
            if self.tok.kind == _OP and self.tok.value == ")":
                raise FormulaError(f"empty parentheses at position {t.pos}", t.pos)
            inner = self.expr()
            close = self._close(t)
            self._leave()
            # the brackets belong to the sub-expression's span (for error snippets)
            inner.pos, inner.end = t.pos, close.pos + 1
            return inner
        if t.kind == _END:
            prev = self.toks[self.i - 1] if self.i else None
            after = f" after '{prev.text}'" if prev is not None else ""
            raise FormulaError(
                f"unexpected end of formula at position {t.pos}{after}: expected a number, a name or '('", t.pos
            )
        if t.value == ")":
            raise FormulaError(f"unexpected ')' at position {t.pos}: expected a number, a name or '('", t.pos)
        raise FormulaError(
            f"unexpected '{t.text}' at position {t.pos}: expected a number, a name or '(' here", t.pos
        )

    def _close(self, opener: _Token) -> _Token:
        t = self.tok
        if t.kind == _OP and t.value == ")":
            return self._advance()
        if t.kind == _END:
            raise FormulaError(f"unclosed '(' at position {opener.pos}: add ')'", opener.pos)
        raise self._unexpected(t)

    def _unexpected(self, t: _Token) -> FormulaError:
        if t.kind in (_NUM, _NAME) or (t.kind == _OP and t.value == "("):
            return self._juxtaposed(t)
        return FormulaError(f"unexpected {t.describe()} at position {t.pos}", t.pos)

    def _juxtaposed(self, t: _Token) -> FormulaError:
        prev = self.toks[self.i - 1]
        if prev.kind in (_NUM, _NAME) and t.kind in (_NUM, _NAME):
            hint = f"write {prev.text}*{t.text}"
        else:
            hint = "write * for products, e.g. 2*x or (x + 1)*(x - 1)"
        return FormulaError(
            f"missing operator between '{_clip(prev.text)}' and '{_clip(t.text)}' at position {t.pos}: "
            f"implicit multiplication is not supported; {hint}",
            t.pos,
        )


def _why_not_finite(node: Node) -> str:
    k = node.kind
    args = [c.cval for c in node.children]
    if k == "div" and args[1] == 0:
        return "division by zero"
    if k == "call" and node.value in ("log", "log10", "log2") and args[0] <= 0:
        return "logarithm of a number that is not positive"
    if k == "call" and node.value == "sqrt" and args[0] < 0:
        return "square root of a negative number"
    if k == "call" and node.value in ("arcsin", "arccos") and abs(args[0]) > 1:
        return f"{node.value} is defined on [-1, 1] only"
    if k == "pow" and args[0] < 0 and args[1] != math.floor(args[1]):
        return "a negative number to a fractional power"
    if k == "pow" and args[0] == 0 and args[1] < 0:
        return "zero to a negative power"
    return "the result overflows or is undefined"


def _parse_tree(text: Any) -> Node:
    if not isinstance(text, str):
        raise FormulaError(f"a formula must be text, got {type(text).__name__}", None)
    if len(text) > MAX_LENGTH:
        raise FormulaError(
            f"formula too long: {len(text)} characters (at most {MAX_LENGTH})", MAX_LENGTH
        )
    return _Parser(text).parse()


# ---------------------------------------------------------------------------
# rendering: canonical text, compact text, LaTeX


def _format_number(v: float, compact: bool) -> str:
    if not compact:
        if v.is_integer() and abs(v) < 1e16:
            return str(int(v))
        r = repr(v)
        if "e" in r:
            mant, ex = r.split("e")
            return f"{mant}e{int(ex)}"
        return r
    # the shortest literal that reads back as v: positional or integer-mantissa scientific
    if v == 0:
        return "0"
    r = repr(v)
    mant, _, ex = r.partition("e")
    exp10 = int(ex) if ex else 0
    ip, _, fp = mant.partition(".")
    if fp == "0":
        fp = ""
    digits = (ip + fp).lstrip("0")
    exp10 -= len(fp)  # v = int(ip+fp) * 10^exp10
    stripped = digits.rstrip("0")
    exp10 += len(digits) - len(stripped)
    digits = stripped
    sci = f"{digits}e{exp10}" if exp10 else digits
    if exp10 >= 0:
        pos = digits + "0" * exp10
    elif -exp10 < len(digits):
        pos = digits[:exp10] + "." + digits[exp10:]
    else:
        pos = "." + "0" * (-exp10 - len(digits)) + digits
    return pos if len(pos) <= len(sci) else sci


def render(node: Node, compact: bool = False) -> str:
    """Text of a tree with minimal brackets (parses back to the same tree)."""
    k = node.kind
    if k == "num":
        return _format_number(node.value, compact)
    if k in ("var", "const"):
        return node.value
    if k == "call":
        name = _SHORTEST.get(node.value, node.value) if compact else node.value
        return f"{name}({render(node.children[0], compact)})"
    if k == "neg":
        c = node.children[0]
        s = render(c, compact)
        return "-" + (f"({s})" if _PREC[c.kind] < 3 else s)
    left, right = node.children
    p = _PREC[k]
    ls = render(left, compact)
    rs = render(right, compact)
    if k == "pow":
        if _PREC[left.kind] < 5:
            ls = f"({ls})"
        if _PREC[right.kind] < 3:
            rs = f"({rs})"
    else:
        if _PREC[left.kind] < p:
            ls = f"({ls})"
        if _PREC[right.kind] <= p:
            rs = f"({rs})"
    sym = _SYMBOL[k]
    if p == 1 and not compact:
        return f"{ls} {sym} {rs}"
    return f"{ls}{sym}{rs}"


_LATEX_FUNCS = {
    "sin": r"\sin",
    "cos": r"\cos",
    "tan": r"\tan",
    "log": r"\ln",
    "tanh": r"\tanh",
    "sinh": r"\sinh",
    "cosh": r"\cosh",
    "arctan": r"\arctan",
    "arcsin": r"\arcsin",
    "arccos": r"\arccos",
    "sigmoid": r"\sigma",
    "logcosh": r"\log\cosh",
    "log10": r"\log_{10}",
    "log2": r"\log_{2}",
    "sec": r"\sec",
    "csc": r"\csc",
    "cot": r"\cot",
}


def _latex_number(v: float) -> str:
    s = _format_number(v, False)
    if "e" in s:
        mant, ex = s.split("e")
        return (f"{mant} \\times " if mant != "1" else "") + f"10^{{{int(ex)}}}"
    return s


def _paren(s: str) -> str:
    return rf"\left({s}\right)"


def latex(node: Node) -> str:
    """LaTeX of a tree (brackets only where the structure needs them)."""
    k = node.kind
    if k == "num":
        return _latex_number(node.value)
    if k == "var":
        return node.value
    if k == "const":
        return r"\pi" if node.value == "pi" else "e"
    if k == "call":
        arg = latex(node.children[0])
        f = node.value
        if f == "sqrt":
            return rf"\sqrt{{{arg}}}"
        if f == "abs":
            return rf"\left|{arg}\right|"
        if f == "exp":
            return f"e^{{{arg}}}"
        if f == "exp2":
            return f"2^{{{arg}}}"
        return _LATEX_FUNCS[f] + _paren(arg)
    if k == "neg":
        c = node.children[0]
        s = latex(c)
        return "-" + (_paren(s) if (_PREC[c.kind] < 3 and c.kind != "div") or c.kind == "neg" else s)
    left, right = node.children
    if k == "div":
        return rf"\frac{{{latex(left)}}}{{{latex(right)}}}"
    ls, rs = latex(left), latex(right)
    if k == "pow":
        atomic = left.kind in ("var", "const") or (left.kind == "num" and "times" not in ls and "^" not in ls)
        atomic = atomic or (left.kind == "call" and left.value not in ("exp", "exp2"))
        return f"{ls if atomic else _paren(ls)}^{{{rs}}}"
    if k in ("add", "sub"):
        if _PREC[right.kind] <= 1 or right.kind == "neg":
            rs = _paren(rs)
        return f"{ls} {'+' if k == 'add' else '-'} {rs}"
    # mul
    if _PREC[left.kind] < 2:
        ls = _paren(ls)
    if (_PREC[right.kind] <= 2 and right.kind != "div") or right.kind == "neg":
        rs = _paren(rs)
    if left.kind == "num" and "times" not in ls and right.kind not in ("num", "neg") and not rs[0].isdigit():
        return f"{ls}{rs}" if rs.startswith("\\") else f"{ls} {rs}"
    return rf"{ls} \cdot {rs}"


# ---------------------------------------------------------------------------
# compiler


def _compile_tree(tree: Node) -> tuple[np.ndarray, np.ndarray]:
    code: list[int] = [0]
    consts: list[float] = []
    index: dict[tuple[float, float], int] = {}

    def const(v: float) -> int:
        key = (v, math.copysign(1.0, v))
        if key not in index:
            index[key] = len(consts)
            consts.append(v)
        return index[key]

    def emit(n: Node) -> int:
        """Append n's code; return the stack depth it needs."""
        if n.cval is not None:
            code.extend((V.PUSH_CONST, const(n.cval)))
            return 1
        k = n.kind
        if k == "var":
            code.append(V.PUSH_X if n.value == "x" else V.PUSH_Y)
            return 1
        if k == "neg":
            d = emit(n.children[0])
            code.append(V.NEG)
            return d
        if k == "pow" and n.children[1].cval is not None:
            d = emit(n.children[0])
            code.extend((V.POW_CONST, const(n.children[1].cval)))
            return d
        if k in _OPCODE or k == "pow":
            d1 = emit(n.children[0])
            d2 = emit(n.children[1])
            code.append(V.POW if k == "pow" else _OPCODE[k])
            return max(d1, d2 + 1)
        # function call, desugared onto the machine's unary functions
        f = n.value
        d = emit(n.children[0])
        if f in V.UNARY:
            code.append(V.UNARY[f])
        elif f in ("log10", "log2"):
            code.extend((V.LOG, V.PUSH_CONST, const(1.0 / (_LN10 if f == "log10" else _LN2)), V.MUL))
            d = max(d, 2)
        elif f == "exp2":
            code.extend((V.PUSH_CONST, const(_LN2), V.MUL, V.EXP))
            d = max(d, 2)
        else:  # sec, csc, cot
            code.extend(({"sec": V.COS, "csc": V.SIN, "cot": V.TAN}[f], V.POW_CONST, const(-1.0)))
        return d

    code[0] = emit(tree)
    return np.array(code, dtype=np.int64), np.array(consts, dtype=np.float64)


@dataclass(frozen=True, eq=False)
class Program:
    """A compiled formula: normalized text, parse tree and stack-machine program."""

    text: str
    tree: Node
    code: np.ndarray
    consts: np.ndarray
    latex: str
    n_nodes: int

    @property
    def uses(self) -> frozenset[str]:
        """The variables the formula depends on."""
        out: set[str] = set()
        stack = [self.tree]
        while stack:
            n = stack.pop()
            if n.kind == "var":
                out.add(n.value)
            stack.extend(n.children)
        return frozenset(out)

    def evaluate_numpy(self, x: Any, y: Any) -> np.ndarray:
        """Value of the formula by direct numpy evaluation of the tree (no derivatives).

        Same semantics as the stack machine (NaN for log of a ≤ 0 and so on); an
        independent reference for tests.
        """
        xa = np.asarray(x, dtype=np.float64)
        ya = np.asarray(y, dtype=np.float64)
        xa, ya = np.broadcast_arrays(xa, ya)
        with np.errstate(all="ignore"):
            v = _evaluate_numpy(self.tree, xa, ya)
        return np.broadcast_to(np.asarray(v, dtype=np.float64), xa.shape).copy()

    def jet(self, x: Any, y: Any) -> np.ndarray:
        """Jets (value, gradient, Hessian) from the stack machine, shape ``broadcast(x, y).shape + (6,)``."""
        return _bare_surface(self).jet(x, y)

    def disassemble(self) -> list[str]:
        return V.disassemble(self.code, self.consts)


def _count(node: Node) -> int:
    n = 0
    stack = [node]
    while stack:
        c = stack.pop()
        n += 1
        stack.extend(c.children)
    return n


def normalize(text: str) -> str:
    """Canonical text of a formula (FormulaError if it is not acceptable); idempotent."""
    tree = _parse_tree(text)
    pretty = render(tree)
    if len(pretty) <= MAX_LENGTH:
        return pretty
    return render(tree, compact=True)


@functools.lru_cache(maxsize=256)
def _compile(norm: str) -> Program:
    tree = _parse_tree(norm)
    code, consts = _compile_tree(tree)
    V.validate_program(code, consts)
    return Program(text=norm, tree=tree, code=code, consts=consts, latex=latex(tree), n_nodes=_count(tree))


def parse(text: str) -> Program:
    """The compiled program of a formula; the same object for the same normalized text."""
    return _compile(normalize(text))


# ---------------------------------------------------------------------------
# surfaces

_BOUND_NAMES = ("xmin", "xmax", "ymin", "ymax")
_DEFAULT_BOUNDS = {"xmin": -5.0, "xmax": 5.0, "ymin": -5.0, "ymax": 5.0}
#: preferred default starts, as fractions of the half-width from the centre of the box
_START_FRACTIONS = ((-0.6, 0.7), (0.7, 0.6), (-0.7, -0.6), (0.6, -0.7), (0.8, 0.3), (-0.3, 0.8), (-0.8, -0.3))
_GRID = 25
_MAX_MINIMA = 6
_POLISH_BUDGET = 600  # evaluations for all Newton polishes of one surface


def _bounds(params: dict[str, Any]) -> tuple[tuple[float, float], tuple[float, float]]:
    unknown = sorted(set(params) - set(_BOUND_NAMES))
    if unknown:
        raise ValueError(
            f"formula surfaces have no parameter {unknown[0]!r} (parameters: {', '.join(_BOUND_NAMES)})"
        )
    vals = {}
    for name in _BOUND_NAMES:
        raw = params.get(name, _DEFAULT_BOUNDS[name])
        if isinstance(raw, bool):
            raise ValueError(f"{name} must be a number, got {raw!r}")
        try:
            v = float(raw)
        except (TypeError, ValueError):
            raise ValueError(f"{name} must be a number, got {_clip(repr(raw))}") from None
        if not math.isfinite(v) or abs(v) > MAX_BOUND:
            raise ValueError(f"{name} must be finite and within ±{MAX_BOUND:g}, got {_clip(repr(raw))}")
        vals[name] = v
    for lo, hi in (("xmin", "xmax"), ("ymin", "ymax")):
        if not vals[lo] < vals[hi]:
            raise ValueError(f"{lo} must be less than {hi}, got {vals[lo]:g} and {vals[hi]:g}")
    return (vals["xmin"], vals["xmax"]), (vals["ymin"], vals["ymax"])


def _bare_surface(program: Program, bounds=((-5.0, 5.0), (-5.0, 5.0)), **meta: Any) -> Surface:
    """A Surface that evaluates ``program`` (its own copies of the arrays), without analysis."""
    fields: dict[str, Any] = {
        "display_name": "f(x, y)",
        "description": "",
        "latex": program.latex,
        "starts": (),
        "minima": (),
        **meta,
    }
    return Surface(
        name="formula",
        sid=K.CUSTOM,
        bounds=bounds,
        log_contour=False,
        formula=program.text,
        code=program.code.copy(),
        consts=program.consts.copy(),
        **fields,
    )


def _jets(program: Program, xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
    return program.jet(np.ravel(xs), np.ravel(ys))


def _nice(v: float, half_width: float) -> float:
    """v rounded to about a thousandth of the box, for a tidy start point."""
    q = 10.0 ** (math.floor(math.log10(half_width)) - 2)
    return float(f"{round(v / q) * q:.12g}")


@functools.lru_cache(maxsize=128)
def _analyse(norm: str, bounds: tuple[tuple[float, float], tuple[float, float]]):
    """Default starts and (numerically polished) strict local minima in the box."""
    program = _compile(norm)
    (x0, x1), (y0, y1) = bounds
    cx, cy, hx, hy = 0.5 * (x0 + x1), 0.5 * (y0 + y1), 0.5 * (x1 - x0), 0.5 * (y1 - y0)
    span = max(x1 - x0, y1 - y0)

    # starts: preferred points where f and ∇f are finite and ∇f ≠ 0
    cand = np.array([(_nice(cx + fx * hx, hx), _nice(cy + fy * hy, hy)) for fx, fy in _START_FRACTIONS])
    cand[:, 0] = np.clip(cand[:, 0], x0, x1)
    cand[:, 1] = np.clip(cand[:, 1], y0, y1)
    j = _jets(program, cand[:, 0], cand[:, 1])
    finite = np.all(np.isfinite(j[:, :3]), axis=1)
    moving = finite & (np.hypot(j[:, 1], j[:, 2]) > 0)
    xs = np.linspace(x0, x1, _GRID)
    ys = np.linspace(y0, y1, _GRID)
    gx, gy = np.meshgrid(xs, ys)
    gj = _jets(program, gx, gy)
    gfin = np.all(np.isfinite(gj[:, :3]), axis=1)
    starts: list[tuple[float, float]] = [tuple(map(float, p)) for p in cand[moving][:2]]
    if not starts:
        pick = finite if finite.any() else None
        if pick is not None:
            starts = [tuple(map(float, cand[np.argmax(pick)]))]
        elif gfin.any():
            # the finite grid point closest to 65 % of the way from the centre to the edge
            r = np.hypot((gx.ravel() - cx) / hx, (gy.ravel() - cy) / hy)
            score = np.where(gfin, np.abs(r - 0.65), np.inf)
            k = int(np.argmin(score))
            starts = [(float(gx.ravel()[k]), float(gy.ravel()[k]))]
        else:
            raise FormulaError(
                f"f(x, y) = {_clip(norm, 60)} is not finite anywhere on a {_GRID}×{_GRID} grid over the box "
                f"[{x0:g}, {x1:g}] × [{y0:g}, {y1:g}]; check the formula or the bounds",
                None,
            )

    # minima: damped Newton from the lowest grid points that are local minima of the grid
    v = np.where(gfin, gj[:, 0], np.inf).reshape(_GRID, _GRID)
    pad = np.pad(v, 1, constant_values=np.inf)
    nb = np.stack([pad[1 + di : 1 + di + _GRID, 1 + dj : 1 + dj + _GRID]
                   for di in (-1, 0, 1) for dj in (-1, 0, 1) if di or dj])  # fmt: skip
    local = np.isfinite(v) & np.all(v <= nb, axis=0)
    order = np.argsort(v[local])[:_MAX_MINIMA]
    seeds = np.column_stack([gx[local], gy[local]])[order]
    found: list[tuple[float, float, float]] = []
    budget = [_POLISH_BUDGET]
    for seed in seeds:
        m = _polish(program, seed, span, budget)
        if m is None:
            continue
        px, py, pv = m
        if not (x0 - 1e-9 * span <= px <= x1 + 1e-9 * span and y0 - 1e-9 * span <= py <= y1 + 1e-9 * span):
            continue
        if any(math.hypot(px - qx, py - qy) <= 1e-6 * span for qx, qy, _ in found):
            continue
        found.append((px, py, pv))
    found.sort(key=lambda m: m[2])
    lowest_grid = float(np.min(v)) if np.isfinite(v).any() else math.inf
    minima = []
    if found:
        # "global" (within the box): as low as the lowest polished minimum and the lowest grid value
        best = min(found[0][2], lowest_grid)
        tol = 1e-9 * (1.0 + abs(best))
        for px, py, pv in found:
            minima.append(Minimum(px, py, pv, "global" if pv <= best + tol else "local"))
    return tuple(starts), tuple(minima)


def _polish(program: Program, seed: np.ndarray, span: float, budget: list[int]) -> tuple[float, float, float] | None:
    """Damped Newton from seed; (x, y, f) of a strict local minimum, or None.

    ``budget[0]`` is the number of evaluations left for the whole analysis (shared by all seeds).
    """
    p = np.array(seed, dtype=np.float64)
    for _ in range(40):
        budget[0] -= 1
        if budget[0] < 0:
            return None
        j = _jets(program, p[:1], p[1:])[0]
        if not np.all(np.isfinite(j)):
            return None
        f, g = j[0], j[1:3]
        H = np.array([[j[3], j[4]], [j[4], j[5]]])
        eig = np.linalg.eigvalsh(H)
        scale = max(float(np.max(np.abs(eig))), 1e-300)
        if eig[0] > 1e-10 * scale:
            d = -np.linalg.solve(H, g)
            newton = True
        else:
            d = -g / scale
            newton = False
        if newton and np.hypot(*d) <= 1e-10 * span:
            return float(p[0]), float(p[1]), float(f)
        dn = float(np.hypot(*d))
        if dn == 0.0:
            return None
        if dn > 0.1 * span:
            d *= 0.1 * span / dn
        slope = float(g @ d)
        t = 1.0
        while t > 1e-6:
            budget[0] -= 1
            q = p + t * d
            fq = _jets(program, q[:1], q[1:])[0, 0]
            if np.isfinite(fq) and fq <= f + 1e-4 * t * slope:
                break
            t *= 0.5
        else:
            return None
        p = q
    return None


def surface_from_formula(text: str, **params: Any):
    """A Surface for a typed formula; params are the plotting bounds xmin, xmax, ymin, ymax (default ±5)."""
    program = parse(text)
    bounds = _bounds(params)
    starts, minima = _analyse(program.text, bounds)
    return _bare_surface(
        program,
        bounds,
        display_name=f"f(x, y) = {_clip(program.text, 48)}",
        description=(
            f"Your formula f(x, y) = {_clip(program.text, 120)}. Value, gradient and Hessian are exact "
            "(forward-mode derivatives). Where the formula is undefined (log of a negative number, "
            "division by zero) a run stops as diverged."
        ),
        starts=starts,
        minima=minima,
        params={"xmin": bounds[0][0], "xmax": bounds[0][1], "ymin": bounds[1][0], "ymax": bounds[1][1]},
    )
