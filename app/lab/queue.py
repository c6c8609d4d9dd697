"""The autoencoder lab's shared race queue: who trains now, who waits, whose job died.

The queue, the cancel flags and the jobs' heartbeats (:mod:`app.lab.heartbeat`) live in the
background manager's store (the shared diskcache directory, or Redis), never in a web process, so
every worker that serves a class sees the same queue and a restarted server finds no stale claims.
The page's Start gate (:mod:`app.lab.gate`) queues a race, the background job
(:mod:`app.lab.jobs`) takes its turn here, and the page asks here what became of it.

Bounds (:mod:`app.lab.limits`): at most ``training_slots`` races train at once, at most
``MAX_QUEUE`` are queued or training, one per browser; a race waits at most ``SLOT_WAIT_LIMIT``
for a training slot and a job runs at most ``JOB_WALL_LIMIT``.
"""

from __future__ import annotations

import json
import math
import os
import re
import secrets
import sys
import time
import traceback
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from app.lab.heartbeat import pid_alive, this_host, valid_token
from app.lab.ids import KEY_PREFIX
from app.lab.limits import (
    BEAT_TTL,
    CELERY_SLOTS,
    DISK_SLOTS,
    DONE_TTL,
    JOB_WALL_LIMIT,
    LOCK_TTL,
    LOCK_WAIT,
    MAX_QUEUE,
    MAX_SLOTS,
    PRUNE_EVERY,
    QUEUE_TTL,
    SLOT_WAIT_LIMIT,
    SLOTS_ENV,
    STATUS_TTL,
    WANTS_TTL,
)

LOST_TEXT = ("The training job stopped unexpectedly: its worker process was lost. "
             "Other races were not affected; press Start to run this one again.")  # fmt: skip
CANCELLED_QUEUED = "Cancelled before the race started."


# --------------------------------------------------------------------------- the race queue
#
# One JSON document in the job store lists every race that is queued or
# training, oldest first: {"t": token, "b": browser id, "c": created (wall
# clock), "s": "queued" | "waiting" | "running", "st": when its job began}.
# It is changed only under a short lock (an atomically added key with an
# expiry, so a job killed while holding it cannot block the queue for long).
#
# * A page's Start adds an entry ("queued"), unless its browser already has one
#   (then the page follows that race's status instead) or the queue is full.
# * The job marks its entry "waiting" when it begins, then "running" once fewer
#   than ``slots`` entries run and no earlier begun entry is still waiting.
# * A queued entry lives while its page keeps asking for it (the ``wants`` key);
#   a begun one while its job's heartbeat key is fresh and, on the same host,
#   while the job's process exists.  Dead entries are dropped by whoever next
#   holds the lock, so a killed job frees its training slot within seconds, and a
#   restarted server finds no stale claims that block anyone.
# * The job publishes a one-line status under its browser's key (other tabs
#   of that browser show it) and, when it ends, a ``done`` marker: a page whose
#   job stopped without one knows the job died.


class QueueBusy(RuntimeError):
    """The queue's lock could not be taken in time (the store is overloaded or unreachable)."""


def training_slots(manager: Any, env: Mapping[str, str] | None = None) -> int:
    """How many races may train at once through ``manager`` (``$DESCENT_LAB_TRAINING_SLOTS`` overrides)."""
    default = CELERY_SLOTS if is_celery(manager) else DISK_SLOTS
    raw = (os.environ if env is None else env).get(SLOTS_ENV, "").strip()
    if not raw:
        return default
    if not re.fullmatch(r"\d{1,4}", raw) or not 1 <= int(raw) <= MAX_SLOTS:
        print(f"{SLOTS_ENV}={raw[:20]!r} is not a whole number from 1 to {MAX_SLOTS}; using {default}",
              file=sys.stderr)  # fmt: skip
        return default
    return int(raw)


def is_celery(manager: Any) -> bool:
    """True for a CeleryManager (its handle is the Celery app, with a result backend)."""
    return hasattr(getattr(manager, "handle", None), "backend")



def _load_json(raw: bytes | None) -> Any:
    if not raw:
        return None
    try:
        return json.loads(raw.decode())
    except (ValueError, UnicodeDecodeError):
        return None


def _clean_entry(e: Any) -> dict[str, Any] | None:
    if not isinstance(e, dict) or valid_token(e.get("t")) is None or valid_token(e.get("b")) is None:
        return None
    if e.get("s") not in ("queued", "waiting", "running") or not isinstance(e.get("c"), (int, float)):
        return None
    st = e.get("st")
    return {"t": e["t"], "b": e["b"], "c": float(e["c"]), "s": e["s"],
            "st": float(st) if isinstance(st, (int, float)) and not isinstance(st, bool) else None}  # fmt: skip


@dataclass(frozen=True)
class Turn:
    """A begun job's place: ``kind`` is "run" (take a training slot), "wait" or "missing" (the entry is gone)."""

    kind: str
    position: int = 0  # 1 = next to run
    waiting: int = 0
    running: int = 0


@dataclass(frozen=True)
class Verdict:
    """What became of a race: ``kind`` is one of "done", "running", "queued", "lost", "cancelled"."""

    kind: str
    text: str = ""
    pct: float | None = None


class RaceQueue:
    """The shared queue of races (see the section comment): global slots, one race per browser, liveness."""

    def __init__(self, kv: Any, slots: int, *, max_entries: int = MAX_QUEUE, clock: Callable[[], float] = time.time,
                 sleep: Callable[[float], None] = time.sleep, here: str | None = None,
                 alive: Callable[[Any, Any], bool] = pid_alive, lock_wait: float = LOCK_WAIT) -> None:  # fmt: skip
        self.kv = kv
        self.slots = max(1, int(slots))
        self.max_entries = max(1, int(max_entries))
        self.clock = clock
        self.sleep = sleep
        self.here = here if here is not None else this_host()
        self.alive_pid = alive
        self.lock_wait = lock_wait

    # keys ------------------------------------------------------------------
    DOC = f"{KEY_PREFIX}queue"
    LOCK = f"{KEY_PREFIX}queue:lock"

    @staticmethod
    def beat_key(token: str) -> str:
        return f"{KEY_PREFIX}beat:{token}"

    @staticmethod
    def wants_key(token: str) -> str:
        return f"{KEY_PREFIX}wants:{token}"

    @staticmethod
    def done_key(token: str) -> str:
        return f"{KEY_PREFIX}done:{token}"

    @staticmethod
    def fate_key(token: str) -> str:
        return f"{KEY_PREFIX}fate:{token}"

    @staticmethod
    def status_key(browser: str) -> str:
        return f"{KEY_PREFIX}status:{browser}"

    # the document, under the lock -------------------------------------------
    @contextmanager
    def locked(self, wait: float | None = None) -> Iterator[None]:
        """Hold the queue's lock (waiting at most ``wait`` seconds, default ``lock_wait``); QueueBusy if not."""
        owner = secrets.token_hex(8).encode()
        start = time.monotonic()
        limit = self.lock_wait if wait is None else wait
        while not self.kv.add(self.LOCK, owner, LOCK_TTL):
            if time.monotonic() - start >= limit:
                raise QueueBusy("the race queue is busy")
            self.sleep(0.02)
        try:
            yield
        finally:
            if self.kv.get(self.LOCK) == owner:
                self.kv.delete(self.LOCK)

    def _doc(self) -> tuple[list[dict[str, Any]], float]:
        """The entries as stored, and when dead ones were last dropped."""
        doc = _load_json(self.kv.get(self.DOC))
        items = doc.get("entries") if isinstance(doc, dict) else None
        if not isinstance(items, list):
            return [], -math.inf
        out: list[dict[str, Any]] = []
        seen: set[str] = set()
        for e in items[: 2 * self.max_entries]:
            c = _clean_entry(e)
            if c is not None and c["t"] not in seen:
                seen.add(c["t"])
                out.append(c)
        pruned = doc.get("pruned")
        return out, float(pruned) if isinstance(pruned, (int, float)) and not isinstance(pruned, bool) else -math.inf

    def _entries(self) -> list[dict[str, Any]]:
        return self._doc()[0]

    def _save(self, entries: list[dict[str, Any]], pruned: float | None = None) -> None:
        doc = {"v": 1, "entries": entries, "pruned": pruned if pruned is not None else self._doc()[1]}
        self.kv.set(self.DOC, json.dumps(doc).encode(), QUEUE_TTL)

    # liveness -----------------------------------------------------------------
    def beat_alive(self, token: str) -> bool:
        rec = _load_json(self.kv.get(self.beat_key(token)))
        if not isinstance(rec, dict):
            return False
        if rec.get("host") != self.here:
            return True  # another machine: the key's expiry is all we can check
        return self.alive_pid(rec.get("pid"), rec.get("ct"))

    def _live(self, e: dict[str, Any], now: float) -> bool:
        if e["s"] == "queued":
            return now - e["c"] <= SLOT_WAIT_LIMIT and self.kv.get(self.wants_key(e["t"])) is not None
        begun = e["st"] if e["st"] is not None else e["c"]
        return now - begun <= JOB_WALL_LIMIT and self.beat_alive(e["t"])

    def live(self, entries: list[dict[str, Any]] | None = None) -> list[dict[str, Any]]:
        """The queue's entries whose pages or jobs are still there, oldest first (checks every one of them)."""
        now = self.clock()
        return [e for e in (self._entries() if entries is None else entries) if self._live(e, now)]

    def _pruned(self) -> list[dict[str, Any]]:
        """Under the lock: the live entries, saved with the time of this check."""
        entries = self.live()
        self._save(entries, self.clock())
        return entries

    def view(self) -> list[dict[str, Any]]:
        """The entries as last checked: cheap to read often (each live-check costs a store read and a
        process lookup per entry), so at most one reader every ``PRUNE_EVERY`` seconds drops the dead ones."""
        entries, pruned = self._doc()
        if self.clock() - pruned < PRUNE_EVERY:
            return entries
        try:
            with self.locked(wait=0.0):
                return self._pruned()
        except QueueBusy:
            return entries  # someone else holds the lock (and is likely pruning)

    def _find(self, token: str, entries: list[dict[str, Any]] | None = None) -> dict[str, Any] | None:
        """``token``'s entry if it is live (only its own liveness is checked)."""
        entry = next((e for e in (self.view() if entries is None else entries) if e["t"] == token), None)
        return entry if entry is not None and self._live(entry, self.clock()) else None

    # a page's side ------------------------------------------------------------
    def join(self, browser: str, token: str) -> tuple[str, dict[str, Any] | None]:
        """Queue a race for ``browser``: ("new", entry), ("existing", its live entry), ("full"|"busy", None)."""
        try:
            with self.locked():
                entries = self._pruned()
                mine = next((e for e in entries if e["b"] == browser), None)
                if mine is not None:
                    return "existing", mine
                if len(entries) >= self.max_entries:
                    return "full", None
                entry = {"t": token, "b": browser, "c": self.clock(), "s": "queued", "st": None}
                self.kv.set(self.wants_key(token), b"1", WANTS_TTL)
                self._save(entries + [entry])
                return "new", entry
        except QueueBusy:
            return "busy", None

    def want(self, token: str) -> None:
        """The page still waits for this race (keeps a queued entry alive while no job has begun)."""
        self.kv.set(self.wants_key(token), b"1", WANTS_TTL)

    def entry(self, token: str) -> dict[str, Any] | None:
        return self._find(token)

    def for_browser(self, browser: str) -> dict[str, Any] | None:
        entry = next((e for e in self.view() if e["b"] == browser), None)
        return entry if entry is not None and self._live(entry, self.clock()) else None

    def place(self, token: str, entries: list[dict[str, Any]] | None = None) -> Turn:
        """Where a race stands: its position among the entries not yet training (1 = next)."""
        entries = self.view() if entries is None else entries
        idx = next((i for i, e in enumerate(entries) if e["t"] == token), None)
        if idx is None:
            return Turn("missing")
        running = sum(e["s"] == "running" for e in entries)
        if entries[idx]["s"] == "running":
            return Turn("run", 0, len(entries) - running, running)
        ahead = sum(e["s"] != "running" for e in entries[:idx])
        return Turn("wait", ahead + 1, len(entries) - running, running)

    def leave(self, token: str) -> None:
        """Drop a race's entry (its job ended, or it is known to be dead); never raises."""
        self.kv.delete(self.beat_key(token))
        self.kv.delete(self.wants_key(token))
        try:
            with self.locked():
                entries = self._entries()
                kept = [e for e in entries if e["t"] != token]
                if len(kept) != len(entries):
                    self._save(kept)
        except QueueBusy:
            pass  # without its beat and wants keys the entry is dead: the next pruning drops it

    # a job's side -------------------------------------------------------------
    def begin(self, token: str, browser: str, record: Mapping[str, Any]) -> str:
        """The job for ``token`` starts: "ok", "missing" (no such queued race) or "again" (it already began once)."""
        with self.locked():
            entries = self._pruned()
            entry = next((e for e in entries if e["t"] == token), None)
            if entry is None or entry["b"] != browser:
                return "missing"
            if entry["s"] != "queued":
                return "again"
            self.beat(token, record)
            entry["s"], entry["st"] = "waiting", self.clock()
            self._save(entries)
            return "ok"

    def beat(self, token: str, record: Mapping[str, Any]) -> None:
        self.kv.set(self.beat_key(token), json.dumps(dict(record)).encode(), BEAT_TTL)

    def turn(self, token: str) -> Turn:
        """A begun job asks whether it may train now; if so its entry becomes "running" (it holds a training slot).

        Cheap while it must wait (it reads the last checked entries); the slot itself is taken under
        the lock, after a full check."""
        entries = self.view()
        t = self._turn(token, entries)
        if t.kind != "run" or next(e for e in entries if e["t"] == token)["s"] == "running":
            return t
        try:
            with self.locked():
                entries = self._pruned()
                t = self._turn(token, entries)
                if t.kind == "run":
                    entry = next(e for e in entries if e["t"] == token)
                    if entry["s"] != "running":
                        entry["s"] = "running"
                        self._save(entries)
                return t
        except QueueBusy:
            return self.place(token, entries)

    def _turn(self, token: str, entries: list[dict[str, Any]]) -> Turn:
        place = self.place(token, entries)
        if place.kind != "wait":
            return place
        idx = next(i for i, e in enumerate(entries) if e["t"] == token)
        if entries[idx]["s"] == "queued":
            return place  # its job has not begun
        # begun entries compete among themselves (a queued one ahead may wait for a Celery worker)
        ahead = sum(e["s"] == "waiting" for e in entries[:idx])
        if place.running + ahead < self.slots:
            return Turn("run", 0, place.waiting, place.running + 1)
        return place

    # what pages see -----------------------------------------------------------
    def publish(self, browser: str, token: str, text: str, pct: float | None, final: bool = False) -> None:
        """The race's status line, for the other tabs of its browser."""
        value = {"t": token, "text": text[:600], "pct": pct, "final": final, "at": self.clock()}
        self.kv.set(self.status_key(browser), json.dumps(value).encode(), DONE_TTL if final else STATUS_TTL)

    def status(self, browser: str, token: str) -> dict[str, Any] | None:
        rec = _load_json(self.kv.get(self.status_key(browser)))
        if not isinstance(rec, dict) or rec.get("t") != token or not isinstance(rec.get("text"), str):
            return None
        return rec

    def finish(self, token: str, ok: bool, text: str) -> None:
        """The job ended with a result: leave the done marker the pages check, then free the entry."""
        self.kv.set(self.done_key(token), json.dumps({"ok": bool(ok), "status": text[:600]}).encode(), DONE_TTL)
        self.leave(token)

    def set_fate(self, token: str, text: str) -> None:
        """Why a job is about to end without a result (its hard time bound)."""
        self.kv.set(self.fate_key(token), text[:300].encode(), DONE_TTL)

    def verdict(self, token: str, cancel_requested: bool = False) -> Verdict:
        """What became of race ``token``, as far as the store tells."""
        done = _load_json(self.kv.get(self.done_key(token)))
        if isinstance(done, dict):
            return Verdict("done", str(done.get("status", ""))[:600], 100.0)
        entry = self._find(token)
        if entry is not None and entry["s"] == "queued":
            return Verdict("queued", pct=0.0)
        if entry is not None or self.beat_alive(token):
            return Verdict("running")
        fate = self.kv.get(self.fate_key(token))
        if fate:
            return Verdict("lost", fate.decode(errors="replace"))
        if cancel_requested:
            return Verdict("cancelled", CANCELLED_QUEUED)
        return Verdict("lost", LOST_TEXT)

    def forget(self, token: str, manager: Any = None) -> None:
        """A race found dead: free its entry, and on Celery mark its task failed so the page stops polling it."""
        rec = _load_json(self.kv.get(self.beat_key(token)))
        self.leave(token)
        task = rec.get("task") if isinstance(rec, dict) else None
        if isinstance(task, str) and manager is not None and is_celery(manager):
            try:
                manager.handle.backend.mark_as_failure(task, RuntimeError("the race's worker was lost"))
            except Exception:  # noqa: BLE001 - the page has its message already
                traceback.print_exc(file=sys.stderr)
