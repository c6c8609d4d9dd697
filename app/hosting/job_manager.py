"""Dash's DiskcacheManager, with each job forked by the launcher instead of by the web server.

Dash's ``DiskcacheManager.call_job_fn`` forks the job from the process that
serves the request.  That process is threaded (Flask's request threads, a test
server's thread): the child inherits every lock another thread held at that
moment and can wait on one forever (seen: inside ``sqlite3.connect``, the job
never starting).  :class:`DiskcacheJobManager` keeps everything else of Dash's
manager and hands the job to the single-threaded launcher
(:mod:`app.hosting.launcher`), which forks it.
"""

from __future__ import annotations

import os
import pickle
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

import dill
from dash import DiskcacheManager

from app.hosting.launcher import result_key_note
from app.hosting.launcher_client import Launcher, shared_launcher

#: the managers of the app whose background callbacks are being registered (None: no app says)
_REGISTERING: ContextVar[frozenset[int] | None] = ContextVar("descent_lab_registering", default=None)


@contextmanager
def callbacks_for(*managers: Any) -> Iterator[None]:
    """Background callbacks registered inside this block belong to ``managers`` alone.

    Dash registers every background callback with every manager of the process, under a key made
    of the callback's source and output ids: two apps built in one process from the same code (a
    test's servers; an app embedded next to another) give their callbacks the same keys, and the
    app built last would run its closures, its job store and queue included, for the other's
    requests (a lab race started on one app began in the other's queue, and its page reported the
    job lost).  Inside this block a :class:`DiskcacheJobManager` not listed ignores the
    registrations.  Managers of other classes (Celery's) keep Dash's rule: one app per process.
    """
    token = _REGISTERING.set(frozenset(id(m) for m in managers if m is not None))
    try:
        yield
    finally:
        _REGISTERING.reset(token)


def _process_lives(pid: int) -> bool:
    """True while the process runs (a zombie has ended; a process gone at any moment of the check has)."""
    import psutil

    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


class DiskcacheJobManager(DiskcacheManager):
    """A DiskcacheManager whose jobs the launcher forks.

    Everything but the start of a job is Dash's: the same job function (result, progress and
    ``set_props`` under the same cache keys, errors reported the same way), ``get_result``,
    ``terminate_job`` and ``job_running`` on the pid :meth:`call_job_fn` returns, which is the
    job's own process (a child of the launcher, :attr:`launcher_pid`, not of this process).

    The job function reaches its process pickled with dill: a background callback may be a
    closure, but what it closes over must pickle (stores, settings, plain data; not the Dash
    app).  It runs with the caller's environment, working directory, ``sys.path`` and
    stdout/stderr at the time of the call, like a fork, but with modules as the launcher
    imported them: changes this process made to module state do not reach it.

    The launcher (one per process, shared by its managers) starts when :meth:`start_launcher`
    is called (the app does once its first page is out: the launcher's warm-up would otherwise
    compete with that page for the cores) or else with the first job.  For each module with
    background callbacks it runs its page's warm-up (``JOB_WARM_UP`` or ``warm()`` of the module,
    else of its package's ``page``, as ``app.maps.page`` and ``app.lab.page`` have), one step at a
    time between jobs, so jobs start with the kernels loaded.
    """

    def __init__(self, cache: Any = None, cache_by: Any = None, expire: Any = None, *,
                 launcher: Launcher | None = None) -> None:  # fmt: skip
        self.launcher = launcher if launcher is not None else shared_launcher()
        super().__init__(cache, cache_by, expire)

    def start_launcher(self) -> int:
        """Start the launcher now (it warms the pages whose callbacks were registered); its pid."""
        return self.launcher.ensure()

    @property
    def launcher_pid(self) -> int | None:
        """The launcher's pid: the parent of every job process this manager starts."""
        return self.launcher.pid

    def terminate_job(self, job: Any) -> None:
        """Kill the job's process and everything it started, as Dash's does, but without the store's lock.

        Dash's takes a store transaction first (so that two servers do not kill at once, which is
        harmless anyway): a job stuck while it holds the store's write lock could then not be
        killed until SQLite's timeout (60 s) ran out, and the request failed.

        The handle comes from the page (Dash's ``job`` and ``oldJob`` request arguments): only a
        process the launcher started, a job, is ever killed; any other pid is left alone.
        """
        import psutil

        if job is None:
            return
        try:
            pid = int(job)
        except (TypeError, ValueError):
            return
        launcher = self.launcher.pid
        if pid <= 0 or launcher is None or pid in (os.getpid(), launcher):
            return  # never this process or the launcher, whatever the handle says
        try:
            process = psutil.Process(pid)
            if process.ppid() != launcher:
                return  # not a job: a pid from the page is not trusted
            children = process.children(recursive=True)
        except psutil.Error:
            return
        for proc in [*children, process]:
            try:
                proc.kill()
            except psutil.Error:
                pass
        try:
            process.wait(1)
        except (psutil.TimeoutExpired, psutil.Error):
            pass

    def job_running(self, job: Any) -> bool:
        """True while the job's process lives (a zombie has ended), or while the result of an ended job waits
        to be read: Dash's rule, without its two races.

        Dash's poll reads the result, then asks whether the job still runs, and takes "no result and
        not running" for a cancelled job (the page stops waiting).  A job that writes its result and
        ends between the two looked cancelled, and its result was never read (seen: a failed job's
        error lost).  So a job whose result is stored still counts as running, and the next poll
        reads it (the job's process notes its result key first thing, ``launcher.result_key_note``).
        And Dash's check of the pid, then of the process's status, raised ``NoSuchProcess`` when the
        launcher reaped the job in between (a 500): here a process gone at either moment has ended.
        """
        try:
            pid = int(job)
        except (TypeError, ValueError):
            return False
        if pid <= 0:
            return False
        if _process_lives(pid):
            return True
        key = self.handle.get(result_key_note(pid))  # noted by the job's process before it ran the job
        return isinstance(key, str) and key in self.handle

    def register(self, key: Any, fn: Any, progress: Any) -> None:
        """Dash's registration, unless another app's callbacks are being registered (:func:`callbacks_for`)."""
        owners = _REGISTERING.get()
        if owners is not None and id(self) not in owners:
            return
        super().register(key, fn, progress)

    def make_job_fn(self, fn: Any, progress: Any, key: Any = None) -> Any:
        module = getattr(fn, "__module__", None)
        if isinstance(module, str):
            self.launcher.warm([module])
        return super().make_job_fn(fn, progress, key)

    def call_job_fn(self, key: str, job_fn: Any, args: Any, context: Any) -> int:
        """Start the job in a process of its own; its pid (what ``terminate_job`` and ``job_running`` take)."""
        try:
            job = dill.dumps((job_fn, (key, self._make_progress_key(key), args, context)),
                             protocol=pickle.HIGHEST_PROTOCOL)  # fmt: skip
        except Exception as exc:
            raise TypeError(f"this background callback cannot be sent to a job process: {exc}") from exc
        return self.launcher.run(job, pickle.dumps(self.handle), key)
