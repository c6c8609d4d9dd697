"""The job launcher's warm-up: what its jobs need loaded, one step at a time, between its requests.

A page says what its background jobs need in one of two ways: a tuple ``JOB_WARM_UP`` of
steps (functions without arguments) in the order a first job needs them, or a ``warm()``
function, which is then one step (:func:`job_warm_up`).  The launcher queues the steps of every
module whose callbacks it will run (:meth:`WarmUp.add`) and runs them one per turn of its loop
(:meth:`WarmUp.run_next`), so that

* a job asked for during the warm-up starts at once, in a fork that has every step done so far
  (on an empty compile cache the first map waits for its own kernel only, not for every page's);
* a step waits while a job the launcher started still runs (:meth:`WarmUp.wait_time`): on a
  small machine the job needs the cores more than the compiler does.  It waits
  :data:`YIELD_LIMIT` seconds at most, so that a busy server still warms up;
* a ``ping`` is answered once every step queued before it is done (:meth:`WarmUp.finish`).

A step that fails is reported and skipped: the job that needs it compiles or fails on its own,
visibly.  Nothing here starts a thread (the launcher forks).
"""

from __future__ import annotations

import importlib
import os
import sys
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from app.hosting.launcher_wire import say

#: longest the warm-up waits for running jobs before it takes its next step anyway (seconds)
YIELD_LIMIT = 30.0
#: how often the launcher looks whether its running jobs have ended, while the warm-up waits for them (seconds)
JOB_POLL = 0.25


def warm_targets(module: str) -> list[str]:
    """Where the warm-up for callbacks defined in ``module`` is looked for, in order.

    The module itself, else its package's ``page`` module (each page package's entry: it has the
    page's ``warm()`` or ``JOB_WARM_UP``, which load what the page's jobs need), else the package.
    """
    parent = module.rpartition(".")[0]
    return [module, f"{parent}.page", parent] if parent else [module]


def job_warm_up(mod: Any) -> tuple[Callable[[], Any], ...]:
    """The warm-up steps a module declares for its jobs: its ``JOB_WARM_UP``, else its ``warm`` as one step,
    else none."""
    steps = getattr(mod, "JOB_WARM_UP", None)
    if isinstance(steps, (tuple, list)):
        return tuple(step for step in steps if callable(step))
    warm = getattr(mod, "warm", None)
    return (warm,) if callable(warm) else ()


def _process_exists(pid: int) -> bool:
    """Whether the process ``pid`` exists (the launcher's children are reaped at once: an ended job leaves no
    zombie to mistake for a running one)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # it exists, but is not ours to signal
    return True


def _step_name(step: Callable[[], Any]) -> tuple[str, str]:
    return getattr(step, "__module__", "?"), getattr(step, "__qualname__", repr(step))


class WarmUp:
    """The launcher's queue of warm-up steps, and the jobs it started (which the steps give way to)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic,
                 is_running: Callable[[int], bool] | None = None) -> None:  # fmt: skip
        self._clock = clock
        self._is_running = is_running or _process_exists
        self._pending: deque[Callable[[], Any]] = deque()
        self._queued: set[tuple[str, str]] = set()  # every step ever queued: each runs once
        self._jobs: set[int] = set()
        self._yielding_since: float | None = None

    def add(self, modules: list[str], path: list[str]) -> None:
        """Queue the warm-up steps of each module's page (see :func:`warm_targets`), after those queued before."""
        for entry in reversed(path):
            if entry not in sys.path:
                sys.path.insert(0, entry)
        for name in modules:
            for target in warm_targets(name):
                try:
                    mod = importlib.import_module(target)
                except ModuleNotFoundError as exc:
                    if exc.name == target:
                        continue  # no such module: look further
                    say(f"could not import {target}: {exc}")
                    break
                except BaseException as exc:  # noqa: BLE001 - a module that fails here fails again in its job, visibly
                    say(f"could not import {target}: {type(exc).__name__}: {exc}")
                    break
                steps = job_warm_up(mod)
                if not steps:
                    continue
                for step in steps:
                    if _step_name(step) not in self._queued:
                        self._queued.add(_step_name(step))
                        self._pending.append(step)
                break

    def job_started(self, pid: int) -> None:
        """Note a job's process: the next steps wait while it runs."""
        self._jobs.add(pid)

    def _jobs_running(self) -> bool:
        self._jobs = {pid for pid in self._jobs if self._is_running(pid)}
        return bool(self._jobs)

    @property
    def pending(self) -> int:
        """How many steps are still to run."""
        return len(self._pending)

    def wait_time(self) -> float | None:
        """How long the launcher may wait for a request before it should call :meth:`run_next`.

        None when there is nothing to warm; 0 when the next step may run now; :data:`JOB_POLL`
        while a job runs (at most :data:`YIELD_LIMIT` seconds in a row).
        """
        if not self._pending:
            return None
        if not self._jobs_running():
            self._yielding_since = None
            return 0.0
        now = self._clock()
        if self._yielding_since is None:
            self._yielding_since = now
        left = YIELD_LIMIT - (now - self._yielding_since)
        return max(0.0, min(JOB_POLL, left))

    def run_next(self) -> None:
        """Take the next step if it is due (see :meth:`wait_time`)."""
        if self.wait_time() == 0.0 and self._pending:
            self._yielding_since = None
            self._run(self._pending.popleft())

    def finish(self) -> None:
        """Run every step still queued, now."""
        while self._pending:
            self._run(self._pending.popleft())

    @staticmethod
    def _run(step: Callable[[], Any]) -> None:
        module, name = _step_name(step)
        try:
            step()
        except BaseException as exc:  # noqa: BLE001
            say(f"{module}.{name}() failed: {type(exc).__name__}: {exc}")
