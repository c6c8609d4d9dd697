"""The skip variants none / shallow / deep / both: layout, the deep skip's rule, exact gradient and curvature."""

from __future__ import annotations

import argparse
import itertools

import numpy as np
import pytest

from autoencoder.cli import add_train_parser
from autoencoder.data import load_data
from autoencoder.hvp import dense_hessian, gauss_newton_vector_product, hessian_vector_product
from autoencoder.landscape import random_directions
from autoencoder.model import SKIPS, Autoencoder, ModelSpec, deep_skip_pair, numerical_gradient, parse_skip
from autoencoder.pca_baseline import why_not_linear
from autoencoder.train import train_race
from optimizers import make_config

#: (hidden activation, output activation, loss) triples the checks below run on
NETS = (("tanh", "sigmoid", "mse"), ("relu", "linear", "mse"), ("sigmoid", "sigmoid", "bce"))
#: the usual mirror, and one whose innermost mirrored pair is two layers out: (5, 4, 2, 3, 5) → hidden 0 → 4
HIDDENS = ((5, 3, 5), (5, 4, 2, 3, 5))


def _model(skip, bn=False, act="tanh", out="sigmoid", loss="mse", hidden=(5, 3, 5), d=6):
    return Autoencoder(d, hidden, act, out, loss, batch_norm=bn, skip=skip)


def _point(m, seed):
    """A random point (every block non-zero, skips included), inputs and denoising targets."""
    rng = np.random.default_rng(seed)
    theta = m.init_params("xavier", seed=seed) + 0.3 * rng.standard_normal(m.n_params)
    x = rng.random((7, m.n_in))
    t = np.clip(x + 0.1 * rng.standard_normal(x.shape), 0.0, 1.0)
    return rng, theta, x, t


# ----------------------------------------------------------------------------- names and compatibility
def test_the_four_variants_and_bools_for_older_callers():
    assert SKIPS == ("none", "shallow", "deep", "both")
    assert [Autoencoder(6, (5, 3, 5), skip=s).skip for s in SKIPS] == list(SKIPS)
    assert Autoencoder(6, (5, 3, 5), skip=True).skip == "shallow"
    assert Autoencoder(6, (5, 3, 5), skip=False).skip == "none"
    assert Autoencoder(6, (5, 3, 5)).skip == "none"  # the default
    assert parse_skip(np.bool_(True)) == "shallow" and parse_skip(" Deep ") == "deep"
    assert ModelSpec(skip=True).skip == "shallow" and ModelSpec(skip=False).skip == "none"
    assert ModelSpec(skip="both").build(6).skip == "both"
    # a bool builds exactly the layout it always did
    old, new = Autoencoder(6, (5, 3, 5), skip=True), Autoencoder(6, (5, 3, 5), skip="shallow")
    assert [(b.name, b.kind, b.layer, b.offset, b.shape) for b in old.blocks] == [
        (b.name, b.kind, b.layer, b.offset, b.shape) for b in new.blocks
    ]
    assert old.blocks[-1].name == "skip" and old.blocks[-1].shape == (6, 6)


@pytest.mark.parametrize("bad", ["deepest", "", "true", 1, 0, None, 2.5, ("deep",)])
def test_an_unknown_variant_is_refused_with_the_choices(bad):
    reason = "skip must be one of none, shallow, deep, both"
    with pytest.raises(ValueError, match=reason):
        Autoencoder(6, (5, 3, 5), skip=bad)
    with pytest.raises(ValueError, match=reason):
        ModelSpec(skip=bad)


def test_the_layout_of_each_variant():
    sizes = {}
    for s in SKIPS:
        m = Autoencoder(64, (32, 8, 32), skip=s)
        names = [b.name for b in m.blocks]
        layers = names[:8]
        assert layers == ["W0", "b0", "W1", "b1", "W2", "b2", "W3", "b3"]  # the layers' blocks come first
        assert m.has_shallow_skip == (s in ("shallow", "both")) and m.has_deep_skip == (s in ("deep", "both"))
        assert names[8:] == {"none": [], "shallow": ["skip"], "deep": ["skip_deep"], "both": ["skip", "skip_deep"]}[s]
        sizes[s] = m.n_params
        if m.has_deep_skip:
            d = m.deep_skip_block
            assert (d.name, d.kind, d.layer, d.shape, d.stop) == ("skip_deep", "skip", 2, (32, 32), m.n_params)
            assert m.deep_skip_pair == (0, 2)
        else:
            assert m.deep_skip_block is None and m.deep_skip_pair is None
        assert sum(b.size for b in m.blocks) == m.n_params
    assert sizes == {"none": 4744, "shallow": 4744 + 64 * 64, "deep": 4744 + 32 * 32, "both": 4744 + 64 * 64 + 32 * 32}


@pytest.mark.parametrize(
    ("hidden", "pair"),
    [((32, 8, 32), (0, 2)), ((64, 32, 8, 32, 64), (1, 3)), ((32, 16, 8, 12, 32), (0, 4)), ((16, 4, 16, 4, 16), (0, 2)),
     ((5, 3, 5, 7), (0, 2)), ((9, 7, 3, 7), (1, 3))],
)  # fmt: skip
def test_the_deep_skip_joins_the_innermost_mirrored_pair_around_the_bottleneck(hidden, pair):
    assert deep_skip_pair(hidden) == pair
    m = Autoencoder(12, hidden, skip="deep")
    i, j = pair
    assert m.deep_skip_pair == pair and m.deep_skip_block.shape == (hidden[i], hidden[j])
    assert m.deep_skip_block.layer == j  # it feeds dense layer j's pre-activation


@pytest.mark.parametrize("hidden", [(8,), (8, 32), (32, 8), (32, 8, 16), (8, 32, 8), (32, 16, 8, 12, 24)])
def test_an_architecture_without_a_mirrored_pair_is_refused_naming_its_sizes(hidden):
    sizes = "(" + ", ".join(map(str, hidden)) + ("," if len(hidden) == 1 else "") + ")"
    for skip in ("deep", "both"):
        with pytest.raises(ValueError, match="deep skip") as err:
            Autoencoder(64, hidden, skip=skip)
        assert sizes in str(err.value) and "\n" not in str(err.value)
        with pytest.raises(ValueError, match="deep skip"):
            ModelSpec(hidden=hidden, skip=skip).build(64)
    assert Autoencoder(64, hidden, skip="shallow").n_params > 0  # the shallow skip needs no mirror


def test_to_dict_round_trips_and_old_dicts_with_a_bool_still_read():
    for s, bn in itertools.product(SKIPS, (False, True)):
        m = Autoencoder(10, (6, 3, 6), "tanh", batch_norm=bn, skip=s)
        d = m.to_dict()
        assert d["skip"] == s
        back = Autoencoder.from_dict(d)
        assert back.to_dict() == d
        assert [(b.name, b.offset, b.shape) for b in back.blocks] == [(b.name, b.offset, b.shape) for b in m.blocks]
    old = Autoencoder(10, (6, 3, 6)).to_dict()
    for stored, expected in ((True, "shallow"), (False, "none")):
        assert Autoencoder.from_dict({**old, "skip": stored}).skip == expected
    del old["skip"]
    assert Autoencoder.from_dict(old).skip == "none"


def test_describe_names_the_skips():
    arch = "10 → 6 relu → 3 relu → 6 relu → 10 sigmoid"
    described = {s: Autoencoder(10, (6, 3, 6), skip=s).describe() for s in SKIPS}
    assert described == {
        "none": f"{arch} (181 parameters, mse)",
        "shallow": f"{arch} + shallow skip (281 parameters, mse)",
        "deep": f"{arch} + deep skip (hidden 0 → 2) (217 parameters, mse)",
        "both": f"{arch} + shallow skip + deep skip (hidden 0 → 2) (317 parameters, mse)",
    }


# ----------------------------------------------------------------------------- the forward pass
@pytest.mark.parametrize(("skip", "bn"), list(itertools.product(SKIPS, (False, True))))
def test_zero_initialised_skips_leave_a_new_model_identical_to_none(skip, bn):
    plain = _model("none", bn, "relu", hidden=(6, 4, 6))
    m = _model(skip, bn, "relu", hidden=(6, 4, 6))
    theta = m.init_params("he", seed=4)
    base = plain.init_params("he", seed=4)
    assert np.array_equal(theta[: plain.n_params], base)  # the same weights, then the skips
    assert not np.any(theta[plain.n_params :])
    x = np.random.default_rng(0).random((9, 6))
    assert np.array_equal(m.forward(theta, x, train=True), plain.forward(base, x, train=True))
    state = m.new_bn_state()
    if bn:
        for k in range(len(state.mean)):
            state.mean[k][:] = 0.2
            state.var[k][:] = 1.7
    assert np.array_equal(m.forward(theta, x, bn_state=state), plain.forward(base, x, bn_state=state))
    f, g, _ = m.loss_and_grad(theta, x)
    f0, g0, _ = plain.loss_and_grad(base, x)
    assert f == f0
    assert np.array_equal(g[: plain.n_params], g0)  # at zero skips the other blocks' gradients are unchanged
    for b in m.blocks[len(plain.blocks) :]:
        assert np.any(b.view(g) != 0.0), b.name  # but a zero skip still has a gradient: training moves it


def _manual_forward(m, theta, x, state=None, after_bn=False):
    """The deep-skip network written out by hand for hidden (5, 3, 5): z2 = a1 W2 + a0 D, then batch norm.

    ``after_bn`` adds a0 D after batch norm instead (the other possible place, to show the test tells them apart).
    """
    v = m.views(theta)

    def bn(z, layer):
        if not m.batch_norm:
            return z + v[f"b{layer}"]
        mu, var = (z.mean(0), z.var(0)) if state is None else (state.mean[layer], state.var[layer])
        return (z - mu) / np.sqrt(var + m.bn_eps) * v[f"gamma{layer}"] + v[f"beta{layer}"]

    a0 = np.tanh(bn(x @ v["W0"], 0))
    a1 = np.tanh(bn(a0 @ v["W1"], 1))
    if after_bn:
        a2 = np.tanh(bn(a1 @ v["W2"], 2) + a0 @ v["skip_deep"])
    else:
        a2 = np.tanh(bn(a1 @ v["W2"] + a0 @ v["skip_deep"], 2))
    u = a2 @ v["W3"] + v["b3"]
    if "skip" in v:
        u = u + x @ v["skip"]
    return 1.0 / (1.0 + np.exp(-u))


@pytest.mark.parametrize(("skip", "bn"), list(itertools.product(("deep", "both"), (False, True))))
def test_the_deep_skip_is_added_to_the_pre_activation_before_batch_norm(skip, bn):
    m = _model(skip, bn)
    _rng, theta, x, _t = _point(m, 8)
    train = m.forward(theta, x, train=True)
    np.testing.assert_allclose(train, _manual_forward(m, theta, x), rtol=1e-13, atol=0)
    state = m.new_bn_state()
    if bn:
        rng = np.random.default_rng(1)
        for k in range(3):
            state.mean[k][:] = rng.standard_normal(state.mean[k].shape)
            state.var[k][:] = rng.random(state.var[k].shape) + 0.5
    np.testing.assert_allclose(m.forward(theta, x, bn_state=state), _manual_forward(m, theta, x, state), rtol=1e-13)
    if bn:  # with batch norm the two places differ, and the model's is the first
        assert np.abs(train - _manual_forward(m, theta, x, after_bn=True)).max() > 1e-3


# ----------------------------------------------------------------------------- the exact gradient
GRAD_CASES = [(s, bn, net, h) for s in SKIPS for bn in (False, True) for net in NETS for h in HIDDENS]


@pytest.mark.parametrize(("skip", "bn", "net", "hidden"), GRAD_CASES)
def test_gradient_matches_central_differences(skip, bn, net, hidden):
    act, out, loss = net
    m = _model(skip, bn, act, out, loss, hidden)
    _rng, theta, x, t = _point(m, 11)
    f, g, _ = m.loss_and_grad(theta, x, t)
    assert f == pytest.approx(m.loss(theta, x, t, train=True), rel=1e-13)
    num = numerical_gradient(lambda v: m.loss(v, x, t, train=True), theta, 1e-6)
    assert np.max(np.abs(g - num)) <= 1e-7 * max(1e-8, float(np.max(np.abs(num))))
    for b in m.blocks:  # every block, skips included, has a gradient here (the check is not vacuous)
        assert np.any(np.abs(b.view(g)) > 1e-8), b.name


def test_float32_gradient_with_both_skips_is_close_to_float64():
    m = Autoencoder(64, (32, 8, 32), batch_norm=True, skip="both")
    theta = _point(m, 2)[1]
    x = np.random.default_rng(3).random((50, 64))
    f64, g64, _ = m.loss_and_grad(theta, x)
    f32, g32, _ = m.loss_and_grad(theta, x, dtype=np.float32)
    assert f32 == pytest.approx(f64, rel=1e-5)
    assert np.linalg.norm(g32 - g64) <= 1e-4 * np.linalg.norm(g64)


# ----------------------------------------------------------------------------- curvature products
CURV_CASES = [(s, bn, net) for s in SKIPS for bn in (False, True) for net in NETS]


def _fd_hvp(m, theta, x, t, v, h=2e-5):
    """H v by central differences of the exact gradient, Richardson-extrapolated (error O(h⁴), not O(h²))."""

    def central(step):
        return (m.loss_and_grad(theta + step * v, x, t)[1] - m.loss_and_grad(theta - step * v, x, t)[1]) / (2 * step)

    return (4.0 * central(h / 2) - central(h)) / 3.0


@pytest.mark.parametrize(("skip", "bn", "net"), CURV_CASES)
def test_hessian_vector_product_matches_differences_of_the_gradient(skip, bn, net):
    m = _model(skip, bn, *net, hidden=(5, 4, 2, 3, 5) if bn else (5, 3, 5))
    rng, theta, x, t = _point(m, 3)
    for _ in range(3):
        v = rng.standard_normal(m.n_params)
        hv = hessian_vector_product(m, theta, x, t, v)
        fd = _fd_hvp(m, theta, x, t, v)
        assert np.linalg.norm(hv - fd) <= 1e-8 * np.linalg.norm(fd)


def _fd_output_jacobian(m, theta, x, logits, h=1e-6):
    """∂(output)/∂θ by central differences: rows are the N = n·d outputs."""

    def out(p):
        u = m.forward(p, x, train=True, logits=True)
        return (u if logits else m.forward(p, x, train=True)).reshape(-1)

    jac = np.empty((x.size, m.n_params))
    e = np.zeros(m.n_params)
    for i in range(m.n_params):
        e[i] = h
        jac[:, i] = (out(theta + e) - out(theta - e)) / (2.0 * h)
        e[i] = 0.0
    return jac


@pytest.mark.parametrize(("skip", "bn", "net"), CURV_CASES)
def test_dense_hessian_and_gauss_newton_match_their_definitions(skip, bn, net):
    m = _model(skip, bn, *net, hidden=(4, 2, 4), d=4)
    _rng, theta, x, t = _point(m, 5)
    h = dense_hessian(m, theta, x, t)
    assert np.abs(h - h.T).max() <= 1e-10 * np.abs(h).max()
    fd = np.column_stack([_fd_hvp(m, theta, x, t, e) for e in np.eye(m.n_params)])
    assert np.abs(h - fd).max() <= 1e-8 * np.abs(fd).max()
    # G = Jᵀ H_L J: BCE at the logits (H_L = σ(u)(1 − σ(u))/N), MSE at the outputs (H_L = 2/N)
    bce = m.loss_name == "bce"
    jac = _fd_output_jacobian(m, theta, x, logits=bce)
    n_out = x.size
    if bce:
        s = 1.0 / (1.0 + np.exp(-m.forward(theta, x, train=True, logits=True).reshape(-1)))
        h_l = s * (1.0 - s) / n_out
    else:
        h_l = np.full(n_out, 2.0 / n_out)
    expected = jac.T @ (h_l[:, None] * jac)
    gn = dense_hessian(m, theta, x, t, gauss_newton=True)
    assert np.abs(gn - expected).max() <= 1e-8 * np.abs(expected).max()
    assert np.linalg.eigvalsh(0.5 * (gn + gn.T)).min() >= -1e-12 * np.abs(gn).max()


@pytest.mark.parametrize(("skip", "bn"), list(itertools.product(("deep", "both"), (False, True))))
def test_gauss_newton_equals_the_hessian_at_zero_residual(skip, bn):
    m = _model(skip, bn, "tanh", "sigmoid", "mse")
    rng, theta, x, _t = _point(m, 4)
    y = m.forward(theta, x, train=True)
    v = rng.standard_normal(m.n_params)
    hv = hessian_vector_product(m, theta, x, y, v)
    gv = gauss_newton_vector_product(m, theta, x, y, v)
    assert np.linalg.norm(hv - gv) <= 1e-12 * np.linalg.norm(hv)


# ----------------------------------------------------------------------------- the rest of the lab
def test_the_cli_takes_a_variant_and_bare_skip_means_shallow():
    parser = argparse.ArgumentParser()
    train = add_train_parser(parser.add_subparsers())
    assert train.parse_args([]).skip == "none"
    assert train.parse_args(["--skip"]).skip == "shallow"
    assert train.parse_args(["--skip", "--epochs", "3"]).skip == "shallow"
    for s in SKIPS:
        assert train.parse_args(["--skip", s]).skip == s
    assert train.parse_args(["--skip", "BOTH"]).skip == "both"
    with pytest.raises(SystemExit):
        train.parse_args(["--skip", "deepest"])


def test_no_pca_comparison_and_no_decoder_matrix_with_any_skip():
    for s in SKIPS:
        m = Autoencoder(10, (6, 3, 6), "linear", "linear", skip=s)
        if s == "none":
            assert why_not_linear(m) is None
            assert m.decoder_matrix(m.init_params()).shape == (10, 3)
        else:
            assert "skip" in why_not_linear(m) and s in why_not_linear(m)
            with pytest.raises(ValueError, match="skip"):
                m.decoder_matrix(m.init_params())


def test_landscape_directions_normalise_the_deep_skip_like_a_weight():
    m = Autoencoder(12, (6, 3, 6), skip="both")
    theta = m.init_params("xavier", seed=0)
    d1, _d2 = random_directions(m, theta, seed=0)
    assert not np.any(m.deep_skip_block.view(d1))  # a zero skip: a zero direction there (filter normalisation)
    m.views(theta)["skip_deep"][:] = 0.05
    d1, _d2 = random_directions(m, theta, seed=0)
    dd, td = m.deep_skip_block.view(d1), m.deep_skip_block.view(theta)
    assert np.linalg.norm(dd) == pytest.approx(np.linalg.norm(td), rel=1e-12)


@pytest.fixture(scope="module")
def digits300():
    return load_data("digits", max_samples=300)


@pytest.mark.parametrize("method", ["adam", "hessian_free"])
def test_a_race_trains_both_skips(digits300, method):
    spec = ModelSpec(hidden=(16, 4, 16), skip="both")
    race = train_race(digits300, [make_config(method)], spec, epochs=2, psnr_corruptions=None)
    (run,) = race.runs
    assert run.status == "completed"
    losses = [h.val_loss for h in run.history]
    assert np.isfinite(losses).all() and losses[-1] < losses[0]
    for b in (race.model.skip_block, race.model.deep_skip_block):
        assert np.any(b.view(run.theta) != 0.0), b.name  # both skips were trained away from their zero start
    assert race.to_dict()["model"]["skip"] == "both"
