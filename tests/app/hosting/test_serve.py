"""``descent-lab serve``: options, gunicorn settings, and a real multi-worker server."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from app.cli import main
from app.explorer.presets import get_preset
from app.hosting.serve import ServeOptions
from app.explorer.state import to_query

ROOT = Path(__file__).resolve().parents[3]


def test_options_are_checked():
    assert ServeOptions(host="0.0.0.0", port=8050, workers=3).workers == 3
    for bad in ({"port": 0}, {"port": 70000}, {"workers": 0}, {"workers": 1000}, {"threads": 0},
                {"timeout": 1}, {"host": ""}, {"host": "a b"}):  # fmt: skip
        with pytest.raises(ValueError):
            ServeOptions(**bad)


def test_gunicorn_loads_the_app_before_forking_threaded_workers():
    s = ServeOptions(host="0.0.0.0", port=9000, workers=3, threads=6).gunicorn_settings()
    assert s["bind"] == "0.0.0.0:9000" and s["workers"] == 3 and s["threads"] == 6
    assert s["preload_app"] is True and s["worker_class"] == "gthread"
    assert ServeOptions(host="::1").gunicorn_settings()["bind"] == "[::1]:8050"


def test_bad_serve_options_exit_2(capsys):
    assert main(["serve", "--workers", "0"]) == 2
    assert "--workers must be in 1..32" in capsys.readouterr().err


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str, headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    req = urllib.request.Request(url, headers=headers or {})
    with urllib.request.urlopen(req, timeout=30) as r:
        return r.status, r.read()


def _workers(pid: int) -> list[int]:
    """The gunicorn master's worker processes (its other child is the background-job launcher)."""
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True, text=True)
    workers = []
    for child in (int(p) for p in out.stdout.split()):
        try:
            cmdline = Path(f"/proc/{child}/cmdline").read_bytes()
        except OSError:
            continue  # gone meanwhile
        if b"app.hosting.launcher" not in cmdline:
            workers.append(child)
    return workers


def test_a_class_server_runs_several_workers_and_stops_cleanly(tmp_path):
    port = _free_port()
    env = dict(os.environ, DESCENT_LAB_JOBS_DIR=str(tmp_path / "jobs"), DESCENT_LAB_RESULTS_DIR=str(tmp_path / "res"))
    proc = subprocess.Popen([sys.executable, "-m", "app.cli", "serve", "--port", str(port), "--workers", "2"],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                status, body = _get(base + "/health")
                break
            except OSError:
                assert proc.poll() is None, proc.stdout.read().decode()
                assert time.monotonic() < deadline, "the server did not answer within 120 s"
                time.sleep(0.2)
        assert status == 200 and json.loads(body)["status"] == "ok"
        # two workers forked from the master (gunicorn forks them one after the other: the first may
        # answer before the second exists)
        deadline = time.monotonic() + 10
        while len(_workers(proc.pid)) < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert len(_workers(proc.pid)) == 2
        # a lesson's link: the page comes with its trajectories, from whichever worker answers
        link = base + "/" + to_query(get_preset("long_valley").config)
        for _ in range(4):
            status, body = _get(base + "/_dash-layout", {"Referer": link})
            assert status == 200 and b'"payload-first-store"' in body and b'"slots"' in body
            assert b"long_valley" in body and b"could not be used" not in body
        # the shared result cache holds the race and its map, on disk for every worker
        assert any((tmp_path / "res").iterdir())
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            code = proc.wait(timeout=40)
        except subprocess.TimeoutExpired:
            proc.kill()
            raise
    log = proc.stdout.read().decode()
    assert code == 0, log
    assert "Booting worker" in log and "Traceback" not in log
