"""User formulas: values, exact derivatives, normalization, caching and use by the optimizers."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from optimizers import make_config, sweep, trace
from surfaces import _kernels as K
from surfaces import _vm as V
from surfaces import get_surface
from surfaces.formula import (
    FUNCTIONS,
    MAX_LENGTH,
    FormulaError,
    normalize,
    parse,
    render,
    surface_from_formula,
)

# ---------------------------------------------------------------------------
# helpers


def vm_jet(program, x, y) -> np.ndarray:
    """Jets (…, 6) of a program through the kernels' dispatcher (as the optimizers evaluate it)."""
    return program.jet(x, y)


GRID_X, GRID_Y = np.meshgrid(np.linspace(-2.3, 2.7, 7), np.linspace(-2.6, 2.4, 7))
GX, GY = GRID_X.ravel(), GRID_Y.ravel()


# ---------------------------------------------------------------------------
# known formulas


def test_paraboloid_value_gradient_hessian():
    s = get_surface("formula:x^2 + y^2")
    j = s.jet(GX, GY)
    np.testing.assert_allclose(j[:, 0], GX**2 + GY**2, rtol=1e-15)
    np.testing.assert_allclose(j[:, 1], 2 * GX, rtol=1e-15)
    np.testing.assert_allclose(j[:, 2], 2 * GY, rtol=1e-15)
    np.testing.assert_array_equal(j[:, 3], 2.0)
    np.testing.assert_array_equal(j[:, 4], 0.0)
    np.testing.assert_array_equal(j[:, 5], 2.0)


def test_sin_times_y2_plus_exp():
    s = get_surface("formula:sin(x)·y² + e^(−x)".replace("²", "^2"))
    assert s.formula == "sin(x)*y^2 + e^-x"
    x, y = GX, GY
    j = s.jet(x, y)
    np.testing.assert_allclose(j[:, 0], np.sin(x) * y**2 + np.exp(-x), rtol=1e-13)
    np.testing.assert_allclose(j[:, 1], np.cos(x) * y**2 - np.exp(-x), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(j[:, 2], 2 * np.sin(x) * y, rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(j[:, 3], -np.sin(x) * y**2 + np.exp(-x), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(j[:, 4], 2 * np.cos(x) * y, rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(j[:, 5], 2 * np.sin(x), rtol=1e-13, atol=1e-15)


def test_rosenbrock_formula_equals_builtin():
    f = get_surface("formula:(1 - x)^2 + 100*(y - x^2)^2")
    b = get_surface("rosenbrock")
    xs, ys = np.meshgrid(np.linspace(-2, 2, 41), np.linspace(-1, 3, 41))
    jf, jb = f.jet(xs, ys), b.jet(xs, ys)
    np.testing.assert_allclose(jf, jb, rtol=1e-13, atol=1e-12)
    np.testing.assert_allclose(f.hessian(xs, ys), b.hessian(xs, ys), rtol=1e-13, atol=1e-12)


@pytest.mark.parametrize(
    "name, ref, d1, d2, lo, hi",
    [
        ("sin", np.sin, np.cos, lambda u: -np.sin(u), -3, 3),
        ("cos", np.cos, lambda u: -np.sin(u), lambda u: -np.cos(u), -3, 3),
        ("tan", np.tan, lambda u: 1 / np.cos(u) ** 2, lambda u: 2 * np.tan(u) / np.cos(u) ** 2, -1.2, 1.2),
        ("exp", np.exp, np.exp, np.exp, -3, 3),
        ("log", np.log, lambda u: 1 / u, lambda u: -1 / u**2, 0.1, 3),
        ("ln", np.log, lambda u: 1 / u, lambda u: -1 / u**2, 0.1, 3),
        ("sqrt", np.sqrt, lambda u: 0.5 / np.sqrt(u), lambda u: -0.25 * u**-1.5, 0.1, 3),
        ("abs", np.abs, np.sign, lambda u: 0 * u, -3, 3),
        ("tanh", np.tanh, lambda u: 1 - np.tanh(u) ** 2, lambda u: -2 * np.tanh(u) * (1 - np.tanh(u) ** 2), -3, 3),
        ("sinh", np.sinh, np.cosh, np.sinh, -3, 3),
        ("cosh", np.cosh, np.sinh, np.cosh, -3, 3),
        ("arctan", np.arctan, lambda u: 1 / (1 + u**2), lambda u: -2 * u / (1 + u**2) ** 2, -3, 3),
        ("atan", np.arctan, lambda u: 1 / (1 + u**2), lambda u: -2 * u / (1 + u**2) ** 2, -3, 3),
        ("arcsin", np.arcsin, lambda u: (1 - u**2) ** -0.5, lambda u: u * (1 - u**2) ** -1.5, -0.9, 0.9),
        ("asin", np.arcsin, lambda u: (1 - u**2) ** -0.5, lambda u: u * (1 - u**2) ** -1.5, -0.9, 0.9),
        ("arccos", np.arccos, lambda u: -((1 - u**2) ** -0.5), lambda u: -u * (1 - u**2) ** -1.5, -0.9, 0.9),
        ("acos", np.arccos, lambda u: -((1 - u**2) ** -0.5), lambda u: -u * (1 - u**2) ** -1.5, -0.9, 0.9),
        (
            "sigmoid",
            lambda u: 1 / (1 + np.exp(-u)),
            lambda u: np.exp(-u) / (1 + np.exp(-u)) ** 2,
            lambda u: (1 / (1 + np.exp(-u))) * (1 - 1 / (1 + np.exp(-u))) * (1 - 2 / (1 + np.exp(-u))),
            -5,
            5,
        ),
        ("logcosh", lambda u: np.log(np.cosh(u)), np.tanh, lambda u: 1 - np.tanh(u) ** 2, -3, 3),
        ("log10", np.log10, lambda u: 1 / (u * np.log(10)), lambda u: -1 / (u**2 * np.log(10)), 0.1, 3),
        ("log2", np.log2, lambda u: 1 / (u * np.log(2)), lambda u: -1 / (u**2 * np.log(2)), 0.1, 3),
        ("exp2", np.exp2, lambda u: np.log(2) * np.exp2(u), lambda u: np.log(2) ** 2 * np.exp2(u), -3, 3),
        ("sec", lambda u: 1 / np.cos(u), lambda u: np.tan(u) / np.cos(u), lambda u: (2 * np.tan(u) ** 2 + 1) / np.cos(u), -1.2, 1.2),
        ("csc", lambda u: 1 / np.sin(u), lambda u: -1 / (np.sin(u) * np.tan(u)), lambda u: (2 / np.tan(u) ** 2 + 1) / np.sin(u), 0.3, 2.8),
        ("cot", lambda u: 1 / np.tan(u), lambda u: -1 / np.sin(u) ** 2, lambda u: 2 / (np.tan(u) * np.sin(u) ** 2), 0.3, 2.8),
    ],
)  # fmt: skip
def test_every_function_value_gradient_hessian(name, ref, d1, d2, lo, hi):
    # the argument is u = a*x + b*y along the line y = x/2; chain rule: ∇f = f'(u)(a, b), H = f''(u)(a, b)(a, b)ᵀ
    a, b = 1.1, -0.35
    u = np.linspace(lo, hi, 23)
    if name == "abs":
        u = u[np.abs(u) > 1e-9]  # the kink
    x = u / (a + 0.5 * b)
    y = 0.5 * x
    arg = a * x + b * y
    s = get_surface(f"formula:{name}(1.1*x - 0.35*y)", xmin=-10, xmax=10, ymin=-10, ymax=10)
    j = s.jet(x, y)
    np.testing.assert_allclose(j[:, 0], ref(arg), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(j[:, 1], d1(arg) * a, rtol=1e-11, atol=1e-13)
    np.testing.assert_allclose(j[:, 2], d1(arg) * b, rtol=1e-11, atol=1e-13)
    np.testing.assert_allclose(j[:, 3], d2(arg) * a * a, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(j[:, 4], d2(arg) * a * b, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(j[:, 5], d2(arg) * b * b, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize(
    "text, x, y, expected",
    [
        ("-x^2", 3.0, 0.0, -9.0),  # unary minus binds looser than ^
        ("(-x)^2", 3.0, 0.0, 9.0),
        ("2^3^2", 0.0, 0.0, 512.0),  # right-associative
        ("2**3**2", 0.0, 0.0, 512.0),
        ("x-y-1", 5.0, 2.0, 2.0),  # left-associative
        ("x/y/2", 8.0, 2.0, 2.0),
        ("x^-2", 2.0, 0.0, 0.25),
        ("x^-y^2", 2.0, 1.0, 0.5),
        ("2*-x", 3.0, 0.0, -6.0),
        ("--x", 3.0, 0.0, 3.0),
        ("+x - +y", 3.0, 1.0, 2.0),
        ("1e-3*x + 2.5E+1*y + .5 + 3.", 1000.0, 1.0, 29.5),
        ("pi + e", 0.0, 0.0, math.pi + math.e),
        ("x − 2×y ÷ 4·x", 2.0, 1.0, 1.0),  # Unicode operators are accepted
        ("ln(e^2) + atan(1)*4 + asin(1) + acos(1)", 0.0, 0.0, 2 + math.pi + math.pi / 2),
        ("log10(1000) + log2(8) + exp2(3) + sec(0) + csc(pi/2) + cot(pi/4)", 0.0, 0.0, 17.0),
        ("(x)^3", -2.0, 0.0, -8.0),  # negative base, integer exponent
        ("x^(1/3)", -8.0, 0.0, math.nan),  # fractional power of a negative: NaN
        ("x^y", -2.0, 2.0, math.nan),  # variable exponent: exp(y log x), defined for x > 0
        ("x^y", 2.0, 3.0, 8.0),
        ("1/x", 0.0, 0.0, math.inf),  # not an error: inf, the runner ends such runs
        ("log(x)", 0.0, 0.0, math.nan),
        ("x^-1", 0.0, 0.0, math.inf),
        ("sqrt(x)", -1.0, 0.0, math.nan),
    ],
)
def test_semantics(text, x, y, expected):
    s = surface_from_formula(text, xmin=-10, xmax=10, ymin=-10, ymax=10)
    v = s.value(x, y)
    if math.isnan(expected):
        assert math.isnan(v)
    else:
        assert v == pytest.approx(expected, rel=1e-12)
    p = parse(text)
    w = float(p.evaluate_numpy(x, y))
    assert (math.isnan(w) and math.isnan(v)) or w == pytest.approx(v, rel=1e-12)


def test_tiny_and_zero_arguments_never_raise():
    # Division by zero and underflow inside the jet rules give inf/NaN, never ZeroDivisionError.
    for text in ["1/x", "log(x)", "sqrt(x)", "x^0.5", "x^-3", "x^-2.5", "1/(x*y)", "x^y", "y/x^2", "sec(x - pi/2)"]:
        s = surface_from_formula(text)
        for x in [0.0, -0.0, 1e-320, 1e-200, 5e-324, -1e-200]:
            j = s.jet(x, 0.0)
            assert j.shape == (6,)


# ---------------------------------------------------------------------------
# errors and positions


@pytest.mark.parametrize(
    "text, position, words",
    [
        ("2x", 1, ["implicit multiplication", "write 2*x"]),
        ("x + os", 4, ["unknown name 'os'", "allowed: x, y, pi, e, sin, cos"]),
        ("sin(x", 3, ["unclosed '('"]),
        ("x +", 3, ["unexpected end"]),
        ("x.real", 1, ["'.'", "attribute"]),
        ("(x + 1)(x - 1)", 7, ["implicit multiplication"]),
        ("x^100", 2, ["exponent 100", "64"]),
        ("x + 1e999", 4, ["too large"]),
        ("x + у", 4, ["U+0443", "CYRILLIC", "looks like 'y'"]),
        ("sin x", 0, ["parentheses", "sin(...)"]),
        ("sin^2(x)", 0, ["sin(...)^2"]),
        ("x)", 1, ["unmatched ')'"]),
        ("x + log(-1)", 4, ["not finite", "logarithm"]),
        ("y*(1/0)", 3, ["division by zero"]),
        ("Sin(x)", 0, ["lowercase", "'sin'"]),
        ("x y", 2, ["write x*y"]),
        ("x,y", 1, ["','", "one argument"]),
        ("", 0, ["empty"]),
        ("   ", 0, ["empty"]),
        ("x**", 3, ["unexpected end"]),
        ("*x", 0, ["unexpected '*'"]),
        ("1.2.3", 0, ["malformed number"]),
        ("()", 0, ["empty parentheses"]),
        ("sin()", 4, ["needs an argument"]),
    ],
)
def test_error_messages_and_positions(text, position, words):
    with pytest.raises(FormulaError) as info:
        parse(text)
    err = info.value
    assert isinstance(err, ValueError)
    assert err.position == position, err.message
    for w in words:
        assert w in err.message, err.message
    if text.strip():
        assert f"position {position}" in err.message


def test_limits():
    assert parse("x" + "+x" * 199).n_nodes == 399
    with pytest.raises(FormulaError, match="at most 400") as info:
        parse("x" + "+x" * 200)
    assert info.value.position == 399
    parse("(" * 50 + "x" + ")" * 50)
    with pytest.raises(FormulaError, match="nesting too deep") as info:
        parse("(" * 51 + "x" + ")" * 51)
    assert info.value.position == 50
    with pytest.raises(FormulaError, match="too long") as info:
        parse("x" * (MAX_LENGTH + 1))
    assert info.value.position == MAX_LENGTH
    parse("x^64 + x^-64 + x^63.5")
    with pytest.raises(FormulaError, match="exponent"):
        parse("x^-64.5")


# ---------------------------------------------------------------------------
# normalization and caching


@pytest.mark.parametrize(
    "text, norm",
    [
        ("x**2+y**2", "x^2 + y^2"),
        ("  ((x)) ^ (2)  +  ( y^2 ) ", "x^2 + y^2"),
        ("ln(x) + atan(y)", "log(x) + arctan(y)"),
        ("x − y", "x - y"),
        ("x - (y - 1)", "x - (y - 1)"),
        ("(x - y) - 1", "x - y - 1"),
        ("1e3*x", "1000*x"),
        ("+x", "x"),
        ("-(x*y)", "-(x*y)"),
        ("(-x)*y", "-x*y"),
        ("x^(y^2)", "x^y^2"),
        ("(x^y)^2", "(x^y)^2"),
    ],
)
def test_normalize_examples(text, norm):
    assert normalize(text) == norm
    assert normalize(norm) == norm
    assert parse(text) is parse(norm)


def test_cache_returns_the_same_program():
    a = parse("x^2 + y^2")
    b = parse("x**2+y**2")
    c = parse("  x ^ 2 + y ^ 2 ")
    assert a is b is c
    assert parse("x^2 + y^3") is not a


def test_long_formula_normalizes_within_the_limit():
    # the spaced rendering would exceed the limit: the compact one is used, and it reads back
    text = "x+" * 150 + "x"
    assert len(text) <= MAX_LENGTH < len(text.replace("+", " + "))
    n = normalize(text)
    assert len(n) <= MAX_LENGTH and " " not in n
    assert normalize(n) == n
    assert parse(n) is parse(text)
    text = "ln(x)+" * 80 + "1e15"
    n = normalize(text)
    assert len(n) <= len(text) and parse(n) is parse(text)
    assert n.startswith("ln(x)+ln(x)") and n.endswith("+1e15")


def test_latex():
    assert parse("sin(x)*y^2 + exp(-x)").latex == r"\sin\left(x\right) \cdot y^{2} + e^{-x}"
    assert parse("sqrt(x^2 + 1)/abs(y)").latex == r"\frac{\sqrt{x^{2} + 1}}{\left|y\right|}"
    assert parse("2*pi*x").latex == r"2\pi \cdot x"
    assert parse("1e-7*ln(x)").latex == r"10^{-7}\ln\left(x\right)"
    assert parse("--x").latex == r"-\left(-x\right)"


# ---------------------------------------------------------------------------
# random formulas (an independent generator, renderer and numpy evaluator)

EPS = np.finfo(float).eps
LEAVES = st.sampled_from(
    [("x",), ("y",), ("pi",), ("e",)]
    + [("num", float(t), t) for t in ["2", "0.5", ".5", "3.", "1e-3", "2.5E+1", "1.5", "0", "10", "0.3"]]
)
EXPONENTS = st.sampled_from(
    [("num", float(t), t) for t in ["2", "3", "0.5", "1.5", "4"]] + [("neg", ("num", 1.0, "1"))]
)
FNAMES = list(FUNCTIONS) + ["ln", "atan", "asin", "acos"]
ALIAS = {"ln": "log", "atan": "arctan", "asin": "arcsin", "acos": "arccos"}


def _extend(children):
    return st.one_of(
        st.tuples(st.just("neg"), children),
        st.tuples(st.just("pos"), children),
        st.tuples(st.just("bin"), st.sampled_from("+-*/"), children, children),
        st.tuples(st.just("bin"), st.just("^"), children, st.one_of(EXPONENTS, children)),
        st.tuples(st.just("call"), st.sampled_from(FNAMES), children),
    )


TREES = st.recursive(LEAVES, _extend, max_leaves=16)
SYMBOLS = {"+": ["+"], "-": ["-", "\u2212"], "*": ["*", "\u00d7", "\u00b7"], "/": ["/", "\u00f7"], "^": ["^", "**"]}


def _text(t, rnd) -> str:
    """Render with every compound operand bracketed (so the intended tree is unambiguous)."""

    def sp():
        return rnd.choice(["", "", " "])

    def wrap(c):
        s = _text(c, rnd)
        return s if len(c) == 1 or c[0] == "num" else f"({sp()}{s}{sp()})"

    k = t[0]
    if k in ("x", "y", "pi", "e"):
        return k
    if k == "num":
        return t[2]
    if k in ("neg", "pos"):
        return ("-" if k == "neg" else "+") + sp() + wrap(t[1])
    if k == "bin":
        return wrap(t[2]) + sp() + rnd.choice(SYMBOLS[t[1]]) + sp() + wrap(t[3])
    return f"{t[1]}({sp()}{_text(t[2], rnd)}{sp()})"


def _has_var(t) -> bool:
    return t[0] in ("x", "y") or any(isinstance(c, tuple) and _has_var(c) for c in t[1:])


def _ref(t, x, y):
    """(value, bound on the rounding error) by the documented semantics, written independently."""
    k = t[0]
    z = np.zeros_like(x)
    if k == "x":
        return x, z
    if k == "y":
        return y, z
    if k == "pi":
        return z + np.pi, z
    if k == "e":
        return z + np.e, z
    if k == "num":
        return z + t[1], z
    if k == "pos":
        return _ref(t[1], x, y)
    if k == "neg":
        a, ea = _ref(t[1], x, y)
        return -a, ea
    if k == "bin":
        op = t[1]
        a, ea = _ref(t[2], x, y)
        b, eb = _ref(t[3], x, y)
        if op == "+":
            v = a + b
            return v, ea + eb + EPS * np.abs(v)
        if op == "-":
            v = a - b
            return v, ea + eb + EPS * np.abs(v)
        if op == "*":
            v = a * b
            return v, np.abs(a) * eb + np.abs(b) * ea + ea * eb + EPS * np.abs(v)
        if op == "/":
            v = a / b
            den = np.abs(b) - eb
            e = np.where(den > 0, (ea + np.abs(v) * eb) / np.where(den > 0, den, 1), np.inf)
            return v, e + 3 * EPS * np.abs(v)
        # power
        if not _has_var(t[3]):
            p = b
            v = np.where((a >= 0) | (p == np.round(p)), np.power(a, p), np.nan)
            la = np.log(np.abs(a))
            e = np.abs(p * v / a) * ea + np.abs(v * la) * eb + 16 * EPS * np.abs(v)
            return v, e
        la = np.where(a > 0, np.log(np.where(a > 0, a, 1)), np.nan)
        v = np.exp(b * la)
        return v, np.abs(v) * (np.abs(la) * eb + np.abs(b / a) * ea + 8 * EPS * (1 + np.abs(b * la)))
    name = ALIAS.get(t[1], t[1])
    a, ea = _ref(t[2], x, y)
    pos = np.where(a > 0, a, np.nan)
    table = {
        "sin": (np.sin(a), np.abs(np.cos(a))),
        "cos": (np.cos(a), np.abs(np.sin(a))),
        "tan": (np.tan(a), 1 + np.tan(a) ** 2),
        "exp": (np.exp(a), np.exp(a)),
        "log": (np.log(pos), 1 / np.abs(a)),
        "sqrt": (np.sqrt(np.where(a >= 0, a, np.nan)), 0.5 / np.sqrt(np.abs(a))),
        "abs": (np.abs(a), 1.0),
        "tanh": (np.tanh(a), 1 - np.tanh(a) ** 2),
        "sinh": (np.sinh(a), np.cosh(a)),
        "cosh": (np.cosh(a), np.abs(np.sinh(a))),
        "arctan": (np.arctan(a), 1 / (1 + a**2)),
        "arcsin": (np.arcsin(a), 1 / np.sqrt(np.abs(1 - a**2))),
        "arccos": (np.arccos(a), 1 / np.sqrt(np.abs(1 - a**2))),
        "sigmoid": (0.5 * (1 + np.tanh(a / 2)), 0.25),
        "logcosh": (np.logaddexp(a, -a) - np.log(2), np.abs(np.tanh(a))),
        "log10": (np.log10(pos), 1 / np.abs(a * np.log(10))),
        "log2": (np.log2(pos), 1 / np.abs(a * np.log(2))),
        "exp2": (np.exp2(a), np.log(2) * np.exp2(a)),
        "sec": (1 / np.cos(a), np.abs(np.tan(a) / np.cos(a))),
        "csc": (1 / np.sin(a), np.abs(1 / (np.sin(a) * np.tan(a)))),
        "cot": (1 / np.tan(a), 1 / np.sin(a) ** 2),
    }
    v, d = table[name]
    # input error through the slope, plus a few ulps (of the result and of the argument's reduction)
    return v, d * ea + 8 * EPS * (np.abs(v) + d * np.abs(a)) + 1e-300


@st.composite
def formulas(draw):
    tree = draw(TREES)
    rnd = draw(st.randoms(use_true_random=False))
    return tree, _text(tree, rnd)


ACCEPTABLE_REFUSALS = ("not finite", "exponent", "too long", "too deep", "at most")


def _parse_or_skip(text):
    try:
        return parse(text)
    except FormulaError as err:
        assert any(w in err.message for w in ACCEPTABLE_REFUSALS), (text, err.message)
        assume(False)


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(formulas())
def test_random_formulas_match_numpy_and_finite_differences(case):
    tree, text = case
    program = _parse_or_skip(text)
    assert V.validate_program(program.code, program.consts) == program.code[0]
    with np.errstate(all="ignore"):
        ref, err = _ref(tree, GX, GY)
    jet = vm_jet(program, GX, GY)
    vm = jet[:, 0]
    mine = program.evaluate_numpy(GX, GY)
    ok = np.isfinite(ref) & np.isfinite(err) & np.isfinite(vm)
    bound = 4 * err[ok] + 1e-300
    assert np.all(np.abs(vm[ok] - ref[ok]) <= bound), (text, vm[ok], ref[ok], err[ok])
    ok2 = np.isfinite(ref) & np.isfinite(err) & np.isfinite(mine)
    assert np.all(np.abs(mine[ok2] - ref[ok2]) <= 4 * err[ok2] + 1e-300), text
    # where the reference is finite and well-conditioned, the machine is finite too
    sure = np.isfinite(ref) & (err <= 1e-6 * np.abs(ref))
    assert np.all(np.isfinite(vm[sure])), text

    # exact derivatives against central differences, where those are finite and consistent
    def fd(h):
        """(∇f, (fxx, fxy, fyy)) by central differences of the machine's f and ∇f, with rounding noise."""
        with np.errstate(all="ignore"):
            jx = [vm_jet(program, GX + s * h, GY) for s in (1, -1)]
            jy = [vm_jet(program, GX, GY + s * h) for s in (1, -1)]
            g = np.stack([(jx[0][:, 0] - jx[1][:, 0]) / (2 * h), (jy[0][:, 0] - jy[1][:, 0]) / (2 * h)], 1)
            hess = np.stack(
                [
                    (jx[0][:, 1] - jx[1][:, 1]) / (2 * h),
                    (jx[0][:, 2] - jx[1][:, 2]) / (2 * h),
                    (jy[0][:, 2] - jy[1][:, 2]) / (2 * h),
                ],
                1,
            )
            stencil = np.stack([j for j in jx + jy])
            f_noise = EPS * np.max(np.abs(stencil[..., 0]), axis=0) / h
            g_noise = EPS * np.max(np.abs(stencil[..., 1:3]), axis=(0, 2)) / h
        return g, hess, f_noise[:, None], g_noise[:, None]

    g1, h1, _, _ = fd(1e-4)
    g2, h2, f_noise, g_noise = fd(5e-5)
    exact_g = jet[:, 1:3]
    exact_h = jet[:, [3, 4, 5]]
    for exact, a, b, noise in ((exact_g, g1, g2, f_noise), (exact_h, h1, h2, g_noise)):
        scale = np.maximum(1.0, np.abs(b))
        with np.errstate(all="ignore"):
            good = np.isfinite(a) & np.isfinite(b) & np.isfinite(exact) & np.isfinite(noise)
            good &= (np.abs(a - b) <= 1e-7 * scale) & (noise <= 1e-8 * scale)
        assert np.all(np.abs(exact[good] - b[good]) <= 1e-5 * scale[good]), (text, exact[good], b[good])


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(formulas())
def test_normalization_is_idempotent_and_keeps_the_program(case):
    _, text = case
    try:
        n = normalize(text)
    except FormulaError as err:
        assert any(w in err.message for w in ACCEPTABLE_REFUSALS), (text, err.message)
        assume(False)
    assert normalize(n) == n
    p = parse(text)
    assert parse(n) is p
    assert p.text == n
    np.testing.assert_array_equal(p.code, parse(n).code)
    # the canonical tree renders back to itself, and compactly within the input's length
    assert parse(render(p.tree)).tree.key() == p.tree.key()
    compact = render(p.tree, compact=True)
    assert len(compact) <= len(text)
    assert normalize(compact) == n


# ---------------------------------------------------------------------------
# surfaces and optimizers


def test_surface_metadata():
    s = get_surface("formula:(x-1)^2+2*(y+0.5)^2", xmin=-4, xmax=4, ymin="-3", ymax=3)
    assert s.name == "formula" and s.sid == K.CUSTOM
    assert s.formula == "(x - 1)^2 + 2*(y + 0.5)^2"
    assert s.latex == r"\left(x - 1\right)^{2} + 2\left(y + 0.5\right)^{2}"
    assert s.bounds == ((-4.0, 4.0), (-3.0, 3.0))
    assert not s.log_contour and s.display_name and s.description
    assert s.starts and all(-4 <= x <= 4 and -3 <= y <= 3 for x, y in s.starts)
    for x, y in s.starts:
        assert np.all(np.isfinite(s.jet(x, y)[:3]))
        assert math.hypot(x, y) > 1.0  # away from the centre
    assert len(s.minima) == 1
    m = s.minima[0]
    assert (m.x, m.y) == pytest.approx((1.0, -0.5), abs=1e-9) and m.kind == "global"
    json.dumps(s.to_dict())


def test_minima_need_a_positive_definite_hessian():
    # x^4 + y^4 has a degenerate minimum (singular Hessian): not reported
    assert get_surface("formula:x^4 + y^4").minima == ()
    # a saddle has none either
    assert get_surface("formula:x^2 - y^2").minima == ()
    # Himmelblau: four global minima of value 0
    him = get_surface("formula:(x^2 + y - 11)^2 + (x + y^2 - 7)^2")
    assert len(him.minima) == 4 and all(m.kind == "global" and abs(m.value) < 1e-12 for m in him.minima)
    assert any((m.x, m.y) == pytest.approx((3.0, 2.0), abs=1e-8) for m in him.minima)


@pytest.mark.parametrize(
    "params, word",
    [
        ({"xmin": 1, "xmax": 1}, "less than"),
        ({"ymin": float("nan")}, "finite"),
        ({"xmax": float("inf")}, "finite"),
        ({"xmin": -2e6}, "within"),
        ({"ymax": "abc"}, "number"),
        ({"ymax": True}, "number"),
        ({"a": 1.0}, "no parameter"),
    ],
)
def test_bounds_are_validated(params, word):
    with pytest.raises(ValueError, match=word):
        get_surface("formula:x^2 + y^2", **params)


def test_start_avoids_undefined_regions():
    s = get_surface("formula:log(x) + y^2")  # defined only for x > 0
    assert s.starts and all(x > 0 for x, _ in s.starts)
    s = get_surface("formula:sqrt(-x - 2) + y^2", xmin=-5, xmax=5)
    assert all(x <= -2 for x, _ in s.starts)
    with pytest.raises(FormulaError, match="not finite anywhere"):
        get_surface("formula:log(-x^2 - 1)")


def test_trace_reaches_the_minimum():
    s = get_surface("formula:(x-1)^2+2*(y+0.5)^2")
    t = trace(s, make_config("adam", lr=0.05), (3, 3), 500)
    assert t.positions[-1] == pytest.approx((1.0, -0.5), abs=1e-2)
    assert t.status in ("completed", "converged")
    t = trace(s, make_config("newton"), (3, 3), 10)
    assert t.positions[-1] == pytest.approx((1.0, -0.5), abs=1e-9)


def test_sweep_on_a_formula():
    s = get_surface("formula:(x-1)^2+2*(y+0.5)^2")
    starts = np.array([[3.0, 3.0], [-3.0, 2.0], [0.0, -4.0], [4.0, -4.0]])
    r = sweep(s, make_config("adam", lr=0.05), starts, 3000)
    assert np.all(r.converged)
    np.testing.assert_allclose(r.final_positions, np.tile([1.0, -0.5], (4, 1)), atol=1e-5)


def test_non_finite_region_diverges_cleanly():
    s = get_surface("formula:log(x) + y^2")
    t = trace(s, make_config("sgd", lr=2.0), (0.5, 1.0), 200)
    assert t.status == "diverged"
    for arr in (t.positions, t.losses, t.gradients, t.updates, t.effective_lr, *t.state.values()):
        assert np.all(np.isfinite(arr))
    s = get_surface("formula:1/x + y^2")
    t = trace(s, make_config("sgd", lr=0.1), (0.5, 1.0), 200)
    assert np.all(np.isfinite(t.positions)) and np.all(np.isfinite(t.losses))
    r = sweep(get_surface("formula:log(x) + y^2"), make_config("sgd", lr=2.0), np.array([[0.5, 1.0], [2.0, 1.0]]), 100)
    assert np.all(r.diverged)
    assert np.all(np.isfinite(r.final_positions))


def test_trace_refuses_an_undefined_start():
    s = get_surface("formula:log(x) + y^2")
    with pytest.raises(ValueError, match="not defined"):
        trace(s, make_config("adam"), (-1.0, 0.0), 10)
