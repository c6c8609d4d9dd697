"""The Explorer configuration: validation, clamping and the URL query codec."""

from __future__ import annotations

import math
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.explorer.config import MAX_FORMULA_CHARS, MAX_OPTIMIZERS, MAX_QUERY_CHARS, MAX_STEPS
from app.explorer.state import DEFAULT, FORMULA, ExplorerConfig, OptimizerEntry, from_query, sanitize, to_query
from app.shell.validation import parse_number
from optimizers.registry import SPECS as OPTIMIZER_SPECS
from surfaces.catalog import SPECS as SURFACE_SPECS

ROOT = Path(__file__).resolve().parents[3]


def test_import_app_is_light():
    code = "import sys, app; print(int('dash' in sys.modules), int('numba' in sys.modules), hasattr(app, 'create_app'))"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    assert out.split() == ["0", "0", "True"]


def test_default_round_trips_through_the_url():
    assert from_query(to_query(DEFAULT)) == DEFAULT
    assert from_query("") == DEFAULT and from_query(None) == DEFAULT
    assert from_query("?") == DEFAULT
    assert from_query(to_query(DEFAULT)).notes == ()


def test_query_is_readable():
    q = to_query(DEFAULT)
    assert q.startswith("?surface=beale&start=1,1.5&steps=500&opt=sgd")
    assert "opt=adam,lr=0.1,color=5" in q


@pytest.mark.parametrize("spec", SURFACE_SPECS, ids=lambda s: s.name)
def test_every_surface_round_trips(spec):
    params = tuple((p.name, p.high if p.log else p.low) for p in spec.params)
    cfg = replace(DEFAULT, surface=spec.name, surface_params=params, start=tuple(map(float, spec.starts[0])))
    assert from_query(to_query(cfg)) == cfg


@pytest.mark.parametrize("spec", OPTIMIZER_SPECS, ids=lambda s: s.name)
def test_every_optimizer_with_non_default_values_round_trips(spec):
    values = {}
    for p in spec.params:
        if p.kind == "bool":
            continue  # some combinations (nesterov without momentum) are refused by the registry
        if p.kind == "choice":
            values[p.key] = p.choices[-1]
        elif p.kind == "int":
            values[p.key] = int(p.slider_range()[1])
        else:
            lo, hi = p.slider_range()
            values[p.key] = lo + 0.25 * (hi - lo) if not p.log else math.sqrt(lo * hi)
    entry = OptimizerEntry.default(spec.name, 3, **values)
    cfg = replace(DEFAULT, optimizers=(entry,), arrows=3)
    back = from_query(to_query(cfg))
    assert back == cfg, back.notes


def test_formula_and_modifiers_round_trip():
    cfg = replace(
        DEFAULT.with_surface(FORMULA),
        formula="sin(x)*y^2 + exp(-x) / (1 + x^2)",
        box=(-3.0, 2.5, -1.0, 4.0),
        start=(0.5, 1.25),
        noise=0.3,
        seed=42,
        clip="norm",
        clip_value=2.5,
        schedule="step",
        schedule_params=(("step_size", 50.0), ("gamma", 0.3)),
        view="3d",
        arrows=1,
    )
    assert from_query(to_query(cfg)) == cfg


@pytest.mark.parametrize(
    "query, fragment",
    [
        ("?steps=999999", "steps: 999999 is outside [1, 5000]; using 5000"),
        ("?steps=1e999", "not a number"),
        ("?steps=nan", "not a number"),
        ("?surface=%3Cscript%3Ealert(1)%3C/script%3E", "unknown surface"),
        ("?opt=__import__('os').system('true')", "unknown optimizer"),
        ("?opt=adam,lr=-5", "Adam lr: -5 is outside (0, 1e+06]; using 1e-05"),
        ("?opt=adam,beta1=1", "beta1"),
        ("?view=4d", "view"),
        ("?clip=always", "clipping"),
        ("?s.kappa=1e9&surface=quadratic", "kappa"),
        ("?start=1e9,2&surface=beale", "start x"),
        ("?start=abc", "start"),
        ("?zzz=1", "unknown setting"),
    ],
)
def test_hostile_values_are_repaired_with_a_notice(query, fragment):
    cfg = from_query(query)
    assert isinstance(cfg, ExplorerConfig)
    assert any(fragment in n for n in cfg.notes), cfg.notes


def test_limits():
    many = "&".join(f"opt=sgd,lr=0.0{i + 1}" for i in range(12))
    cfg = from_query("?" + many)
    assert len(cfg.optimizers) == MAX_OPTIMIZERS
    assert len({e.color for e in cfg.optimizers}) == MAX_OPTIMIZERS
    assert any("at most 8" in n for n in cfg.notes)
    assert from_query("?steps=0").steps == 1
    assert from_query(f"?steps={MAX_STEPS + 1}").steps == MAX_STEPS
    long = from_query("?surface=formula&f=" + "x" * (MAX_FORMULA_CHARS + 1))
    assert long.formula != "x" * (MAX_FORMULA_CHARS + 1) and long.notes
    too_long = from_query("?a=" + "b" * MAX_QUERY_CHARS)
    assert too_long == DEFAULT and too_long.notes
    fields = from_query("?" + "&".join(["x=1"] * 500))
    assert fields == DEFAULT and fields.notes


def test_colours_explicit_first_then_free():
    cfg = from_query("?opt=sgd,color=2&opt=adam&opt=rmsprop,color=2&opt=lion,color=7")
    assert [e.color for e in cfg.optimizers] == [2, 0, 1, 7]


def test_notes_are_bounded_and_printable():
    q = "?" + "&".join(f"bad{i}=\x00\n<b>{'x' * 200}" for i in range(30))
    cfg = from_query(q)
    assert len(cfg.notes) <= 7
    for n in cfg.notes:
        assert n.isprintable() and len(n) < 200


def test_parse_number_accepts_only_plain_decimals():
    assert parse_number("1e-3") == 0.001
    assert parse_number(" -2.5 ") == -2.5
    for bad in ("nan", "inf", "-inf", "0x10", "1_000", "1e400", "", "1,5", "__import__('os')", True, None, [1]):
        assert parse_number(bad) is None, bad
    assert parse_number(float("nan")) is None


def test_open_bounds_are_clamped_inside():
    cfg = sanitize({"optimizers": [{"name": "adam", "values": {"lr": 0, "beta2": 1.0, "eps": -1}}]})
    adam = dict(cfg.optimizers[0].values)
    assert adam["lr"] > 0 and adam["beta2"] < 1.0 and adam["eps"] >= 0
    cfg.optimizers[0].config()  # the kernel accepts it


def test_bools_choices_and_ints_from_the_browser():
    cfg = sanitize(
        {"optimizers": [{"name": "sgd", "values": {"nesterov": ["on"], "momentum": 0.9}},
                        {"name": "momentum", "values": {"convention": "textbook"}},
                        {"name": "lbfgs", "values": {"history": 7.6}},
                        {"name": "rmsprop", "values": {"centered": "maybe"}}]}
    )  # fmt: skip
    sgd, mom, lbfgs, rms = (dict(e.values) for e in cfg.optimizers)
    assert sgd["nesterov"] is True and mom["convention"] == "textbook" and lbfgs["history"] == 8
    assert rms["centered"] is False and any("centered" in n for n in cfg.notes)


def test_invalid_combination_is_kept_and_reported_by_the_entry():
    entry = OptimizerEntry.default("sgd", 0, nesterov=True, momentum=0.0)
    assert "nesterov requires momentum" in entry.problem()


def test_entry_validation():
    with pytest.raises(ValueError):
        OptimizerEntry("nope", (), 0)
    with pytest.raises(ValueError):
        OptimizerEntry("sgd", (("lr", 0.1),), 0)  # not every key
    with pytest.raises(ValueError):
        OptimizerEntry.default("sgd", 9)
    with pytest.raises(ValueError):
        replace(DEFAULT, steps=MAX_STEPS + 1)
    with pytest.raises(ValueError):
        replace(DEFAULT, start=(100.0, 0.0))
    with pytest.raises(ValueError):
        replace(DEFAULT, arrows=7)


def test_labels_use_symbols():
    assert OptimizerEntry.default("adam", 0, lr=0.1, beta1=0.8).label() == "Adam · η=0.1, β₁=0.8"
    assert OptimizerEntry.default("sgd", 0).label() == "SGD"


def test_structural_edits():
    cfg = DEFAULT.with_surface("himmelblau")
    assert cfg.surface == "himmelblau" and cfg.start == (-0.27, -0.92) and cfg.surface_params == ()
    q = DEFAULT.with_surface("quadratic")
    assert dict(q.surface_params) == {"kappa": 10.0, "angle": 0.0}
    f = DEFAULT.with_surface(FORMULA)
    assert f.is_formula and f.bounds == ((-2.0, 2.0), (-2.0, 2.0))
    added = DEFAULT.with_optimizer("lion")
    assert added.optimizers[-1].name == "lion" and added.optimizers[-1].color == 6
    dup = DEFAULT.duplicated(0)
    assert dup.optimizers[1].name == "sgd" and dup.optimizers[1].color == 6 and len(dup.optimizers) == 7
    gone = DEFAULT.without(5)  # the optimizer whose arrows are drawn
    assert len(gone.optimizers) == 5 and gone.arrows == 0
    full = DEFAULT.with_optimizer("sgd").with_optimizer("sgd")
    assert len(full.optimizers) == 8 and full.with_optimizer("adam") == full and full.duplicated(0) == full
    assert DEFAULT.without(99) == DEFAULT


def test_a_formula_surface_passes_the_box_to_the_parser():
    cfg = replace(DEFAULT.with_surface(FORMULA), box=(-1.0, 3.0, -2.0, 2.0), start=(0.0, 0.0))
    name, kwargs = cfg.surface_args()
    assert name == "formula:" + cfg.formula
    assert kwargs == {"xmin": -1.0, "xmax": 3.0, "ymin": -2.0, "ymax": 2.0}


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=400))
def test_any_text_gives_a_valid_configuration(text):
    cfg = from_query(text)
    assert isinstance(cfg, ExplorerConfig)
    assert from_query(to_query(cfg)) == cfg


_value = st.one_of(
    st.none(), st.booleans(), st.integers(-10**12, 10**12), st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20), st.lists(st.integers(), max_size=3),
)  # fmt: skip


@settings(max_examples=150, deadline=None)
@given(
    st.fixed_dictionaries(
        {},
        optional={
            "surface": st.one_of(st.sampled_from([s.name for s in SURFACE_SPECS] + [FORMULA]), st.text(max_size=10)),
            "surface_params": st.dictionaries(st.sampled_from(["kappa", "angle", "a", "b", "x"]), _value, max_size=3),
            "start": st.lists(_value, max_size=3),
            "steps": _value,
            "optimizers": st.lists(
                st.fixed_dictionaries(
                    {"name": st.sampled_from([s.name for s in OPTIMIZER_SPECS] + ["zzz"]),
                     "values": st.dictionaries(st.sampled_from(["lr", "momentum", "beta1", "eps", "nesterov", "q"]),
                                               _value, max_size=3),
                     "color": _value}
                ),
                max_size=10,
            ),
            "noise": _value, "seed": _value, "clip": _value, "clip_value": _value,
            "schedule": st.sampled_from(["constant", "step", "cosine", "nope"]),
            "schedule_params": st.dictionaries(st.text(max_size=8), _value, max_size=3),
            "view": _value, "arrows": _value, "box": st.lists(_value, max_size=5),
        },
    )  # fmt: skip
)
def test_any_mapping_is_sanitized(raw):
    cfg = sanitize(raw)
    assert isinstance(cfg, ExplorerConfig)
    assert len(cfg.optimizers) <= MAX_OPTIMIZERS and 1 <= cfg.steps <= MAX_STEPS
    assert sanitize(cfg.to_dict()) == cfg


@pytest.mark.parametrize("value", ["dark", "projector", "light", "neon", ""])
def test_a_theme_in_the_link_is_accepted_silently_and_changes_nothing(value):
    """``?theme=`` belongs to the browser (assets/theme.js): no notice, the same view as without it."""
    cfg = from_query(f"?surface=beale&steps=40&theme={value}")
    assert cfg.notes == () and cfg == from_query("?surface=beale&steps=40")
    assert from_query(f"?theme={value}&zzz=1").notes == ("ignored an unknown setting 'zzz'",)
