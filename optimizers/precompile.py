"""Compile the optimizers' step kernels in a process of their own, on a fresh checkout's first start.

On an empty Numba cache the Explorer's first race waits for everything its trace kernel
(``_runkernels.run``) calls to be compiled, one function after another in the server's process.
``begin`` and ``resume`` (every update rule: about 7 s of the 20 s here) do not depend on the
surface.  Compiled by :func:`compile_step_kernels` in a second process, on the machine's other
core, while the server compiles the surfaces' first-order jets, they are in the cache when the
trace kernel asks for them, and the server loads them instead of compiling them again; so,
often, is the surfaces' second-order jet, compiled next (measured: the first view's compiling
20.7 → 12.5 s).  With a filled cache the helper loads them and exits within a second.

``python -m optimizers.precompile`` compiles them; :func:`start` runs that in the background.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time

from numba import types

_A1 = types.float64[::1]
_A2 = types.float64[:, ::1]
#: the argument types the drivers call the step kernels with (the drivers' own arrays: C-contiguous float64)
BEGIN_SIGNATURE = (types.int64, _A1, types.float64, _A2, _A1, _A1, types.float64, _A1, _A2, _A1, _A1)
RESUME_SIGNATURE = (types.int64, _A1, types.float64, _A2, _A1, _A1, _A1, types.float64, _A1, _A1)
#: and the surfaces' second-order jet (its Hessian, for Newton's steps): what the trace kernel calls it with
EVALUATE_SIGNATURE = (types.int64, _A1, types.int64[::1], _A1, types.float64, types.float64)
_BOOT = "import json, sys; sys.path[:] = json.loads(sys.argv[1]); from optimizers.precompile import main; main()"


def compile_step_kernels() -> float:
    """Compile (or load from the cache) ``begin``, ``resume`` and then ``surfaces._kernels.evaluate`` for the
    drivers' argument types, in the order the trace kernel needs them; seconds taken."""
    from optimizers import _kernels
    from surfaces import _kernels as surface_kernels

    t0 = time.perf_counter()
    _kernels.begin.compile(BEGIN_SIGNATURE)
    _kernels.resume.compile(RESUME_SIGNATURE)
    surface_kernels.evaluate.compile(EVALUATE_SIGNATURE)
    return time.perf_counter() - t0


def start() -> subprocess.Popen[bytes] | None:
    """Run :func:`compile_step_kernels` in a new process (this one's interpreter, path and environment); None if it
    cannot be started.  Nothing depends on it: a kernel it has not cached yet is compiled where it is needed."""
    try:
        return subprocess.Popen([sys.executable, "-c", _BOOT, json.dumps(sys.path)], stdin=subprocess.DEVNULL,
                                stdout=subprocess.DEVNULL, close_fds=True)  # fmt: skip
    except OSError:
        return None


def main() -> None:
    compile_step_kernels()


if __name__ == "__main__":
    main()
