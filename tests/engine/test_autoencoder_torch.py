"""The autoencoder against torch autograd (torch 2.13): the same network built from the same flat vector.

torch's model takes every block as a view into one float64 leaf tensor (the layout of ``Autoencoder.blocks``),
uses ``torch.nn.functional.batch_norm`` for batch norm and torch's own losses (``mse_loss``,
``binary_cross_entropy_with_logits``), and differentiates with autograd: the gradient by ``backward``, H v by
differentiating ⟨∇L, v⟩ again, and G v = Jᵀ H_L J v by ``torch.func.jvp`` and ``vjp`` of the network's output.
Every variant of skip, with and without batch norm, must agree with ours to 1e-12 relative.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from autoencoder.hvp import gauss_newton_vector_product, hessian_vector_product
from autoencoder.model import SKIPS, Autoencoder

RTOL = 1e-12
NETS = (("tanh", "sigmoid", "mse"), ("relu", "linear", "mse"), ("sigmoid", "sigmoid", "bce"))
HIDDENS = ((6, 4, 6), (6, 5, 2, 4, 6))  # deep skips hidden 0 → 2 and hidden 0 → 4
CASES = [(s, bn, net, h) for s in SKIPS for bn in (False, True) for net in NETS for h in HIDDENS]
TORCH_ACTS = {"linear": lambda u: u, "relu": torch.relu, "sigmoid": torch.sigmoid, "tanh": torch.tanh}


def _torch_output(m: Autoencoder, theta: torch.Tensor, x: torch.Tensor, running=None) -> torch.Tensor:
    """The output layer's pre-activation u, written with torch from the model's block layout.

    ``running``: per batch-norm layer (mean, var) buffers for evaluation mode; None is training mode.
    """
    v = {b.name: theta[b.offset : b.stop].view(b.shape) for b in m.blocks}
    deep_from, deep_to = m.deep_skip_pair or (-1, -1)
    hidden_out: list[torch.Tensor] = []
    a = x
    for l in range(m.n_layers):
        z = a @ v[f"W{l}"]
        if l == deep_to:
            z = z + hidden_out[deep_from] @ v["skip_deep"]  # before batch norm
        if m.has_bn(l):
            mean, var = (None, None) if running is None else running[len(hidden_out)]
            u = F.batch_norm(z, mean, var, v[f"gamma{l}"], v[f"beta{l}"], training=running is None, eps=m.bn_eps)
        else:
            u = z + v[f"b{l}"]
        if l == m.n_layers - 1:
            return u + x @ v["skip"] if m.has_shallow_skip else u
        a = TORCH_ACTS[m.activations[l]](u)
        hidden_out.append(a)
    raise AssertionError("unreachable")


def _torch_loss(m: Autoencoder, theta: torch.Tensor, x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    u = _torch_output(m, theta, x)
    if m.loss_name == "bce":
        return F.binary_cross_entropy_with_logits(u, t)
    return F.mse_loss(TORCH_ACTS[m.output_activation](u), t)


def _setup(skip, bn, net, hidden, seed=0):
    act, out, loss = net
    m = Autoencoder(6, hidden, act, out, loss, batch_norm=bn, skip=skip)
    rng = np.random.default_rng(seed)
    theta = m.init_params("xavier", seed=seed) + 0.3 * rng.standard_normal(m.n_params)  # every skip non-zero
    x = rng.random((9, 6))
    t = np.clip(x + 0.1 * rng.standard_normal(x.shape), 0.0, 1.0)
    return m, rng, theta, x, t


def _close(ours: np.ndarray, theirs: torch.Tensor) -> float:
    """|ours − torch| / |torch| (norms over the whole vector)."""
    ref = theirs.detach().numpy()
    return float(np.linalg.norm(ours - ref) / np.linalg.norm(ref))


@pytest.mark.parametrize(("skip", "bn", "net", "hidden"), CASES)
def test_loss_and_gradient_equal_torch_autograd(skip, bn, net, hidden):
    m, _rng, theta, x, t = _setup(skip, bn, net, hidden)
    th = torch.tensor(theta, requires_grad=True)
    loss = _torch_loss(m, th, torch.tensor(x), torch.tensor(t))
    loss.backward()
    f, g, _stats = m.loss_and_grad(theta, x, t)
    assert f == pytest.approx(loss.item(), rel=RTOL)
    assert _close(g, th.grad) <= RTOL
    assert np.abs(g - th.grad.numpy()).max() <= RTOL * np.abs(g).max()


@pytest.mark.parametrize(("skip", "bn", "net", "hidden"), CASES)
def test_hessian_and_gauss_newton_products_equal_torch(skip, bn, net, hidden):
    m, rng, theta, x, t = _setup(skip, bn, net, hidden, seed=1)
    v = rng.standard_normal(m.n_params)
    xt, tt, vt = torch.tensor(x), torch.tensor(t), torch.tensor(v)
    th = torch.tensor(theta, requires_grad=True)
    (grad,) = torch.autograd.grad(_torch_loss(m, th, xt, tt), th, create_graph=True)
    (hv_torch,) = torch.autograd.grad(grad @ vt, th)
    assert _close(hessian_vector_product(m, theta, x, t, v), hv_torch) <= RTOL

    def output(p):  # the output H_L is taken at: logits for BCE, activations for MSE
        u = _torch_output(m, p, xt)
        return u if m.loss_name == "bce" else TORCH_ACTS[m.output_activation](u)

    th0 = torch.tensor(theta)
    y, jv = torch.func.jvp(output, (th0,), (vt,))
    n_out = y.numel()
    h_l = torch.sigmoid(y) * (1.0 - torch.sigmoid(y)) / n_out if m.loss_name == "bce" else 2.0 / n_out
    _, pullback = torch.func.vjp(output, th0)
    (gv_torch,) = pullback(h_l * jv)
    assert _close(gauss_newton_vector_product(m, theta, x, t, v), gv_torch) <= RTOL


@pytest.mark.parametrize("skip", SKIPS)
def test_batch_norm_running_statistics_and_evaluation_mode_equal_torch(skip):
    """Layer j's statistics include the deep skip (it joins before batch norm), in both frameworks."""
    m, _rng, theta, x, _t = _setup(skip, True, NETS[0], HIDDENS[0], seed=2)
    xt = torch.tensor(x)
    running = [(torch.zeros(m.sizes[l + 1], dtype=torch.float64), torch.ones(m.sizes[l + 1], dtype=torch.float64))
               for l in m.bn_layers]  # fmt: skip
    th = torch.tensor(theta)
    v = {b.name: th[b.offset : b.stop].view(b.shape) for b in m.blocks}
    # torch updates its running buffers during a training-mode batch_norm; replay our layers to feed each one
    a, hidden_out = xt, []
    deep_from, deep_to = m.deep_skip_pair or (-1, -1)
    for k, l in enumerate(m.bn_layers):
        z = a @ v[f"W{l}"]
        if l == deep_to:
            z = z + hidden_out[deep_from] @ v["skip_deep"]
        u = F.batch_norm(z, *running[k], v[f"gamma{l}"], v[f"beta{l}"], training=True, momentum=0.1, eps=m.bn_eps)
        a = torch.tanh(u)
        hidden_out.append(a)
    state = m.new_bn_state()
    state.update(m.loss_and_grad(theta, x)[2])
    for k in range(len(running)):
        np.testing.assert_allclose(state.mean[k], running[k][0].numpy(), rtol=RTOL, atol=1e-15)
        np.testing.assert_allclose(state.var[k], running[k][1].numpy(), rtol=RTOL, atol=1e-15)
    ours = m.forward(theta, x, bn_state=state, logits=True)
    np.testing.assert_allclose(ours, _torch_output(m, th, xt, running).numpy(), rtol=RTOL, atol=1e-14)
