"""The export browser draws only in a page whose export script is loaded (kaleido's context race)."""

from __future__ import annotations

import asyncio

import kaleido

from app.export import browser


class FakeTab:
    """A kaleido tab whose page context has the export script only after ``ready_after`` loads."""

    def __init__(self, ready_after: int) -> None:
        self.loads = 0
        self.ready_after = ready_after
        self._current_js_id = 1
        self.tab = self

    async def send_command(self, method, params=None):
        assert method == "Runtime.evaluate" and params["contextId"] == self._current_js_id
        value = "object" if self.loads >= self.ready_after else "undefined"
        return {"id": 1, "result": {"result": {"type": "string", "value": value}}}

    async def navigate(self, url):
        self.loads += 1
        self._current_js_id += 1


def _get(tab, monkeypatch):
    cls, defers = browser._kaleido_class()
    assert defers
    monkeypatch.setattr(kaleido.Kaleido, "_get_kaleido_tab", lambda self: _coro(tab))
    k = cls.__new__(cls)
    k._index = "file:///index.html"
    return asyncio.run(k._get_kaleido_tab())


async def _coro(value):
    return value


def test_a_ready_tab_is_used_as_it_is(monkeypatch):
    tab = FakeTab(ready_after=0)
    assert _get(tab, monkeypatch) is tab and tab.loads == 0


def test_a_tab_without_the_export_script_is_loaded_again_first(monkeypatch):
    tab = FakeTab(ready_after=1)
    assert _get(tab, monkeypatch) is tab and tab.loads == 1


def test_reloading_a_broken_page_is_bounded(monkeypatch):
    tab = FakeTab(ready_after=99)
    _get(tab, monkeypatch)
    assert tab.loads == browser.READY_TRIES


def test_a_context_that_cannot_answer_is_not_ready():
    class Broken(FakeTab):
        async def send_command(self, method, params=None):
            raise RuntimeError("context gone")

    assert asyncio.run(browser._scripts_ready(Broken(0))) is False
