"""The export browser: one headless Chromium per process, driven by kaleido, that draws PNG/SVG/PDF.

kaleido's own sync server reloads its page after every image and only then
hands the image back.  The reload re-reads plotly.js, which costs nearly as much
as drawing the figure, so a large share of every export was spent waiting for
a page nobody was using yet.  Here the image is handed back first.  Images that
follow each other closely are drawn on the same page; once the exporter has
been idle for a moment (or after a run of images, or a failed one) the page is
reloaded in the background, so an export after a pause still starts on a fresh
page without waiting for it.

The page loads MathJax when it is installed (:mod:`app.export.mathjax`), so a formula
title is typeset.  Every call is its own task on the browser's event loop, so callers on several
threads (a web server's) each get their own image back.  A browser that died or
stopped answering is replaced on the next call.
"""

from __future__ import annotations

import asyncio
import atexit
import concurrent.futures
import inspect
import os
import sys
import threading
from typing import Any

START_TIMEOUT = 60.0  # a cold Chromium takes a few seconds
RENDER_TIMEOUT = 60.0
CLOSE_TIMEOUT = 5.0
IDLE_RELOAD = 2.0  # seconds without an image after which the export page is reloaded
MAX_IMAGES_PER_PAGE = 20  # images drawn on one page load at most
READY_TRIES = 3  # loads of a tab whose export script is missing before it is used anyway


def _kaleido_class() -> tuple[type, bool]:
    """kaleido's browser class with the page reload moved off the caller's path, and whether that worked.

    kaleido puts a used tab back (after reloading it) in ``_return_kaleido_tab``;
    if a future kaleido has no such coroutine the stock class is used as it is.
    """
    import kaleido

    base = kaleido.Kaleido
    if not inspect.iscoroutinefunction(getattr(base, "_return_kaleido_tab", None)):
        return base, False

    class KeepWarm(base):  # type: ignore[misc, valid-type]
        """Reuses the page for images in quick succession; reloads it in the background when idle.

        A used tab goes straight back to the queue.  Its page is reloaded (by
        kaleido's own method, which then queues the tab again) once no image has
        come for IDLE_RELOAD seconds, after MAX_IMAGES_PER_PAGE images in a row,
        and at once after an image that failed.  Meant for one tab (the default).
        """

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.reloads: set[asyncio.Task] = set()
            self.reload_failed = False
            self.images_on_page = 0  # since the page was last (re)loaded
            self._idle: asyncio.TimerHandle | None = None

        async def _get_kaleido_tab(self) -> Any:
            # kaleido takes the page's JavaScript context from the first context event after a
            # (re)load; under load that can be a context the export script has not run in (the
            # render then fails with "kaleido_scopes is not defined").  A tab whose context lacks
            # the script is loaded again (at most READY_TRIES times) before it draws.
            tab = await super()._get_kaleido_tab()
            for _ in range(READY_TRIES):
                if await _scripts_ready(tab):
                    break
                await tab.navigate(self._index)
            return tab

        async def _return_kaleido_tab(self, tab: Any) -> None:
            # kaleido calls this from a ``finally``: an exception in flight is the image's own
            failed = sys.exc_info()[0] is not None
            self.images_on_page += 1
            if failed or self.images_on_page >= MAX_IMAGES_PER_PAGE:
                self.reload(tab)
                return
            self.tabs_ready.put_nowait(tab)
            self.stop_clock()
            self._idle = asyncio.get_running_loop().call_later(IDLE_RELOAD, self.reload_if_idle)

        def stop_clock(self) -> None:
            if self._idle is not None:
                self._idle.cancel()
                self._idle = None

        def reload_if_idle(self) -> None:
            """Reload the page now if it has been used and no image holds the tab."""
            self.stop_clock()
            if self.images_on_page == 0:
                return
            try:
                tab = self.tabs_ready.get_nowait()
            except asyncio.QueueEmpty:
                return  # an image is being drawn: its return starts the clock again
            self.reload(tab)

        def reload(self, tab: Any) -> None:
            self.stop_clock()
            self.images_on_page = 0
            task = asyncio.get_running_loop().create_task(base._return_kaleido_tab(self, tab))
            self.reloads.add(task)
            task.add_done_callback(self._reloaded)

        def _reloaded(self, task: asyncio.Task) -> None:
            self.reloads.discard(task)
            if task.cancelled() or task.exception() is not None:
                self.reload_failed = True  # the tab never came back: this browser must be replaced

    return KeepWarm, True


async def _scripts_ready(tab: Any) -> bool:
    """Whether kaleido's export script is defined in the JavaScript context the tab will draw in."""
    try:
        reply = await tab.tab.send_command("Runtime.evaluate", params={
            "expression": "typeof kaleido_scopes", "contextId": tab._current_js_id, "returnByValue": True})
    except Exception:  # noqa: BLE001 - a context that cannot answer is not ready
        return False
    value = ((reply or {}).get("result") or {}).get("result", {}).get("value")
    return value == "object"


def _mathjax() -> tuple[str, str] | bool:
    """The MathJax script the export page loads (its file URL and charset), or False when it is not installed.

    Figures without a ``$...$`` text draw the same either way; with the script, the page typesets them."""
    from app.export.mathjax import script_path

    path = script_path()
    return (path.as_uri(), "utf-8") if path is not None else False


class _Session:
    """One browser and the thread that runs its event loop."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.kaleido: Any = None
        self.defers_reload = False
        self.broken = False
        self._stop = asyncio.Event()  # bound to the loop on first use, so it can be made here
        ready: concurrent.futures.Future = concurrent.futures.Future()
        self.thread = threading.Thread(target=self._run, args=(ready,), name="export-browser", daemon=True)
        self.thread.start()
        try:
            ready.result(timeout=START_TIMEOUT)
        except BaseException:
            self.close()
            raise

    def _run(self, ready: concurrent.futures.Future) -> None:
        asyncio.set_event_loop(self.loop)
        try:
            self.loop.run_until_complete(self._serve(ready))
        except BaseException as exc:  # noqa: BLE001 - reported to the starter, or the browser is going away
            if not ready.done():
                ready.set_exception(exc)
        finally:
            self.loop.close()

    async def _serve(self, ready: concurrent.futures.Future) -> None:
        cls, self.defers_reload = _kaleido_class()
        async with cls(mathjax=_mathjax()) as k:
            self.kaleido = k
            ready.set_result(None)
            await self._stop.wait()
            if hasattr(k, "stop_clock"):
                k.stop_clock()
            try:  # let a running reload finish before the browser closes, but not forever
                await asyncio.wait_for(self._settle(), CLOSE_TIMEOUT)
            except asyncio.TimeoutError:
                pass

    async def _settle(self, fresh: bool = False) -> None:
        k = self.kaleido
        if fresh and hasattr(k, "reload_if_idle"):
            k.reload_if_idle()
        reloads = list(getattr(k, "reloads", ()))
        if reloads:
            await asyncio.gather(*reloads, return_exceptions=True)

    def healthy(self) -> bool:
        k = self.kaleido
        proc = getattr(k, "subprocess", None)
        return (
            not self.broken
            and self.thread.is_alive()
            and not getattr(k, "reload_failed", False)
            and (proc is None or proc.poll() is None)
        )

    def call(self, coro: Any, timeout: float) -> Any:
        fut = asyncio.run_coroutine_threadsafe(coro, self.loop)
        try:
            return fut.result(timeout)
        except concurrent.futures.TimeoutError:
            fut.cancel()
            self.broken = True
            raise TimeoutError(f"the export browser did not answer within {timeout:g} s") from None

    def render(self, fig: dict[str, Any], opts: dict[str, Any]) -> bytes:
        return self.call(self.kaleido.calc_fig(fig, opts=opts), RENDER_TIMEOUT)

    def wait_idle(self, timeout: float, fresh: bool) -> None:
        self.call(self._settle(fresh), timeout)

    def close(self) -> None:
        if not self.loop.is_closed():
            try:
                self.loop.call_soon_threadsafe(self._stop.set)
            except RuntimeError:  # the loop closed meanwhile
                pass
        self.thread.join(timeout=3 * CLOSE_TIMEOUT)


_lock = threading.Lock()
_session: _Session | None = None
_atexit_registered = False


def _running() -> _Session:
    global _session, _atexit_registered
    with _lock:
        if _session is not None and not _session.healthy():
            _session.close()
            _session = None
        if _session is None:
            _session = _Session()
            if not _atexit_registered:
                atexit.register(shutdown)
                _atexit_registered = True
        return _session


def start() -> None:
    """Start the browser now (it is otherwise started by the first render)."""
    _running()


def render(fig: dict[str, Any], fmt: str, width: int, height: int, scale: float) -> bytes:
    """The bytes of ``fig`` (a JSON-ready figure dict) as png, svg or pdf at width×height layout pixels."""
    return _running().render(fig, {"format": fmt, "width": width, "height": height, "scale": scale})


def defers_reload() -> bool:
    """Whether the running browser hands images back without reloading its page first."""
    return _running().defers_reload


def wait_idle(timeout: float = 30.0, fresh: bool = False) -> None:
    """Wait until no page reload is pending; with ``fresh``, reload a used page first (for measurements, tests)."""
    if _session is not None and _session.healthy():
        _session.wait_idle(timeout, fresh)


def shutdown() -> None:
    """Close the browser (it restarts on the next render)."""
    global _session
    with _lock:
        if _session is not None:
            _session.close()
            _session = None


def _forget_in_child() -> None:
    """A forked process shares no browser with its parent: it starts its own when needed."""
    global _session, _lock
    _session = None
    _lock = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_in_child)
