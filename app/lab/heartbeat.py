"""What a job and its page leave in the job store about a race besides the queue: the cancel flag, the heartbeat.

* A page's Cancel sets the race's cancel flag; the race reads it (cheaply, through
  :func:`cancel_check`) between minibatches and stops with the epochs it completed.
* A begun job keeps a heartbeat from a thread (:class:`Heartbeat`): a key with a short expiry that
  carries the job's process record (:func:`job_record`: host, pid, start time, Celery task), so
  :class:`app.lab.queue.RaceQueue` can tell a dead job from a slow one; the same thread enforces
  the job's hard time bound.
"""

from __future__ import annotations

import math
import os
import re
import socket
import sys
import threading
import time
import traceback
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from app.lab.ids import KEY_PREFIX
from app.lab.limits import BEAT_EVERY, CANCEL_POLL, CANCEL_TTL

#: a race token or browser id as a page sends it back
TOKEN_RE = re.compile(r"[A-Za-z0-9_-]{16,64}")


# --------------------------------------------------------------------------- cancel flags


def cancel_key(token: str) -> str:
    return f"{KEY_PREFIX}cancel:{token}"


def valid_token(raw: Any) -> str | None:
    """A race token or browser id as sent back by a page (letters, digits, - and _), or None."""
    return raw if isinstance(raw, str) and TOKEN_RE.fullmatch(raw) else None


def request_cancel(kv: Any, token: str | None) -> bool:
    if token is None:
        return False
    kv.set(cancel_key(token), b"1", CANCEL_TTL)
    return True


def cancel_check(kv: Any, token: str | None, clock: Callable[[], float] = time.monotonic,
                 every: float = CANCEL_POLL) -> Callable[[], bool]:  # fmt: skip
    """A cheap ``cancel()`` for the race: reads the store at most every ``every`` seconds."""
    state = {"at": -math.inf, "yes": False}

    def check() -> bool:
        if state["yes"] or token is None:
            return state["yes"]
        now = clock()
        if now - state["at"] >= every:
            state["at"] = now
            state["yes"] = kv.get(cancel_key(token)) is not None
        return state["yes"]

    return check

# --------------------------------------------------------------------------- which process runs a job


def this_host() -> str:
    """Which pids this process can check: the host name and the pid namespace."""
    try:
        ns = str(os.stat("/proc/self/ns/pid").st_ino)
    except OSError:
        ns = "-"
    return f"{socket.gethostname()}:{ns}"


def _process_start(pid: int) -> float | None:
    import psutil

    try:
        return float(psutil.Process(pid).create_time())
    except (psutil.Error, OSError):
        return None


def pid_alive(pid: Any, started: Any) -> bool:
    """Whether process ``pid`` (created at ``started``, as psutil reports it) still runs on this host."""
    import psutil

    if isinstance(pid, bool) or not isinstance(pid, int) or pid <= 0:
        return False
    try:
        proc = psutil.Process(pid)
        if isinstance(started, (int, float)) and abs(proc.create_time() - float(started)) > 1.0:
            return False  # the pid was reused
        return proc.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False
    except (psutil.Error, OSError):
        return True  # cannot tell (e.g. no permission): the heartbeat key's expiry decides


def _celery_task_id() -> str | None:
    """The id of the Celery task this code runs in (None outside a Celery worker)."""
    if "celery" not in sys.modules:
        return None
    try:
        from celery import current_task

        request = getattr(current_task, "request", None) if current_task else None
        task_id = getattr(request, "id", None)
    except Exception:  # noqa: BLE001 - only a hint for reporting a lost worker
        return None
    return task_id if isinstance(task_id, str) and len(task_id) <= 200 else None


def job_record() -> dict[str, Any]:
    """What a job's heartbeat says about it: where it runs (to check its process) and its Celery task."""
    pid = os.getpid()
    return {"host": this_host(), "pid": pid, "ct": _process_start(pid), "task": _celery_task_id()}


class BeatStore(Protocol):
    """Where a heartbeat writes (:class:`app.lab.queue.RaceQueue`): the beat key and the status line."""

    def beat(self, token: str, record: Mapping[str, Any]) -> None: ...

    def publish(self, browser: str, token: str, text: str, pct: float | None, final: bool = False) -> None: ...


class Heartbeat:
    """A begun job's pulse, from a thread: refreshes its heartbeat key and status line, and enforces its hard bound.

    ``deadline`` (on ``clock``) is the latest the job may still run; past it ``overrun()`` is called once
    and the thread stops.  The loop runs only until ``stop()`` or the deadline, so it is bounded.
    """

    def __init__(self, queue: BeatStore, token: str, record: Mapping[str, Any], deadline: float,
                 overrun: Callable[[], None], every: float = BEAT_EVERY,
                 clock: Callable[[], float] = time.monotonic) -> None:  # fmt: skip
        self.queue = queue
        self.token = token
        self.record = dict(record)
        self.deadline = deadline
        self.overrun = overrun
        self.every = every
        self.clock = clock
        self.status: tuple[str, str, float | None] | None = None  # (browser, text, pct) to republish
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="lab-heartbeat", daemon=True)

    def start(self) -> Heartbeat:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout=5)

    def tick(self) -> bool:
        """One beat; False once the deadline has passed (after calling ``overrun``)."""
        if self.clock() > self.deadline:
            self.overrun()
            return False
        self.queue.beat(self.token, self.record)
        if self.status is not None:
            browser, text, pct = self.status
            self.queue.publish(browser, self.token, text, pct)
        return True

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            try:
                if not self.tick():
                    return
            except Exception:  # noqa: BLE001 - a failed beat must not end the job; the next one retries
                traceback.print_exc(file=sys.stderr)
