"""The compact plotly.js bundle: pinned to the plotly.js the Python package speaks, loaded as a
module on every page, never auto-loaded as a classic script, and switchable off."""

from __future__ import annotations

import json
import re
from pathlib import Path

from app import ASSETS_DIR, create_app
from app.shell import plotly_bundle

ROOT = Path(__file__).resolve().parents[3]


def _index(monkeypatch, choice: str | None = None, **kwargs) -> str:
    if choice is None:
        monkeypatch.delenv(plotly_bundle.CHOICE_ENV, raising=False)
    else:
        monkeypatch.setenv(plotly_bundle.CHOICE_ENV, choice)
    dash_app = create_app(warm=False, **kwargs)
    return dash_app.server.test_client().get(kwargs.get("requests_pathname_prefix", "/")).data.decode()


def test_the_bundle_pins_the_plotly_js_that_plotly_py_targets():
    from plotly.offline import get_plotlyjs_version

    lock = json.loads((ROOT / "web" / "package-lock.json").read_text())
    assert lock["packages"]["node_modules/plotly.js"]["version"] == get_plotlyjs_version()
    assert json.loads((ROOT / "web" / "package.json").read_text())["devDependencies"]["plotly.js"] == get_plotlyjs_version()


def test_the_built_bundle_is_present():
    entry = plotly_bundle.entry_file(ASSETS_DIR)
    assert entry is not None, "assets/vendor/ is not built: run 'make' (it needs npm), see scripts/build-web.sh"
    chunks = list(entry.parent.glob("plotly-3d-*.mjs"))
    assert len(chunks) == 1 and chunks[0].stat().st_size > 100_000  # the 3-D traces, split off
    assert f'import("./{chunks[0].name}")' in entry.read_text()  # and fetched only when a figure needs them


def test_pages_load_the_bundle_as_a_module_before_dash_starts(monkeypatch):
    html = _index(monkeypatch)
    modules = re.findall(r'<script src="([^"]+)" type="module"></script>', html)
    assert len(modules) == 1 and modules[0].startswith("/assets/vendor/plotly-lite.mjs?m=")
    # fetched from the page's script list, ahead of the renderer, which starts once the bundle has run
    assert html.index(modules[0]) < html.index("dash_renderer") < html.index("var renderer = new DashRenderer(")
    renderer = html[html.index('<script id="_dash-renderer"') :].split("</script>")[0]
    assert "bundle.addEventListener('load', start)" in renderer and "addEventListener('error', start)" in renderer
    assert renderer.index("plotly-lite.mjs") < renderer.index("new DashRenderer(")
    # the chunks are ES modules: never loaded as classic scripts by Dash's asset scan (the one
    # classic script there is the regenerator runtime, loaded in Dash's polyfill's place)
    assert not re.search(r'<script src="[^"]*vendor/(?!plotly-lite\.mjs|regenerator-runtime\.js)', html)
    assert "explorer.js" in html


def test_any_dash_app_on_these_assets_loads_the_bundle_as_modules_only():
    """Dash loads every .js file of its assets folder as a classic script (an ES module would fail
    there); the bundle's files are .mjs, which Dash loads as modules.  (The regenerator runtime is
    a classic script: loading it once more only sets the same global.)"""
    from dash import Dash, html

    dash_app = Dash("other", assets_folder=str(ASSETS_DIR))
    dash_app.layout = html.Div("x")
    page = dash_app.server.test_client().get("/").data.decode()
    tags = re.findall(r'<script src="[^"]*vendor/(?!regenerator-runtime\.js)[^"]*"[^>]*>', page)
    assert "explorer.js" in page and tags and all('type="module"' in tag for tag in tags)


def test_the_bundle_follows_a_path_prefix(monkeypatch):
    html = _index(monkeypatch, requests_pathname_prefix="/class/", routes_pathname_prefix="/class/")
    assert re.search(r'<script src="/class/assets/vendor/plotly-lite\.mjs\?m=\d+" type="module">', html)


def test_full_plotly_on_request_or_when_not_built(monkeypatch, tmp_path):
    html = _index(monkeypatch, choice="full")
    assert 'type="module"' not in html and "vendor/plotly" not in html  # (the runtime stays: page_shell)
    assert "addEventListener" not in html.split('id="_dash-renderer"')[1].split("</script>")[0]  # starts at once
    monkeypatch.delenv(plotly_bundle.CHOICE_ENV, raising=False)
    assert plotly_bundle.entry_file(tmp_path) is None  # an assets folder without vendor/

