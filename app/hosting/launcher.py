"""The job launcher's process: a small single-threaded process that forks background jobs for the web server.

A threaded server must not ``fork``: the child gets a copy of every lock that
another thread held at that instant (SQLite's, the allocator's, a
``threading.Lock``) and waits on it forever.  Instead the server hands each job
to this launcher, which it started with a fresh interpreter (``fork`` +
``exec``, safe from any thread) and which runs no threads of its own, so it may
fork.  The launcher

* imports what jobs need once, and for each module whose background callbacks
  it will run (``warm``) queues the warm-up steps that module's page declares
  (its ``JOB_WARM_UP`` or ``warm()``; :mod:`app.hosting.launcher_warm`), so jobs
  start warm: the compiled kernels are loaded, as in a fork of a warmed server.
  It takes one step whenever no request waits and no job of its own runs, so a
  job asked for mid-warm-up starts at once with the steps done so far; a
  ``ping`` is answered once every step is done;
* forks one child per job (``run``): the job is the child itself, so its pid is
  the one to check and to kill.  The child takes the caller's stdout/stderr
  (passed as file descriptors), environment, working directory and
  ``sys.path`` at the moment of the call, then runs the job function, which
  arrives pickled with dill (closures travel by value, module globals by
  reference);
* reaps its children at once (``SIGCHLD`` ignored), so a finished or killed job
  leaves no zombie;
* exits when every process holding its "alive" pipe (the server and any process
  forked from it, e.g. gunicorn workers) has gone.  Jobs still running carry on
  to their own end.

It is a child of the process that started it (under gunicorn ``--preload``: of
the master, beside the workers), and every job is a child of the launcher.

The server talks to it over a Unix socket in a private (0700) directory; the
launcher also checks that each peer runs as its own user.  Messages are a
length-prefixed pickle of a small dict.

The server's handle on it is :class:`app.hosting.launcher_client.Launcher`; the wire between
them is :mod:`app.hosting.launcher_wire`.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import pickle
import selectors
import shutil
import signal
import socket
import sys
import threading
import traceback
from typing import Any

from app.hosting.launcher_warm import WarmUp
from app.hosting.launcher_wire import recv_message, same_user, say, send_message

#: seconds the launcher waits for a request's bytes once connected
READ_TIMEOUT = 30.0
#: imported by the launcher before anything else: what every Dash job function needs when it is unpickled
_BASE_MODULES = ("dill", "diskcache", "psutil", "dash", "dash.background_callback.managers.diskcache_manager")


def _flush_std() -> None:
    for stream in (sys.stdout, sys.stderr):
        try:
            if stream is not None:
                stream.flush()
        except (OSError, ValueError):
            pass


def _store_error(msg: dict[str, Any], text: str, tb: str) -> None:
    """Leave the job's result as Dash's own error report, so the page shows why the job never ran."""
    try:
        store = pickle.loads(msg["store"])
        store.set(msg["key"], {"background_callback_error": {"msg": text, "tb": tb}})
    except BaseException:  # noqa: BLE001
        traceback.print_exc()


#: how long a job process's note of its result key is kept in the store (seconds)
RESULT_KEY_NOTE_EXPIRY = 24 * 3600


def result_key_note(pid: int) -> str:
    """The store's key under which the job process ``pid`` notes where its result goes (``msg["key"]``)."""
    return f"descent-lab-job-result-key-{pid}"


def _note_result_key(msg: dict[str, Any]) -> None:
    """Note this process's result key in the job's store before the job runs, so that once the process has
    ended a poll can still tell a result that waits to be read from a job that left none."""
    try:
        store = pickle.loads(msg["store"])
        store.set(result_key_note(os.getpid()), msg["key"], expire=RESULT_KEY_NOTE_EXPIRY)
    except BaseException:  # noqa: BLE001  (the job still runs; only that window stays open)
        traceback.print_exc()


def _child(msg: dict[str, Any], fds: list[int]) -> None:
    """In the forked child: become the caller's job process, run the job, exit (never returns)."""
    code = 1
    try:
        for signum in (signal.SIGCHLD, signal.SIGIO):
            signal.signal(signum, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        for target, fd in zip(msg.get("stdio", ()), fds):
            os.dup2(fd, target)
        for fd in fds:
            if fd not in (0, 1, 2):
                os.close(fd)
        try:
            os.chdir(msg["cwd"])
        except (OSError, TypeError):
            pass
        os.environ.clear()
        os.environ.update(msg["env"])
        sys.path[:] = msg["path"]
        _note_result_key(msg)
        try:
            import dill

            fn, args = dill.loads(msg["job"])
        except BaseException as exc:  # noqa: BLE001
            tb = traceback.format_exc()
            sys.stderr.write(tb)
            _store_error(msg, f"the job could not be unpickled in its process: {type(exc).__name__}: {exc}", tb)
            return
        try:
            fn(*args)
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        except BaseException:  # noqa: BLE001
            traceback.print_exc()
        # as a multiprocessing child ends: wait for the job's own non-daemon threads
        threading._shutdown()  # type: ignore[attr-defined]
    except BaseException:  # noqa: BLE001
        with contextlib.suppress(BaseException):
            traceback.print_exc()
    finally:
        _flush_std()
        os._exit(code)


def _handle(conn: socket.socket, listener: socket.socket, alive: int, warm_up: WarmUp) -> None:
    msg, fds = recv_message(conn, max_fds=4)
    op = msg.get("op") if isinstance(msg, dict) else None
    if op == "run":
        if threading.active_count() > 1:
            say(f"{threading.active_count() - 1} other thread(s) run here (started by a warm-up?): forking is unsafe")
        _flush_std()  # nothing the launcher buffered may be written twice
        pid = os.fork()
        if pid == 0:
            listener.close()
            os.close(alive)
            conn.close()
            _child(msg, fds)
        for fd in fds:
            os.close(fd)
        warm_up.job_started(pid)
        send_message(conn, {"pid": pid})
        return
    for fd in fds:
        os.close(fd)
    if op == "warm":
        warm_up.add(list(msg.get("modules", ())), list(msg.get("path", ())))
        send_message(conn, {"ok": True, "steps": warm_up.pending})
    elif op == "ping":
        warm_up.finish()
        send_message(conn, {"pid": os.getpid(), "threads": threading.active_count()})
    else:
        send_message(conn, {"error": f"unknown request {op!r}"})


def _exit_with_server(alive: int, path: str | None) -> None:
    """Exit as soon as the last server process is gone, even in the middle of a long warm-up.

    The kernel signals (SIGIO) when the last writer of the "alive" pipe closes it; the handler runs
    between two bytecodes of whatever the launcher is doing.  No thread is needed (none may exist:
    the launcher forks).
    """
    import fcntl

    os.set_blocking(alive, False)

    def gone(_signum: int, _frame: Any) -> None:
        try:
            if os.read(alive, 4096):
                return
        except BlockingIOError:
            return
        except OSError:
            pass
        if path:
            shutil.rmtree(os.path.dirname(path), ignore_errors=True)
        _flush_std()
        os._exit(0)

    signal.signal(signal.SIGIO, gone)
    try:
        fcntl.fcntl(alive, fcntl.F_SETOWN, os.getpid())
        fcntl.fcntl(alive, fcntl.F_SETFL, fcntl.fcntl(alive, fcntl.F_GETFL) | os.O_ASYNC)
    except (AttributeError, OSError):
        pass  # no SIGIO here: the main loop still sees the pipe close between requests
    gone(signal.SIGIO, None)  # the server may already have gone


def serve(args: dict[str, Any]) -> None:
    """The launcher's main loop (run in its own interpreter by :class:`Launcher`)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C stops the server; the launcher follows when it is gone
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # children are reaped by the kernel the moment they end
    listener = socket.socket(fileno=args["listen"])
    alive = int(args["alive"])
    _exit_with_server(alive, args.get("socket"))
    for name in _BASE_MODULES:
        try:
            importlib.import_module(name)
        except ImportError as exc:
            say(f"cannot import {name}: {exc}")
    sel = selectors.DefaultSelector()
    sel.register(listener, selectors.EVENT_READ, "listen")
    sel.register(alive, selectors.EVENT_READ, "alive")
    warm_up = WarmUp()
    try:
        while True:
            ready = sel.select(warm_up.wait_time())
            if not ready:
                warm_up.run_next()  # no request waits: the next warm-up step, unless a job still runs
                continue
            for key, _ in ready:
                if key.data == "alive":
                    try:
                        if not os.read(alive, 4096):
                            return  # every server process has gone
                    except BlockingIOError:
                        pass
                    continue
                try:
                    conn, _addr = listener.accept()
                except (BlockingIOError, InterruptedError):
                    continue
                with conn:
                    try:
                        conn.setblocking(True)
                        conn.settimeout(READ_TIMEOUT)
                        if not same_user(conn):
                            continue
                        _handle(conn, listener, alive, warm_up)
                    except (OSError, EOFError, ValueError, pickle.UnpicklingError) as exc:
                        if not isinstance(exc, BrokenPipeError):  # a caller that did not wait for the answer
                            say(f"request failed: {type(exc).__name__}: {exc}")
    finally:
        path = args.get("socket")
        if path:
            shutil.rmtree(os.path.dirname(path), ignore_errors=True)
