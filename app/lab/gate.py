"""What the page shows about races: the Start gate, the running page's watch, and other tabs' follow mode.

Plain functions of the queue and the values the page sends back (validated: they come from the
browser).  Each returns the outputs to change as a dict keyed by the names of
:data:`app.lab.callbacks.JOB_OUTPUTS`; a missing key means "leave as is".

* :func:`gate` — Start pressed: queue a race under the browser's id, or show the race this browser
  already has (one race at a time per browser), or say why not.
* :func:`check_job` — the page's own race, every few seconds while it runs and when Dash stops
  polling it: a job that ended without its done marker died, and the page says so.
* :func:`follow` — another tab's race (or one this page lost contact with): its live status.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Mapping
from typing import Any, NamedTuple

from app.lab.heartbeat import cancel_key, request_cancel, valid_token
from app.lab.queue import CANCELLED_QUEUED, LOST_TEXT, RaceQueue, Turn, is_celery

#: how a page introduces the race it follows
OTHER_PREFIX = "Your running race (one at a time per browser; started in another tab, or before this page loaded): "


class RaceRef(NamedTuple):
    """The page's current race, as its store holds it: the race's token and the browser it is counted under."""

    token: str
    browser: str


def bar_value(pct: float) -> str:
    """The progress bar's value for a percentage (clamped to 0–100)."""
    return f"{max(0.0, min(100.0, float(pct))):.1f}"


def browser_of(browser: Any, nonce: Any) -> str | None:
    """The id a race is counted under: the browser's own, or (without a usable one) this page's."""
    b = valid_token(browser)
    if b is not None:
        return b
    n = nonce if isinstance(nonce, str) and re.fullmatch(r"[A-Za-z0-9_-]{8,48}", nonce) else None
    return f"page-{n}" if n is not None else None


def run_of(run: Any) -> RaceRef | None:
    """(token, browser) of the page's current race, from its store (validated: it came back from the browser)."""
    if not isinstance(run, Mapping):
        return None
    token, browser = valid_token(run.get("token")), valid_token(run.get("browser"))
    return RaceRef(token, browser) if token is not None and browser is not None else None


def queue_text(turn: Turn, slots: int) -> str:
    if turn.kind != "wait":
        return "Starting the race…"
    races = "race is" if turn.running == 1 else "races are"
    return (f"Queued: number {turn.position} of {turn.waiting} waiting ({turn.running} {races} training, at most "
            f"{slots} at once). The race starts when a slot frees up…")  # fmt: skip


def _following(token: str, text: str, pct: float | None = None) -> dict[str, Any]:
    out = {"status": text, "status_class": "lab-status lab-status-other", "start_disabled": True,
           "follow_disabled": False, "following": {"token": token}}  # fmt: skip
    if pct is not None:
        out["bar"] = bar_value(pct)
    return out


def _stopped(text: str, failed: bool) -> dict[str, Any]:
    return {"status": text, "status_class": "lab-status lab-status-failed" if failed else "lab-status",
            "start_disabled": False, "cancel_disabled": True, "results_class": "lab-results",
            "watch_disabled": True}  # fmt: skip


def gate(queue: RaceQueue, browser: Any, nonce: Any, run: Any) -> dict[str, Any]:
    """Start pressed: queue a new race, or show the race this browser already has, or say why not."""
    who = browser_of(browser, nonce)
    if who is None:
        return {"status": "This page could not identify itself; reload it and press Start again.",
                "status_class": "lab-status lab-status-failed"}  # fmt: skip
    token = secrets.token_urlsafe(18)
    state, entry = queue.join(who, token)
    if state == "new":
        return {"run": {"token": token, "browser": who}, "status": "Starting the race…", "status_class": "lab-status",
                "follow_disabled": True, "following": None}  # fmt: skip
    if state == "existing" and entry is not None:
        mine = run_of(run)
        if mine is not None and mine.token == entry["t"]:
            return {}  # this page's own race (a second click before Start was disabled)
        st = queue.status(who, entry["t"])
        now = st["text"] if st else queue_text(queue.place(entry["t"]), queue.slots)
        return _following(entry["t"], "This browser already has a race running (in another tab or window), so no "
                                      f"second race was started. Its status: {now}",
                          st.get("pct") if st else None)  # fmt: skip
    if state == "full":
        return {"status": f"The lab is full: {queue.max_entries} races are queued or training. "
                          "Try again in a few minutes.", "status_class": "lab-status lab-status-failed"}  # fmt: skip
    return {"status": "The server is busy; press Start again in a moment.",
            "status_class": "lab-status lab-status-failed"}  # fmt: skip


def check_job(queue: RaceQueue, run: Any, ended: bool, *, kv: Any, manager: Any = None) -> dict[str, Any]:
    """The page's own race: every few seconds while it runs (``ended`` False), and when Dash stops polling it.

    A race that ended without leaving its done marker died (its process or worker was killed): the
    page says so, frees its queue entry and lets Start be pressed again.  If the job is still alive
    when Dash stopped polling (the server did not answer), the page follows its status instead.
    """
    mine = run_of(run)
    if mine is None:
        return {}
    token = mine.token
    v = queue.verdict(token, cancel_requested=kv.get(cancel_key(token)) is not None)
    if v.kind == "done":
        return {}
    if v.kind == "queued" and not ended:
        queue.want(token)  # the page still waits for it (no job has begun it yet)
        return {"status": queue_text(queue.place(token), queue.slots)}
    if v.kind == "running" and not ended:
        return {}
    if v.kind == "running" or (v.kind == "queued" and is_celery(manager)):
        return {**_following(token, "This page lost contact with its race, which is still running; following its "
                                    "status here (its results will not be shown on this page)…"),
                "cancel_disabled": True, "results_class": "lab-results", "watch_disabled": True}  # fmt: skip
    queue.forget(token, manager)
    return _stopped(v.text or LOST_TEXT, failed=v.kind != "cancelled")


def follow(queue: RaceQueue, browser: Any, nonce: Any, following: Any, run: Any, on_load: bool,
           manager: Any = None) -> dict[str, Any]:  # fmt: skip
    """Another tab's race (or one this page lost contact with): its live status, until it ends."""
    who = browser_of(browser, nonce)
    if who is None:
        return {}
    mine = run_of(run)
    if on_load:
        entry = queue.for_browser(who)
        if entry is None or (mine is not None and mine.token == entry["t"]):
            return {}
        token = entry["t"]
    else:
        token = valid_token(following.get("token")) if isinstance(following, Mapping) else None
        if token is None:
            return {"follow_disabled": True}
    prefix = OTHER_PREFIX if mine is None or mine.token != token else "Your race (this page lost contact with it): "
    v = queue.verdict(token)
    if v.kind == "running":
        st = queue.status(who, token)
        return _following(token, prefix + (st["text"] if st else "training…"), st.get("pct") if st else None)
    if v.kind == "queued":
        return _following(token, prefix + queue_text(queue.place(token), queue.slots), 0.0)
    if v.kind == "done":
        st = queue.status(who, token)
        text = st["text"] if st else v.text
        return {"status": f"{prefix}it has ended. {text} Start is free again.", "status_class": "lab-status",
                "start_disabled": False, "follow_disabled": True, "following": None}  # fmt: skip
    queue.forget(token, manager)
    return {"status": f"{prefix}{v.text or LOST_TEXT}", "status_class": "lab-status lab-status-failed",
            "start_disabled": False, "follow_disabled": True, "following": None}  # fmt: skip


def cancel_race(queue: RaceQueue, kv: Any, token: str) -> str:
    """Cancel pressed: flag the race (its job stops after the current minibatch); a queued one leaves the queue."""
    request_cancel(kv, token)
    entry = queue.entry(token)
    if entry is not None and entry["s"] == "queued":
        queue.leave(token)
        return CANCELLED_QUEUED
    return "Cancelling: the race stops after the current minibatch…"
