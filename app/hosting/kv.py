"""A tiny shared key-value store with expiry: bytes in, bytes out, atomic ``add``.

Every web worker and job process of one deployment sees the same store: the
DiskcacheManager's directory on one machine, or the Redis behind Celery.
Values are bytes the app wrote itself (JSON or raw uploads), never pickles of
user data.  Used by the lab (uploads, cancel flags, training slots) and by the
shared result cache (:mod:`app.hosting.result_cache`).
"""

from __future__ import annotations

import math
import threading
import time
from typing import Any


class MemoryKV:
    """A dict with expiry, safe across threads of one process (tests, single-process use)."""

    def __init__(self) -> None:
        self._d: dict[str, tuple[bytes, float]] = {}
        self._lock = threading.RLock()

    def _live(self, key: str) -> bool:
        item = self._d.get(key)
        if item is None:
            return False
        if item[1] < time.monotonic():
            del self._d[key]
            return False
        return True

    def get(self, key: str) -> bytes | None:
        with self._lock:
            return self._d[key][0] if self._live(key) else None

    def set(self, key: str, value: bytes, ttl: float) -> None:
        with self._lock:
            self._d[key] = (bytes(value), time.monotonic() + ttl)

    def add(self, key: str, value: bytes, ttl: float) -> bool:
        with self._lock:
            if self._live(key):
                return False
            self.set(key, value, ttl)
            return True

    def delete(self, key: str) -> None:
        with self._lock:
            self._d.pop(key, None)


class DiskKV:
    """The DiskcacheManager's cache directory (shared by every web worker and job process)."""

    def __init__(self, cache: Any) -> None:
        self.cache = cache

    def get(self, key: str) -> bytes | None:
        v = self.cache.get(key)
        return v if isinstance(v, bytes) else None

    def set(self, key: str, value: bytes, ttl: float) -> None:
        self.cache.set(key, bytes(value), expire=ttl)

    def add(self, key: str, value: bytes, ttl: float) -> bool:
        return bool(self.cache.add(key, bytes(value), expire=ttl))

    def delete(self, key: str) -> None:
        self.cache.delete(key)


class RedisKV:
    """The Redis behind the CeleryManager's result backend."""

    def __init__(self, client: Any) -> None:
        self.client = client

    def get(self, key: str) -> bytes | None:
        return self.client.get(key)

    def set(self, key: str, value: bytes, ttl: float) -> None:
        self.client.set(key, bytes(value), ex=max(1, math.ceil(ttl)))

    def add(self, key: str, value: bytes, ttl: float) -> bool:
        return bool(self.client.set(key, bytes(value), ex=max(1, math.ceil(ttl)), nx=True))

    def delete(self, key: str) -> None:
        self.client.delete(key)


def kv_for(manager: Any) -> Any:
    """The key-value store of a background callback manager (diskcache or the Celery backend's Redis)."""
    handle = getattr(manager, "handle", None)
    backend = getattr(handle, "backend", None)
    if backend is not None and hasattr(backend, "client"):
        return RedisKV(backend.client)
    if handle is not None and hasattr(handle, "add") and hasattr(handle, "directory"):
        return DiskKV(handle)
    raise RuntimeError(f"cannot use {type(manager).__name__} as its job store (use app.hosting.jobs.make_manager())")


