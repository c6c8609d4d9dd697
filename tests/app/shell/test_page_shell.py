"""The page shell: Dash's index page with the regenerator runtime in place of @babel/polyfill."""

from __future__ import annotations

import re

from dash import Dash, html

from app import ASSETS_DIR, create_app
from app.shell import page_shell


def _scripts(page: str) -> list[str]:
    return re.findall(r'<script src="([^"]+)"', page)


def _index(**kwargs) -> str:
    dash_app = create_app(warm=False, **kwargs)
    return dash_app.server.test_client().get(kwargs.get("requests_pathname_prefix", "/")).data.decode()


def test_the_built_runtime_is_present_and_sets_the_global_dash_calls():
    path = page_shell.runtime_file(ASSETS_DIR)
    assert path is not None, "assets/vendor/ is not built: run 'make' (it needs npm), see scripts/build-web.sh"
    text = path.read_text()
    assert "regeneratorRuntime=runtime" in text.replace(" ", "") and "import " not in text[:200]  # a classic script


def test_pages_load_the_runtime_in_the_polyfills_place_before_react():
    scripts = _scripts(_index().split("</head>", 1)[1])  # the body's (the head has the theme script alone)
    assert not any("polyfill@" in s for s in scripts)
    runtime = [i for i, s in enumerate(scripts) if s.startswith("/assets/vendor/regenerator-runtime.js?m=")]
    react = [i for i, s in enumerate(scripts) if "/deps/react@" in s]
    renderer = [i for i, s in enumerate(scripts) if "dash_renderer" in s]
    assert len(runtime) == 1 and runtime[0] == 0 and runtime[0] < react[0] < renderer[0]


def test_the_runtime_follows_a_path_prefix():
    scripts = _scripts(_index(requests_pathname_prefix="/class/", routes_pathname_prefix="/class/"))
    assert any(re.fullmatch(r"/class/assets/vendor/regenerator-runtime\.js\?m=\d+", s) for s in scripts)


def test_without_a_built_runtime_the_page_keeps_dashs_polyfill(tmp_path):
    assert page_shell.runtime_file(tmp_path) is None
    scripts = _scripts(_index(assets_folder=str(tmp_path)))
    assert any("/deps/polyfill@7" in s for s in scripts) and not any("regenerator-runtime" in s for s in scripts)


def test_swap_polyfill_replaces_exactly_dashs_tag_and_nothing_else():
    plain = Dash("plain")
    plain.layout = html.Div("x")
    page = plain.server.test_client().get("/").data.decode()
    before = _scripts(page)
    swapped = page_shell.swap_polyfill(page, "/r.js")
    after = _scripts(swapped)
    i = next(k for k, s in enumerate(before) if "/deps/polyfill@7" in s)
    assert after[i] == "/r.js" and after[:i] + after[i + 1 :] == before[:i] + before[i + 1 :]
    assert page_shell.swap_polyfill(swapped, "/other.js") == swapped  # no polyfill left: unchanged


def test_every_page_says_its_language():
    client = create_app(warm=False).server.test_client()
    for path in ("/", "/maps", "/lab"):
        assert client.get(path).data.decode().count('<html lang="en">') == 1, path


def test_with_lang_adds_the_attribute_once_and_keeps_one_already_there():
    assert page_shell.with_lang("<!DOCTYPE html>\n<html>\n<head>") == '<!DOCTYPE html>\n<html lang="en">\n<head>'
    assert page_shell.with_lang('<html lang="fr" class="x">') == '<html lang="fr" class="x">'
    assert page_shell.with_lang("<html class='x'><p><html>") == "<html lang=\"en\" class='x'><p><html>"
