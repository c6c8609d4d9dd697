"""The server's handle on its job launcher (:mod:`app.hosting.launcher`): started on first use,
restarted if it died, shared by every manager of a process and by processes forked from it.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import weakref
from typing import Any

from app.hosting.launcher_wire import LauncherError, recv_message, say, send_message

#: seconds the server waits for the launcher's answer (its warm-up, which a request may queue behind, included)
REPLY_TIMEOUT = 300.0
_BOOT = ("import json, sys; a = json.loads(sys.argv[1]); sys.path[:] = a['path']; "
         "from app.hosting.launcher import serve; serve(a)")  # fmt: skip


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
                send_message(sock, msg)
        except OSError as exc:
            say(f"could not reach the launcher: {exc}")

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
                    send_message(sock, msg, fds)
                    reply, _ = recv_message(sock)
                except (OSError, EOFError) as exc:
                    raise LauncherError(f"the job launcher did not answer: {type(exc).__name__}: {exc}") from exc
            if isinstance(reply, dict) and "error" in reply:
                raise LauncherError(reply["error"])
            return reply
        raise LauncherError("unreachable")

    def warm(self, modules: list[str]) -> None:
        """Have the launcher import these modules and call their ``warm()`` (once each, in the background).

        A launcher that has not started yet only notes them: it warms them when it starts, which
        :meth:`ensure` does (the app calls it once its first page is out) or else the first job.
        """
        with self._lock:
            new = [m for m in modules if m and m != "__main__" and m not in self._warm]
            if not new:
                return
            self._warm.extend(new)
            if self._socket is None or not self._running():
                return  # it warms everything asked for so far when it starts (ensure, or the first job)
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
