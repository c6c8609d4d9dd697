"""The lab's races through real background managers, driven over HTTP like the browser's renderer.

* Celery: a throwaway ``redis-server`` on a free port, a Celery worker
  subprocess (``celery -A app.worker.celery_app worker --pool solo``) and the
  lab app made with ``REDIS_URL`` set (so ``make_manager`` gives a
  ``CeleryManager``), served from a thread of this process.  The race must run
  on the worker (its log shows the task), report progress and return results;
  a second race is cancelled cooperatively (the solo pool cannot kill a task).
* Diskcache: the same race with ``DiskcacheManager`` on a temporary directory.
* Faults: two students race, one's job process is SIGKILLed mid-run; that
  student's page reports the loss (and may start again), the other's race
  finishes.  On Celery (a prefork worker with one training slot, on its own
  Redis database) the second race first waits, told its place, and takes the
  slot the killed job frees.  A whole Celery worker killed is noticed by the
  page's watch; a restarted worker, or a restarted diskcache server on the same
  store, serves the same students at once.

Start goes through the page's gate (a plain callback that queues the race for
the browser), whose answer is the input of the background race callback.

The client speaks Dash 4's protocol: the page's signed ``endId``, the first
POST returning signed ``cacheKey``/``job`` handles, then polls that collect the
``progress`` payloads until the ``response`` arrives.  Every wait is bounded and
every subprocess is stopped in its fixture's teardown.
"""

from __future__ import annotations

import ast
import functools
import importlib
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest

ROOT = Path(__file__).resolve().parents[3]
#: the celery script of the interpreter running the tests (.venv/bin/celery under `make test`)
_SCRIPT = Path(sys.executable).parent / "celery"
CELERY = [str(_SCRIPT)] if _SCRIPT.exists() else [sys.executable, "-m", "celery"]

# a tiny race: digits subset, small net, two optimizers, three epochs
TINY = {"lab-samples": 400, "lab-hidden": "16", "lab-epochs": 3, "lab-batch": 32}


# --------------------------------------------------------------------------- an HTTP client for Dash callbacks


def _get(url: str, timeout: float = 15.0) -> bytes:
    with urllib.request.urlopen(url, timeout=timeout) as r:  # noqa: S310 - a localhost test server
        return r.read()


def _post(url: str, body: Mapping[str, Any], timeout: float = 30.0) -> tuple[int, Any]:
    req = urllib.request.Request(url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:  # noqa: S310
            raw = r.read()
            return r.status, (json.loads(raw) if raw else None)
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode(errors="replace")


def _parse_id(raw: str) -> Any:
    return json.loads(raw) if raw.startswith("{") else raw


def _id_key(cid: Any) -> str:
    return json.dumps(cid, sort_keys=True) if isinstance(cid, dict) else cid


class DashClient:
    """Reads a served page's config, layout and callbacks; calls callbacks as the renderer does."""

    def __init__(self, base: str) -> None:
        self.base = base.rstrip("/") + "/"
        page = _get(self.base).decode()
        m = re.search(r'<script id="_dash-config" type="application/json">(.*?)</script>', page, re.S)
        assert m, "no _dash-config on the page"
        self.end_id = json.loads(m.group(1)).get("end_id")
        self.components: list[tuple[Any, dict[str, Any]]] = []
        self._walk(json.loads(_get(self.base + "_dash-layout")))
        self.deps = json.loads(_get(self.base + "_dash-dependencies"))

    def _walk(self, node: Any) -> None:
        if isinstance(node, list):
            for n in node:
                self._walk(n)
        elif isinstance(node, dict) and "props" in node:
            props = node["props"]
            if "id" in props:
                self.components.append((props["id"], props))
            for v in props.values():
                if isinstance(v, (dict, list)):
                    self._walk(v)

    def value(self, cid: Any, prop: str) -> Any:
        return next(props.get(prop) for c, props in self.components if c == cid)

    def callback(self, output_part: str) -> dict[str, Any]:
        hits = [d for d in self.deps if output_part in d["output"]]
        assert len(hits) == 1, f"{len(hits)} callbacks output {output_part}"
        return hits[0]

    def _dep(self, dep: Mapping[str, Any], overrides: Mapping[str, Any]) -> Any:
        pattern, prop = _parse_id(dep["id"]), dep["property"]

        def val(cid: Any) -> Any:
            if prop == "id":
                return cid
            if _id_key(cid) in overrides and prop == "value":
                return overrides[_id_key(cid)]
            return next((props.get(prop) for c, props in self.components if c == cid), None)

        if isinstance(pattern, dict) and any(isinstance(v, list) for v in pattern.values()):
            hits = [c for c, _ in self.components if isinstance(c, dict) and set(c) == set(pattern)
                    and all(isinstance(v, list) or c[k] == v for k, v in pattern.items())]  # fmt: skip
            return [{"id": c, "property": prop, "value": val(c)} for c in hits]
        return {"id": pattern, "property": prop, "value": val(pattern)}

    def body(self, cb: Mapping[str, Any], overrides: Mapping[str, Any], changed: list[str],
             inputs: Mapping[str, Any] | None = None) -> dict[str, Any]:  # fmt: skip
        out = cb["output"]
        parts = out[2:-2].split("...") if out.startswith("..") else [out]
        outputs = [{"id": _parse_id(p.rpartition(".")[0]), "property": p.rpartition(".")[2].split("@")[0]}
                   for p in parts]  # fmt: skip
        ins = [self._dep(d, overrides) for d in cb["inputs"]]
        states = [self._dep(d, overrides) for d in cb["state"]]
        for item in ins + states:  # ``inputs`` sets any input's or state's value, by "id.property"
            if isinstance(item, dict) and inputs and f"{item['id']}.{item['property']}" in inputs:
                item["value"] = inputs[f"{item['id']}.{item['property']}"]
        return {"output": out, "outputs": outputs if out.startswith("..") else outputs[0], "inputs": ins,
                "state": states, "changedPropIds": changed}  # fmt: skip

    def url(self, **args: str) -> str:
        q = {"endId": self.end_id} if self.end_id else {}
        q.update(args)
        return self.base + "_dash-update-component?" + urlencode(q)

    def call(self, body: Mapping[str, Any]) -> tuple[int, Any]:
        return _post(self.url(), body)

    def start(self, body: Mapping[str, Any]) -> dict[str, str]:
        status, first = _post(self.url(), body)
        assert status == 200 and "cacheKey" in first and "job" in first, (status, first)
        return first

    def poll(self, body: Mapping[str, Any], handles: Mapping[str, str], timeout: float,
             each: Callable[[dict], None] | None = None, interval: float = 0.25) -> tuple[dict, list[dict]]:  # fmt: skip
        """Poll a started background callback until its response; returns it and every progress payload.

        A job that ended without a result (Dash answers 204, and the renderer stops polling and
        resets the running outputs) comes back as ``{"ended": True}``.
        """
        progress: list[dict] = []
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            time.sleep(interval)
            status, data = _post(self.url(cacheKey=handles["cacheKey"], job=handles["job"]), body)
            if status == 204:
                return {"ended": True}, progress
            assert status == 200, (status, data)
            if data.get("progress"):
                progress.append(data["progress"])
                if each is not None:
                    each(data["progress"])
            if "response" in data:
                return data, progress
        raise AssertionError(f"no response within {timeout} s ({len(progress)} progress updates)")


# --------------------------------------------------------------------------- processes and servers


def stop(proc: subprocess.Popen) -> None:
    """SIGTERM the process group we started, then SIGKILL it if it lingers (bounded)."""
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)


def tail(path: Path, n: int = 40) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-n:])
    except OSError:
        return ""


@pytest.fixture(scope="module")
def redis_url(redis_server_url) -> str:
    """The session's throwaway redis-server (tests/conftest.py); these tests use its databases 0–2."""
    return redis_server_url


@functools.cache
def warm_the_workers_kernels() -> None:
    """Run the worker's warm-up steps (``app.hosting.worker``: ``job_warm_up`` of each of its ``PAGES``) here first.

    On a cold Numba cache the steps compile the lab's and the maps' kernels, a minute or more on a loaded
    machine, depending on what ran before; here they fill the cache the worker shares, so the worker's
    start is timed against the limit below, not a compile.  ``PAGES`` is read from the source: importing
    the module builds the worker's Celery app.
    """
    from app.hosting.launcher_warm import job_warm_up

    tree = ast.parse((ROOT / "app" / "hosting" / "worker.py").read_text())
    pages = next(ast.literal_eval(node.value) for node in tree.body
                 if isinstance(node, ast.AnnAssign) and getattr(node.target, "id", None) == "PAGES")  # fmt: skip
    assert pages, "the worker warms no page"
    for name in pages:
        for step in job_warm_up(importlib.import_module(name)):
            step()


def start_worker(url: str, log: Path, pool: list[str], name: str,
                 env: Mapping[str, str] | None = None) -> subprocess.Popen:  # fmt: skip
    """A Celery worker subprocess for the lab's jobs on ``url``, ready to take tasks (its output goes to ``log``)."""
    try:
        import celery  # noqa: F401
    except ImportError:
        pytest.fail("celery is not installed in this environment (pip install 'dash[diskcache,celery]')")
    warm_the_workers_kernels()
    numba = os.environ.get("NUMBA_CACHE_DIR", str(ROOT / ".numba_cache"))
    full_env = {**os.environ, "REDIS_URL": url, "PYTHONPATH": str(ROOT), "NUMBA_CACHE_DIR": numba, **(env or {})}
    with open(log, "wb") as fh:
        proc = subprocess.Popen([*CELERY, "-A", "app.worker.celery_app", "worker", *pool,
                                 "--loglevel", "INFO", "--without-gossip", "--without-mingle", "--without-heartbeat",
                                 "-n", f"{name}-{os.getpid()}@localhost"],
                                cwd=ROOT, env=full_env, stdout=fh, stderr=subprocess.STDOUT,
                                start_new_session=True)  # fmt: skip
    deadline = time.monotonic() + 60
    while "ready." not in tail(log, 200):
        if proc.poll() is not None or time.monotonic() > deadline:
            stop(proc)
            pytest.fail(f"the Celery worker did not become ready:\n{tail(log)}")
        time.sleep(0.1)
    return proc


@pytest.fixture(scope="module")
def celery_worker(redis_url, tmp_path_factory) -> Iterator[Path]:
    """A Celery worker subprocess (solo pool) for the lab's jobs; yields its log file."""
    log = tmp_path_factory.mktemp("celery") / "worker.log"
    proc = start_worker(redis_url, log, ["--pool", "solo"], "lab-test")
    try:
        yield log
    finally:
        stop(proc)


def serve(dash_app) -> tuple[str, Callable[[], None]]:
    import logging

    from werkzeug.serving import make_server

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per poll in a failing test's report

    server = make_server("127.0.0.1", 0, dash_app.server, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="lab-test-server", daemon=True)
    thread.start()

    def shutdown() -> None:
        server.shutdown()
        thread.join(timeout=5)

    return f"http://127.0.0.1:{server.server_port}/", shutdown


#: the Dash app behind each served base URL (tests reach its job store through it)
APPS: dict[str, Any] = {}


def serve_app(url: str | None, env: Mapping[str, str] | None = None) -> tuple[str, Callable[[], None]]:
    """The lab app made with REDIS_URL = ``url`` (a CeleryManager) or unset with a fresh jobs directory."""
    from app.lab.page import standalone_app

    mp = pytest.MonkeyPatch()
    try:
        if url is not None:
            mp.setenv("REDIS_URL", url)
        else:
            mp.delenv("REDIS_URL", raising=False)
            mp.setenv("DESCENT_LAB_JOBS_DIR", str((env or {})["DESCENT_LAB_JOBS_DIR"]))
        for k, v in (env or {}).items():
            mp.setenv(k, v)
        dash_app = standalone_app()
    finally:
        mp.undo()
    base, shutdown = serve(dash_app)
    APPS[base] = dash_app
    return base, shutdown


def store_of(base: str) -> Any:
    from app.hosting.kv import kv_for

    return kv_for(APPS[base]._background_manager)


@pytest.fixture(scope="module")
def celery_site(redis_url, celery_worker) -> Iterator[str]:
    """The lab app made with REDIS_URL set, so its background manager is a CeleryManager."""
    from dash import CeleryManager

    base, shutdown = serve_app(redis_url)
    try:
        assert isinstance(APPS[base]._background_manager, CeleryManager)
        yield base
    finally:
        shutdown()


@pytest.fixture(scope="module")
def disk_site(tmp_path_factory) -> Iterator[str]:
    """The lab app with a DiskcacheManager on a fresh directory (REDIS_URL unset)."""
    from dash import DiskcacheManager

    base, shutdown = serve_app(None, {"DESCENT_LAB_JOBS_DIR": str(tmp_path_factory.mktemp("jobs"))})
    try:
        assert isinstance(APPS[base]._background_manager, DiskcacheManager)
        yield base
    finally:
        shutdown()


# --------------------------------------------------------------------------- the checks


def press_start(client: DashClient, browser: str | None = None) -> dict:
    """Start, as the page sends it: the gate queues a race for this browser (or says why not)."""
    gate = client.callback("lab-run.data")
    assert not gate.get("background")
    values = {"lab-start.n_clicks": 1, "lab-browser.data": browser or "browser-" + os.urandom(8).hex()}
    status, out = client.call(client.body(gate, {}, ["lab-start.n_clicks"], inputs=values))
    assert status == 200, (status, out)
    return out["response"]


def race_body(client: DashClient, overrides: Mapping[str, Any], browser: str | None = None) -> tuple[dict, dict]:
    run = press_start(client, browser)["lab-run"]["data"]
    cb = client.callback("lab-recon-graph.figure")
    assert cb.get("background"), "the race must be a background callback"
    body = client.body(cb, {**TINY, **overrides}, ["lab-run.data"], inputs={"lab-run.data": run})
    return cb, body


def job_ended(client: DashClient, run: Mapping[str, Any]) -> tuple[int, Any]:
    """What the page does when Dash stops polling its race (the running outputs are reset): check how it ended."""
    cb = client.callback("lab-watch.disabled")
    body = client.body(cb, {}, ["lab-running.hidden"], inputs={"lab-running.hidden": True, "lab-run.data": run})
    return client.call(body)


def run_of(body: Mapping[str, Any]) -> dict:
    return next(i["value"] for i in body["inputs"] if i["id"] == "lab-run")


def check_progress_and_result(data: dict, progress: list[dict], epochs: int) -> None:
    # progress: the whole loss history each time, the status line and the bar
    assert progress, "no progress arrived"
    figs = [p["lab-loss-graph.figure"] for p in progress if p.get("lab-loss-graph.figure")]
    trained = [f for f in figs if any(t.get("name") == "Adam (lr=0.003)" and t.get("x") for t in f["data"])]
    assert trained, "no progress carried loss curves"
    last = trained[-1]
    adam = next(t for t in last["data"] if t.get("name") == "Adam (lr=0.003)" and t.get("showlegend"))
    assert adam["x"] == list(range(epochs + 1))
    assert all(v is None or v > 0 for v in adam["y"])
    assert any("Finished" in str(p.get("lab-status.children")) for p in progress)
    assert float(progress[-1]["lab-bar.value"]) == 100.0
    # the result: reconstructions, the PSNR table, both landscapes, the section shown
    resp = data["response"]
    recon = resp["lab-recon-graph"]["figure"]
    assert recon["data"][0]["type"] == "heatmap"
    labels = [a["text"] for a in recon["layout"]["annotations"]]
    assert labels[0] == "<b>Original</b>" and len(labels) == 1 + 3  # originals + three optimizers
    z = recon["data"][0]["z"]
    assert len(z) == 4 * (4 + 8) and len(z[0]) == 8 * 9 - 1  # 8×8 tiles under label bands, one-pixel gaps
    land = resp["lab-land-store"]["data"]
    assert set(land) == {"random", "pca"}
    assert land["pca"]["data"][0]["type"] == "contour"
    assert len(land["pca"]["data"][0]["z"]) == 25
    table = json.dumps(resp["lab-psnr"]["children"])
    for word in ("Input", "Adam (lr=0.003)", "Gaussian (0.2)", "Knockout (0.3)"):
        assert word in table
    assert "1,797 images of 8×8 pixels" in resp["lab-summary"]["children"]


def test_celery_worker_trains_a_race_and_reports_progress(celery_site, celery_worker):
    client = DashClient(celery_site)
    _, body = race_body(client, {})
    handles = client.start(body)
    data, progress = client.poll(body, handles, timeout=60)
    check_progress_and_result(data, progress, epochs=3)
    # the job ran on the worker, not in the web process
    log = tail(celery_worker, 400)
    assert re.search(r"Task background_callback_[0-9a-f]+\[[^\]]+\] succeeded", log), log


def test_celery_race_is_cancelled_cooperatively(celery_site, celery_worker):
    client = DashClient(celery_site)
    _, body = race_body(client, {"lab-epochs": 200, "lab-batch": 1, "lab-samples": 2000})
    handles = client.start(body)
    sent = {"cancel": False}
    cancel_cb = next(d for d in client.deps if d["output"].startswith("lab-status.children@")
                     and d["inputs"][0]["id"] == "lab-cancel")  # fmt: skip

    def on_progress(p: dict) -> None:
        # cancel once training has started (the first epoch's curves are in)
        if not sent["cancel"] and "Epoch" in str(p.get("lab-status.children")):
            cbody = client.body(cancel_cb, {}, ["lab-cancel.n_clicks"],
                                inputs={"lab-cancel.n_clicks": 1, "lab-run.data": run_of(body)})  # fmt: skip
            status, out = client.call(cbody)
            assert status == 200 and "Cancelling" in json.dumps(out), (status, out)
            sent["cancel"] = True

    t0 = time.monotonic()
    data, progress = client.poll(body, handles, timeout=60, each=on_progress)
    assert sent["cancel"], "training never reported an epoch"
    assert time.monotonic() - t0 < 45
    statuses = [str(p.get("lab-status.children")) for p in progress]
    assert any(s.startswith("Cancelled after epoch") for s in statuses), statuses[-3:]
    # partial results still come back (reconstructions and the table; the landscape is skipped)
    resp = data["response"]
    assert resp["lab-summary"]["children"]
    assert resp["lab-recon-graph"]["figure"]["data"][0]["type"] == "heatmap"
    assert "skipped" in json.dumps(resp["lab-land-store"]["data"]["pca"])


def test_diskcache_manager_trains_a_race(disk_site):
    client = DashClient(disk_site)
    _, body = race_body(client, {})
    handles = client.start(body)
    data, progress = client.poll(body, handles, timeout=60)
    check_progress_and_result(data, progress, epochs=3)


def test_hostile_form_values_come_back_as_a_message(disk_site):
    client = DashClient(disk_site)
    _, body = race_body(client, {"lab-epochs": 10_000, "lab-hidden": "99999999,1"})
    handles = client.start(body)
    data, progress = client.poll(body, handles, timeout=30)
    text = " ".join(str(p.get("lab-status.children")) for p in progress)
    assert "Fix these settings first" in text and "epochs: 10000 is outside [1, 200]" in text
    recon = data["response"]["lab-recon-graph"]["figure"]
    assert not recon["data"] and "No results" in recon["layout"]["annotations"][0]["text"]


def test_the_worker_refuses_to_start_without_redis_url():
    env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}
    env["PYTHONPATH"] = str(ROOT)
    r = subprocess.run([sys.executable, "-c", "import app.worker"], cwd=ROOT, env=env, capture_output=True,
                       text=True, timeout=60)  # fmt: skip
    assert r.returncode != 0
    assert "REDIS_URL is not set" in r.stderr


# --------------------------------------------------------------------------- faults: a job killed mid-run

LONG = {"lab-epochs": 200, "lab-batch": 1, "lab-samples": 2000}


class Race:
    """One student's race, polled step by step like the renderer does."""

    def __init__(self, client: DashClient, overrides: Mapping[str, Any], browser: str) -> None:
        self.client = client
        self.browser = browser
        _, self.body = race_body(client, overrides, browser)
        self.run = run_of(self.body)
        self.handles = client.start(self.body)
        self.statuses: list[str] = []
        self.times: list[float] = []
        self.result: dict | None = None

    @property
    def token(self) -> str:
        return self.run["token"]

    def step(self) -> dict | None:
        """One poll; the final answer ({"response": …} or {"ended": True}) once there is one."""
        if self.result is not None:
            return self.result
        url = self.client.url(cacheKey=self.handles["cacheKey"], job=self.handles["job"])
        status, data = _post(url, self.body)
        if status == 204:
            self.result = {"ended": True}
            return self.result
        assert status == 200, (status, data)
        if data.get("progress"):
            self.statuses.append(str(data["progress"].get("lab-status.children")))
            self.times.append(time.monotonic())
        if "response" in data:
            self.result = data
        return self.result

    def saw(self, text: str) -> bool:
        return any(text in s for s in self.statuses)


def poll_until(races: list[Race], done: Callable[[], bool], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not done():
        assert time.monotonic() < deadline, [r.statuses[-3:] for r in races]
        for r in races:
            r.step()
        time.sleep(0.2)


def job_pid(kv: Any, token: str) -> int:
    from app.lab.queue import RaceQueue

    raw = kv.get(RaceQueue.beat_key(token))
    assert raw, "the job keeps no heartbeat"
    return int(json.loads(raw)["pid"])


def job_parent(base: str) -> int:
    """The process a diskcache site's jobs are children of: its manager's job launcher, a child of this process."""
    import psutil

    launcher = APPS[base]._background_manager.launcher_pid
    assert launcher is not None and psutil.Process(launcher).ppid() == os.getpid(), launcher
    return launcher


def sigkill_child(pid: int, parent: int) -> None:
    """SIGKILL a job process — only if it is the child of the process it must belong to."""
    import psutil

    assert pid not in (os.getpid(), parent) and psutil.Process(pid).ppid() == parent, (pid, parent)
    os.kill(pid, signal.SIGKILL)
    # the kernel ends it a moment later (longer on a loaded machine): wait for that, as the page's
    # watch would (its next tick is up to 2 s away), so its check never runs before the death
    deadline = time.monotonic() + 5.0
    while time.monotonic() < deadline:
        try:
            if psutil.Process(pid).status() == psutil.STATUS_ZOMBIE:
                break
        except psutil.NoSuchProcess:
            break
        time.sleep(0.01)
    else:
        raise AssertionError(f"process {pid} still runs 5 s after SIGKILL")


def test_diskcache_a_killed_job_is_reported_and_the_other_students_race_finishes(disk_site):
    from app.lab import limits
    from app.lab import queue as lab_queue

    client = DashClient(disk_site)
    kv = store_of(disk_site)
    a = Race(client, LONG, "browser-a-" + os.urandom(6).hex())
    b = Race(client, {"lab-epochs": 60, "lab-batch": 1}, "browser-b-" + os.urandom(6).hex())  # a few seconds
    poll_until([a, b], lambda: a.saw("Epoch") and b.saw("Epoch"), timeout=30)
    sigkill_child(job_pid(kv, a.token), job_parent(disk_site))  # the web process's launcher forks each job
    killed = time.monotonic()
    # Dash finds A's process gone and stops polling it without a result…
    poll_until([a, b], lambda: a.result is not None, timeout=15)
    assert a.result == {"ended": True}
    # …and the page, its running outputs reset, asks how the race ended
    status, out = job_ended(client, a.run)
    shown = time.monotonic() - killed
    assert status == 200, out
    resp = out["response"]
    assert resp["lab-status"]["children"] == lab_queue.LOST_TEXT
    assert resp["lab-start"]["disabled"] is False and resp["lab-cancel"]["disabled"] is True
    assert "lab-status-failed" in resp["lab-status"]["className"]
    print(f"\nkilled diskcache job reported after {shown:.2f} s")
    assert shown < 5
    # the other student's race was not disturbed
    poll_until([b], lambda: b.result is not None, timeout=40)
    assert "response" in b.result and b.saw("Finished 60 epochs")
    assert b.result["response"]["lab-recon-graph"]["figure"]["data"][0]["type"] == "heatmap"
    # nothing is left claimed: A's browser may start again at once
    queue = lab_queue.RaceQueue(kv, limits.DISK_SLOTS)
    assert queue.live() == []
    again = press_start(client, a.browser)
    assert again["lab-run"]["data"]["browser"] == a.browser
    queue.leave(again["lab-run"]["data"]["token"])


@pytest.fixture(scope="module")
def prefork_site(redis_url, tmp_path_factory) -> Iterator[tuple[str, subprocess.Popen]]:
    """A prefork worker (two processes) and the lab app on their own Redis database, one training slot."""
    from app.hosting.jobs import celery_app

    url = redis_url.rsplit("/", 1)[0] + "/1"
    celery_app(url).backend.client.flushdb()
    env = {"DESCENT_LAB_TRAINING_SLOTS": "1"}
    proc = start_worker(url, tmp_path_factory.mktemp("prefork") / "worker.log",
                        ["--pool", "prefork", "--concurrency", "2"], "lab-prefork", env)  # fmt: skip
    try:
        base, shutdown = serve_app(url, env)
        try:
            yield base, proc
        finally:
            shutdown()
    finally:
        stop(proc)


def test_celery_one_slot_queues_the_second_race_and_a_killed_worker_process_frees_it(prefork_site):
    from app.lab import queue as lab_queue

    base, worker = prefork_site
    client = DashClient(base)
    kv = store_of(base)
    a = Race(client, LONG, "browser-a-" + os.urandom(6).hex())
    poll_until([a], lambda: a.saw("Epoch"), timeout=40)
    # one slot: the second student's race waits, and is told its place
    b = Race(client, {}, "browser-b-" + os.urandom(6).hex())
    poll_until([a, b], lambda: b.saw("Waiting for a free training slot: you are number 1 of 1"), timeout=20)
    assert not b.saw("Epoch")
    # kill the pool process training A (the OOM killer's way)
    sigkill_child(job_pid(kv, a.token), worker.pid)
    killed = time.monotonic()
    # the page's watch sees it at its next tick…
    watch = client.callback("lab-watch.disabled")
    body = client.body(watch, {}, ["lab-watch.n_intervals"], inputs={"lab-watch.n_intervals": 1, "lab-run.data": a.run})
    status, out = client.call(body)
    assert status == 200 and out["response"]["lab-status"]["children"] == lab_queue.LOST_TEXT, out
    watch_s = time.monotonic() - killed
    # …Dash stops polling the failed task, and the end-of-run check says the same
    poll_until([a, b], lambda: a.result is not None, timeout=20)
    assert a.result == {"ended": True}
    status, out = job_ended(client, a.run)
    assert status == 200 and out["response"]["lab-status"]["children"] == lab_queue.LOST_TEXT
    ended_s = time.monotonic() - killed
    # the waiting race gets the freed slot and finishes normally
    poll_until([b], lambda: b.result is not None, timeout=40)
    assert "response" in b.result and b.saw("Finished 3 epochs")
    started_s = next(t for t, text in zip(b.times, b.statuses) if not text.startswith("Waiting")) - killed
    print(f"\nCelery: kill → watch reports {watch_s:.2f} s, polling ends {ended_s:.2f} s, "
          f"the waiting race trains {started_s:.2f} s")  # fmt: skip
    assert lab_queue.RaceQueue(kv, 1).live() == []
    # the killed task is failed, not requeued: the worker is still there and idle
    assert worker.poll() is None


def test_celery_a_whole_worker_killed_is_reported_by_the_page_and_a_restarted_one_serves_again(redis_url,
                                                                                               tmp_path_factory):
    """Nothing in Celery reports a task whose whole worker died: the page's watch must (and stop Dash's polling)."""
    from app.hosting.jobs import celery_app
    from app.lab import limits
    from app.lab import queue as lab_queue

    url = redis_url.rsplit("/", 1)[0] + "/2"
    celery_app(url).backend.client.flushdb()
    logs = tmp_path_factory.mktemp("solo")
    worker = start_worker(url, logs / "first.log", ["--pool", "solo"], "lab-solo")
    base, shutdown = serve_app(url)
    try:
        client = DashClient(base)
        kv = store_of(base)
        a = Race(client, LONG, "browser-a-" + os.urandom(6).hex())
        poll_until([a], lambda: a.saw("Epoch"), timeout=40)
        beat = json.loads(kv.get(lab_queue.RaceQueue.beat_key(a.token)))
        assert beat["pid"] == worker.pid and beat["task"], beat  # the solo worker runs the job itself
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait(timeout=10)
        killed = time.monotonic()
        # Celery still says the task started, so Dash would poll forever…
        for _ in range(3):
            assert a.step() is None
        # …until the page's watch, at its next tick, finds the job's process gone
        watch = client.callback("lab-watch.disabled")
        body = client.body(watch, {}, ["lab-watch.n_intervals"],
                           inputs={"lab-watch.n_intervals": 1, "lab-run.data": a.run})  # fmt: skip
        status, out = client.call(body)
        assert status == 200 and out["response"]["lab-status"]["children"] == lab_queue.LOST_TEXT, out
        assert out["response"]["lab-start"]["disabled"] is False
        # it marked the task failed: Dash stops polling it
        poll_until([a], lambda: a.result is not None, timeout=10)
        assert a.result == {"ended": True}
        print(f"\nCelery worker killed: polling ended {time.monotonic() - killed:.2f} s later")
        assert lab_queue.RaceQueue(kv, limits.CELERY_SLOTS).live() == []
        # a restarted worker serves the same student again; the store holds nothing stale
        worker = start_worker(url, logs / "second.log", ["--pool", "solo"], "lab-solo")
        b = Race(client, {}, a.browser)
        poll_until([b], lambda: b.result is not None, timeout=40)
        assert "response" in b.result and b.saw("Finished 3 epochs")
    finally:
        shutdown()
        stop(worker)


def test_diskcache_after_a_restart_pages_load_and_dead_races_block_nobody(tmp_path):
    """The server and its job processes die mid-race; a new server on the same job store serves everyone at once."""
    from app.lab import limits
    from app.lab import queue as lab_queue

    env = {"DESCENT_LAB_JOBS_DIR": str(tmp_path / "jobs")}
    base, shutdown = serve_app(None, env)
    browser = "browser-r-" + os.urandom(6).hex()
    try:
        client = DashClient(base)
        kv = store_of(base)
        a = Race(client, LONG, browser)
        poll_until([a], lambda: a.saw("Epoch"), timeout=30)
        pid, parent = job_pid(kv, a.token), job_parent(base)
    finally:
        shutdown()
    sigkill_child(pid, parent)  # as if it had died with its server
    assert len(lab_queue.RaceQueue(kv, limits.DISK_SLOTS)._entries()) == 1  # its claim is still in the store
    base, shutdown = serve_app(None, env)
    try:
        client = DashClient(base)  # the page loads: layout and callbacks
        assert client.value("lab-start", "disabled") in (None, False)
        # the same browser starts a race straight away: the dead one does not count against it
        b = Race(client, {}, browser)
        poll_until([b], lambda: b.result is not None, timeout=40)
        assert "response" in b.result and b.saw("Finished 3 epochs")
        assert lab_queue.RaceQueue(store_of(base), limits.DISK_SLOTS).live() == []
    finally:
        shutdown()
