"""A fresh checkout's first race compiled by two processes: the signatures are the drivers', the helper reports
what it has cached, a trace waits for it, and the kernels for the built-ins leave out what they cannot reach."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from optimizers import make_config, precompile, trace
from surfaces import get_surface

# the trace kernel's arguments that reach begin/resume or evaluate as they are (the others are its own arrays)
SID, SP, CODE, CONSTS, OID, HP, MODS, S, SC, HESS = 0, 1, 2, 3, 4, 5, 6, 12, 13, 14


def test_the_trace_kernel_hands_the_step_kernels_the_types_the_two_shares_compile(monkeypatch):
    from numba import typeof

    from optimizers import runner

    seen: list[tuple] = []
    real = runner._run_kernel

    def spy(*args):
        seen.append(tuple(typeof(a) for a in args))
        return real(*args)

    monkeypatch.setattr(runner, "_run_kernel", spy)
    surface = get_surface("rosenbrock")
    for name in ("adam", "lbfgs", "newton"):
        trace(surface, make_config(name), (-1.5, 2.0), steps=5)
    assert len(seen) == 3
    begin, resume, evaluate = precompile.BEGIN_SIGNATURE, precompile.RESUME_SIGNATURE, precompile.EVALUATE_SIGNATURE
    for sig in seen:
        assert sig[OID] == begin[0] == resume[0] == precompile.INIT_STATE_SIGNATURE[0]
        assert sig[HP] == begin[1] == resume[1] == precompile.INIT_STATE_SIGNATURE[1]
        assert sig[S] == begin[3] == resume[3] == precompile.INIT_STATE_SIGNATURE[2]
        assert sig[SC] == begin[4] == resume[4] == precompile.INIT_STATE_SIGNATURE[3]
        assert sig[MODS] == precompile.SCHEDULED_LR_SIGNATURE[1] == precompile.NOISE_SIGNATURE[0]
        assert (sig[SID], sig[SP], sig[CODE], sig[CONSTS]) == evaluate[:4] == precompile.EVALUATE_MANY_SIGNATURE[:4]
    # only Newton's method hands the kernel a Hessian buffer (the others' variant has no second-order jets)
    assert [str(sig[HESS]) for sig in seen] == ["none", "none", str(typeof(np.zeros((2, 2))))]
    # and what run builds itself: 1-D and 2-D float64 arrays of its own, C-contiguous
    assert typeof(np.empty(2)) == begin[5] and typeof(np.zeros((2, 2))) == begin[8]


def test_each_share_compiles_the_signature_it_names():
    precompile.compile_share(precompile.SERVER_SHARE + precompile.HELPER_SHARE)
    for name, (dispatcher, signature) in precompile._kernels().items():
        assert any(tuple(s) == signature for s in dispatcher.signatures), name


def test_a_built_in_surfaces_point_kernels_get_no_program_and_compute_what_the_full_kernels_do():
    from surfaces import _kernels

    for name in ("beale", "rosenbrock", "himmelblau", "ackley", "rastrigin"):
        s = get_surface(name)
        sid, params, code, consts = s.point_args
        assert (sid, code, consts) == (s.sid, None, None) and params is s.param_vector
        xs, ys = np.linspace(-2.0, 2.0, 7), np.linspace(1.5, -1.0, 7)
        pruned, full = np.empty((7, 6)), np.empty((7, 6))
        _kernels.evaluate_many(*s.point_args, xs, ys, pruned)
        _kernels.evaluate_many(*s.kernel_args, xs, ys, full)
        assert np.array_equal(pruned, full) and np.isfinite(full).all()
    formula = get_surface("formula:x^2 + 3*y^2")
    assert formula.point_args[2] is formula.code and formula.point_args[2].size > 0
    data = get_surface("linreg")
    assert data.point_args[2] is not None  # the data branch needs the full kernel


def _python(code: str, cache: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "NUMBA_CACHE_DIR": cache}
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], env=env, capture_output=True, text=True,
                          timeout=300, check=True, cwd=os.path.dirname(os.path.dirname(os.path.dirname(__file__))))  # fmt: skip


def test_on_an_empty_cache_the_built_ins_first_order_jets_compile_without_the_interpreter_and_data(tmp_path):
    # and the cache probe tells an empty, a filled and an outdated cache apart
    out = _python(
        """
        import json
        import numpy as np
        from optimizers import precompile
        from surfaces import _datakernels, _vm, get_surface
        before = precompile.is_cached("evaluate_grad_many")
        get_surface("beale").first_order(np.array([1.0]), np.array([1.5]))
        after = precompile.is_cached("evaluate_grad_many")
        cache_file = precompile._kernels()["evaluate_grad_many"][0]._cache._cache_file
        cache_file._source_stamp = (0.0, 0)  # as if its source had changed since (an update)
        print(json.dumps([before, after, precompile.is_cached("evaluate_grad_many"),
                          len(_vm.eval_program.signatures), len(_datakernels.data_jet.signatures)]))
        """,
        str(tmp_path),
    )
    assert json.loads(out.stdout.strip().splitlines()[-1]) == [False, True, False, 0, 0]


def test_the_helper_reports_its_share_in_order_and_exits():
    boot = [sys.executable, "-c", precompile._BOOT, json.dumps(sys.path)]
    out = subprocess.run(boot, capture_output=True, text=True, timeout=300, check=True)
    assert out.stdout.split() == list(precompile.HELPER_SHARE)


def _fake_helper(script: str) -> precompile.Helper:
    return precompile.Helper(subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE))


def test_a_trace_waits_for_the_helper_after_compiling_the_server_share(monkeypatch):
    compiled: list[tuple[str, ...]] = []
    monkeypatch.setattr(precompile, "compile_share", lambda names, report=None: compiled.append(names))
    helper = _fake_helper("import time; time.sleep(0.3); print('begin', flush=True); "
                          "time.sleep(0.3); print('evaluate', flush=True)")  # fmt: skip
    monkeypatch.setattr(precompile, "_started", [helper])
    precompile.await_step_kernels()
    assert helper.wait_for("begin", 0.0)
    assert compiled == [precompile.SERVER_SHARE]
    precompile.await_step_kernels()  # once begin is in, nothing more is compiled or waited for
    helper.compile_server_share()
    assert compiled == [precompile.SERVER_SHARE]
    assert helper.wait(30) == 0 and helper.wait_for("evaluate", 30)


def test_a_helper_that_dies_early_releases_the_waiting_traces(monkeypatch):
    monkeypatch.setattr(precompile, "compile_share", lambda names, report=None: None)
    helper = _fake_helper("import sys; print('not a kernel'); sys.exit(3)")
    monkeypatch.setattr(precompile, "_started", [helper])
    precompile.await_step_kernels()
    assert helper.wait(30) == 3
    assert helper.wait_for("begin", 0.0) and helper.wait_for("evaluate", 0.0)


def test_no_helper_no_wait(monkeypatch):
    monkeypatch.setattr(precompile, "_started", [])
    monkeypatch.setattr(precompile, "compile_share", lambda names, report=None: pytest.fail("compiled"))
    precompile.await_step_kernels()
    t = trace(get_surface("beale"), make_config("sgd", lr=0.001), (1.0, 1.5), steps=3)
    assert t.positions.shape == (4, 2)


def test_a_forked_child_does_not_wait_for_its_parents_helper(monkeypatch):
    monkeypatch.setattr(precompile, "compile_share", lambda names, report=None: pytest.fail("compiled"))
    helper = _fake_helper("import time; time.sleep(30)")
    try:
        helper.owner = -1  # as in a child forked after the helper started
        monkeypatch.setattr(precompile, "_started", [helper])
        precompile.await_step_kernels()
        assert not helper.wait_for("begin", 0.0)
    finally:
        helper.process.kill()
        helper.process.wait(10)
