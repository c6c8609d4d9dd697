"""Numba's CPU target without the SciPy BLAS probe.

The first kernel a process loads makes Numba set up its CPU target, which
imports ``numba.np.arraymath``; that module's import probes for a BLAS by
importing ``scipy.linalg.cython_blas``, and SciPy's linear algebra package
costs about 0.2 s to import.  The probe only decides whether Numba's
``np.correlate``/``np.convolve`` call BLAS; no kernel of this project uses
them.  :func:`import_arraymath` imports the module once with SciPy's linear
algebra hidden, so the probe fails fast and those two functions use Numba's
loop; every other BLAS or LAPACK call (``np.dot``, ``np.linalg``) imports SciPy
when it is compiled or loaded, as before.

:func:`use_full_vector_width` lets the compiler vectorise with the CPU's widest
registers: on CPUs with 512-bit units LLVM's x86 back end stops at 256-bit
vectors unless told otherwise (its ``prefer-256-bit`` tuning, a guard against
the frequency drop of older AVX-512 parts).  The sweep kernels are bound by
the CPU's divider and its vector units: with 512-bit vectors the 256 x 256-start
Adam sweep of ``bench/bench_core.py`` measured 1.13-1.28x faster in float64 and
1.4-1.6x in float32 (the live maps' preview) on a 2-core AVX-512 machine.  Widening changes no
result: each lane of a vector operation rounds as the scalar one does, and no
fast-math flag is set.
"""

from __future__ import annotations

import importlib.abc
import os
import sys

import numba
from numba.core.codegen import get_host_cpu_features

_HIDDEN = "scipy.linalg"
#: the LLVM feature that caps the x86 back end's vectors at 256 bits on CPUs with 512-bit ones
_PREFER_256 = "prefer-256-bit"


class _HideLinalg(importlib.abc.MetaPathFinder):
    def find_spec(self, fullname, path, target=None):  # noqa: ANN001 - importlib's signature
        if fullname == _HIDDEN or fullname.startswith(_HIDDEN + "."):
            raise ImportError(f"{fullname} is not needed for Numba's start-up")
        return None


def import_arraymath() -> bool:
    """Import ``numba.np.arraymath`` without its BLAS probe (unless already imported, or SciPy's
    linear algebra already is); True if the probe was skipped."""
    if "numba.np.arraymath" in sys.modules or _HIDDEN in sys.modules:
        return False
    finder = _HideLinalg()
    sys.meta_path.insert(0, finder)
    try:
        import numba.np.arraymath  # noqa: F401
    finally:
        sys.meta_path.remove(finder)
    return True


def full_width_features(host: str) -> str | None:
    """The CPU feature string ``host`` (LLVM's comma-separated ``+name``/``-name`` list) with the 256-bit cap
    lifted, or None when the CPU has no 512-bit vectors (``avx512f``) or the string already sets the cap."""
    flags = host.split(",")
    if "+avx512f" not in flags or any(f[1:] == _PREFER_256 for f in flags):
        return None
    return f"{host},-{_PREFER_256}"


def use_full_vector_width() -> str | None:
    """Compile this process's kernels for the CPU's full vector width; returns the feature string set.

    Must run before Numba's CPU target is first set up (when a process defines its first kernel);
    later, or when ``NUMBA_CPU_FEATURES`` is set (the user's choice stands), it changes nothing and
    returns None.  The feature string is part of Numba's cache key, so kernels cached either way stay apart.
    """
    from numba.core.registry import cpu_target

    if os.environ.get("NUMBA_CPU_FEATURES") or numba.config.CPU_FEATURES is not None:
        return None
    if "_toplevel_target_context" in vars(cpu_target):
        return None
    features = full_width_features(get_host_cpu_features())
    if features is not None:
        numba.config.CPU_FEATURES = features
    return features
