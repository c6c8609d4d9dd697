"""Framing: every page refuses other sites' frames except the /embed pages, for the origins configured."""

import pytest
from flask import Flask

from app.hosting.headers import FRAME_ANCESTORS_ENV, framing_headers, install, parse_origins
from app.shell.router import Router


def _client():
    server = Flask("t")

    @server.route("/")
    @server.route("/<path:rest>")
    def page(rest: str = "") -> str:
        return "page"

    install(server)
    return server.test_client()


def test_main_pages_may_be_framed_by_this_site_only(monkeypatch):
    monkeypatch.setenv(FRAME_ANCESTORS_ENV, "https://slides.example.org")
    c = _client()
    for path in ("/", "/maps", "/lesson/gd_quadratic", "/embedded", "/embedx/maps"):
        r = c.get(path)
        assert r.headers["X-Frame-Options"] == "SAMEORIGIN", path
        assert r.headers["Content-Security-Policy"] == "frame-ancestors 'self'", path


def test_embed_pages_name_the_configured_origins_and_no_x_frame_options(monkeypatch):
    monkeypatch.setenv(FRAME_ANCESTORS_ENV, "https://slides.example.org, http://127.0.0.1:9000")
    c = _client()
    for path in ("/embed", "/embed/maps", "/embed/lesson/gd_quadratic"):
        r = c.get(path)
        assert "X-Frame-Options" not in r.headers
        assert r.headers["Content-Security-Policy"] == "frame-ancestors 'self' https://slides.example.org http://127.0.0.1:9000"
    monkeypatch.delenv(FRAME_ANCESTORS_ENV)
    assert c.get("/embed").headers["Content-Security-Policy"] == "frame-ancestors 'self'"


@pytest.mark.parametrize("bad", ["*", "https://*.example.org", "slides.example.org", "https://a.org/path",
                                 "javascript:alert(1)", "https://a.org'; script-src *", "ftp://a.org"])
def test_anything_but_an_origin_is_refused(bad, monkeypatch):
    with pytest.raises(ValueError, match="not an origin"):
        parse_origins(bad)
    monkeypatch.setenv(FRAME_ANCESTORS_ENV, f"https://ok.org {bad}")
    assert framing_headers("/embed")["Content-Security-Policy"] == "frame-ancestors 'self'"  # none, not a partial list


def test_the_router_serves_every_page_under_embed():
    r = Router({"/maps": "tests.app.hosting.test_embed:_maps"}, "tests.app.hosting.test_embed:_default",
               {"/lesson/": "tests.app.hosting.test_embed:_lesson"})
    assert r.layout_for("http://h/embed/maps?a=1", "h") == ("maps", {"a": "1"})
    assert r.layout_for("http://h/embed?surface=beale", "h") == ("default", "surface=beale")
    assert r.layout_for("http://h/embed/lesson/x?step=2", "h") == ("lesson", {"step": "2"}, "x")
    assert r.page_path("/embedded") == "/embedded" and r.page_path("/embed/") == "/"


def test_cli_refuses_a_bad_embed_origin(capsys):
    from app.cli import main

    assert main(["run", "--embed-origin", "*", "--port", "1"]) == 2
    assert "not an origin" in capsys.readouterr().err


def _maps(query):
    return ("maps", query)


def _default(query):
    return ("default", query)


def _lesson(query, rest):
    return ("lesson", query, rest)
