"""The shared result cache: identical requests computed once, across threads and processes."""

from __future__ import annotations

import dataclasses
import multiprocessing
import re
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from plotly.io.json import to_json_plotly

from app.explorer import compute
from app.explorer import layout
from app.explorer import views
from app.hosting import result_cache
from app.hosting.kv import DiskKV, MemoryKV, RedisKV
from app.explorer.presets import get_preset
from app.hosting.result_cache import ResultCache
from app.explorer.state import DEFAULT, from_query, to_query


class Counter:
    def __init__(self, value, delay=0.0):
        self.calls = 0
        self.value = value
        self.delay = delay
        self.lock = threading.Lock()

    def __call__(self):
        with self.lock:
            self.calls += 1
        time.sleep(self.delay)
        return self.value


def test_a_value_is_computed_once_and_comes_back_equal():
    cache = ResultCache(MemoryKV())
    make = Counter({"x": np.arange(3.0), "label": "adam", "nested": [1, {"a": None}]})
    first, cached1 = cache.fetch("race", "q=1", make)
    second, cached2 = cache.fetch("race", "q=1", make)
    assert make.calls == 1 and (cached1, cached2) == (False, True)
    assert first == second
    assert second["label"] == "adam" and second["nested"] == [1, {"a": None}]
    assert cache.stats["hit"] == 1 and cache.stats["computed"] == 1


@pytest.mark.parametrize("value", [
    {"x": [1.5, 2.0], "s": "ü", "n": None},  # plain JSON: the standard library's compact text
    {"x": np.arange(3.0), "k": np.int64(4)},  # numpy: plotly's encoder, as Dash sends it
    {"bad": [float("nan"), float("inf")]},  # non-finite: null, never NaN in the text
])  # fmt: skip
def test_a_miss_answers_the_very_text_a_hit_reads(value):
    import json

    cache = ResultCache(MemoryKV())
    fresh, cached = cache.fetch_text("race", "q", lambda: value)
    again, hit = cache.fetch_text("race", "q", lambda: value)
    assert (cached, hit) == (False, True) and fresh == again
    assert "NaN" not in fresh and "Infinity" not in fresh
    back = json.loads(fresh)
    assert back == json.loads(to_json_plotly(value))
    if "s" in value:
        assert fresh == json.dumps(value, separators=(",", ":"))


def test_keys_and_namespaces_are_separate():
    cache = ResultCache(MemoryKV())
    a = cache.fetch("race", "q=1", lambda: 1)[0]
    b = cache.fetch("race", "q=2", lambda: 2)[0]
    c = cache.fetch("map", "q=1", lambda: 3)[0]
    assert (a, b, c) == (1, 2, 3)
    assert cache.fetch("race", "q=1", lambda: 99)[0] == 1


def test_results_of_other_code_are_never_read(monkeypatch):
    kv = MemoryKV()
    ResultCache(kv).fetch("race", "q", lambda: "old code")
    result_cache.code_digest.cache_clear()
    monkeypatch.setattr(result_cache, "code_digest", lambda: "another-version")
    assert ResultCache(kv).fetch("race", "q", lambda: "new code") == ("new code", False)


def test_concurrent_identical_requests_compute_once():
    cache = ResultCache(MemoryKV())
    make = Counter([1.5, 2.5], delay=0.3)
    got = []

    def ask():
        got.append(cache.fetch("race", "same", make)[0])

    threads = [threading.Thread(target=ask) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert make.calls == 1
    assert got == [[1.5, 2.5]] * 8
    assert cache.stats["waited"] == 7


def test_a_crashed_computation_does_not_block_the_others_for_long():
    kv = MemoryKV()
    now = [0.0]
    cache = ResultCache(kv, wait=2.0, clock=lambda: now[0], sleep=lambda s: now.__setitem__(0, now[0] + s))
    kv.add(cache.key("race", "q") + ":lease", b"1", 3600)  # a holder that died without storing anything
    value, cached = cache.fetch("race", "q", lambda: "recomputed")
    assert (value, cached) == ("recomputed", False)
    assert 2.0 <= now[0] < 2.5  # waited its bounded time, then computed


def test_a_released_lease_stops_the_wait_early():
    kv = MemoryKV()
    now = [0.0]

    def sleep(s):
        now[0] += s
        if now[0] > 0.1:
            kv.delete(cache.key("race", "q") + ":lease")  # the holder failed and let go

    cache = ResultCache(kv, wait=10.0, clock=lambda: now[0], sleep=sleep)
    kv.add(cache.key("race", "q") + ":lease", b"1", 3600)
    assert cache.fetch("race", "q", lambda: 7) == (7, False)
    assert now[0] < 0.5


class BrokenKV:
    def get(self, key):
        raise OSError("disk gone")

    def set(self, key, value, ttl):
        raise OSError("disk gone")

    def add(self, key, value, ttl):
        raise OSError("disk gone")

    def delete(self, key):
        raise OSError("disk gone")


def test_a_broken_store_costs_a_recomputation_not_an_error():
    cache = ResultCache(BrokenKV())
    make = Counter({"ok": True})
    assert cache.fetch("race", "q", make) == ({"ok": True}, False)
    assert cache.fetch("race", "q", make) == ({"ok": True}, False)
    assert make.calls == 2 and cache.stats["failed"] >= 2


def test_a_corrupt_entry_is_a_miss():
    kv = MemoryKV()
    cache = ResultCache(kv)
    kv.set(cache.key("race", "q"), b"not zlib", 60)
    assert cache.fetch("race", "q", lambda: 5) == (5, False)
    assert cache.fetch("race", "q", lambda: 6) == (5, True)


def test_oversized_entries_are_not_stored(monkeypatch):
    monkeypatch.setattr(result_cache, "MAX_ENTRY_BYTES", 10)
    cache = ResultCache(MemoryKV())
    big = list(np.random.default_rng(0).random(100))
    assert cache.fetch("race", "q", lambda: big)[1] is False
    assert cache.fetch("race", "q", lambda: big)[1] is False


def _ask(store: str, where: str, namespace: str, key: str, answer: int, log: str, out: str, digest: str) -> None:
    """In a new process: fetch ``key`` from a cache on the disk directory or Redis URL ``where``,
    logging each computation (half a second long) and writing the answer received.  ``digest`` is the
    asking test's code digest, so every process names the same entry even if a source file is saved
    while they start."""
    result_cache.code_digest = lambda: digest
    if store == "disk":
        import diskcache

        kv: Any = DiskKV(diskcache.Cache(where))
    else:
        import redis

        kv = RedisKV(redis.Redis.from_url(where))

    def make():
        with open(log, "a") as fh:
            fh.write("computed\n")
        time.sleep(0.5)
        return {"answer": answer}

    cache = ResultCache(kv)
    cache.key(namespace, key)  # what a server worker has done long before: hashing the sources, loading plotly
    result_cache._to_json()
    value, _ = cache.fetch(namespace, key, make)
    with open(out, "a") as fh:
        fh.write(f"{value['answer']}\n")


def _ask_from_processes(n: int, *args: Any) -> list[int | None]:
    """Run :func:`_ask` with ``args`` (and this process's code digest) in ``n`` processes at once; their exit codes."""
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_ask, args=(*args, result_cache.code_digest())) for _ in range(n)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
    return [p.exitcode for p in procs]


def test_processes_sharing_a_directory_compute_once(tmp_path: Path):
    log, out = tmp_path / "log", tmp_path / "out"
    codes = _ask_from_processes(4, "disk", str(tmp_path / "store"), "race", "shared-key", 42, str(log), str(out))
    assert codes == [0, 0, 0, 0]
    assert log.read_text().splitlines() == ["computed"]
    assert out.read_text().splitlines() == ["42"] * 4


def test_with_redis_every_process_shares_one_computation(redis_server_url, tmp_path, monkeypatch):
    log, out = tmp_path / "log", tmp_path / "out"
    assert _ask_from_processes(3, "redis", redis_server_url, "map", "on-redis", 7, str(log), str(out)) == [0, 0, 0]
    assert log.read_text().splitlines() == ["computed"]
    assert out.read_text().splitlines() == ["7"] * 3
    # with REDIS_URL set, the app's own cache is that Redis (entries expire)
    monkeypatch.setenv("REDIS_URL", redis_server_url)
    monkeypatch.delenv("DESCENT_LAB_RESULT_CACHE", raising=False)
    monkeypatch.setattr(result_cache, "_by_pid", {})
    cache = result_cache.shared()
    assert isinstance(cache.kv, RedisKV)
    assert cache.fetch("map", "on-redis", lambda: {"answer": 0}) == ({"answer": 7}, True)
    assert 0 < cache.kv.client.ttl(cache.key("map", "on-redis")) <= result_cache.TTL


def test_caching_can_be_switched_off(monkeypatch):
    monkeypatch.setenv("DESCENT_LAB_RESULT_CACHE", "off")
    monkeypatch.setattr(result_cache, "_by_pid", {})
    make = Counter([1])
    assert result_cache.fetch("race", "q", make) == ([1], False)
    assert result_cache.fetch("race", "q", make) == ([1], False)
    assert make.calls == 2


def test_peek_reads_a_stored_value_and_never_computes_or_leases():
    cache = result_cache.shared()
    assert result_cache.peek("map", "absent") is None
    assert cache.kv.get(cache.key("map", "absent") + ":lease") is None  # a lookup takes no lease
    result_cache.fetch("map", "present", lambda: {"z": [1.5, 2.0]})
    assert result_cache.peek("map", "present") == {"z": [1.5, 2.0]}
    assert result_cache.peek("other", "present") is None  # namespaces stay apart
    cache.kv.set(cache.key("map", "damaged"), b"not a compressed entry", 60)
    assert result_cache.peek("map", "damaged") is None  # a broken entry is a miss


def test_peek_with_caching_off_finds_nothing(monkeypatch):
    monkeypatch.setenv("DESCENT_LAB_RESULT_CACHE", "off")
    monkeypatch.setattr(result_cache, "_by_pid", {})
    result_cache.fetch("race", "q", Counter([1]))
    assert result_cache.peek("race", "q") is None


def test_the_default_store_is_a_disk_directory_shared_by_the_processes(monkeypatch, tmp_path):
    monkeypatch.delenv("REDIS_URL", raising=False)
    monkeypatch.delenv("DESCENT_LAB_RESULT_CACHE", raising=False)
    monkeypatch.setenv("DESCENT_LAB_RESULTS_DIR", str(tmp_path / "results"))
    monkeypatch.setattr(result_cache, "_by_pid", {})
    cache = result_cache.shared()
    assert isinstance(cache.kv, DiskKV)
    assert Path(cache.kv.cache.directory) == tmp_path / "results"
    assert result_cache.shared() is cache
    # on disk an entry outlives a day (results never go stale; the size limit evicts), so a
    # server restarted for tomorrow's class opens today's views without computing them
    assert cache.ttl >= 7 * 24 * 3600 > result_cache.TTL
    cache.fetch_text("race", "?surface=beale", lambda: {"x": 1})
    full = cache.key("race", "?surface=beale")
    expires = cache.kv.cache.get(full, expire_time=True)[1]
    assert expires - time.time() > 7 * 24 * 3600


# --------------------------------------------------------------------------- the Explorer on the cache


@pytest.fixture
def counted(monkeypatch):
    """A fresh in-memory cache for the app, and a count of the configurations actually computed."""
    cache = ResultCache(MemoryKV())
    monkeypatch.setattr(result_cache, "shared", lambda: cache)
    calls = []
    real = compute.compute

    def counting(cfg):
        calls.append(to_query(cfg))
        return real(cfg)

    monkeypatch.setattr(compute, "compute", counting)
    return calls, cache


def test_a_class_opening_the_same_lesson_computes_it_once(counted):
    calls, cache = counted
    cfg = get_preset("beale").config
    pages = [layout.page(cfg) for _ in range(5)]
    assert len(calls) == 1
    assert cache.stats["computed"] == 2 and cache.stats["hit"] >= 8  # the race and its map, then hits
    texts = {re.sub(r'"rendered-store","data":\d+', "", to_json_plotly(p)) for p in pages}  # minus the page's nonce
    assert len(texts) == 1


def test_cached_and_fresh_views_agree(counted, monkeypatch):
    calls, _ = counted
    cfg = DEFAULT
    first = views.views_for(cfg, None, rev="a")
    again = views.views_for(cfg, None, rev="b")
    assert len(calls) == 1
    assert again["payload"]["index"]["rev"] == "b" and again["map"]["layout"]["meta"] == {"rev": "b"}
    monkeypatch.setattr(result_cache, "shared", lambda: None)
    fresh = views.views_for(cfg, None, rev="b")
    assert fresh["payload"] == again["payload"]
    assert fresh["map"] == again["map"]
    assert fresh["meta"] == again["meta"] and first["meta"]["z"] == fresh["meta"]["z"]


def test_a_slider_move_reuses_the_cached_map(counted):
    calls, cache = counted
    out = views.views_for(DEFAULT, None, rev="a")
    moved = dataclasses.replace(DEFAULT, steps=DEFAULT.steps - 1)
    assert to_query(moved) != to_query(DEFAULT)
    again = views.views_for(moved, out["meta"], rev="b")
    assert len(calls) == 2
    assert again["map"] is views.no_update  # the background did not change
    assert again["payload"]["index"]["rev"] == "a"
    assert again["payload"]["z"] == out["meta"]["z"]


# --------------------------------------------------------------------------- sweep maps on the cache


def _small_map():
    from app.maps.presets import PRESETS_BY_NAME

    cfg = PRESETS_BY_NAME["himmelblau_adam"].config
    return replace_map(cfg, grid=12, steps=100)


def replace_map(cfg, grid, steps):
    return dataclasses.replace(cfg, grid=grid, base=dataclasses.replace(cfg.base, steps=steps))


def test_a_map_is_swept_once_for_everyone(monkeypatch):
    from app.maps.compute import run_request, warm_lock_step
    from app.maps.state import request_data
    from optimizers import maps

    warm_lock_step()  # a process that has not loaded the sweep kernel yet loads it with a small sweep of its own
    sweeps = []
    real = maps.basin_map
    monkeypatch.setattr(maps, "basin_map", lambda *a, **k: sweeps.append(1) or real(*a, **k))
    request = request_data(_small_map())
    first = run_request(request)
    again = run_request(request)
    assert len(sweeps) == 1
    assert "computed earlier" not in first.status and again.status.endswith("(computed earlier for the same settings)")
    assert again.figure == first.figure and again.meta == first.meta


def test_a_stopped_map_is_not_stored():
    from app.maps.compute import run_request
    from app.maps.state import request_data

    request = request_data(_small_map())
    stopped = run_request(request, should_stop=lambda: True)
    assert "stopped" in stopped.status
    done = run_request(request)
    assert "converged" in done.status and "computed earlier" not in done.status
