"""The job launcher: a small single-threaded process that forks background jobs for the web server.

A threaded server must not ``fork``: the child gets a copy of every lock that
another thread held at that instant (SQLite's, the allocator's, a
``threading.Lock``) and waits on it forever.  Instead the server hands each job
to this launcher, which it started with a fresh interpreter (``fork`` +
``exec``, safe from any thread) and which runs no threads of its own, so it may
fork.  The launcher

* imports what jobs need once, and for each module whose background callbacks
  it will run (``warm``) calls the warm-up that module's page defines (the
  module's own ``warm()``, else its package's ``page.warm()``), so jobs start
  warm: the compiled kernels are loaded, as in a fork of a warmed server;
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
"""

from __future__ import annotations

import contextlib
import importlib
import json
import os
import pickle
import selectors
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import traceback
import weakref
from typing import Any

#: seconds the server waits for the launcher's answer (its warm-up, which a request may queue behind, included)
REPLY_TIMEOUT = 300.0
#: seconds the launcher waits for a request's bytes once connected
READ_TIMEOUT = 30.0
_HEAD = struct.Struct("!Q")
_MAX_MESSAGE = 1 << 31
#: imported by the launcher before anything else: what every Dash job function needs when it is unpickled
_BASE_MODULES = ("dill", "diskcache", "psutil", "dash", "dash.background_callback.managers.diskcache_manager")

_BOOT = ("import json, sys; a = json.loads(sys.argv[1]); sys.path[:] = a['path']; "
         "from app.hosting.launcher import serve; serve(a)")  # fmt: skip


class LauncherError(RuntimeError):
    """The launcher could not be reached or refused a job."""


# --------------------------------------------------------------------------- the wire


def _send(sock: socket.socket, obj: Any, fds: list[int] | None = None) -> None:
    data = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    head = _HEAD.pack(len(data))
    if fds:
        socket.send_fds(sock, [head], fds)
    else:
        sock.sendall(head)
    sock.sendall(data)


def _recv_exact(sock: socket.socket, n: int, buf: bytes = b"") -> bytes:
    parts = [buf]
    have = len(buf)
    while have < n:
        chunk = sock.recv(min(n - have, 1 << 20))
        if not chunk:
            raise EOFError("the peer closed the connection")
        parts.append(chunk)
        have += len(chunk)
    return b"".join(parts)


def _recv(sock: socket.socket, max_fds: int = 0) -> tuple[Any, list[int]]:
    fds: list[int] = []
    if max_fds:
        first, fds, _flags, _addr = socket.recv_fds(sock, _HEAD.size, max_fds)
        if not first:
            raise EOFError("the peer closed the connection")
    else:
        first = b""
    try:
        (size,) = _HEAD.unpack(_recv_exact(sock, _HEAD.size, first))
        if size > _MAX_MESSAGE:
            raise ValueError(f"message of {size} bytes")
        return pickle.loads(_recv_exact(sock, size)), fds
    except BaseException:
        for fd in fds:
            os.close(fd)
        raise


def _same_user(conn: socket.socket) -> bool:
    so_peercred = getattr(socket, "SO_PEERCRED", None)
    if so_peercred is None:
        return True  # no such check here: the socket's 0700 directory still keeps other users out
    creds = conn.getsockopt(socket.SOL_SOCKET, so_peercred, struct.calcsize("3i"))
    _pid, uid, _gid = struct.unpack("3i", creds)
    return uid == os.getuid()


# --------------------------------------------------------------------------- the launcher process


def _say(text: str) -> None:
    try:
        sys.stderr.write(f"[job launcher {os.getpid()}] {text}\n")
        sys.stderr.flush()
    except (OSError, ValueError):
        pass


def _warm_targets(module: str) -> list[str]:
    """Where the warm-up for callbacks defined in ``module`` is looked for, in order.

    The module itself, else its package's ``page`` module (each page package's entry: it has the
    page's ``warm()``, which loads what the page's jobs need), else the package.
    """
    parent = module.rpartition(".")[0]
    return [module, f"{parent}.page", parent] if parent else [module]


_WARMED: set[tuple[str, str]] = set()


def _warm(modules: list[str], path: list[str]) -> None:
    _extend_path(path)
    for name in modules:
        for target in _warm_targets(name):
            try:
                mod = importlib.import_module(target)
            except ModuleNotFoundError as exc:
                if exc.name == target:
                    continue  # no such module: look further
                _say(f"could not import {target}: {exc}")
                break
            except BaseException as exc:  # noqa: BLE001 - a module that fails here fails again in its job, visibly
                _say(f"could not import {target}: {type(exc).__name__}: {exc}")
                break
            warm = getattr(mod, "warm", None)
            if not callable(warm):
                continue
            done = (getattr(warm, "__module__", target), getattr(warm, "__qualname__", "warm"))
            if done not in _WARMED:
                _WARMED.add(done)
                try:
                    warm()
                except BaseException as exc:  # noqa: BLE001
                    _say(f"{target}.warm() failed: {type(exc).__name__}: {exc}")
            break


def _extend_path(path: list[str]) -> None:
    for entry in reversed(path):
        if entry not in sys.path:
            sys.path.insert(0, entry)


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


def _handle(conn: socket.socket, listener: socket.socket, alive: int) -> None:
    msg, fds = _recv(conn, max_fds=4)
    op = msg.get("op") if isinstance(msg, dict) else None
    if op == "run":
        if threading.active_count() > 1:
            _say(f"{threading.active_count() - 1} other thread(s) run here (started by a warm-up?): forking is unsafe")
        _flush_std()  # nothing the launcher buffered may be written twice
        pid = os.fork()
        if pid == 0:
            listener.close()
            os.close(alive)
            conn.close()
            _child(msg, fds)
        for fd in fds:
            os.close(fd)
        _send(conn, {"pid": pid})
        return
    for fd in fds:
        os.close(fd)
    if op == "warm":
        _warm(list(msg.get("modules", ())), list(msg.get("path", ())))
        _send(conn, {"ok": True})
    elif op == "ping":
        _send(conn, {"pid": os.getpid(), "threads": threading.active_count()})
    else:
        _send(conn, {"error": f"unknown request {op!r}"})


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
            _say(f"cannot import {name}: {exc}")
    sel = selectors.DefaultSelector()
    sel.register(listener, selectors.EVENT_READ, "listen")
    sel.register(alive, selectors.EVENT_READ, "alive")
    try:
        while True:
            for key, _ in sel.select():
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
                        if not _same_user(conn):
                            continue
                        _handle(conn, listener, alive)
                    except (OSError, EOFError, ValueError, pickle.UnpicklingError) as exc:
                        if not isinstance(exc, BrokenPipeError):  # a caller that did not wait for the answer
                            _say(f"request failed: {type(exc).__name__}: {exc}")
    finally:
        path = args.get("socket")
        if path:
            shutil.rmtree(os.path.dirname(path), ignore_errors=True)


# --------------------------------------------------------------------------- the server's side


class Launcher:
    """The server's handle on its launcher process: started on first use, restarted if it died.

    Safe to share between threads, and between processes forked from the one that started it
    (gunicorn ``--preload`` workers): every request opens its own connection to the socket.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._proc: subprocess.Popen[bytes] | None = None
        self._owner: int | None = None
        self._socket: str | None = None
        self._alive_w: int | None = None
        self._pid: int | None = None
        self._warm: list[str] = []
        _LAUNCHERS.add(self)

    def _after_fork(self) -> None:
        self._lock = threading.Lock()  # a thread of the parent may have held it

    @property
    def pid(self) -> int | None:
        """The launcher's pid (the parent of every job process), once started."""
        return self._pid

    def ensure(self) -> int:
        """Start the launcher unless it runs; its pid."""
        with self._lock:
            if self._socket is None or not self._running():
                self._start()
            assert self._pid is not None
            return self._pid

    def _running(self) -> bool:
        if self._proc is not None and self._owner == os.getpid():
            return self._proc.poll() is None
        if not self._pid:
            return False
        try:  # started by the process this one was forked from: not a child of ours
            os.kill(self._pid, 0)
            return True
        except OSError:
            return False

    def _start(self) -> None:
        self._stop_locked()
        folder = tempfile.mkdtemp(prefix="descent-lab-launcher-")
        path = os.path.join(folder, "s")
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        alive_r, alive_w = os.pipe()
        try:
            listener.bind(path)
            listener.listen(128)
            args = {"path": list(sys.path), "listen": listener.fileno(), "alive": alive_r, "socket": path}
            cmd = [sys.executable, *subprocess._args_from_interpreter_flags(), "-c", _BOOT, json.dumps(args)]  # type: ignore[attr-defined]
            self._proc = subprocess.Popen(cmd, pass_fds=(listener.fileno(), alive_r), stdin=subprocess.DEVNULL,
                                          close_fds=True)  # fmt: skip
        except BaseException:
            os.close(alive_w)
            shutil.rmtree(folder, ignore_errors=True)
            raise
        finally:
            listener.close()
            os.close(alive_r)
        self._owner = os.getpid()
        self._pid = self._proc.pid
        self._socket = path
        self._alive_w = alive_w
        if self._warm:
            self._post({"op": "warm", "modules": list(self._warm), "path": list(sys.path)}, path)

    def _stop_locked(self) -> None:
        if self._alive_w is not None:
            try:
                os.close(self._alive_w)
            except OSError:
                pass
            self._alive_w = None
        proc, self._proc = self._proc, None
        if proc is not None and self._owner == os.getpid():
            if proc.poll() is None:
                proc.kill()
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass
        if self._socket is not None and self._owner == os.getpid():
            shutil.rmtree(os.path.dirname(self._socket), ignore_errors=True)
        self._socket = None
        self._pid = None

    def stop(self) -> None:
        """End the launcher (jobs it started carry on); the next request starts a new one."""
        with self._lock:
            self._stop_locked()

    def _connect(self, path: str, timeout: float) -> socket.socket:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(timeout)
        try:
            sock.connect(path)
        except BaseException:
            sock.close()
            raise
        return sock

    def _post(self, msg: dict[str, Any], path: str) -> None:
        """Send without waiting for the answer (the launcher works through its requests in order)."""
        try:
            with self._connect(path, 5.0) as sock:
                _send(sock, msg)
        except OSError as exc:
            _say(f"could not reach the launcher: {exc}")

    def _request(self, msg: dict[str, Any], fds: list[int] | None = None, timeout: float = REPLY_TIMEOUT) -> Any:
        for attempt in (0, 1):
            self.ensure()
            path = self._socket
            assert path is not None
            try:
                sock = self._connect(path, timeout)
            except (FileNotFoundError, ConnectionRefusedError):
                with self._lock:  # it died: start a new one (unless another thread just did) and try once more
                    if self._socket == path:
                        self._stop_locked()
                if attempt:
                    raise
                continue
            with sock:
                try:
                    _send(sock, msg, fds)
                    reply, _ = _recv(sock)
                except (OSError, EOFError) as exc:
                    raise LauncherError(f"the job launcher did not answer: {type(exc).__name__}: {exc}") from exc
            if isinstance(reply, dict) and "error" in reply:
                raise LauncherError(reply["error"])
            return reply
        raise LauncherError("unreachable")

    def warm(self, modules: list[str]) -> None:
        """Have the launcher import these modules and call their ``warm()`` (once each, in the background)."""
        with self._lock:
            new = [m for m in modules if m and m != "__main__" and m not in self._warm]
            if not new:
                return
            self._warm.extend(new)
            if self._socket is None or not self._running():
                self._start()  # it warms everything asked for so far
                return
            path = self._socket
        self._post({"op": "warm", "modules": new, "path": list(sys.path)}, path)

    def ping(self, timeout: float = REPLY_TIMEOUT) -> dict[str, Any]:
        """The launcher's answer once it has worked through every earlier request (its warm-ups included)."""
        return self._request({"op": "ping"}, timeout=timeout)

    def run(self, job: bytes, store: bytes, key: str) -> int:
        """Start one job: ``job`` is ``dill.dumps((fn, args))``; its pid.

        ``store`` (a pickled result store) and ``key`` say where to leave Dash's error report if the job
        cannot even be unpickled in its process.
        """
        stdio = [fd for fd in (1, 2) if _valid_fd(fd)]
        try:
            cwd: str | None = os.getcwd()
        except OSError:
            cwd = None
        msg = {"op": "run", "job": job, "store": store, "key": key, "stdio": stdio, "env": dict(os.environ),
               "cwd": cwd, "path": list(sys.path)}  # fmt: skip
        reply = self._request(msg, fds=stdio)
        return int(reply["pid"])


def _valid_fd(fd: int) -> bool:
    try:
        os.fstat(fd)
        return True
    except OSError:
        return False


_shared: Launcher | None = None
_shared_lock = threading.Lock()
_LAUNCHERS: weakref.WeakSet[Launcher] = weakref.WeakSet()


def _after_fork_in_child() -> None:
    # a process forked from a threaded one (gunicorn's workers are not): locks another thread held are reset
    global _shared_lock
    _shared_lock = threading.Lock()
    for launcher in list(_LAUNCHERS):
        launcher._after_fork()


os.register_at_fork(after_in_child=_after_fork_in_child)


def shared_launcher() -> Launcher:
    """This process's launcher (one for every manager in it)."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = Launcher()
        return _shared
