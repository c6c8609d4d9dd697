"""Background jobs on one machine: the DiskcacheJobManager and its launcher.

Dash's DiskcacheManager forks each job from the threaded web server, so a job
can inherit a lock another thread held at that instant and wait on it forever.
Here jobs are forked by a single-threaded launcher.  The checks:

* a job starts and finishes while another thread of the server holds a lock
  the job needs (a ``threading.Lock``; a diskcache transaction), where a fork
  of the server waits on the copied lock (shown with Dash's manager);
* a job killed while it holds the job store's lock (a diskcache transaction;
  the kv's expiring lock) does not stop the next job;
* a tiny Dash app's background callback, over Flask's test client: progress,
  ``set_props``, the result and errors arrive as with Dash's own manager;
* ``terminate_job`` kills the job (and what it started) and ``job_running``
  follows; no zombies are left;
* the job gets the caller's environment, working directory and stdout; a job
  that cannot be pickled is refused, one that cannot be unpickled reports why;
* the launcher restarts if it died, serves processes forked from its server
  (gunicorn's preloaded workers) and exits with its server, even mid-warm-up;
  a job asked for mid-warm-up starts between two steps;
* the lab's and the sweep maps' real background callbacks can be pickled.

Every wait polls with a deadline; job functions are top-level functions of
this module (the launcher imports it by name), except where a closure is the
point.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[3]

# --------------------------------------------------------------------------- helpers


def wait_for(predicate: Callable[[], Any], timeout: float, what: str) -> Any:
    """Poll until ``predicate()`` is truthy (its value), or fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {timeout} s")
        time.sleep(0.01)


def gone(pid: int) -> bool:
    import psutil

    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


_KEYS = iter(range(10**9))


def start(manager: Any, fn: Callable[..., Any], *args: Any, progress: bool = False) -> tuple[str, int]:
    """Start ``fn(*args)`` as Dash starts a background callback; its cache key and job pid."""
    from dash._utils import AttributeDict

    key = f"test-job-{os.getpid()}-{next(_KEYS)}"
    job_fn = manager.make_job_fn(fn, progress)
    context = AttributeDict(inputs_list=[], states_list=[], outputs_list=[], triggered_inputs=[])
    return key, manager.call_job_fn(key, job_fn, list(args), context)


def result(manager: Any, key: str, pid: int, timeout: float = 30.0) -> Any:
    """The job's result, as Dash's poll reads it (``get_result``, which also ends the job's process)."""
    out = wait_for(lambda: manager.result_ready(key), timeout, f"the result of job {pid}")
    assert out
    return manager.get_result(key, pid)


@pytest.fixture
def store(tmp_path: Path) -> Any:
    import diskcache

    return diskcache.Cache(str(tmp_path / "jobs"))


@pytest.fixture
def manager(store: Any) -> Any:
    from app.hosting.job_manager import DiskcacheJobManager

    return DiskcacheJobManager(store, expire=600)


@pytest.fixture
def lock_holder() -> Iterator[Callable[[Any], None]]:
    """``hold(lock_or_context)``: a second thread takes it and keeps it until the test ends."""
    release = threading.Event()
    threads: list[threading.Thread] = []

    def hold(lock: Any) -> None:
        taken = threading.Event()

        def run() -> None:
            with lock:
                taken.set()
                release.wait(60)

        t = threading.Thread(target=run, name="holds-a-lock", daemon=True)
        t.start()
        threads.append(t)
        assert taken.wait(10), "the second thread did not get the lock"

    try:
        yield hold
    finally:
        release.set()
        for t in threads:
            t.join(10)


# --------------------------------------------------------------------------- job functions (run in job processes)

#: a lock of this process: a job forked from it while another thread holds it gets a copy that stays locked
HELD = threading.Lock()


def needs_the_lock(patience: float) -> str:
    got = HELD.acquire(timeout=patience)
    if got:
        HELD.release()
    return "acquired" if got else "stuck"


def writes_to_the_store(directory: str, marker: str) -> dict[str, int]:
    import diskcache

    Path(marker).write_text(str(os.getpid()))
    diskcache.Cache(directory).set("written-by", os.getpid())
    return {"pid": os.getpid(), "ppid": os.getppid()}


def holds_the_store_until_killed(directory: str, marker: str) -> None:
    import diskcache

    cache = diskcache.Cache(directory)
    with cache.transact():
        cache.set("holder", os.getpid())
        Path(marker).write_text(str(os.getpid()))
        deadline = time.monotonic() + 60  # the test kills it long before
        while time.monotonic() < deadline:
            time.sleep(0.05)


def holds_the_kv_lock_until_killed(directory: str, marker: str, ttl: float) -> None:
    import diskcache

    from app.hosting.kv import DiskKV

    kv = DiskKV(diskcache.Cache(directory))
    assert kv.add("test:lock", b"first", ttl)
    Path(marker).write_text(str(os.getpid()))
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        time.sleep(0.05)


def takes_the_kv_lock(directory: str, patience: float) -> str:
    import diskcache

    from app.hosting.kv import DiskKV

    kv = DiskKV(diskcache.Cache(directory))
    deadline = time.monotonic() + patience
    while not kv.add("test:lock", b"second", 30.0):
        if time.monotonic() > deadline:
            return "still locked"
        time.sleep(0.02)
    kv.delete("test:lock")
    return "got the lock"


def runs_until_killed(marker: str, with_child: bool) -> None:
    info: dict[str, Any] = {"pid": os.getpid(), "ppid": os.getppid()}
    if with_child:
        child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
        info["child"] = child.pid
    Path(marker + ".tmp").write_text(json.dumps(info))
    os.replace(marker + ".tmp", marker)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        time.sleep(0.05)


def reports_its_surroundings(name: str) -> dict[str, Any]:
    print(f"job says hello from {os.getpid()}", flush=True)
    return {"env": os.environ.get(name), "cwd": os.getcwd(), "pid": os.getpid()}


def fails(text: str) -> None:
    raise ValueError(text)


def quick() -> str:
    return "quick"


# --------------------------------------------------------------------------- (a) a lock held by another thread


def test_a_job_started_while_another_thread_holds_a_lock_it_needs_runs_to_completion(manager, lock_holder):
    lock_holder(HELD)
    key, pid = start(manager, needs_the_lock, 20.0)
    assert result(manager, key, pid) == "acquired"


def test_dash_s_own_manager_forks_a_copy_of_the_held_lock_and_the_job_waits_on_it(store, lock_holder):
    """The control: the same job forked from this process by Dash's DiskcacheManager never gets the lock."""
    from dash import DiskcacheManager

    lock_holder(HELD)
    plain = DiskcacheManager(store)
    key, pid = start(plain, needs_the_lock, 0.5)  # bounded: it gives up instead of hanging
    assert result(plain, key, pid) == "stuck"


def test_a_job_started_while_another_thread_is_in_a_store_transaction_finishes_after_it(manager, store, tmp_path):
    in_transaction, release = threading.Event(), threading.Event()

    def transact() -> None:
        with store.transact():
            store.set("held-by", "the server's other thread")
            in_transaction.set()
            release.wait(30)

    holder = threading.Thread(target=transact, name="in-a-transaction", daemon=True)
    holder.start()
    try:
        assert in_transaction.wait(10)
        key, pid = start(manager, writes_to_the_store, store.directory, str(tmp_path / "started"))
        assert manager.job_running(pid)  # started while the other thread holds the store's write lock…
        assert store.get("written-by") is None
    finally:
        release.set()
        holder.join(10)
    out = result(manager, key, pid)  # …and done once it commits
    assert out["pid"] == pid and store.get("written-by") == pid
    assert store.get("held-by") == "the server's other thread"


# --------------------------------------------------------------------------- (b) a job killed holding the store's lock


def test_a_job_killed_in_a_store_transaction_does_not_block_the_next_job(manager, store, tmp_path):
    import sqlite3

    import diskcache

    marker = tmp_path / "holding"
    key, pid = start(manager, holds_the_store_until_killed, store.directory, str(marker))
    wait_for(marker.exists, 30, "the first job taking the store's write lock")
    probe = sqlite3.connect(os.path.join(store.directory, diskcache.core.DBNAME), timeout=0.05)
    with pytest.raises(sqlite3.OperationalError, match="locked"):
        probe.execute("BEGIN IMMEDIATE")  # the write lock is really held
    probe.close()
    manager.terminate_job(pid)
    wait_for(lambda: gone(pid), 10, "the killed job ending")
    assert store.get("holder") is None  # its transaction was rolled back
    key2, pid2 = start(manager, writes_to_the_store, store.directory, str(tmp_path / "second"))
    assert result(manager, key2, pid2)["pid"] == pid2
    assert store.get("written-by") == pid2
    assert manager.get_result(key, pid) is manager.UNDEFINED  # the killed job left no result


def test_a_job_killed_holding_the_kv_lock_does_not_block_the_next_job_past_the_lock_s_expiry(manager, store,
                                                                                               tmp_path):  # fmt: skip
    marker = tmp_path / "holding"
    ttl = 1.0
    _key, pid = start(manager, holds_the_kv_lock_until_killed, store.directory, str(marker), ttl)
    wait_for(marker.exists, 30, "the first job taking the kv's lock")
    manager.terminate_job(pid)
    wait_for(lambda: gone(pid), 10, "the killed job ending")
    key2, pid2 = start(manager, takes_the_kv_lock, store.directory, 20.0)
    assert result(manager, key2, pid2) == "got the lock"


# --------------------------------------------------------------------------- (c) through Dash


class DashTestClient:
    """Calls one background callback as Dash's renderer does, over Flask's test client."""

    def __init__(self, dash_app: Any) -> None:
        import re

        self.http = dash_app.server.test_client()
        page = self.http.get("/").get_data(as_text=True)
        m = re.search(r'<script id="_dash-config" type="application/json">(.*?)</script>', page, re.DOTALL)
        assert m, "no _dash-config on the page"
        self.end_id = json.loads(m.group(1)).get("end_id")

    def post(self, body: dict[str, Any], **args: str) -> tuple[int, Any]:
        query = {"endId": self.end_id, **args} if self.end_id else dict(args)
        r = self.http.post("/_dash-update-component", query_string=query, json=body)
        text = r.get_data(as_text=True)
        try:
            return r.status_code, json.loads(text) if text else None
        except json.JSONDecodeError:
            return r.status_code, text

    def run(self, body: dict[str, Any], on_progress: Callable[[dict], None], timeout: float = 30.0) -> tuple[int, Any]:
        status, first = self.post(body)
        assert status == 200 and "cacheKey" in first and "job" in first, (status, first)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            status, data = self.post(body, cacheKey=first["cacheKey"], job=first["job"])
            if status != 200 or "response" in data:
                return status, data
            if data.get("progress"):
                on_progress(data["progress"])
            time.sleep(0.02)
        raise AssertionError(f"no response within {timeout} s")


def tiny_app(manager: Any, gate: Path) -> Any:
    """One background callback, a closure (as the pages' are): progress, then set_props and its result."""
    from dash import Dash, Input, Output, State, dcc, html, set_props

    dash_app = Dash(__name__, background_callback_manager=manager)
    dash_app.layout = html.Div([html.Button(id="go"), dcc.Input(id="text", value="x"), html.Div(id="out"),
                                html.Div(id="progress"), html.Div(id="side")])  # fmt: skip
    gate_file = str(gate)

    @dash_app.callback(Output("out", "children"), Input("go", "n_clicks"), State("text", "value"), background=True,
                       progress=[Output("progress", "children")], prevent_initial_call=True)  # fmt: skip
    def work(set_progress: Callable[[Any], None], n_clicks: int, text: str) -> str:
        def wait_at_the_gate() -> None:
            deadline = time.monotonic() + 30  # until the test opens it
            while not os.path.exists(gate_file) and time.monotonic() < deadline:
                time.sleep(0.01)

        if text.startswith("fail"):
            if text == "fail at the gate":
                wait_at_the_gate()
            raise ValueError("the job failed on purpose")
        set_progress(f"half of {text}")
        wait_at_the_gate()  # the test has seen the progress
        set_props("side", {"children": f"side {os.getpid()}"})
        return f"done {text} {n_clicks}"

    return dash_app


def _body(text: str) -> dict[str, Any]:
    return {"output": "out.children", "outputs": {"id": "out", "property": "children"},
            "inputs": [{"id": "go", "property": "n_clicks", "value": 3}],
            "state": [{"id": "text", "property": "value", "value": text}], "changedPropIds": ["go.n_clicks"]}  # fmt: skip


def test_progress_set_props_and_the_result_reach_the_page_as_with_dash_s_manager(manager, tmp_path):
    gate = tmp_path / "seen-progress"
    client = DashTestClient(tiny_app(manager, gate))
    seen: list[dict] = []

    def on_progress(p: dict) -> None:
        seen.append(p)
        gate.touch()

    status, data = client.run(_body("abc"), on_progress)
    assert status == 200, data
    assert seen and seen[0] == {"progress.children": "half of abc"}
    assert data["response"]["out"]["children"] == "done abc 3"
    side = data["sideUpdate"]["side"]["children"]
    assert side.startswith("side ") and int(side.split()[1]) != os.getpid()


def test_an_error_in_the_job_is_raised_by_dash_when_the_page_polls(manager, tmp_path, caplog):
    from dash.exceptions import BackgroundCallbackError

    client = DashTestClient(tiny_app(manager, tmp_path / "gate"))
    status, _ = client.run(_body("fail"), lambda p: None)
    assert status == 500
    raised = [r.exc_info[1] for r in caplog.records if r.exc_info]
    assert any(isinstance(e, BackgroundCallbackError) and "the job failed on purpose" in str(e) for e in raised)


def test_a_job_that_ends_between_the_polls_read_and_its_running_check_is_read_by_the_next_poll(
    manager, tmp_path, monkeypatch, caplog
):
    """The worst moment for Dash's poll: no result yet when it reads, and the job's result written and its process
    gone before it asks whether the job runs.  The job is not taken for cancelled (a 204 that loses the result)."""
    from dash.exceptions import BackgroundCallbackError

    gate = tmp_path / "gate"
    read = manager.get_result
    raced: list[Any] = []

    def read_then_the_job_ends(key: str, job: Any) -> Any:
        got = read(key, job)
        if got is manager.UNDEFINED and not raced:
            gate.touch()  # the job fails now
            wait_for(lambda: manager.result_ready(key), 30, "the job's result")
            wait_for(lambda: gone(int(job)), 10, "the job's process ending")
            raced.append(job)
        return got

    monkeypatch.setattr(manager, "get_result", read_then_the_job_ends)
    client = DashTestClient(tiny_app(manager, gate))
    status, _ = client.run(_body("fail at the gate"), lambda p: None)
    assert raced and status == 500
    raised = [r.exc_info[1] for r in caplog.records if r.exc_info]
    assert any(isinstance(e, BackgroundCallbackError) and "the job failed on purpose" in str(e) for e in raised)


def test_an_ended_job_runs_until_its_result_is_read(manager):
    key, pid = start(manager, quick)
    wait_for(lambda: manager.result_ready(key), 30, "the job's result")
    wait_for(lambda: gone(pid), 10, "the job's process ending")
    assert manager.job_running(pid)  # its result waits: a poll must not take it for cancelled
    assert manager.get_result(key, pid) == "quick"
    assert not manager.job_running(pid)


def named_app(manager: Any, name: str, scoped: bool) -> Any:
    """An app whose one background callback answers with ``name``: the same source (and so Dash's
    same key) for every app this builds, registered inside ``callbacks_for(manager)`` if ``scoped``."""
    from dash import Dash, Input, Output, State, dcc, html

    from app.hosting.job_manager import callbacks_for

    dash_app = Dash(__name__, background_callback_manager=manager)
    dash_app.layout = html.Div([html.Button(id="go"), dcc.Input(id="text", value="x"), html.Div(id="out")])

    def register() -> None:
        @dash_app.callback(Output("out", "children"), Input("go", "n_clicks"), State("text", "value"),
                           background=True, prevent_initial_call=True)  # fmt: skip
        def work(n_clicks: int, text: str) -> str:
            return f"{name} answers {text}"

    if scoped:
        with callbacks_for(manager):
            register()
    else:
        register()
    return dash_app


@pytest.mark.parametrize("scoped", [True, False])
def test_two_apps_of_one_process_each_run_their_own_callbacks_when_registered_for_their_manager(tmp_path, scoped):
    import diskcache

    from app.hosting.job_manager import DiskcacheJobManager

    managers = [DiskcacheJobManager(diskcache.Cache(str(tmp_path / name)), expire=600) for name in ("a", "b")]
    first = DashTestClient(named_app(managers[0], "first", scoped))
    second = DashTestClient(named_app(managers[1], "second", scoped))
    answers = [client.run(_body("hi"), lambda p: None)[1]["response"]["out"]["children"] for client in (first, second)]
    if scoped:
        assert answers == ["first answers hi", "second answers hi"]
    else:  # Dash's own rule: the app registered last runs its callback for both
        assert answers == ["second answers hi", "second answers hi"]


def test_an_error_in_the_job_comes_back_as_dash_s_error_record(manager):
    key, pid = start(manager, fails, "on purpose")
    out = result(manager, key, pid)
    assert out["background_callback_error"]["msg"] == "on purpose"
    assert "ValueError" in out["background_callback_error"]["tb"]


def test_progress_is_written_under_dash_s_progress_key_before_the_result(manager, store):
    key, pid = start(manager, lambda set_progress: set_progress(("p", 2)) or "r", progress=True)
    wait_for(lambda: manager.result_ready(key), 30, "the job's result")
    assert manager.get_progress(key) == ("p", 2)  # read once, then cleared, as Dash's poll does
    assert manager.get_progress(key) is None
    assert manager.get_result(key, pid) == "r"
    assert store.get(key) is None  # not cached: get_result removed it


# --------------------------------------------------------------------------- (d) terminating a job


@pytest.mark.parametrize("with_child", [False, True], ids=["alone", "with-a-child-process"])
def test_terminate_job_kills_the_job_process(manager, tmp_path, with_child):
    marker = tmp_path / "running"
    key, pid = start(manager, runs_until_killed, str(marker), with_child)
    info = json.loads(wait_for(lambda: marker.exists() and marker.read_text(), 30, "the job running"))
    assert info["pid"] == pid  # the pid Dash gets is the job's own process…
    assert info["ppid"] == manager.launcher_pid != os.getpid()  # …a child of the launcher, not of this process
    assert manager.job_running(pid)
    manager.terminate_job(pid)
    wait_for(lambda: not manager.job_running(pid), 10, "job_running turning false")
    wait_for(lambda: gone(pid), 10, "the job process ending")
    if with_child:
        wait_for(lambda: gone(info["child"]), 10, "the job's own child ending")
    assert manager.get_result(key, pid) is manager.UNDEFINED
    # the launcher is unharmed: the next job runs
    key, pid = start(manager, quick)
    assert result(manager, key, pid) == "quick"


def test_terminate_job_leaves_a_process_that_is_not_a_job_alone(manager):
    """The pid comes from the page: one that is not the launcher's child (here this test's own child) is never
    killed, nor is anything done for a handle that is not a pid."""
    key, pid = start(manager, quick)  # the launcher runs
    assert result(manager, key, pid) == "quick"
    bystander = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        for handle in (bystander.pid, str(bystander.pid), "not a pid", -1, 0, os.getpid(), manager.launcher_pid):
            manager.terminate_job(handle)
        assert bystander.poll() is None  # still running
        assert manager.launcher_pid is not None and not gone(manager.launcher_pid)
    finally:
        bystander.kill()
        bystander.wait(10)


def test_a_finished_job_leaves_no_process_behind(manager):
    import psutil

    key, pid = start(manager, quick)
    assert result(manager, key, pid) == "quick"
    wait_for(lambda: not psutil.pid_exists(pid), 10, "the finished job's pid disappearing (no zombie)")
    assert not manager.job_running(pid)


# --------------------------------------------------------------------------- what a job gets


def test_the_job_gets_the_caller_s_environment_directory_and_stdout(manager, monkeypatch, tmp_path, capfd):
    monkeypatch.setenv("TEST_JOBS_SETTING", "set after the launcher started")
    monkeypatch.chdir(tmp_path)
    key, pid = start(manager, reports_its_surroundings, "TEST_JOBS_SETTING")
    out = result(manager, key, pid)
    assert out == {"env": "set after the launcher started", "cwd": str(tmp_path), "pid": pid}
    wait_for(lambda: gone(pid), 10, "the job ending")
    assert f"job says hello from {pid}" in capfd.readouterr().out


def test_a_callback_that_cannot_be_pickled_is_refused_at_once(manager):
    unpicklable = (i for i in range(3))  # a generator: no pickler takes it

    def closes_over_a_generator() -> int:
        return next(unpicklable)

    with pytest.raises(TypeError, match="cannot be sent to a job process"):
        start(manager, closes_over_a_generator)


def test_a_job_that_cannot_be_unpickled_in_its_process_reports_why(manager, monkeypatch):
    import types

    ghost = types.ModuleType("test_jobs_ghost_module")  # importable here, nowhere else
    exec("def job():\n    return 'never'\n", ghost.__dict__)  # noqa: S102 - a module only this process has
    monkeypatch.setitem(sys.modules, ghost.__name__, ghost)
    key, pid = start(manager, ghost.job)
    out = result(manager, key, pid)
    assert "could not be unpickled" in out["background_callback_error"]["msg"]
    assert "test_jobs_ghost_module" in out["background_callback_error"]["tb"]


# --------------------------------------------------------------------------- the launcher itself


def test_the_launcher_waits_for_its_start_or_the_first_job(store):
    """Registering callbacks only notes their warm-ups: the launcher (and its warm-up, which would
    compete with the first page for the cores) starts when the app says so, or with a job."""
    from app.hosting.job_manager import DiskcacheJobManager
    from app.hosting.launcher_client import Launcher

    launcher = Launcher()
    try:
        mine = DiskcacheJobManager(store, launcher=launcher)
        mine.make_job_fn(quick, False)
        assert mine.launcher_pid is None
        key, pid = start(mine, quick)
        assert result(mine, key, pid) == "quick"
        assert mine.launcher_pid is not None and psutil_parent(pid) in (mine.launcher_pid, None)
    finally:
        launcher.stop()


def test_a_job_asked_for_during_the_warm_up_starts_before_the_steps_still_to_come(store, tmp_path, monkeypatch):
    """On an empty compile cache a page's warm-up takes a minute: a job waits for the step under way only.
    The job's process is forked with the steps done so far; the rest follow once it has ended, and a
    ping is answered when all are done."""
    from app.hosting import launcher_client
    from app.hosting.job_manager import DiskcacheJobManager
    from app.hosting.launcher_client import Launcher

    started, go = tmp_path / "first step started", tmp_path / "job asked for"
    (tmp_path / "stepwise_warm.py").write_text(textwrap.dedent(f"""
        import os, time

        DONE = []

        def first():
            open({str(started)!r}, "w").close()
            deadline = time.monotonic() + 60
            while not os.path.exists({str(go)!r}) and time.monotonic() < deadline:
                time.sleep(0.01)
            DONE.append("first")

        def second():
            DONE.append("second")

        JOB_WARM_UP = (first, second)

        def job():
            return list(DONE)
    """))
    monkeypatch.syspath_prepend(str(tmp_path))
    import stepwise_warm

    real_send = launcher_client.send_message

    def send_then_mark(sock: Any, msg: Any, fds: Any = None) -> None:
        real_send(sock, msg, fds)
        if isinstance(msg, dict) and msg.get("op") == "run":
            go.touch()  # the job's request is in the launcher's socket before its first step ends

    monkeypatch.setattr(launcher_client, "send_message", send_then_mark)
    launcher = Launcher()
    try:
        mine = DiskcacheJobManager(store, launcher=launcher)
        mine.make_job_fn(stepwise_warm.job, False)
        mine.start_launcher()
        wait_for(started.exists, 30, "the launcher's first warm-up step")
        key, pid = start(mine, stepwise_warm.job)
        assert result(mine, key, pid) == ["first"]  # forked between the two steps
        assert launcher.ping(timeout=60)["pid"] == mine.launcher_pid
        key, pid = start(mine, stepwise_warm.job)
        assert result(mine, key, pid) == ["first", "second"]
    finally:
        launcher.stop()
        sys.modules.pop("stepwise_warm", None)


def psutil_parent(pid: int) -> int | None:
    """The parent of ``pid``, or None once it has ended."""
    import psutil

    try:
        return psutil.Process(pid).ppid()
    except psutil.Error:
        return None


def test_a_dead_launcher_is_replaced_on_the_next_job(store):
    import signal

    from app.hosting.job_manager import DiskcacheJobManager
    from app.hosting.launcher_client import Launcher

    launcher = Launcher()
    try:
        mine = DiskcacheJobManager(store, launcher=launcher)
        first = mine.start_launcher()
        os.kill(first, signal.SIGKILL)
        wait_for(lambda: gone(first), 10, "the launcher ending")
        key, pid = start(mine, quick)
        assert result(mine, key, pid) == "quick"
        assert mine.launcher_pid not in (None, first)
    finally:
        launcher.stop()


def _script(tmp_path: Path, body: str) -> subprocess.CompletedProcess[str]:
    path = tmp_path / "script.py"
    path.write_text(textwrap.dedent(body))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(tmp_path)])}
    return subprocess.run(
        [sys.executable, str(path)], check=False, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def test_processes_forked_from_the_server_share_its_launcher(tmp_path):
    """As gunicorn's preloaded workers: the app (and its manager) is built before they fork."""
    (tmp_path / "forked_jobs.py").write_text("import os\n\ndef whoami():\n    return [os.getpid(), os.getppid()]\n")
    done = _script(
        tmp_path,
        f"""
        import json, os, time, diskcache
        from app.hosting.job_manager import DiskcacheJobManager
        from dash._utils import AttributeDict
        import forked_jobs

        manager = DiskcacheJobManager(diskcache.Cache({str(tmp_path / "jobs")!r}))
        job_fn = manager.make_job_fn(forked_jobs.whoami, False)
        manager.start_launcher()  # as the app's warm-up does in gunicorn's master, before the workers fork
        workers = []
        for n in range(2):
            pid = os.fork()
            if pid == 0:
                key = f"job-{{n}}"
                job = manager.call_job_fn(key, job_fn, [], AttributeDict())
                deadline = time.monotonic() + 60
                while not manager.result_ready(key) and time.monotonic() < deadline:
                    time.sleep(0.01)
                line = json.dumps({{"worker": os.getpid(), "job": job, "result": manager.get_result(key, job)}})
                os.write(1, (line + "\\n").encode())  # one write: the two workers share the pipe
                os._exit(0)
            workers.append(pid)
        for pid in workers:
            os.waitpid(pid, 0)
        print(json.dumps({{"launcher": manager.launcher_pid}}))
    """,
    )
    assert done.returncode == 0, done.stderr
    lines = [json.loads(line) for line in done.stdout.splitlines()]
    launcher = lines[-1]["launcher"]
    assert len(lines) == 3
    for line in lines[:2]:
        assert line["result"] == [line["job"], launcher]  # a job of the one launcher, not of the worker


def test_the_launcher_exits_with_its_server_even_in_the_middle_of_a_warm_up(tmp_path):
    marker = tmp_path / "warming"
    (tmp_path / "slow_warm.py").write_text(
        textwrap.dedent(f"""
        import time

        def warm():
            open({str(marker)!r}, "w").close()
            time.sleep(120)

        def job():
            pass
    """)
    )
    done = _script(
        tmp_path,
        f"""
        import os, time, diskcache
        from app.hosting.job_manager import DiskcacheJobManager
        import slow_warm

        manager = DiskcacheJobManager(diskcache.Cache({str(tmp_path / "jobs")!r}))
        manager.make_job_fn(slow_warm.job, False)
        manager.start_launcher()  # the launcher starts its two-minute warm-up
        deadline = time.monotonic() + 60
        while not os.path.exists({str(marker)!r}) and time.monotonic() < deadline:
            time.sleep(0.01)
        print(manager.launcher_pid, os.path.exists({str(marker)!r}))
    """,
    )
    assert done.returncode == 0, done.stderr
    launcher, warming = done.stdout.split()[-2:]
    assert warming == "True", done.stderr
    wait_for(lambda: gone(int(launcher)), 15, "the launcher exiting once its server has gone")


# --------------------------------------------------------------------------- the app's own callbacks and managers


class _NoLauncher:
    """Stands in for the launcher where no job runs (the pickling check below)."""

    pid = None

    def ensure(self) -> int:
        return 0

    def warm(self, modules: list[str]) -> None:
        pass


def test_a_job_starts_with_its_page_warmed_in_the_launcher(manager, tmp_path, monkeypatch):
    package = tmp_path / "warmed_pkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "page.py").write_text("import os\n\nWARMED_IN = None\n\ndef warm():\n"
                                     "    global WARMED_IN\n    WARMED_IN = os.getpid()\n")  # fmt: skip
    (package / "callbacks.py").write_text("import os\n\ndef job():\n    from warmed_pkg import page\n"
                                          "    return [page.WARMED_IN, os.getppid()]\n")  # fmt: skip
    monkeypatch.syspath_prepend(str(tmp_path))
    from warmed_pkg import callbacks

    manager.make_job_fn(callbacks.job, False)  # as registering the callback does: the launcher is to warm its page
    manager.launcher.ping()  # answered once the launcher has done every warm-up step asked for
    key, pid = start(manager, callbacks.job)
    warmed_in, parent = result(manager, key, pid)
    assert warmed_in == parent == manager.launcher_pid  # warmed once in the launcher, before the fork


def test_make_manager_gives_the_launcher_s_manager_without_redis(monkeypatch, tmp_path):
    from dash import DiskcacheManager

    from app.hosting import jobs
    from app.hosting.job_manager import DiskcacheJobManager

    monkeypatch.delenv("REDIS_URL", raising=False)
    monkeypatch.setenv("DESCENT_LAB_JOBS_DIR", str(tmp_path / "jobs"))
    made = jobs.make_manager()
    assert isinstance(made, DiskcacheJobManager) and isinstance(made, DiskcacheManager)
    assert made.handle.directory == str(tmp_path / "jobs") and made.expire == jobs.RESULT_EXPIRY
    assert jobs.DiskcacheJobManager is DiskcacheJobManager


# the real pages last: once they are registered, every new manager's launcher warms them (seconds)


def _page_callbacks(tmp_path: Path) -> tuple[Any, dict[str, Any]]:
    """A manager (no launcher) and the background callbacks the lab and the maps register on it, by key."""
    import diskcache
    from dash import Dash

    from app.hosting.job_manager import DiskcacheJobManager
    from app.lab import page as lab_page
    from app.maps import page as maps_page

    manager = DiskcacheJobManager(diskcache.Cache(str(tmp_path / "jobs")), launcher=_NoLauncher())
    registered: dict[str, Any] = {}
    plain_register = manager.register

    def register(key: str, fn: Any, progress: Any) -> None:
        registered[key] = fn
        plain_register(key, fn, progress)

    manager.register = register
    for name, page in (("lab", lab_page), ("maps", maps_page)):
        page.register_callbacks(Dash(f"{name}-jobs-test", background_callback_manager=manager,
                                     suppress_callback_exceptions=True))  # fmt: skip
    return manager, registered


def test_the_lab_s_and_the_maps_background_callbacks_can_be_sent_to_a_job_process(tmp_path):
    import dill

    manager, registered = _page_callbacks(tmp_path)
    assert len(registered) >= 2, "the lab's race and the map are background callbacks"
    for key, callback in registered.items():
        job_fn = manager.func_registry[key]
        sent = dill.dumps((job_fn, (key, key + "-progress", [], {})))
        again, _ = dill.loads(sent)
        assert again.__code__ is not job_fn.__code__ and again.__code__.co_code == job_fn.__code__.co_code
        assert callback.__qualname__ in sent.decode("latin-1")  # the callback itself went along


def test_the_launcher_finds_the_warm_up_of_every_page_with_background_callbacks(tmp_path):
    import importlib

    from app.hosting.launcher_warm import job_warm_up, warm_targets

    _manager, registered = _page_callbacks(tmp_path)
    for callback in registered.values():
        found = []
        for target in warm_targets(callback.__module__):
            try:
                found.extend(job_warm_up(importlib.import_module(target)))
            except ModuleNotFoundError:
                continue
        assert found, f"jobs of {callback.__module__} would start cold: no JOB_WARM_UP or warm() for them"


def test_a_job_process_reaped_while_dash_checks_it_has_ended_rather_than_failing_the_poll(manager, monkeypatch):
    import psutil
    from dash.background_callback.managers.diskcache_manager import DiskcacheManager

    running = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    ended = subprocess.Popen([sys.executable, "-c", "pass"])
    try:
        assert manager.job_running(running.pid) is True
        ended.wait(timeout=30)  # exited and reaped: its pid is gone
        # the moment the race hits: the pid still existed when checked, and is gone when its status is read
        monkeypatch.setattr(psutil, "pid_exists", lambda pid: True)
        with pytest.raises(psutil.NoSuchProcess):
            DiskcacheManager.job_running(manager, ended.pid)  # Dash's own rule fails the request here
        assert manager.job_running(ended.pid) is False
        assert manager.job_running(str(ended.pid)) is False  # the handle as the browser sends it back
        assert manager.job_running(None) is False and manager.job_running("not a pid") is False
        assert manager.job_running(0) is False and manager.job_running(-1) is False
    finally:
        running.kill()
        running.wait(timeout=10)


def test_a_job_process_that_ended_unreaped_is_not_running(manager):
    import psutil

    zombie = subprocess.Popen([sys.executable, "-c", "pass"])
    try:
        deadline = time.monotonic() + 30
        while psutil.Process(zombie.pid).status() != psutil.STATUS_ZOMBIE:  # exited, not yet waited for
            assert time.monotonic() < deadline, "the child never exited"
            time.sleep(0.01)
        assert manager.job_running(zombie.pid) is False
    finally:
        zombie.wait(timeout=10)
