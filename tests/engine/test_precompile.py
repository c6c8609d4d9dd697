"""The step kernels compiled in a process of their own: the signatures are the drivers', the helper runs and exits."""

from __future__ import annotations

import numpy as np

from optimizers import _kernels, _runkernels, make_config, precompile, trace
from surfaces import _kernels as surface_kernels
from surfaces import get_surface

# the trace kernel's arguments that reach begin/resume as they are (the others are its own np.empty arrays)
HP, S, SC, OID = 5, 12, 13, 4


def test_the_trace_kernel_hands_the_step_kernels_the_types_the_helper_compiles():
    surface = get_surface("rosenbrock")
    for name in ("adam", "lbfgs"):
        trace(surface, make_config(name), (-1.5, 2.0), steps=5)
    assert _runkernels.run.signatures
    for sig in _runkernels.run.signatures:
        assert sig[OID] == precompile.BEGIN_SIGNATURE[0]
        assert sig[HP] == precompile.BEGIN_SIGNATURE[1] == precompile.RESUME_SIGNATURE[1]
        assert sig[S] == precompile.BEGIN_SIGNATURE[3] == precompile.RESUME_SIGNATURE[3]
        assert sig[SC] == precompile.BEGIN_SIGNATURE[4] == precompile.RESUME_SIGNATURE[4]
        code, consts = sig[2], sig[3]
        assert (code, consts) == precompile.EVALUATE_SIGNATURE[2:4] and sig[1] == precompile.EVALUATE_SIGNATURE[1]
    # and what run builds itself: 1-D and 2-D float64 arrays of its own, C-contiguous
    from numba import typeof

    assert typeof(np.empty(2)) == precompile.BEGIN_SIGNATURE[5] and typeof(np.zeros((2, 2))) == precompile.BEGIN_SIGNATURE[8]


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
