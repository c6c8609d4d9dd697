"""Hosting additions: /health, security headers, generic errors; the export bar's callback body."""

import base64
import json

from flask import Flask

from app.explorer.export_bar import make_download
from app.hosting.headers import SECURITY_HEADERS, install
from app.explorer.presets import get_preset


def _server():
    server = Flask("t")

    @server.route("/boom")
    def boom():
        raise RuntimeError("secret path /home/someone/app.py line 3")

    install(server)
    install(server)  # idempotent
    return server.test_client()


def test_health_and_headers():
    client = _server()
    r = client.get("/health")
    assert r.status_code == 200 and r.get_json()["status"] == "ok"
    for key, value in SECURITY_HEADERS.items():
        assert r.headers[key] == value


def test_errors_never_leak_details():
    client = _server()
    r = client.get("/boom")
    assert r.status_code == 500
    assert r.get_json() == {"error": "internal error"}
    assert b"secret" not in r.data and b"Traceback" not in r.data
    assert client.get("/nope").status_code == 404


def test_export_bar_sends_the_configured_view():
    cfg = get_preset("beale").config
    payload, status = make_download("json", cfg.to_dict())
    doc = json.loads(base64.b64decode(payload["content"]))
    assert payload["filename"] == "descent-lab-beale.json" and "kB" in status
    assert len(doc["runs"]) == len(cfg.optimizers)
    _, status = make_download("bmp", cfg.to_dict())
    assert status == "Choose a format."
    payload, status = make_download("csv", {"surface": "no-such-surface", "steps": "lots"})
    assert payload["filename"].endswith(".csv")  # a hostile store falls back to a valid view
