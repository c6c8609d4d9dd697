"""Hosting additions: /health, security headers, generic errors; the export bar's callback body."""

import base64
import io
import json

from dash import no_update
from flask import Flask

from app.explorer.export_bar import make_download
from app.export.formats import ExportOptions
from app.explorer.state import to_query
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


def test_export_bar_sends_the_view_on_screen_not_the_default():
    cfg = get_preset("quadratic").config  # not the default (Beale) view
    store = {"cfg": cfg.to_dict(), "query": to_query(cfg)}  # the store as the Explorer keeps it
    payload, status = make_download("json", store)
    doc = json.loads(base64.b64decode(payload["content"]))
    assert payload["filename"] == "descent-lab-quadratic.json" and "kB" in status
    assert doc["explorer_query"] == to_query(cfg) and doc["surface"]["name"] == "quadratic"
    assert [r["optimizer"] for r in doc["runs"]] == [e.name for e in cfg.optimizers]
    _, status = make_download("bmp", store)
    assert status == "Choose a format."
    for hostile in (None, {}, {"cfg": "x"}, cfg.to_dict(), [1, 2]):
        payload, status = make_download("csv", hostile)
        assert payload is no_update and "still being drawn" in status
    payload, _ = make_download("csv", {"cfg": {"surface": "no-such-surface", "steps": "lots"}})
    assert payload["filename"].endswith(".csv")  # a damaged configuration is repaired, not refused


def test_export_bar_sizes_and_panels_are_the_pickers_or_the_defaults():
    from app.explorer.export_bar import export_options

    assert export_options("slide", "map,loss,grad") == ExportOptions(size="slide", panels="map,loss,grad")
    for size, panels in (("poster", "map;rm -rf"), (3, ["map"]), ("", "auto"), (None, None)):
        opts = export_options(size, panels)
        assert opts.size is None and opts.panels in (None, "auto")
    cfg = get_preset("quadratic").config
    payload, _ = make_download("png", {"cfg": cfg.to_dict()}, "column", "map,loss")
    from PIL import Image

    with Image.open(io.BytesIO(base64.b64decode(payload["content"]))) as im:
        assert im.size[0] == 1050  # a journal column at 300 dpi
