"""Fixtures for the Explorer's browser tests: the app on a free localhost port, Debian's Chromium.

The app runs in this process on a background thread (werkzeug), so the Numba
kernels are warmed once; Playwright drives /usr/bin/chromium headless (its own
browser download is not used).
"""

from __future__ import annotations

import shutil
import threading
from collections.abc import Iterator

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic"]  # fmt: skip
VIEWPORT = {"width": 1280, "height": 800}


@pytest.fixture(scope="session")
def live_server() -> Iterator[str]:
    """Base URL of the Explorer served from a thread of this process."""
    import logging

    from werkzeug.serving import make_server

    from app import create_app

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per request in the test output
    dash_app = create_app()
    server = make_server("127.0.0.1", 0, dash_app.server, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="explorer-test-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/"
    finally:
        server.shutdown()
        thread.join(timeout=5)


@pytest.fixture(scope="session")
def browser():
    if not shutil.which(CHROMIUM):
        pytest.fail(f"{CHROMIUM} is not installed: the browser tests need it (run 'make system-deps' as root)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()


class Watched:
    """A page plus what went wrong on it: server errors, uncaught exceptions, console errors."""

    def __init__(self, page):
        self.page = page
        self.server_errors: list[str] = []
        self.page_errors: list[str] = []
        self.console_errors: list[str] = []
        page.on("response", lambda r: self.server_errors.append(f"{r.status} {r.url}") if r.status >= 500 else None)
        page.on("pageerror", lambda e: self.page_errors.append(str(e)))
        page.on("console", lambda m: self.console_errors.append(m.text) if m.type == "error" else None)

    def goto(self, url: str, applied: int = 1) -> None:
        self.page.goto(url)
        self.wait_applied(applied)

    def wait_applied(self, more_than: int = 0, timeout: float = 20_000) -> None:
        self.page.wait_for_function(
            f"window.DescentLab && DescentLab.state().applied >= {more_than}", timeout=timeout
        )

    def applied(self) -> int:
        return self.page.evaluate("DescentLab.state().applied")

    def state(self) -> dict:
        return self.page.evaluate("DescentLab.state()")

    def drawn(self) -> dict:
        return self.page.evaluate("DescentLab.drawn()")

    def assert_clean(self) -> None:
        assert not self.server_errors, self.server_errors
        assert not self.page_errors, self.page_errors


@pytest.fixture(scope="session")
def context(browser):
    """One browser context for the session: its HTTP and code caches make every later page load faster."""
    ctx = browser.new_context(viewport=VIEWPORT)
    yield ctx
    ctx.close()


@pytest.fixture
def web(context, live_server) -> Iterator[Watched]:
    page = context.new_page()
    page.set_default_timeout(20_000)
    watched = Watched(page)
    watched.base = live_server  # type: ignore[attr-defined]
    yield watched
    page.close()


@pytest.fixture
def new_context(browser):
    """Makes browser contexts of their own (their own localStorage), with the options a test asks for
    (size, touch, colour scheme …); all are closed after the test."""
    made = []

    def make(**options):
        ctx = browser.new_context(**options)
        made.append(ctx)
        return ctx

    yield make
    for ctx in made:
        ctx.close()


#: the Explorer has drawn its first race
EXPLORER_READY = "window.DescentLab && DescentLab.state().applied >= 1"


def open_explorer(ctx, url: str):
    """A new page of ``ctx`` on the Explorer at ``url``, once its race and race board are drawn, and the list
    its uncaught exceptions go to."""
    page = ctx.new_page()
    page.set_default_timeout(20_000)
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(url)
    page.wait_for_function(EXPLORER_READY)
    page.wait_for_function("document.querySelectorAll('#legend .rb-row').length > 0")
    return page, errors
