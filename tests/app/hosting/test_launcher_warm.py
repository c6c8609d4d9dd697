"""The job launcher's warm-up queue: which steps a page declares, their order, and when each may run."""

from __future__ import annotations

import sys
import textwrap
import types
from pathlib import Path

import pytest

from app.hosting import launcher_warm
from app.hosting.launcher_warm import JOB_POLL, YIELD_LIMIT, WarmUp, job_warm_up, warm_targets


def _module(**attrs: object) -> types.ModuleType:
    mod = types.ModuleType("declares")
    for name, value in attrs.items():
        setattr(mod, name, value)
    return mod


def first() -> None:
    pass


def second() -> None:
    pass


def test_a_page_declares_its_steps_or_one_warm_up_or_nothing():
    assert job_warm_up(_module(JOB_WARM_UP=(first, second), warm=print)) == (first, second)
    assert job_warm_up(_module(JOB_WARM_UP=[second, "not a step", first])) == (second, first)
    assert job_warm_up(_module(warm=first)) == (first,)
    assert job_warm_up(_module(warm="not callable")) == ()
    assert job_warm_up(_module()) == ()


def test_the_steps_are_looked_for_in_the_module_then_its_page_then_its_package():
    assert warm_targets("app.maps.callbacks") == ["app.maps.callbacks", "app.maps.page", "app.maps"]
    assert warm_targets("toplevel") == ["toplevel"]


def test_the_maps_page_warms_its_jobs_float64_kernels_first_and_the_server_also_the_preview():
    """Map jobs always run float64: their warm-up starts with the lock-step kernel (the default map's)
    and never loads the float32 preview's, which only the server runs."""
    from app.maps import compute, page

    assert job_warm_up(page) == (compute.warm_lock_step, compute.warm_one_run_at_a_time)
    assert compute.warm_float32_preview not in job_warm_up(page)
    assert job_warm_up(page) == page.JOB_WARM_UP


@pytest.fixture
def pages(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A package ``warmpkg`` whose ``page`` declares two steps and whose ``jobs`` module has none, and a
    module ``onewarm`` with a plain ``warm()``; each step appends its name to ``warmpkg.RAN``."""
    pkg = tmp_path / "warmpkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("RAN = []\n")
    (pkg / "page.py").write_text(textwrap.dedent("""
        import warmpkg

        def kernels():
            warmpkg.RAN.append("kernels")

        def broken():
            warmpkg.RAN.append("broken")
            raise RuntimeError("no compiler today")

        def loaders():
            warmpkg.RAN.append("loaders")

        JOB_WARM_UP = (kernels, broken, loaders)
    """))
    (pkg / "jobs.py").write_text("def job():\n    return 1\n")
    (tmp_path / "onewarm.py").write_text("import warmpkg\n\ndef warm():\n    warmpkg.RAN.append('onewarm')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    yield tmp_path
    for name in ("warmpkg", "warmpkg.page", "warmpkg.jobs", "onewarm"):
        sys.modules.pop(name, None)


def test_steps_run_one_at_a_time_in_order_once_each_and_a_failure_is_reported(pages, capsys):
    warm_up = WarmUp(is_running=lambda pid: False)
    assert warm_up.wait_time() is None  # nothing to warm: the launcher waits for requests only
    warm_up.add(["warmpkg.jobs", "onewarm", "no.such.module"], [])
    warm_up.add(["warmpkg.jobs"], [])  # asked again (a second manager): nothing more to run
    import warmpkg

    assert warm_up.pending == 4 and warm_up.wait_time() == 0.0
    warm_up.run_next()
    assert warmpkg.RAN == ["kernels"] and warm_up.pending == 3
    warm_up.run_next()
    warm_up.run_next()
    assert warmpkg.RAN == ["kernels", "broken", "loaders"]
    assert "warmpkg.page.broken() failed: RuntimeError: no compiler today" in capsys.readouterr().err
    warm_up.run_next()
    assert warmpkg.RAN == ["kernels", "broken", "loaders", "onewarm"]
    assert warm_up.pending == 0 and warm_up.wait_time() is None
    warm_up.run_next()  # nothing left: no step runs twice
    assert len(warmpkg.RAN) == 4


def test_a_step_waits_while_a_job_runs_but_not_longer_than_the_limit(pages):
    now = [100.0]
    running = {41}
    warm_up = WarmUp(clock=lambda: now[0], is_running=lambda pid: pid in running)
    warm_up.add(["warmpkg.jobs"], [])
    import warmpkg

    warm_up.job_started(41)
    assert warm_up.wait_time() == JOB_POLL
    warm_up.run_next()
    assert warmpkg.RAN == []  # the job comes first
    running.clear()  # it ended
    assert warm_up.wait_time() == 0.0
    warm_up.run_next()
    assert warmpkg.RAN == ["kernels"]

    warm_up.job_started(42)
    running.add(42)  # a job that runs and runs
    assert warm_up.wait_time() == JOB_POLL
    now[0] += YIELD_LIMIT - 0.1
    assert warm_up.wait_time() == pytest.approx(0.1)
    now[0] += 0.1
    assert warm_up.wait_time() == 0.0
    warm_up.run_next()
    assert warmpkg.RAN == ["kernels", "broken"]  # it waited long enough
    assert warm_up.wait_time() == JOB_POLL  # the next step waits for the job again, from now


def test_finish_runs_every_step_left_whatever_runs(pages):
    warm_up = WarmUp(is_running=lambda pid: True)
    warm_up.add(["onewarm", "warmpkg.jobs"], [])
    warm_up.job_started(7)
    warm_up.finish()
    import warmpkg

    assert warmpkg.RAN == ["onewarm", "kernels", "broken", "loaders"] and warm_up.pending == 0


def test_a_module_that_fails_to_import_is_reported_and_skipped(tmp_path, monkeypatch, capsys):
    (tmp_path / "badimport.py").write_text("import this_module_does_not_exist_anywhere\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    warm_up = WarmUp()
    try:
        warm_up.add(["badimport"], [])
    finally:
        sys.modules.pop("badimport", None)
    assert warm_up.pending == 0
    assert "could not import badimport" in capsys.readouterr().err


def test_the_path_a_server_sends_is_searched_first(tmp_path, monkeypatch):
    (tmp_path / "pathwarm.py").write_text("STEPS = []\n\ndef warm():\n    STEPS.append(1)\n")
    monkeypatch.setattr(sys, "path", list(sys.path))
    warm_up = WarmUp()
    try:
        warm_up.add(["pathwarm"], [str(tmp_path)])
        assert sys.path[0] == str(tmp_path) and warm_up.pending == 1
        warm_up.finish()
        assert sys.modules["pathwarm"].STEPS == [1]
    finally:
        sys.modules.pop("pathwarm", None)


def test_a_process_that_exists_counts_as_running_and_one_that_ended_does_not():
    import os
    import subprocess

    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()  # reaped: the pid is free, as a launcher's ended job's is
    assert launcher_warm._process_exists(os.getpid())
    assert not launcher_warm._process_exists(proc.pid)
