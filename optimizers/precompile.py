"""The first race on a fresh checkout: its kernels compiled by two processes at once, one per core.

On an empty Numba cache the Explorer's first race waits for the trace kernel (``_runkernels.run``)
and everything it calls to be compiled, one function after another, by one thread of the server.
Numba compiles a caller after its callees, and each process writes what it compiled to the
shared on-disk cache, where the other loads it instead of compiling it again.  So the work is
split by callee, and a caller is compiled only once its callees are in the cache:

* a **helper process** (:func:`start`) compiles ``begin`` (every update rule: the largest
  callee, about 6 s here) and then the surfaces' second-order jet (``evaluate``, which the
  curvature panel reads after the race), and reports each on its output as it is cached;
* the **server**, meanwhile, compiles its share (:data:`SERVER_SHARE`: the first-order jets,
  ``resume`` and the modifiers' kernels); its first trace then waits for ``begin``
  (:func:`await_step_kernels`) and compiles the trace kernel itself on top of both.

The helper is started only when the cache holds no ``begin`` compiled from its current source (a
fresh checkout, or the first start after an update); on a filled cache the server loads the compiled
trace kernel as before.  Nothing depends on the helper for correctness: if it
cannot start, fails or is slow, what it has not cached is compiled where it is needed.
``python -m optimizers.precompile`` runs the helper's part.
"""

from __future__ import annotations

import json
import os
import pickle
import subprocess
import sys
import threading
import time
from typing import Any

from numba import types

_A1 = types.float64[::1]
_A2 = types.float64[:, ::1]
_NO = types.none
#: the argument types the drivers call the step kernels with (the drivers' own arrays: C-contiguous float64)
BEGIN_SIGNATURE = (types.int64, _A1, types.float64, _A2, _A1, _A1, types.float64, _A1, _A2, _A1, _A1)
RESUME_SIGNATURE = (types.int64, _A1, types.float64, _A2, _A1, _A1, _A1, types.float64, _A1, _A1)
#: the point kernels on an analytic built-in (``Surface.point_args``: no formula program), as the trace kernel
#: and ``Surface.jet`` / ``Surface.first_order`` call them
EVALUATE_SIGNATURE = (types.int64, _A1, _NO, _NO, types.float64, types.float64)
EVALUATE_MANY_SIGNATURE = (types.int64, _A1, _NO, _NO, _A1, _A1, _A2)
#: the modifiers' kernels as the trace kernel calls them
INIT_STATE_SIGNATURE = (types.int64, _A1, _A2, _A1)
SCHEDULED_LR_SIGNATURE = (types.float64, _A1, types.int64)
NOISE_SIGNATURE = (_A1, _A1, types.uint64)

#: what the helper reports, in its order: a line with the name once that kernel is in the cache
HELPER_SHARE = ("begin", "evaluate")
#: longest a trace waits for the helper's ``begin`` (a slow or stuck helper only costs time, never a result)
TRACE_WAIT = 60.0

_BOOT = "import json, sys; sys.path[:] = json.loads(sys.argv[1]); from optimizers.precompile import main; main()"


def _kernels() -> dict[str, tuple[Any, tuple]]:
    """name → (dispatcher, signature) of every kernel the two shares compile."""
    from optimizers import _kernels as rules
    from optimizers import _modkernels as mods
    from surfaces import _kernels as jets

    return {
        "begin": (rules.begin, BEGIN_SIGNATURE),
        "evaluate": (jets.evaluate, EVALUATE_SIGNATURE),
        "evaluate_grad_many": (jets.evaluate_grad_many, EVALUATE_MANY_SIGNATURE),
        "resume": (rules.resume, RESUME_SIGNATURE),
        "init_state": (rules.init_state, INIT_STATE_SIGNATURE),
        "scheduled_lr": (mods.scheduled_lr, SCHEDULED_LR_SIGNATURE),
        "apply_noise_and_clip": (mods.apply_noise_and_clip, NOISE_SIGNATURE),
    }


#: the server's share, in the order the first race needs it (the helper compiles :data:`HELPER_SHARE`)
SERVER_SHARE = ("evaluate_grad_many", "resume", "init_state", "scheduled_lr", "apply_noise_and_clip")


def compile_share(names: tuple[str, ...], report: Any = None) -> float:
    """Compile (or load from the cache) the kernels ``names`` for the drivers' argument types, in that order,
    calling ``report(name)`` after each; seconds taken."""
    kernels = _kernels()
    t0 = time.perf_counter()
    for name in names:
        dispatcher, signature = kernels[name]
        dispatcher.compile(signature)
        if report is not None:
            report(name)
    return time.perf_counter() - t0


def is_cached(name: str) -> bool:
    """Whether Numba's cache holds compiled code of the kernel ``name`` for its current source (an index
    written for an older source, e.g. before an update, counts as empty, as it does for Numba).  False if
    that cannot be told."""
    dispatcher, _ = _kernels()[name]
    try:
        return bool(dispatcher._cache._cache_file._load_index())
    except (AttributeError, OSError, ValueError, EOFError, pickle.UnpicklingError):  # not as known: act as if empty
        return False


class Helper:
    """The helper process, and which of :data:`HELPER_SHARE` it has reported cached (a thread reads its output)."""

    def __init__(self, process: subprocess.Popen[bytes]) -> None:
        self.process = process
        self.owner = os.getpid()  # a forked child has a copy of this object but not its reader thread
        self._cached = {name: threading.Event() for name in HELPER_SHARE}
        self._server_share = threading.Lock()
        self._server_share_done = False
        threading.Thread(target=self._read, name="descent-lab-precompile", daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            event = self._cached.get(line.decode("ascii", "replace").strip())
            if event is not None:
                event.set()
        self.process.wait()
        for event in self._cached.values():  # it has exited: it will cache nothing more
            event.set()

    def wait_for(self, name: str, timeout: float) -> bool:
        """Wait until the helper has cached ``name`` or exited (at most ``timeout`` seconds); whether it did."""
        return self._cached[name].wait(timeout)

    def wait(self, timeout: float) -> int:
        """Wait for the helper to exit (``subprocess.TimeoutExpired`` after ``timeout`` seconds); its exit code."""
        return self.process.wait(timeout)

    def compile_server_share(self) -> None:
        """Compile :data:`SERVER_SHARE` once, in whichever thread of this process asks first."""
        with self._server_share:
            if not self._server_share_done:
                compile_share(SERVER_SHARE)
                self._server_share_done = True


#: the helper this process started (see :func:`start`): set once, at the server's start
_started: list[Helper] = []


def start() -> Helper | None:
    """Start the helper process (this one's interpreter, path and environment) if ``begin`` is not cached yet;
    None if it is, or if the process cannot be started.  The traces of this process then wait for it."""
    if is_cached("begin"):
        return None
    try:
        proc = subprocess.Popen([sys.executable, "-c", _BOOT, json.dumps(sys.path)], stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE, close_fds=True)  # fmt: skip
    except OSError:
        return None
    helper = Helper(proc)
    _started[:] = [helper]
    return helper


def await_step_kernels() -> None:
    """Before a trace: while this process's helper is compiling ``begin``, compile the server's share and then
    wait for ``begin`` (at most :data:`TRACE_WAIT` seconds), so the trace kernel loads it instead of compiling
    it a second time.  Returns at once when there is no helper or it is done."""
    if not _started:
        return
    helper = _started[0]
    if helper.owner != os.getpid() or helper.wait_for("begin", 0.0):
        return
    helper.compile_server_share()
    helper.wait_for("begin", TRACE_WAIT)


def main() -> None:
    def report(name: str) -> None:
        try:
            sys.stdout.write(name + "\n")
            sys.stdout.flush()
        except OSError:  # the server has exited: the cache is still worth filling
            pass

    compile_share(HELPER_SHARE, report)


if __name__ == "__main__":
    main()
