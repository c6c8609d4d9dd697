"""The Autoencoder lab in headless Chromium: a tiny race end to end, the optimizer cards, uploads, hostile links,
one race per browser (a second tab follows the first race), and a job killed mid-run next to another student's.

The lab runs as its own small Dash app (``lab_page.standalone_app``) with the
app's diskcache job manager on a temporary directory, served from a thread of
this process on a free port; each race runs in a job process forked by the
manager's job launcher, as in production.
Chromium is the session's ``browser`` fixture (Debian's /usr/bin/chromium).
"""

from __future__ import annotations

import io
import os
import threading
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

pytestmark = pytest.mark.browser

# digits, a 16-unit bottleneck, two epochs of single-sample steps (about a second of training), two optimizers
TINY = "?hidden=16&epochs=2&batch=1&opt=adam(lr=0.01),sgd(lr=0.1,momentum=0.9)"
VIEWPORT = {"width": 1280, "height": 800}
#: where the test leaves its 1280×800 screenshot of a finished race (override with LAB_SCREENSHOT)
SHOT = os.environ.get("LAB_SCREENSHOT", "")


#: the lab server's background manager (the fault tests read its job store)
STORE: dict = {}


@pytest.fixture(scope="module")
def lab_server(tmp_path_factory) -> Iterator[str]:
    import diskcache
    from werkzeug.serving import make_server

    from app.hosting.job_manager import DiskcacheJobManager
    from app.lab.page import standalone_app

    manager = DiskcacheJobManager(diskcache.Cache(str(tmp_path_factory.mktemp("lab-jobs"))), expire=600)
    STORE["manager"] = manager
    dash_app = standalone_app(manager)  # warms this process; the launcher warms what the jobs need itself
    server = make_server("127.0.0.1", 0, dash_app.server, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="lab-browser-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/"
    finally:
        server.shutdown()
        thread.join(timeout=5)


class Page:
    """A Playwright page on the lab, and what went wrong on it (5xx answers, uncaught exceptions)."""

    def __init__(self, page, base: str) -> None:
        self.page = page
        self.base = base
        self.errors: list[str] = []
        page.on("response", lambda r: self.errors.append(f"{r.status} {r.url}") if r.status >= 500 else None)
        page.on("pageerror", lambda e: self.errors.append(str(e)))

    def open(self, query: str = "") -> None:
        self.page.goto(self.base + query)
        self.page.wait_for_selector("#lab-start")
        # the page is live once Dash has wired the callbacks (the share link is recomputed on any change)
        self.page.wait_for_function("window.dash_clientside && document.querySelector('#lab-opt-rows .lab-opt')")

    def graph(self, gid: str) -> dict | None:
        """What a dcc.Graph draws: trace types, names, point counts, titles, annotations."""
        return self.page.evaluate(
            """(id) => { const gd = document.querySelector('#' + id + ' .js-plotly-plot');
                if (!gd || !gd.data) { return null; }
                const n = t => (t.z ? t.z.length : (t.x ? t.x.length : 0));
                return {data: gd.data.map(t => ({type: t.type, name: t.name, n: n(t), legend: t.showlegend})),
                        title: gd.layout.title && gd.layout.title.text,
                        xtitle: gd.layout.xaxis && gd.layout.xaxis.title && gd.layout.xaxis.title.text,
                        annotations: (gd.layout.annotations || []).map(a => a.text)}; }""",
            gid,
        )

    def cards(self) -> int:
        return self.page.locator("#lab-opt-rows .lab-opt").count()

    def assert_clean(self) -> None:
        assert not self.errors, self.errors


@pytest.fixture
def lab(context, lab_server) -> Iterator[Page]:
    page = context.new_page()
    page.set_default_timeout(20_000)
    yield Page(page, lab_server)
    page.close()


def test_a_tiny_race_shows_progress_curves_reconstructions_and_psnr(lab, tmp_path):
    page = lab.page
    lab.open(TINY)
    assert lab.cards() == 2
    assert page.input_value("#lab-epochs") == "2" and page.input_value("#lab-hidden") == "16"
    # record what the page shows while the race runs
    page.evaluate(
        """() => { window.__lab = [];
            window.__labTimer = setInterval(() => window.__lab.push({
                start: document.getElementById('lab-start').disabled,
                cancel: document.getElementById('lab-cancel').disabled,
                running: !document.getElementById('lab-running').hidden,
                stale: document.getElementById('lab-results').className.includes('stale')}), 25); }"""
    )
    page.click("#lab-start")
    page.wait_for_function("document.getElementById('lab-status').innerText.startsWith('Finished')", timeout=60_000)
    page.wait_for_function("!document.getElementById('lab-start').disabled")
    seen = page.evaluate("() => { clearInterval(window.__labTimer); return window.__lab; }")
    running = [s for s in seen if s["start"]]
    assert running, "Start was never disabled while the race ran"
    # while it ran: Cancel offered, the running badge shown, the old results dimmed
    assert all(not s["cancel"] and s["running"] and s["stale"] for s in running)
    page.locator("#lab-running").wait_for(state="hidden", timeout=5_000)  # (may follow Start by a render)
    assert page.is_disabled("#lab-cancel")
    assert page.evaluate("document.getElementById('lab-bar').value") == 100

    # the loss curves: both optimizers, training and validation, epochs 0..2, on a log axis
    loss = lab.graph("lab-loss-graph")
    curves = [t for t in loss["data"] if t["name"] in ("Adam (lr=0.01)", "SGD (lr=0.1, momentum=0.9)")]
    assert len(curves) == 4 and all(t["n"] == 3 for t in curves)
    status = page.inner_text("#lab-status")
    assert status.startswith("Finished 2 epochs") and "Lowest validation loss" in status

    # reconstructions: originals and one row per optimizer, each with its PSNR
    recon = lab.graph("lab-recon-graph")
    assert recon["data"][0]["type"] == "heatmap"
    assert recon["annotations"][0] == "<b>Original</b>" and len(recon["annotations"]) == 3
    assert all(" dB</b>" in a for a in recon["annotations"][1:])
    # the PSNR table: input row and both optimizers, five noise columns
    rows = page.locator("#lab-psnr tbody tr")
    assert rows.count() == 3
    assert rows.nth(0).locator("th").inner_text() == "Input"
    assert page.locator("#lab-psnr thead th").count() == 6
    assert "dB" in page.inner_text("#lab-psnr thead")
    cells = page.locator("#lab-psnr tbody tr:nth-child(2) td").all_inner_texts()
    assert len(cells) == 5 and all("±" in c for c in cells)
    # the landscape: PCA first, random directions one click away
    land = lab.graph("lab-land-graph")
    assert land["data"][0]["type"] == "contour" and land["data"][0]["n"] == 25
    assert "PC 1" in land["xtitle"]
    page.get_by_label("random (filter-normalised)").check()
    page.wait_for_function(
        "document.querySelector('#lab-land-graph .js-plotly-plot').layout.xaxis.title.text.startsWith('random')"
    )
    shot = Path(SHOT) if SHOT else tmp_path / "lab-1280x800.png"
    page.screenshot(path=str(shot), full_page=False)
    assert shot.stat().st_size > 10_000
    assert "NaN" not in page.inner_text("#lab-page")
    lab.assert_clean()


def test_a_long_race_shows_live_curves_and_stops_on_cancel(lab):
    page = lab.page
    lab.open("?hidden=16&epochs=200&batch=1&opt=adam(lr=0.01),sgd(lr=0.1,momentum=0.9)")
    page.click("#lab-start")
    # live progress: the curves grow epoch by epoch while the job runs
    page.wait_for_function(
        """() => { const gd = document.querySelector('#lab-loss-graph .js-plotly-plot');
            const n = gd && gd.data && gd.data.length ? (gd.data[0].x || []).length : 0;
            return n >= 2 && n < 201 && document.getElementById('lab-status').innerText.startsWith('Epoch'); }""",
        timeout=30_000,
    )
    status = page.inner_text("#lab-status")
    assert " of 200 · " in status and "s elapsed (limit 300 s)" in status and "Adam (lr=0.01): " in status
    bar = page.evaluate("document.getElementById('lab-bar').value")
    assert 0 < bar < 100
    assert page.is_disabled("#lab-start") and page.is_enabled("#lab-cancel")
    # Cancel from the keyboard: the race stops within a minibatch and keeps what it trained
    page.focus("#lab-cancel")
    page.keyboard.press("Enter")
    page.wait_for_function("document.getElementById('lab-status').innerText.startsWith('Cancelled after epoch')",
                           timeout=30_000)  # fmt: skip
    page.wait_for_function("!document.getElementById('lab-start').disabled")
    loss = lab.graph("lab-loss-graph")
    n = next(t["n"] for t in loss["data"] if t["name"] == "Adam (lr=0.01)")
    assert 1 <= n < 201
    recon = lab.graph("lab-recon-graph")
    assert recon["data"][0]["type"] == "heatmap"
    assert "skipped" in " ".join(lab.graph("lab-land-graph")["annotations"])
    assert page.locator("#lab-kept-table table").count() == 0  # a cancelled race is not kept for comparison
    lab.assert_clean()


def _finish_race(page) -> None:
    page.click("#lab-start")
    page.wait_for_function("document.getElementById('lab-status').innerText.startsWith('Finished')", timeout=60_000)
    page.wait_for_function("!document.getElementById('lab-start').disabled")


def test_finished_races_are_kept_side_by_side_named_by_what_differs_and_survive_a_reload(lab):
    page = lab.page
    lab.open(TINY + "&init=naive")
    _finish_race(page)
    page.wait_for_selector("#lab-kept-table tbody tr")
    assert page.locator("#lab-kept-table th[scope=rowgroup]").all_inner_texts() == ["race 1"]
    lab.open(TINY)  # the same race with Xavier's init, in the same tab
    assert page.locator("#lab-kept-table th[scope=rowgroup]").all_inner_texts() == ["race 1"]  # kept over the visit
    _finish_race(page)
    page.wait_for_function("document.querySelectorAll('#lab-kept-table th[scope=rowgroup]').length === 2")
    assert page.locator("#lab-kept-table th[scope=rowgroup]").all_inner_texts() == [
        "naive (σ = 0.01) init", "Xavier (normal) init"]
    assert page.locator("#lab-kept-table tbody tr").count() == 4  # two optimizers each
    graph = lab.graph("lab-kept-graph")
    assert [t["name"] for t in graph["data"]] == [
        "naive (σ = 0.01) init · Adam (lr=0.01)", "naive (σ = 0.01) init · SGD (lr=0.1, momentum=0.9)",
        "Xavier (normal) init · Adam (lr=0.01)", "Xavier (normal) init · SGD (lr=0.1, momentum=0.9)"]
    assert all(t["n"] == 3 for t in graph["data"])  # epochs 0..2
    naive_link = page.get_attribute("#lab-kept-table th[scope=rowgroup] a", "href")
    assert naive_link.startswith("/lab?") and "init=naive" in naive_link and "hidden=16" in naive_link
    # Remove from the keyboard: the naive race goes, the other stays
    page.focus("#lab-kept-table .lab-kept-remove")
    page.keyboard.press("Enter")
    page.wait_for_function("document.querySelectorAll('#lab-kept-table th[scope=rowgroup]').length === 1")
    assert page.locator("#lab-kept-table th[scope=rowgroup]").all_inner_texts() == ["race 1"]
    page.reload()
    page.wait_for_selector("#lab-kept-table tbody tr")
    assert page.locator("#lab-kept-table tbody tr").count() == 2
    page.click("#lab-kept-clear")
    page.wait_for_function("!document.querySelector('#lab-kept-table table')")
    assert page.is_disabled("#lab-kept-clear")
    lab.assert_clean()


def test_cards_can_be_added_changed_and_removed_from_the_keyboard(lab):
    page = lab.page
    lab.open()
    assert lab.cards() == 3
    page.focus("#lab-opt-add")
    page.keyboard.press("Enter")
    page.wait_for_function("document.querySelectorAll('#lab-opt-rows .lab-opt').length === 4")
    # a new card copies the last one (SGD), in the next colour
    last = page.locator("#lab-opt-rows .lab-opt").nth(3)
    assert "SGD" in last.inner_text()
    assert last.get_attribute("style").replace(" ", "").startswith("--card-color:#CC79A7")
    # switch it to RMSProp: its key hyperparameters follow (ρ rho, μ momentum)
    last.locator(".lab-opt-select").click()
    page.get_by_role("option", name="RMSProp").click()
    page.wait_for_function("document.querySelectorAll('#lab-opt-rows .lab-opt')[3].innerText.includes('rho')")
    lr = page.locator('input[id*=\'"type":"lab-opt-lr"\'][id*=\'"index":3\']')
    assert lr.input_value() == "0.01"  # RMSProp's default learning rate
    # the link follows the form
    page.wait_for_function("document.getElementById('lab-share').href.includes('rmsprop')")
    # remove the first card with the keyboard
    page.focus('button[id*=\'"type":"lab-opt-remove"\'][id*=\'"index":0\']')
    page.keyboard.press("Enter")
    page.wait_for_function("document.querySelectorAll('#lab-opt-rows .lab-opt').length === 3")
    names = page.locator("#lab-opt-rows .lab-opt .dash-dropdown-value").all_inner_texts()
    assert names == ["Momentum (heavy ball)", "SGD", "RMSProp"]
    lab.assert_clean()


def _npy(a: np.ndarray, allow_pickle: bool = False) -> bytes:
    buf = io.BytesIO()
    np.save(buf, a, allow_pickle=allow_pickle)
    return buf.getvalue()


def test_uploads_are_checked_and_bad_files_refused_with_a_message(lab, tmp_path):
    page = lab.page
    lab.open("?data=file")
    assert page.locator("#lab-upload-box").is_visible()
    # no file yet: the form says what is missing
    page.wait_for_function("document.getElementById('lab-issues').innerText.includes('Upload')")
    # the drop zone's file input is reachable from the keyboard
    file_input = page.locator("#lab-upload input[type=file]")
    file_input.wait_for(state="attached")
    assert file_input.evaluate("e => e.tabIndex") >= 0
    # a pickled object array is refused by the server's checks
    bad = tmp_path / "objects.npy"
    bad.write_bytes(_npy(np.array([{"a": 1}, None, 3], dtype=object), allow_pickle=True))
    file_input.set_input_files(str(bad))
    page.wait_for_function("document.getElementById('lab-upload-msg').innerText.startsWith('Refused')")
    assert "object dtype" in page.inner_text("#lab-upload-msg")
    # a file over the size limit never leaves the browser, and says why
    big = tmp_path / "big.npy"
    big.write_bytes(b"\0" * (17 * 1024 * 1024))
    file_input.set_input_files(str(big))
    page.wait_for_function("document.getElementById('lab-upload-msg').innerText.includes('upload limit is 16 MB')")
    # a good file is loaded and the model follows its width
    good = tmp_path / "features.npy"
    good.write_bytes(_npy((np.random.default_rng(0).random((200, 36)) * 255).astype(np.uint8)))
    file_input.set_input_files(str(good))
    page.wait_for_function("document.getElementById('lab-upload-msg').innerText.startsWith('Loaded')")
    assert "200 samples × 36 features" in page.inner_text("#lab-upload-msg")
    page.wait_for_function("document.getElementById('lab-model-summary').innerText.startsWith('36 → 32')")
    page.wait_for_function("!document.getElementById('lab-issues').innerText.includes('Upload')")
    lab.assert_clean()


def test_a_hostile_link_shows_a_notice_and_the_page_still_works(lab):
    page = lab.page
    lab.open("?epochs=%3Cscript%3Ealert(1)%3C/script%3E&hidden=99999999&opt=evil(x=1)&samples=-5&zzz=1")
    notice = page.locator("#lab-notice")
    assert notice.is_visible()
    text = notice.inner_text()
    assert "could not be used" in text and "epochs" in text and "hidden sizes" in text
    assert page.input_value("#lab-epochs") == "50" and page.input_value("#lab-hidden") == "32,8,32"
    assert lab.cards() == 3  # the default race
    assert page.evaluate("document.querySelectorAll('script:not([src])').length") < 10
    page.click("#lab-notice-close")
    page.wait_for_function("document.getElementById('lab-notice').hidden")
    lab.assert_clean()


# --------------------------------------------------------------------------- one race per browser, and faults

LONG = "?hidden=16&epochs=200&batch=1&opt=adam(lr=0.01),sgd(lr=0.1,momentum=0.9)"


def _status(page) -> str:
    return page.inner_text("#lab-status")


def test_a_second_tab_starts_no_second_race_and_follows_the_first(lab, context):
    from app.hosting.kv import kv_for
    from app.lab.gate import OTHER_PREFIX
    from app.lab.queue import RaceQueue

    kv = kv_for(STORE["manager"])
    page = lab.page
    lab.open(LONG)
    second = Page(context.new_page(), lab.base)  # another tab of the same browser, open before the race
    third = None
    try:
        second.page.set_default_timeout(20_000)
        second.open(LONG)
        page.click("#lab-start")
        page.wait_for_function("document.getElementById('lab-status').innerText.startsWith('Epoch')", timeout=30_000)
        # Start in the second tab starts nothing: it says so and shows the first tab's race
        second.page.click("#lab-start")
        second.page.wait_for_function(
            "document.getElementById('lab-status').innerText.includes('no second race was started')")
        assert "already has a race running" in _status(second.page)
        assert second.page.is_disabled("#lab-start")
        assert len(RaceQueue(kv, 2).live()) == 1
        # then follows it, epoch by epoch
        second.page.wait_for_function(
            f"document.getElementById('lab-status').innerText.startsWith({OTHER_PREFIX + 'Epoch'!r})")
        first = _status(second.page)
        second.page.wait_for_function(f"document.getElementById('lab-status').innerText !== {first!r}")
        assert "lab-status-other" in second.page.get_attribute("#lab-status", "class")
        # a tab opened (or reloaded) while the race runs picks it up on load
        third = Page(context.new_page(), lab.base)
        third.page.set_default_timeout(20_000)
        third.open(LONG)
        third.page.wait_for_function(f"document.getElementById('lab-status').innerText.startsWith({OTHER_PREFIX!r})")
        assert third.page.is_disabled("#lab-start")
        # the first tab cancels: the others say the race ended and free Start
        page.click("#lab-cancel")
        page.wait_for_function("document.getElementById('lab-status').innerText.startsWith('Cancelled after epoch')",
                               timeout=30_000)  # fmt: skip
        for other in (second, third):
            other.page.wait_for_function(
                "document.getElementById('lab-status').innerText.includes('it has ended. Cancelled after epoch')",
                timeout=15_000)
            assert other.page.is_enabled("#lab-start")
            other.assert_clean()
        assert RaceQueue(kv, 2).live() == []
    finally:
        second.page.close()
        if third is not None:
            third.page.close()
    lab.assert_clean()


def test_a_killed_job_is_reported_in_its_page_and_the_other_students_race_finishes(browser, lab_server):
    import json
    import signal
    import time

    import psutil

    from app.hosting.kv import kv_for
    from app.lab.queue import LOST_TEXT, RaceQueue

    students = [browser.new_context(viewport=VIEWPORT) for _ in range(2)]
    try:
        a, b = (Page(ctx.new_page(), lab_server) for ctx in students)
        for p in (a, b):
            p.page.set_default_timeout(20_000)
        a.open(LONG)
        b.open("?samples=500&hidden=16&epochs=20&batch=1&opt=adam(lr=0.01),sgd(lr=0.1,momentum=0.9)")
        a.page.click("#lab-start")
        b.page.click("#lab-start")
        # A's long race is training; B's short one trains or has already finished: B's "Epoch" lines last
        # a few seconds, and waiting for A first may outlast them
        a.page.wait_for_function("document.getElementById('lab-status').innerText.startsWith('Epoch')",
                                 timeout=30_000)  # fmt: skip
        b.page.wait_for_function("/^(Epoch|Finished)/.test(document.getElementById('lab-status').innerText)",
                                 timeout=30_000)  # fmt: skip
        # A's job process: found through A's browser id and the race's heartbeat
        kv = kv_for(STORE["manager"])
        browser_a = a.page.evaluate("JSON.parse(window.localStorage.getItem('lab-browser'))")
        entry = RaceQueue(kv, 2).for_browser(browser_a)
        pid = json.loads(kv.get(RaceQueue.beat_key(entry["t"])))["pid"]
        launcher = STORE["manager"].launcher_pid  # the test server's job launcher, which forks every job
        assert psutil.Process(pid).ppid() == launcher and psutil.Process(launcher).ppid() == os.getpid()
        os.kill(pid, signal.SIGKILL)
        killed = time.monotonic()
        a.page.wait_for_function(f"document.getElementById('lab-status').innerText === {LOST_TEXT!r}",
                                 timeout=15_000)  # fmt: skip
        shown = time.monotonic() - killed
        a.page.wait_for_function("!document.getElementById('lab-start').disabled")
        a.page.locator("#lab-running").wait_for(state="hidden", timeout=5_000)  # (may follow Start by a render)
        assert a.page.is_disabled("#lab-cancel")
        print(f"\nthe killed job's page showed its failure after {shown:.2f} s")
        # the other student's race goes on to the end
        b.page.wait_for_function("document.getElementById('lab-status').innerText.startsWith('Finished 20 epochs')",
                                 timeout=60_000)  # fmt: skip
        # the reconstructions come with the race's result, a render after its last status line
        b.page.wait_for_function("((document.querySelector('#lab-recon-graph .js-plotly-plot') || {}).data || []).length > 0",
                                 timeout=10_000)  # fmt: skip
        assert b.graph("lab-recon-graph")["data"][0]["type"] == "heatmap"
        # A may start again at once: the race is accepted (a job runs it), then cancelled
        a.page.click("#lab-start")
        a.page.wait_for_function("!document.getElementById('lab-cancel').disabled")
        assert "already has a race" not in _status(a.page)
        a.page.click("#lab-cancel")
        a.page.wait_for_function("!document.getElementById('lab-start').disabled", timeout=30_000)
        a.assert_clean()
        b.assert_clean()
    finally:
        for ctx in students:
            ctx.close()


# --------------------------------------------------------------------------- the header, in the whole app


def _contrast(fg: str, bg: str) -> float:
    """WCAG contrast ratio of two computed ``rgb(r, g, b)`` colours."""

    def luminance(css: str) -> float:
        channels = [int(v) / 255 for v in css[css.index("(") + 1:css.index(")")].split(",")[:3]]
        lin = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
        return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]

    hi, lo = sorted((luminance(fg), luminance(bg)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def test_the_header_takes_a_student_from_the_lab_back_to_the_explorer(context, live_server):
    page = context.new_page()
    page.set_default_timeout(20_000)
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        page.goto(live_server + "lab")
        page.wait_for_selector("#lab-start")
        nav = page.get_by_role("navigation", name="Pages")
        assert nav.get_by_role("link").all_inner_texts() == ["Explorer", "Sweep maps", "Lessons"]
        explorer = nav.get_by_role("link", name="Explorer")
        # readable on the dark bar (WCAG AA), and reachable from the keyboard with a visible focus ring
        colours = explorer.evaluate("""a => ({fg: getComputedStyle(a).color,
            bg: getComputedStyle(a.closest('header')).backgroundColor})""")
        assert _contrast(colours["fg"], colours["bg"]) >= 4.5, colours
        page.evaluate("document.activeElement && document.activeElement.blur()")
        page.keyboard.press("Tab")  # the skip link comes first, then the header's links
        assert page.evaluate("document.activeElement.textContent") == "Skip to the race"
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.textContent") == "Explorer"
        assert page.evaluate("getComputedStyle(document.activeElement).outlineStyle") == "solid"
        page.keyboard.press("Enter")
        page.wait_for_url(live_server)
        page.wait_for_function("window.DescentLab && DescentLab.state().applied >= 1")
        assert page.locator(".explorer .brand h1").inner_text() == "Descent Lab"
        assert not errors, errors
    finally:
        page.close()
