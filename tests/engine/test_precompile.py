"""The step kernels compiled in a process of their own: the signatures are the drivers', the helper runs and exits."""

from __future__ import annotations

import numpy as np

from optimizers import _kernels, make_config, precompile, trace
from surfaces import _kernels as surface_kernels
from surfaces import get_surface

# the trace kernel's arguments that reach begin/resume or evaluate as they are (the others are its own arrays)
SID, SP, CODE, CONSTS, OID, HP, S, SC = 0, 1, 2, 3, 4, 5, 12, 13


def test_the_trace_kernel_hands_the_step_kernels_the_types_the_helper_compiles(monkeypatch):
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
        assert sig[OID] == begin[0] == resume[0]
        assert sig[HP] == begin[1] == resume[1]
        assert sig[S] == begin[3] == resume[3]
        assert sig[SC] == begin[4] == resume[4]
        assert (sig[SID], sig[SP], sig[CODE], sig[CONSTS]) == evaluate[:4]
    # and what run builds itself: 1-D and 2-D float64 arrays of its own, C-contiguous
    assert typeof(np.empty(2)) == begin[5] and typeof(np.zeros((2, 2))) == begin[8]


def test_the_compiled_kernels_step_as_the_drivers_do():
    precompile.compile_step_kernels()
    sig = precompile.BEGIN_SIGNATURE
    assert any(tuple(s) == sig for s in _kernels.begin.signatures)
    assert any(tuple(s) == precompile.RESUME_SIGNATURE for s in _kernels.resume.signatures)
    assert any(tuple(s) == precompile.EVALUATE_SIGNATURE for s in surface_kernels.evaluate.signatures)


def test_the_helper_process_runs_to_the_end():
    proc = precompile.start()
    assert proc is not None
    assert proc.wait(timeout=120) == 0
