"""Numba's start-up skips SciPy's BLAS probe, and BLAS still works where a kernel asks for it."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import numpy as np

from surfaces import _numba_target


def _run(code: str) -> str:
    out = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


def test_loading_a_kernel_does_not_import_scipy_linalg():
    printed = _run(
        """
        import sys
        import numpy as np
        from surfaces import get_surface
        surface = get_surface("beale")
        print(surface.value(np.array([1.0]), np.array([0.5]))[0])
        import numba.np.arraymath as am
        print("scipy.linalg" in sys.modules, am._HAVE_BLAS, any(type(f).__name__ == "_HideLinalg" for f in sys.meta_path))
        """
    )
    value, flags = printed.splitlines()
    beale = (1.5 - 1 + 0.5) ** 2 + (2.25 - 1 + 0.25) ** 2 + (2.625 - 1 + 0.125) ** 2
    assert float(value) == beale
    assert flags == "False False False"  # no SciPy, no probe result, and the import hook is gone


def test_blas_backed_numba_code_still_compiles_and_imports_scipy_when_needed():
    printed = _run(
        """
        import sys
        import numpy as np
        import surfaces  # configures Numba as every process of the app does
        import numba
        @numba.njit
        def dot(a, b):
            return np.dot(a, b)
        a = np.arange(6.0).reshape(2, 3); b = np.arange(3.0)
        print(list(dot(a, b)), "scipy.linalg" in sys.modules)
        """
    )
    assert printed == f"{list(np.arange(6.0).reshape(2, 3) @ np.arange(3.0))} True"


def test_import_arraymath_hides_nothing_once_numbas_arrays_are_imported():
    # in this process `surfaces` already imported them: nothing is hidden a second time
    assert _numba_target.import_arraymath() is False
    assert not any(isinstance(f, _numba_target._HideLinalg) for f in sys.meta_path)
