"""Shared test configuration: a writable Numba cache, and job/result stores private to this session."""

import os
import shutil
import tempfile
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
    from app import result_cache
    from app.kv import MemoryKV

    monkeypatch.setattr(result_cache, "_by_pid", {os.getpid(): result_cache.ResultCache(MemoryKV())})
