"""Shared test configuration: a writable Numba cache, and job/result stores private to this session."""

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

os.environ.setdefault("NUMBA_CACHE_DIR", str(Path(__file__).resolve().parents[1] / ".numba_cache"))

_STORES = tempfile.mkdtemp(prefix="descent-lab-tests-")
os.environ.setdefault("DESCENT_LAB_JOBS_DIR", os.path.join(_STORES, "jobs"))
os.environ.setdefault("DESCENT_LAB_RESULTS_DIR", os.path.join(_STORES, "results"))


def pytest_sessionfinish(session, exitstatus):
    shutil.rmtree(_STORES, ignore_errors=True)


@pytest.fixture(autouse=True)
def private_result_cache(monkeypatch):
    """Each test starts with an empty in-memory result cache in this process (job processes it
    forks use the session's disk store), so no test sees another's results."""
    from app.hosting import result_cache
    from app.hosting.kv import MemoryKV

    monkeypatch.setattr(result_cache, "_by_pid", {os.getpid(): result_cache.ResultCache(MemoryKV())})


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def redis_server_url(tmp_path_factory) -> Iterator[str]:
    """A throwaway redis-server on a free localhost port (no persistence), for this session."""
    exe = shutil.which("redis-server") or ("/usr/bin/redis-server" if Path("/usr/bin/redis-server").exists() else None)
    if exe is None:
        pytest.fail("redis-server is not installed; these tests need it (apt-get install -y redis-server)")
    import redis

    work = tmp_path_factory.mktemp("redis")
    port = _free_port()
    log = work / "redis.log"
    proc = subprocess.Popen([exe, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                             "--dir", str(work), "--logfile", str(log)], start_new_session=True)  # fmt: skip
    try:
        client = redis.Redis(host="127.0.0.1", port=port)
        deadline = time.monotonic() + 15
        while True:
            try:
                if client.ping():
                    break
            except redis.exceptions.ConnectionError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"redis-server did not start:\n{log.read_text(errors='replace')[-2000:]}")
            time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=10)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
