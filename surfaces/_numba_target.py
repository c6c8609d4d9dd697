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
"""

from __future__ import annotations

import importlib.abc
import sys

_HIDDEN = "scipy.linalg"


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
