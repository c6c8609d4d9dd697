"""float32 sweeps: asked for where a map only needs colours, granted only where they apply, and labelled.

A float32 sweep is not its float64 runs' bits (that is float64's promise, tested in test_sweep_lockstep.py);
what it must give is the same picture: the same minimum from almost every start, the same divergence, and
positions within float32's precision of the float64 ones where the runs are stable.
"""

import numpy as np
import pytest

from optimizers import OPTIMIZERS, Modifiers, make_config, sweep
from optimizers.maps import basin_map, hyper_map
from optimizers.runner import PRECISIONS, default_tolerances, float32_applies, float32_tolerances
from surfaces import get_surface, surface_names
from surfaces._jet import like

COORDINATEWISE = [spec.name for spec in OPTIMIZERS if spec.coordinatewise]
#: (surface, optimizer, options) of maps whose float32 picture must match float64's
MAPS = [
    ("himmelblau", "adam", {"lr": 0.5}),
    ("beale", "adam", {"lr": 0.05}),
    ("rosenbrock", "sgd", {"lr": 1e-3}),
    ("himmelblau", "rmsprop", {"lr": 0.05}),
    ("himmelblau", "momentum", {"lr": 0.01}),
]


@pytest.mark.parametrize("surface_name, name, options", MAPS)
def test_a_float32_basin_map_draws_the_float64_picture(surface_name, name, options):
    surface = get_surface(surface_name)
    config = make_config(name, **options)
    exact = basin_map(surface, config, grid=64, steps=300)
    single = basin_map(surface, config, grid=64, steps=300, precision="float32")
    assert (exact.precision, single.precision) == ("float64", "float32")
    assert np.mean(exact.basin != single.basin) <= 0.01  # a few starts on the basins' boundaries
    assert np.mean(exact.diverged != single.diverged) <= 0.01
    assert np.all(np.isfinite(single.final_x)) and np.all(np.isfinite(single.final_y))


def test_float32_really_computes_in_float32_and_within_its_precision():
    """On a stable quadratic run the float32 positions differ from float64's by rounding, no more."""
    surface = get_surface("quadratic")
    config = make_config("adam", lr=0.05)
    starts = np.array([[-9.0, 4.0], [3.0, -2.0], [7.5, 6.25]])
    kw = dict(gtol=0.0, xtol=0.0)
    exact = sweep(surface, config, starts, 200, **kw)
    single = sweep(surface, config, starts, 200, precision="float32", **kw)
    assert single.precision == "float32" and exact.precision == "float64"
    diff = np.abs(single.final_positions - exact.final_positions)
    assert np.any(diff > 0)  # not float64 under another name
    assert np.all(diff <= 1e-4 * surface.span)
    # what a float32 run can end on: every final position is a float32 number
    assert np.array_equal(single.final_positions, single.final_positions.astype(np.float32).astype(np.float64))


@pytest.mark.parametrize("name", COORDINATEWISE)
def test_every_lockstep_rule_sweeps_in_float32(name):
    surface = get_surface("himmelblau")
    config = make_config(name)
    (x0, x1), (y0, y1) = surface.bounds
    starts = np.stack(np.meshgrid(np.linspace(x0, x1, 9), np.linspace(y0, y1, 9)), axis=-1).reshape(-1, 2)
    exact = sweep(surface, config, starts, 200)
    single = sweep(surface, config, starts, 200, precision="float32")
    assert single.precision == "float32"
    assert np.all(np.isfinite(single.final_positions))
    assert np.mean(single.diverged != exact.diverged) <= 0.05
    near = ~exact.diverged & ~single.diverged
    close = np.hypot(*(single.final_positions - exact.final_positions).T) <= 0.02 * surface.span
    assert np.mean(close[near]) >= 0.9


@pytest.mark.parametrize("mods", [
    Modifiers(noise=0.5, seed=3),
    Modifiers(clip="norm", clip_value=0.5, schedule="cosine"),
    Modifiers(clip="value", clip_value=0.5, schedule="step", noise=0.1, seed=1),
], ids=["noise", "clip-norm-cosine", "clip-value-step-noise"])  # fmt: skip
@pytest.mark.parametrize("name", ["adam", "sgd", "momentum", "lion"])
def test_noise_clipping_and_schedules_sweep_in_float32_to_the_same_ends(name, mods):
    """The page's modifiers apply to a float32 preview too: same noise draws, clipping and schedule."""
    surface = get_surface("himmelblau")
    starts = np.random.default_rng(0).uniform(-4.0, 4.0, (300, 2))
    config = make_config(name)
    exact = sweep(surface, config, starts, 200, modifiers=mods)
    single = sweep(surface, config, starts, 200, modifiers=mods, precision="float32")
    assert single.precision == "float32"
    far = np.hypot(*(single.final_positions - exact.final_positions).T) > 0.01 * surface.span
    assert np.mean(far) <= 0.01 and np.array_equal(single.diverged, exact.diverged)


def test_float32_uses_its_own_convergence_tolerances_unless_given():
    surface = get_surface("himmelblau")
    config = make_config("adam", lr=0.5)
    starts = np.array([[1.0, 1.0], [-2.0, 2.5]])
    gtol, xtol = float32_tolerances(surface)
    assert gtol > default_tolerances(surface)[0] and xtol > default_tolerances(surface)[1]
    single = sweep(surface, config, starts, 2000, precision="float32")
    assert np.all(single.steps_to_converge > 0)  # float64's tolerances would be below float32's rounding
    strict = sweep(surface, config, starts, 2000, precision="float32", gtol=0.0, xtol=0.0)
    assert np.all(strict.steps_to_converge == -1)


@pytest.mark.parametrize("surface_name", ["formula:(x^2 + y - 11)^2 + (x + y^2 - 7)^2", "linreg"])
def test_formulas_and_data_surfaces_sweep_in_float64_whatever_is_asked(surface_name):
    surface = get_surface(surface_name, n=24) if surface_name == "linreg" else get_surface(surface_name)
    assert not float32_applies(surface)
    config = make_config("adam", lr=0.05)
    starts = np.array(surface.starts[:1]) + np.array([[0.0, 0.0], [0.3, -0.2]])
    exact = sweep(surface, config, starts, 100)
    asked = sweep(surface, config, starts, 100, precision="float32")
    assert asked.precision == "float64"
    assert np.array_equal(asked.final_positions, exact.final_positions)
    assert np.array_equal(asked.steps_to_converge, exact.steps_to_converge)


def test_runs_with_their_own_hyperparameters_or_a_non_coordinatewise_rule_sweep_in_float64():
    surface = get_surface("himmelblau")
    adam = make_config("adam")
    lrs = np.geomspace(1e-3, 1.0, 8)
    smap = hyper_map(surface, adam, (1.0, 1.0), ("lr", lrs), ("beta1", np.linspace(0.5, 0.95, 4)), steps=100,
                     precision="float32")  # fmt: skip
    assert smap.precision == "float64"
    exact = hyper_map(surface, adam, (1.0, 1.0), ("lr", lrs), ("beta1", np.linspace(0.5, 0.95, 4)), steps=100)
    assert np.array_equal(smap.final_x, exact.final_x) and np.array_equal(smap.steps, exact.steps)
    newton = basin_map(surface, make_config("newton"), grid=8, steps=50, precision="float32")
    assert newton.precision == "float64"
    assert np.array_equal(newton.final_x, basin_map(surface, make_config("newton"), grid=8, steps=50).final_x)


def test_an_unknown_precision_is_refused_with_the_choices():
    with pytest.raises(ValueError, match="float64, float32"):
        sweep(get_surface("himmelblau"), make_config("adam"), np.zeros((1, 2)), 10, precision="float16")
    assert PRECISIONS == ("float64", "float32")


def test_like_is_the_number_itself_outside_compiled_code():
    assert like(np.float32(1.0), 0.1) == 0.1 and type(like(np.zeros(2, np.float32), 0.1)) is float


def test_every_analytic_surface_has_a_float32_basin_map():
    for name in surface_names():
        surface = get_surface(name, n=24) if name in ("linreg", "logreg", "tiny_net") else get_surface(name)
        smap = basin_map(surface, make_config("adam", lr=0.01), grid=12, steps=50, precision="float32")
        assert smap.precision == ("float32" if float32_applies(surface) else "float64"), name
        assert np.all(np.isfinite(smap.final_x)) and np.all(np.isfinite(smap.final_y)), name


def test_the_command_line_sweeps_in_float32_when_asked_and_says_so(tmp_path, capsys):
    from app.cli import main

    out = tmp_path / "m.npz"
    args = ["sweep", "--surface", "himmelblau", "--optimizer", "adam", "--set", "lr=0.5", "--grid", "32",
            "--steps", "300", "--format", "npz", "-o", str(out), "--quiet"]  # fmt: skip
    assert main([*args, "--precision", "float32"]) == 0
    assert "1024 runs (float32): " in capsys.readouterr().err
    with np.load(out, allow_pickle=False) as z:
        single = z["basin"].copy()
        assert str(z["precision"]) == "float32"
    assert main(args) == 0
    assert "1024 runs: " in capsys.readouterr().err
    with np.load(out, allow_pickle=False) as z:
        assert str(z["precision"]) == "float64" and np.mean(z["basin"] != single) <= 0.01
    assert main([*args, "--precision", "float16"]) == 2
    assert "invalid choice: 'float16'" in capsys.readouterr().err
