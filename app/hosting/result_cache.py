"""Results shared by every worker: identical requests are computed once.

A class opening the same lesson should cost one computation, not thirty.
:meth:`ResultCache.fetch` returns the value stored under (code digest,
namespace, key) and computes it at most once across every process that
shares the store:

* the first asker takes a short lease (an atomic ``add``), computes, stores the
  value and drops the lease;
* the others poll for the value while the lease lives, for at most ``wait``
  seconds, then compute it themselves (a crashed holder's lease expires, so
  nobody waits on it for long).

Keys are normalized configurations (the Explorer's canonical query, a map's
canonical settings), so two links that mean the same view share one entry.
Values are JSON, zlib-compressed, never pickles.  Every key carries a digest of
the code, so a new version never reads results written by an old one.  A store
that fails (disk full, Redis gone) costs a recomputation, never an error.

:func:`shared` is this process's cache on the deployment's store: Redis when
``REDIS_URL`` is set, else a size-bounded diskcache directory beside the job
store; ``DESCENT_LAB_RESULT_CACHE=off`` turns it off.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import threading
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

log = logging.getLogger("descent_lab")

#: seconds an entry is kept in Redis (memory); the disk store keeps entries longer, since a result
#: never goes stale (keys carry the code digest) and the store evicts the oldest beyond its size limit,
#: so yesterday's lesson opens from disk after a restart
TTL = 2 * 3600
DISK_TTL = 30 * 24 * 3600
#: seconds a computation may hold its lease before others stop waiting for it
LEASE = 30.0
#: longest a request waits for another worker's computation of the same key
WAIT = 10.0
POLL = 0.02
#: entries larger than this (compressed) are not stored
MAX_ENTRY_BYTES = 8 * 2**20
DISK_SIZE_LIMIT = 512 * 2**20
_PACKAGES = ("app", "surfaces", "optimizers", "autoencoder")


@lru_cache(maxsize=1)
def code_digest() -> str:
    """Short digest of the project's Python sources: results of other code are never read."""
    root = Path(__file__).resolve().parents[2]
    h = hashlib.sha256()
    for pkg in _PACKAGES:
        for path in sorted((root / pkg).rglob("*.py")):
            h.update(str(path.relative_to(root)).encode())
            h.update(path.read_bytes())
    return h.hexdigest()[:16]


@lru_cache(maxsize=1)
def _to_json() -> Callable[[Any], str]:
    """plotly's JSON encoder (imported on first use: a second or more in a fresh process)."""
    from plotly.io.json import to_json_plotly

    return to_json_plotly


def to_text(value: Any) -> str:
    """``value`` as JSON text: the standard library's (compact, several times faster on a map's megabytes of
    base64) for plain JSON values, plotly's encoder for anything else (numpy arrays, NaN as null), as Dash
    would send it."""
    try:
        return json.dumps(value, separators=(",", ":"), allow_nan=False)
    except (TypeError, ValueError):
        return _to_json()(value)


def compress(text: str) -> bytes:
    return zlib.compress(text.encode("utf-8"), 1)


def encode(value: Any) -> bytes:
    """JSON (numpy arrays included, as Dash would send them), compressed."""
    return compress(to_text(value))


def decode_text(blob: bytes) -> str:
    """The JSON text of a stored entry (zlib's checksum rejects a damaged one)."""
    return zlib.decompress(blob).decode("utf-8")


def decode(blob: bytes) -> Any:
    return json.loads(decode_text(blob))


@dataclass
class ResultCache:
    """Compute-once results on a shared key-value store (see the module docstring)."""

    kv: Any
    ttl: float = TTL
    lease: float = LEASE
    wait: float = WAIT
    poll: float = POLL
    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep
    stats: dict[str, int] = field(default_factory=lambda: {"hit": 0, "computed": 0, "waited": 0, "failed": 0})

    def key(self, namespace: str, key: str) -> str:
        digest = hashlib.sha256(key.encode("utf-8")).hexdigest()[:40]
        return f"descent-lab:result:{code_digest()}:{namespace}:{digest}"

    def _get(self, full: str) -> str | None:
        try:
            blob = self.kv.get(full)
            return None if blob is None else decode_text(blob)
        except Exception:  # a broken store or entry is a miss
            self._count("failed")
            log.warning("result cache: could not read %s", full, exc_info=True)
            return None

    def _count(self, what: str) -> None:
        self.stats[what] = self.stats.get(what, 0) + 1

    def peek_text(self, namespace: str, key: str) -> str | None:
        """The stored JSON text for ``key``, or None: a lookup only (nothing computed, no lease taken)."""
        found = self._get(self.key(namespace, key))
        if found is not None:
            self._count("hit")
        return found

    def fetch(self, namespace: str, key: str, compute: Callable[[], Any], **options: Any) -> tuple[Any, bool]:
        """:meth:`fetch_text`, decoded: ``(value, cached)``."""
        text, cached = self.fetch_text(namespace, key, compute, **options)
        return json.loads(text), cached

    def fetch_text(self, namespace: str, key: str, compute: Callable[[], Any], *, wait: float | None = None,
                   lease: float | None = None, on_wait: Callable[[], None] | None = None,
                   stop: Callable[[], bool] | None = None) -> tuple[str, bool]:  # fmt: skip
        """``(json_text, cached)``: the stored value for ``key``, else ``compute()``'s, stored for everyone.

        ``compute`` must return a JSON-able value (numpy arrays allowed) that depends
        on ``key`` alone; the text is always that of the stored JSON, so a hit and a
        miss look the same to the caller.  An exception from ``compute`` stores
        nothing and propagates.  Long computations pass a ``lease`` longer than they
        can run and a matching ``wait``; ``on_wait`` is called once if this call waits
        for another's computation, and ``stop()`` returning True ends the wait.
        """
        found = self.peek_text(namespace, key)
        if found is not None:
            return found, True
        full = self.key(namespace, key)
        lease_key = full + ":lease"
        _to_json()  # loaded before the lease is taken: while it is held, only the computation runs
        try:
            leader = bool(self.kv.add(lease_key, b"1", self.lease if lease is None else lease))
        except Exception:
            leader = True
        if not leader:  # someone is computing it: wait for their value (bounded)
            if on_wait is not None:
                on_wait()
            deadline = self.clock() + (self.wait if wait is None else wait)
            while self.clock() < deadline and not (stop is not None and stop()):
                self.sleep(self.poll)
                found = self._get(full)
                if found is not None:
                    self._count("waited")
                    return found, True
                try:
                    gone = self.kv.get(lease_key) is None
                except Exception:
                    gone = True
                if gone:  # they finished just now, gave up, or crashed
                    found = self._get(full)
                    if found is not None:
                        self._count("waited")
                        return found, True
                    break
        try:
            text = to_text(compute())
            blob = compress(text)
            self._count("computed")
            if len(blob) <= MAX_ENTRY_BYTES:  # stored before the lease is dropped: waiters find it
                try:
                    self.kv.set(full, blob, self.ttl)
                except Exception:
                    self._count("failed")
                    log.warning("result cache: could not store %s", full, exc_info=True)
        finally:
            if leader:
                try:
                    self.kv.delete(lease_key)
                except Exception:
                    log.warning("result cache: could not drop the lease %s", lease_key, exc_info=True)
        return text, False


def passthrough_text(namespace: str, key: str, compute: Callable[[], Any], **_: Any) -> tuple[str, bool]:
    """What :meth:`ResultCache.fetch_text` returns with caching off: the freshly computed value's JSON."""
    return to_text(compute()), False


def results_dir() -> Path:
    """The disk store's directory: ``$DESCENT_LAB_RESULTS_DIR``, else ``results/`` beside the job store."""
    from app.hosting.jobs import jobs_dir

    base = os.environ.get("DESCENT_LAB_RESULTS_DIR")
    path = Path(base) if base else jobs_dir().parent / "results"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _make() -> ResultCache | None:
    if os.environ.get("DESCENT_LAB_RESULT_CACHE", "").strip().lower() in ("off", "0", "no", "false"):
        return None
    from app.hosting.jobs import redis_url
    from app.hosting.kv import DiskKV, RedisKV

    url = redis_url()
    if url is not None:
        import redis

        return ResultCache(RedisKV(redis.Redis.from_url(url, socket_timeout=2.0)))
    import diskcache

    return ResultCache(DiskKV(diskcache.Cache(str(results_dir()), size_limit=DISK_SIZE_LIMIT)), ttl=DISK_TTL)


_lock = threading.Lock()
_by_pid: dict[int, ResultCache | None] = {}


def shared() -> ResultCache | None:
    """This process's cache on the deployment's store (None when caching is off).

    One handle per process id: a store connection must not cross a fork (gunicorn
    workers and job processes are forked from the server).
    """
    pid = os.getpid()
    with _lock:
        if pid not in _by_pid:
            _by_pid.clear()
            _by_pid[pid] = _make()
        return _by_pid[pid]


def fetch_text(namespace: str, key: str, compute: Callable[[], Any], **options: Any) -> tuple[str, bool]:
    """:meth:`ResultCache.fetch_text` on :func:`shared`, or :func:`passthrough_text` when caching is off."""
    cache = shared()
    if cache is None:
        return passthrough_text(namespace, key, compute)
    return cache.fetch_text(namespace, key, compute, **options)


def peek(namespace: str, key: str) -> Any | None:
    """The stored value for ``key`` on :func:`shared`, decoded, or None (not stored, caching off, or unreadable)."""
    cache = shared()
    text = None if cache is None else cache.peek_text(namespace, key)
    if text is None:
        return None
    try:
        return json.loads(text)
    except ValueError:  # a damaged entry is a miss
        return None


def fetch(namespace: str, key: str, compute: Callable[[], Any], **options: Any) -> tuple[Any, bool]:
    """:func:`fetch_text`, decoded: ``(value, cached)``."""
    text, cached = fetch_text(namespace, key, compute, **options)
    return json.loads(text), cached
