"""/embed pages in a frame of another site: shown when that origin is allowed, refused when it is not."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from app.hosting.headers import FRAME_ANCESTORS_ENV

pytestmark = pytest.mark.browser


@pytest.fixture
def other_site(live_server):
    """A page on another origin (another port) that frames the Explorer's /embed view."""
    target = live_server + "embed?surface=quadratic&steps=30&opt=sgd,lr=0.5"

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            body = f'<!doctype html><html lang="en"><title>slides</title><iframe id="f" src="{target}" ' \
                   f'width="900" height="700" title="Descent Lab"></iframe></html>'.encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)


def _framed(page):
    return next(f for f in page.frames if f != page.main_frame)


def test_an_allowed_origin_shows_the_embedded_view_without_the_site_chrome(web, other_site, monkeypatch):
    monkeypatch.setenv(FRAME_ANCESTORS_ENV, other_site)
    page = web.page
    page.goto(other_site + "/")
    frame = page.frame_locator("#f")
    frame.locator("#map .nsewdrag").wait_for()
    inner = _framed(page)
    inner.wait_for_function("window.DescentLab && DescentLab.state().applied >= 1")
    assert inner.evaluate("document.documentElement.classList.contains('embedded')")
    assert not frame.locator("nav[aria-label='Pages']").is_visible()
    assert inner.evaluate("location.pathname") == "/embed"  # the view's own address keeps the prefix


def test_an_origin_that_is_not_allowed_is_refused(web, other_site, monkeypatch):
    monkeypatch.delenv(FRAME_ANCESTORS_ENV, raising=False)
    page = web.page
    with page.expect_console_message(lambda m: "frame-ancestors" in m.text, timeout=20_000) as refused:
        page.goto(other_site + "/")
    assert "has been blocked" in refused.value.text
    inner = _framed(page)
    assert inner.url.startswith("chrome-error://") or inner.evaluate("document.getElementById('map')") is None
