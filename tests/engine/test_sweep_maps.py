"""Sweep maps: analytic stability boundaries, Himmelblau basins, bounds, progress, CLI."""

import io
import numpy as np
import pytest
from PIL import Image

from app.cli import main
from app.export.imaging import map_rgb, png_bytes
from optimizers import make_config
from optimizers.maps import (
    DIVERGED,
    Cancelled,
    axis_values,
    basin_map,
    heavy_ball_stable,
    hyper_map,
)
from surfaces import get_surface


def test_gd_map_matches_two_over_L():
    """Plain GD on ½(εx² + y²) (L = 1) diverges exactly when η > 2/L."""
    s = get_surface("quadratic", kappa=10, angle=0)
    cfg = make_config("sgd")
    lrs = np.linspace(0.1, 3.0, 59)
    lrs = lrs[np.abs(lrs - 2.0) > 0.05]  # stay off the boundary, where divergence takes forever
    smap = hyper_map(s, cfg, (-9.0, 4.0), ("lr", lrs), ("weight_decay", np.array([0.0, 1e-9])), steps=3000)
    diverged = smap.diverged[0]
    assert np.array_equal(diverged, lrs > 2.0)


def test_heavy_ball_map_matches_analytic_region():
    s = get_surface("quadratic", kappa=10, angle=0)  # curvatures 0.1 and 1
    cfg = make_config("momentum")
    lrs = np.linspace(0.05, 4.0, 40)
    mus = np.linspace(0.0, 0.95, 20)
    smap = hyper_map(s, cfg, (-9.0, 4.0), ("lr", lrs), ("momentum", mus), steps=3000)
    L, M = np.meshgrid(lrs, mus)
    stable = heavy_ball_stable(L, M, [0.1, 1.0])
    margin = np.abs(L * 1.0 - 2 * (1 + M)) > 0.1 * 2 * (1 + M)
    assert np.array_equal(smap.diverged[margin], ~stable[margin])
    assert smap.diverged.any() and (~smap.diverged).any()


def test_himmelblau_basins_assign_each_minimum_its_neighbourhood():
    s = get_surface("himmelblau")
    smap = basin_map(s, make_config("lbfgs"), grid=41, steps=300)
    for k, m in enumerate(s.minima):
        near = np.hypot(smap.xs[None, :] - m.x, smap.ys[:, None] - m.y) < 0.6
        assert near.any()
        assert np.all(smap.basin[near] == k)
    assert set(np.unique(smap.basin)) <= {0, 1, 2, 3, -1}


def test_diverged_starts_are_flagged():
    smap = basin_map(get_surface("rosenbrock"), make_config("sgd", lr=0.01), grid=20, steps=200)
    assert smap.diverged.any()
    assert np.all(smap.basin[smap.diverged] == DIVERGED)
    assert not np.any(np.isnan(smap.final_loss))  # a diverged run reports its last finite loss
    assert np.all(np.isfinite(smap.final_x)) and np.all(np.isfinite(smap.final_y))


def test_formula_surface_gets_minima_from_end_points():
    s = get_surface("formula:(x^2 - 1)^2 + y^2", xmin=-2, xmax=2, ymin=-1, ymax=1)
    smap = basin_map(s, make_config("lbfgs"), grid=21, steps=200)
    found = sorted(round(x, 3) for x, _ in smap.minima)
    assert found == [-1.0, 1.0]
    left = smap.xs < -0.2
    right = smap.xs > 0.2
    assert len(set(smap.basin[:, left].ravel())) == 1 and len(set(smap.basin[:, right].ravel())) == 1
    assert smap.basin[0, left][0] != smap.basin[0, right][0]


def test_progress_is_reported_and_cancel_stops():
    seen = []
    basin_map(get_surface("booth"), make_config("adam", lr=0.5), grid=30, steps=50, progress=seen.append)
    assert seen == sorted(seen) and seen[-1] == 1.0 and len(seen) > 5
    calls = []

    def stop():
        calls.append(1)
        return len(calls) > 2

    with pytest.raises(Cancelled):
        basin_map(get_surface("booth"), make_config("adam"), grid=30, steps=50, should_stop=stop)


def test_a_stop_check_without_progress_is_asked_between_a_few_chunks_and_the_map_is_the_same():
    from optimizers.maps import STOP_CHUNKS

    calls = []
    s, cfg = get_surface("booth"), make_config("adam", lr=0.5)
    checked = basin_map(s, cfg, grid=30, steps=50, should_stop=lambda: calls.append(1) is not None)
    assert len(calls) == STOP_CHUNKS == 4
    plain = basin_map(s, cfg, grid=30, steps=50)
    assert np.array_equal(checked.final_x, plain.final_x) and np.array_equal(checked.steps, plain.steps)


def test_work_is_bounded():
    s = get_surface("booth")
    with pytest.raises(ValueError, match="grid"):
        basin_map(s, make_config("adam"), grid=401)
    with pytest.raises(ValueError, match="steps"):
        basin_map(s, make_config("adam"), grid=10, steps=10**6)
    with pytest.raises(ValueError, match="beta1 must be"):
        axis_values(make_config("adam").spec.param("beta1"), 0.0, 1.5, 10)
    with pytest.raises(ValueError, match="different"):
        hyper_map(s, make_config("adam"), (0, 0), ("lr", [0.1, 0.2]), ("lr", [0.1, 0.2]))


def test_axis_values_log_and_int():
    spec = make_config("lbfgs").spec
    lr = axis_values(spec.param("lr"), 1e-3, 1.0, 4)
    assert np.allclose(lr, [1e-3, 1e-2, 1e-1, 1.0])
    hist = axis_values(spec.param("history"), 1, 20, 5)
    assert np.all(hist == np.round(hist))


def _decode_png(data):
    img = Image.open(io.BytesIO(data))
    assert img.format == "PNG"
    return np.asarray(img.convert("RGB"))


def test_png_encodes_the_map_colours():
    smap = basin_map(get_surface("himmelblau"), make_config("lbfgs"), grid=12, steps=100)
    rgb = map_rgb(smap, "minimum")
    img = _decode_png(png_bytes(rgb, scale=3))
    assert img.shape == (36, 36, 3)
    assert np.array_equal(img[::3, ::3], rgb)
    assert len({tuple(p) for p in rgb.reshape(-1, 3)}) >= 4


def test_cli_sweep_formats(tmp_path, capsys):
    out = tmp_path / "m.npz"
    code = main(["sweep", "--surface", "himmelblau", "--optimizer", "adam", "--set", "lr=0.1",
                 "--grid", "16", "--steps", "200", "--format", "npz", "-o", str(out), "--quiet"])  # fmt: skip
    assert code == 0
    with np.load(out, allow_pickle=False) as z:
        assert z["basin"].shape == (16, 16) and z["minima"].shape == (4, 2)
    code = main(["sweep", "--surface", "quadratic", "--optimizer", "sgd", "--hyper", "lr=0.5:3:6:lin",
                 "--hyper", "weight_decay=0:0.1:2", "--steps", "500", "--quiet"])  # fmt: skip
    text, err = capsys.readouterr()
    assert code == 0 and "12 runs" in err
    lines = text.strip().splitlines()
    assert lines[0].startswith("lr,weight_decay,final_x") and len(lines) == 13
    png = tmp_path / "m.png"
    assert main(["sweep", "--surface", "booth", "--optimizer", "adam", "--grid", "8", "--steps", "20",
                 "--format", "raster", "--color-by", "steps", "-o", str(png), "--quiet"]) == 0  # fmt: skip
    assert _decode_png(png.read_bytes()).shape[2] == 3
    assert main(["sweep", "--surface", "booth", "--optimizer", "adam", "--hyper", "lr=1:2:3"]) == 2
    assert main(["sweep", "--surface", "booth", "--optimizer", "adam", "--grid", "1000"]) == 2


def test_kernel_loaded_says_which_sweep_kernel_this_process_has_loaded():
    """A fresh process has neither; a basin map loads the lock-step kernel only, a hyperparameter map the other."""
    import subprocess
    import sys
    import textwrap

    code = textwrap.dedent("""
        import numpy as np
        from optimizers import make_config
        from optimizers.maps import basin_map, hyper_map, kernel_loaded
        from surfaces import get_surface

        s, cfg = get_surface("booth"), make_config("sgd", lr=0.01)
        seen = [kernel_loaded("basin"), kernel_loaded("hyper")]
        basin_map(s, cfg, grid=2, steps=2)
        seen += [kernel_loaded("basin"), kernel_loaded("hyper")]
        hyper_map(s, cfg, (0.0, 0.0), ("lr", np.array([0.01, 0.02])), ("momentum", np.array([0.0, 0.5])), steps=2)
        seen += [kernel_loaded("basin"), kernel_loaded("hyper")]
        print(seen)
    """)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split("\n")[-2] == "[False, False, True, False, True, True]"
