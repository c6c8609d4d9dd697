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


def test_full_width_features_lift_the_256_bit_cap_only_on_cpus_with_512_bit_vectors():
    host = "+64bit,+avx2,+avx512f,+fma"
    assert _numba_target.full_width_features(host) == host + ",-prefer-256-bit"
    assert _numba_target.full_width_features("+64bit,+avx2,-avx512f,+fma") is None  # no 512-bit unit
    assert _numba_target.full_width_features("+avx2,+fma") is None
    assert _numba_target.full_width_features("+avx512f,+prefer-256-bit") is None  # the string already decides
    assert _numba_target.full_width_features("+avx512f,-prefer-256-bit") is None


_TM_FEATURES = """
    import surfaces  # configures Numba as every process of the app does
    from numba.core.codegen import get_host_cpu_features
    from numba.core.registry import cpu_target
    print(get_host_cpu_features())
    print(cpu_target.target_context.codegen()._tm_features)
    """


def test_kernels_compile_for_the_full_vector_width_of_the_machine():
    host, used = _run(_TM_FEATURES).splitlines()
    if "+avx512f" in host.split(","):
        assert used == host + ",-prefer-256-bit"
    else:
        assert used == host


def test_a_cpu_feature_string_the_user_sets_stands():
    host = _run("from numba.core.codegen import get_host_cpu_features; print(get_host_cpu_features())")
    chosen = host.replace("+avx512f", "-avx512f")
    code = f"import os; os.environ['NUMBA_CPU_FEATURES'] = {chosen!r}\n" + textwrap.dedent(_TM_FEATURES)
    assert _run(code).splitlines()[1] == chosen


def test_the_width_cannot_change_once_the_cpu_target_is_set_up(monkeypatch):
    import numba
    from numba.core.registry import cpu_target

    before = cpu_target.target_context.codegen()._tm_features
    monkeypatch.setattr(numba.config, "CPU_FEATURES", None)  # as if nothing had chosen yet
    monkeypatch.delenv("NUMBA_CPU_FEATURES", raising=False)
    assert _numba_target.use_full_vector_width() is None
    assert numba.config.CPU_FEATURES is None
    assert cpu_target.target_context.codegen()._tm_features == before
