"""Classroom load test: N simulated students on the Explorer (a script, not a test).

Each student is a small Dash client that makes the requests a browser tab makes,
built the way Dash's renderer builds them: the page's component tree comes from
``/_dash-layout``, the callbacks from ``/_dash-dependencies``, and every callback
request carries the current values of that callback's inputs and states (pattern
ids expanded over the components on the page); answers are applied to the tree.
A student

* opens a lesson's link: GET the page (and, on its first visit, the scripts and
  style sheets a fresh browser fetches), the layout (Referer = the link), the
  dependencies, then the callbacks the page makes at load (the controls'
  check against the link, then the formulas, asked for when the page boots and
  again once its first map is painted);
* moves a slider: a random position inside the slider's min/max, on its step
  (half of the moves are a learning rate).  For an optimizer's slider the page
  first fetches the new race from its fast-path endpoint; then it commits the
  move, and ``collect`` runs;
* clicks the map: a random start point inside the plot box; one ``collect``;
* clicks a lesson button: the controls are re-rendered, then ``collect``;

with a random think time between actions.  Every answer is checked (HTTP 200, a
JSON body with the outputs that callback must return, the view actually
changed); anything else counts as an error.  By default the script starts
``descent-lab serve`` on a free port with empty job and result stores, and stops
it at the end (also on Ctrl-C).  Target on a 2-core machine: 0 errors, p95 ≤ 300 ms.

    NUMBA_CACHE_DIR=.numba_cache .venv/bin/python bench/bench_load.py \\
        [--students 50] [--duration 60] [--workers 2] [--threads 4] [--think 0.5:2] [--url URL]

With ``--classroom`` the students follow a live class room instead (``bench/classroom_load.py``: a
teacher steps through lessons, the students poll the room, join and answer; target: 0 errors and
p95 ≤ 1 s from a teacher's action to every student's page seeing it).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import re
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from html.parser import HTMLParser
from http.client import HTTPConnection, HTTPException
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

#: scripts the renderer loads on demand for the Explorer's components (not listed in the page)
LAZY_SCRIPTS = tuple(
    "/_dash-component-suites/" + p
    for p in ("dash/dcc/async-dropdown.js", "dash/dcc/async-slider.js", "dash/dcc/async-graph.js",
              "plotly/package_data/plotly.min.js", "dash/dcc/async-markdown.js", "dash/dcc/async-mathjax.js",
              "dash/dcc/async-highlight.js")
)  # fmt: skip

#: request kinds, in report order
KINDS = ("page", "static", "layout", "deps", "boot", "tex", "slider", "fast", "click", "lesson", "lesson-view")
STATIC = "static"
VIEWS = ("slider", "click", "lesson-view")  # the requests that compute a view (collect)
ACTIONS = ("open", "slider", "click", "lesson")
DEFAULT_MIX = "slider=60,click=25,lesson=10,open=5"

UPDATE = "/_dash-update-component"
FAST_RACE = "/_descent/race"  # the page's own request for a moved optimizer slider (assets/explorer.js)
COMMIT = "slider-commit-store"  # the page commits a settled slider move here: {id, n}
TEX_READY = "tex-ready-store"  # the page sets it once its first map is on screen
MISSING = object()


class ProtocolError(Exception):
    """The server's answer is not what a working Explorer returns (counted as an error)."""


class DriftError(Exception):
    """This client would send a request the page no longer makes: the page changed, the bench must follow."""


# --------------------------------------------------------------------------- HTTP


@dataclass
class Sample:
    """One request: its kind, when it was sent (seconds since the run started), how long it took."""

    kind: str
    start: float
    seconds: float
    status: int
    error: str | None = None  # None: a valid answer
    nbytes: int = 0
    map: bool = False  # a view whose answer carries a newly drawn map (the costly kind)


class Http:
    """One keep-alive connection, like a browser tab's; a request that finds the
    connection closed by the server before any answer is sent again once, as a
    browser does (counted in ``reconnects``)."""

    def __init__(self, base: str, timeout: float) -> None:
        parts = urlsplit(base)
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port or 80
        self.timeout = timeout
        self.conn: HTTPConnection | None = None
        self.reconnects = 0

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    def request(self, method: str, path: str, body: bytes | None = None,
                headers: dict[str, str] | None = None) -> tuple[int, bytes, float]:  # fmt: skip
        """(status, body, seconds from sending to the last byte of the answer)."""
        t0 = time.perf_counter()
        if self.conn is not None and self.conn.sock is not None and select.select([self.conn.sock], [], [], 0)[0]:
            self.close()  # the server closed the idle connection (keep-alive timeout): a browser notices that too
        for attempt in (0, 1):
            reused = self.conn is not None
            if self.conn is None:
                self.conn = HTTPConnection(self.host, self.port, timeout=self.timeout)
            try:
                try:
                    self.conn.request(method, path, body=body, headers=headers or {})
                    resp = self.conn.getresponse()
                except (ConnectionResetError, BrokenPipeError):  # RemoteDisconnected included: no answer at all
                    if not reused or attempt:
                        raise
                    self.close()
                    self.reconnects += 1
                    continue
                data = resp.read()
            except BaseException:
                self.close()
                raise
            seconds = time.perf_counter() - t0
            if resp.will_close:
                self.close()
            return resp.status, data, seconds
        raise AssertionError("unreachable")


# --------------------------------------------------------------------------- the page, as Dash's renderer holds it


def id_key(cid: Any) -> str:
    """The string Dash uses for a component id (dict ids: JSON with sorted keys)."""
    return json.dumps(cid, sort_keys=True, separators=(",", ":")) if isinstance(cid, dict) else str(cid)


def as_js(value: Any) -> Any:
    """``value`` as the browser's JSON.stringify writes it: whole floats as integers, NaN and ±inf as null."""
    if isinstance(value, float):
        if not math.isfinite(value):
            return None
        return int(value) if value.is_integer() and abs(value) < 2**53 else value
    if isinstance(value, dict):
        return {k: as_js(v) for k, v in value.items()}
    if isinstance(value, list):
        return [as_js(v) for v in value]
    return value


def _parsed(changed: str) -> Any:
    """The renderer's parsed form of 'id.prop': a pattern id alone (as a dict), a plain one as it is."""
    cid = changed.rsplit(".", 1)[0]
    return json.loads(cid) if cid.startswith("{") else changed


def _parse_outputs(output: str) -> list[tuple[str, str]]:
    """'..a.b...c.d@x..' (several outputs) or 'a.b' → [(id, property)], property with its '@…' suffix."""
    parts = output[2:-2].split("...") if output.startswith("..") else [output]
    return [tuple(p.rsplit(".", 1)) for p in parts]  # type: ignore[misc]


@dataclass(frozen=True)
class Callback:
    output: str  # the dependency's output string, sent back verbatim
    outputs: tuple[tuple[str, str], ...]
    inputs: tuple[tuple[str, str], ...]
    state: tuple[tuple[str, str], ...]

    @property
    def multi(self) -> bool:
        return self.output.startswith("..")

    def writes(self, cid: str, prop: str) -> bool:
        return any(i == cid and p.split("@")[0] == prop for i, p in self.outputs)


#: the Explorer's server callbacks, found by an output only that callback has
EXPLORER_CALLBACKS = {"controls": ("boot-store", "data"), "tex": ("surface-tex", "children"),
                      "collect": ("payload-store", "data")}  # fmt: skip


def explorer_callbacks(deps: Any) -> dict[str, Callback]:
    """The Explorer's server-side callbacks among ``/_dash-dependencies``."""
    if not isinstance(deps, list):
        raise ProtocolError("the dependencies are not a list")
    found: dict[str, Callback] = {}
    for d in deps:
        if d.get("clientside_function"):
            continue
        cb = Callback(d["output"], tuple(_parse_outputs(d["output"])),
                      tuple((i["id"], i["property"]) for i in d["inputs"]),
                      tuple((s["id"], s["property"]) for s in d["state"]))  # fmt: skip
        for name, (cid, prop) in EXPLORER_CALLBACKS.items():
            # the controls callback is the one writing both boot-store and rendered-store
            if cb.writes(cid, prop) and (name != "controls" or cb.writes("rendered-store", "data")):
                found[name] = cb
    missing = sorted(set(EXPLORER_CALLBACKS) - set(found))
    if missing:
        raise ProtocolError(f"callbacks not found in the dependencies: {', '.join(missing)}")
    return found


def components(tree: Any) -> Iterator[tuple[str, dict[str, Any]]]:
    """(id key, props) of every component with an id in a layout tree, in layout order."""
    if isinstance(tree, list):
        for child in tree:
            yield from components(child)
    elif isinstance(tree, dict) and isinstance(tree.get("props"), dict):
        props = tree["props"]
        if "id" in props:
            yield id_key(props["id"]), props
        yield from components(props.get("children"))


class Page:
    """One open Explorer page: the component tree with its current property values."""

    def __init__(self, layout: Any, callbacks: dict[str, Callback], end_id: str | None, link: str) -> None:
        self.tree = layout
        self.callbacks = callbacks
        self.end_id = end_id
        self.link = link  # the address bar: the page's path and query
        self.index: dict[str, dict[str, Any]] = {}
        self.reindex()

    def reindex(self) -> None:
        """Index the components by id, in layout order."""
        self.index = dict(components(self.tree))

    # values

    def get(self, key: str, prop: str, default: Any = None) -> Any:
        return self.index.get(key, {}).get(prop, default)

    def set(self, key: str, prop: str, value: Any) -> None:
        self.index[key][prop] = value

    def ids_of(self, type_: str) -> list[str]:
        """Keys of the pattern-matching components of one ``type``, in layout order."""
        return [k for k, p in self.index.items() if isinstance(p.get("id"), dict) and p["id"].get("type") == type_]

    def matches(self, pattern: dict[str, Any]) -> list[str]:
        out = []
        for key, props in self.index.items():
            cid = props.get("id")
            if not isinstance(cid, dict) or set(cid) != set(pattern):
                continue
            if all(isinstance(v, list) or cid[k] == v for k, v in pattern.items()):  # ["ALL"] matches anything
                out.append(key)
        return out

    # requests

    def _entry(self, key: str, prop: str, with_value: bool) -> dict[str, Any]:
        cid = json.loads(key) if key.startswith("{") else key
        entry: dict[str, Any] = {"id": cid, "property": prop}
        value = self.get(key, prop, MISSING)
        if with_value and value is not MISSING:  # a property the component does not have yet is left out
            entry["value"] = value
        return entry

    def _resolve(self, dep_id: str, prop: str, with_value: bool) -> Any:
        if dep_id.startswith("{"):
            return [self._entry(k, prop, with_value) for k in self.matches(json.loads(dep_id))]
        return self._entry(dep_id, prop, with_value)

    def triggered(self, name: str, changes: list[tuple[str, str]]) -> list[str]:
        """The 'id.prop' list the renderer sends to callback ``name`` after ``changes``: its inputs among them."""
        inputs = set(self.input_props(name))
        return list(dict.fromkeys(f"{k}.{p}" for k, p in changes if (k, p) in inputs))

    def input_props(self, name: str) -> list[tuple[str, str]]:
        """(id key, property) of every input of a callback, pattern ids expanded."""
        out = []
        for dep_id, prop in self.callbacks[name].inputs:
            keys = self.matches(json.loads(dep_id)) if dep_id.startswith("{") else [dep_id]
            out += [(k, prop) for k in keys]
        return out

    def body(self, name: str, changed: list[str]) -> dict[str, Any]:
        """The JSON body the renderer posts to run callback ``name`` after ``changed`` ('id.prop') changed."""
        cb = self.callbacks[name]
        inputs = {f"{k}.{p}" for k, p in self.input_props(name)}
        stray = [c for c in changed if c not in inputs]
        if stray:
            raise DriftError(f"{name}: {stray[0]} is no longer one of its inputs")
        outputs = [self._resolve(i, p, False) for i, p in cb.outputs]
        return {
            "output": cb.output,
            "outputs": outputs if cb.multi else outputs[0],
            "inputs": [self._resolve(i, p, True) for i, p in cb.inputs],
            "changedPropIds": changed,
            "parsedChangedPropsIds": [_parsed(c) for c in changed],
            "state": [self._resolve(i, p, True) for i, p in cb.state],
        }

    def apply(self, answer: dict[str, Any]) -> list[tuple[str, str]]:
        """Apply a callback's answer; returns what changed, in the renderer's order: the (id, property)
        pairs it set, and for new children every property of every component in them."""
        changes: list[tuple[str, str]] = []
        relayout = False
        for key, props in answer.get("response", {}).items():
            for prop, value in props.items():
                prop = prop.split("@")[0]
                if key not in self.index:
                    continue
                self.index[key][prop] = value
                changes.append((key, prop))
                if prop == "children":
                    relayout = True
                    changes += [(k, p) for k, new in components(value) for p in new]
        if relayout:
            self.reindex()
        return changes


# --------------------------------------------------------------------------- checks of the answers


def _json(data: bytes, what: str) -> Any:
    try:
        return json.loads(data)
    except ValueError:
        raise ProtocolError(f"{what}: the answer is not JSON") from None


def _outputs(data: bytes, need: tuple[str, ...], what: str) -> dict[str, Any]:
    answer = _json(data, what)
    response = answer.get("response") if isinstance(answer, dict) else None
    if not isinstance(response, dict):
        raise ProtocolError(f"{what}: no 'response' in the answer")
    lacking = [k for k in need if k not in response]
    if lacking:
        raise ProtocolError(f"{what}: the answer lacks {', '.join(lacking)}")
    return answer


def check_view(answer: dict[str, Any], what: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """(config store, payload) of a ``collect`` answer, checked: a configuration and drawable trajectories."""
    response = answer["response"]
    store = response["config-store"].get("data")
    payload = response["payload-store"].get("data")
    if not (isinstance(store, dict) and isinstance(store.get("cfg"), dict) and str(store.get("query")).startswith("?")):
        raise ProtocolError(f"{what}: no configuration in the answer")
    if not isinstance(payload, dict) or not isinstance(payload.get("slots"), list) or not payload["slots"]:
        raise ProtocolError(f"{what}: no trajectories in the answer")
    return store, payload


class _IndexParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.files: list[str] = []
        self.config = ""
        self._in_config = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "script" and a.get("src"):
            self.files.append(a["src"] or "")
        elif tag == "link" and a.get("href") and (a.get("rel") or "") in ("stylesheet", "icon"):
            self.files.append(a["href"] or "")
        self._in_config = tag == "script" and a.get("id") == "_dash-config"

    def handle_data(self, data: str) -> None:
        if self._in_config:
            self.config += data

    def handle_endtag(self, tag: str) -> None:
        self._in_config = False


def read_index(html: bytes) -> tuple[list[str], str | None]:
    """The files a page's HTML loads and its Dash ``end_id`` (sent back with every callback)."""
    parser = _IndexParser()
    parser.feed(html.decode("utf-8", "replace"))
    if not parser.config:
        raise ProtocolError("page: no Dash configuration in the HTML")
    config = _json(parser.config.encode(), "page")
    return [f for f in parser.files if f.startswith("/")], config.get("end_id")


# --------------------------------------------------------------------------- a student


def lesson_links() -> dict[str, str]:
    """Lesson name → the query of its link (what a teacher shares)."""
    from app.explorer.presets import PRESETS
    from app.explorer.state import to_query

    return {p.name: to_query(p.config) for p in PRESETS}


def slider_number(position: float, scale: str | None) -> float:
    """The exact number a slider position shows (the browser's slider → number rule)."""
    if scale == "log":
        return float(f"{10.0 ** position:.3g}")
    if scale == "int":
        return float(round(position))
    return float(f"{position:.6g}")


class Student:
    """One browser tab on the Explorer; ``record`` receives a :class:`Sample` per request."""

    def __init__(self, base: str, rng: random.Random, record: Callable[[Sample], None], *, lessons: dict[str, str],
                 assets: bool = True, timeout: float = 30.0, t0: float | None = None) -> None:  # fmt: skip
        self.base = base.rstrip("/")
        self.rng = rng
        self.record = record
        self.lessons = lessons
        self.assets = assets
        self.http = Http(self.base, timeout)
        self.commits = 0  # slider moves the page has committed since it was loaded
        self.t0 = time.perf_counter() if t0 is None else t0
        self.page: Page | None = None
        self.cached: set[str] = set()  # files this browser already holds

    # one request

    def _send(self, kind: str, method: str, path: str, check: Callable[[int, bytes], Any], body: Any = None,
              referer: str | None = None, may_skip: bool = False) -> Any:  # fmt: skip
        """One request, checked by ``check(status, body)`` and recorded; ``may_skip``: a callback may answer
        204 (Dash's 'nothing to update'), which then gives None."""
        headers = {"Accept": "application/json" if method == "POST" else "*/*"}
        if referer:
            headers["Referer"] = self.base + referer
        data = None
        if body is not None:
            data = json.dumps(as_js(body), separators=(",", ":")).encode()
            headers["Content-Type"] = "application/json"
        start = time.perf_counter() - self.t0
        try:
            status, answer, seconds = self.http.request(method, path, data, headers)
        except (OSError, HTTPException) as exc:
            self.record(Sample(kind, start, time.perf_counter() - self.t0 - start, 0, f"{kind}: {type(exc).__name__}"))
            raise ProtocolError(str(exc)) from None
        error = None
        result = None
        try:
            if status == 204 and may_skip:
                result = None
            elif status != 200:
                raise ProtocolError(f"{kind}: HTTP {status}" + (" (no update)" if status == 204 else ""))
            else:
                result = check(status, answer)
        except ProtocolError as exc:
            error = str(exc)
        drew_map = isinstance(result, dict) and "map" in result.get("response", {})
        self.record(Sample(kind, start, seconds, status, error, len(answer), drew_map))
        if error:
            raise ProtocolError(error)
        return result

    def _callback(self, kind: str, name: str, changed: list[str], need: tuple[str, ...],
                  verify: Callable[[dict[str, Any]], None] | None = None, may_skip: bool = False) -> Any:  # fmt: skip
        """Run callback ``name`` of the page; its answer must hold the outputs ``need`` and pass ``verify``."""
        page = self.page
        assert page is not None
        path = UPDATE + (f"?endId={page.end_id}" if page.end_id else "")

        def check(status: int, data: bytes) -> dict[str, Any]:
            answer = _outputs(data, need, kind)
            if verify is not None:
                verify(answer)
            return answer

        return self._send(kind, "POST", path, check, page.body(name, changed), referer=page.link, may_skip=may_skip)

    def _view(self, kind: str, changed: list[str], verify: Callable[[dict[str, Any]], None] | None = None,
              must_change: bool = True) -> dict[str, Any]:  # fmt: skip
        """Run ``collect`` after ``changed``; the answer must be a new view (and pass ``verify(store)``)."""
        page = self.page
        assert page is not None
        store = page.get("config-store", "data")
        previous = store.get("query") if must_change and isinstance(store, dict) else None

        def check(answer: dict[str, Any]) -> None:
            new, _ = check_view(answer, kind)
            if previous is not None and new["query"] == previous:
                raise ProtocolError(f"{kind}: the view did not change")
            if verify is not None:
                verify(new)

        answer = self._callback(kind, "collect", changed, ("config-store", "payload-store"), check)
        page.apply(answer)
        store = answer["response"]["config-store"]["data"]
        page.link = "/" + store["query"]  # the page keeps its address bar in step with the view
        return store

    def _payload(self) -> dict[str, Any]:
        """The trajectories the page shows: the last view's, else the ones the page came with."""
        assert self.page is not None
        for store in ("payload-store", "payload-first-store"):
            data = self.page.get(store, "data")
            if isinstance(data, dict) and data.get("slots"):
                return data
        return {}

    def _fast_race(self, props: dict[str, Any], position: float) -> str | None:
        """The page's fast-path request for a moved optimizer slider (the new race, drawn before the move
        is committed to Dash); the link of the configuration it answered, None when the page sends none."""
        payload = self._payload()
        cid = props["id"]
        query = payload.get("query")
        if cid.get("group") != "hp" or payload.get("view") == "3d" or not isinstance(query, str):
            return None
        args = {"q": query, "slot": str(cid.get("slot")), "key": str(cid.get("key")),
                "s": json.dumps(as_js(position)), "scale": str(cid.get("scale"))}  # fmt: skip

        def check(status: int, data: bytes) -> str:
            # what the page uses of the answer: the payload, its trajectories and its link
            answer = _json(data, "fast")
            fresh = answer.get("payload") if isinstance(answer, dict) else None
            if not isinstance(fresh, dict) or not isinstance(fresh.get("slots"), list) or not fresh["slots"]:
                raise ProtocolError("fast: no trajectories in the answer")
            if not str(fresh.get("query")).startswith("?"):
                raise ProtocolError("fast: the answer's payload has no link")
            return fresh["query"]

        assert self.page is not None
        return self._send("fast", "GET", FAST_RACE + "?" + urlencode(args), check, referer=self.page.link)

    # actions

    def open(self, lesson: str | None = None) -> None:
        """Open a lesson's link in this tab (a random lesson by default)."""
        name = lesson or self.rng.choice(sorted(self.lessons))
        link = "/" + self.lessons[name]
        self.page = None
        files, end_id = self._send("page", "GET", link, lambda s, d: read_index(d))
        if self.assets:
            for path in [*files, *LAZY_SCRIPTS]:
                if path not in self.cached:
                    self._send(STATIC, "GET", path, lambda s, d: None if d else _raise("static: empty file"))
                    self.cached.add(path)

        def check_layout(status: int, data: bytes) -> Page:
            page = Page(_json(data, "layout"), {}, end_id, link)
            first = page.get("payload-first-store", "data")
            if not isinstance(first, dict) or not first.get("slots"):
                raise ProtocolError("layout: the page comes without its trajectories")
            return page

        page = self._send("layout", "GET", "/_dash-layout", check_layout, referer=link)
        page.callbacks = self._send("deps", "GET", "/_dash-dependencies",
                                    lambda s, d: explorer_callbacks(_json(d, "deps")), referer=link)  # fmt: skip
        self.page = page
        page.set("url", "search", self.lessons[name])  # the location component reports the address at mount
        self.commits = 0
        answer = self._callback("boot", "controls", ["url.search"], ("boot-store",))
        booted = ("boot-store", "data") in page.apply(answer) and page.get("boot-store", "data")
        # the formulas: asked for when the page boots and, if the page waits for its first map to be
        # painted before typesetting, again then (the first request may have nothing to do yet)
        tex_inputs = page.input_props("tex")
        waits = TEX_READY in page.index and (TEX_READY, "data") in tex_inputs
        if booted and ("boot-store", "data") in tex_inputs:
            answer = self._callback("tex", "tex", ["boot-store.data"], ("surface-tex",), may_skip=waits)
            if answer is not None:
                page.apply(answer)
        if waits:
            page.set(TEX_READY, "data", True)
            page.apply(self._callback("tex", "tex", [TEX_READY + ".data"], ("surface-tex",)))

    def move_slider(self, key: str | None = None) -> None:
        """Drag a slider (``key``, else a random one: half of the time a learning rate) to a random position."""
        page = self.page
        assert page is not None
        if key is None:
            sliders = page.ids_of("slider")
            rates = [k for k in sliders if page.index[k]["id"].get("key") == "lr"]
            key = self.rng.choice(rates if rates and self.rng.random() < 0.5 else sliders)
        props = page.index[key]
        lo, hi, step = float(props["min"]), float(props["max"]), float(props.get("step") or 1)
        n = max(1, round((hi - lo) / step))
        now = props.get("value")
        decimals = max(0, -math.floor(math.log10(step))) + 2
        for _ in range(20):
            value = round(lo + self.rng.randint(0, n) * step, decimals)
            if value != now:
                break
        page.set(key, "value", value)
        answered = self._fast_race(props, value)
        # the page puts the new number beside the slider, then commits the move (the callback's trigger)
        num = id_key({**props["id"], "type": "num"})
        if num in page.index:
            page.set(num, "value", slider_number(value, props["id"].get("scale")))
        changed = [key + ".value"]
        if (COMMIT, "data") in page.input_props("collect"):
            self.commits += 1
            page.set(COMMIT, "data", {"id": json.loads(key), "n": self.commits})
            changed = [COMMIT + ".data"]

        def agrees_with_fast(store: dict[str, Any]) -> None:
            if answered is not None and answered != store["query"]:  # the same configuration, by design
                raise ProtocolError("slider: the fast path answered another configuration than the callback")

        self._view("slider", changed, agrees_with_fast)

    def click_map(self) -> None:
        """Click a random point of the map: the start of every optimizer moves there."""
        page = self.page
        assert page is not None
        (x0, x1), (y0, y1) = self._payload().get("bounds") or [[-1, 1], [-1, 1]]
        span = max(x1 - x0, y1 - y0)
        decimals = max(0, min(8, 3 - math.floor(math.log10(span))))  # the browser's rounding of a click
        mx, my = 0.02 * (x1 - x0), 0.02 * (y1 - y0)
        x = round(self.rng.uniform(x0 + mx, x1 - mx), decimals)
        y = round(self.rng.uniform(y0 + my, y1 - my), decimals)
        page.set("start-x", "value", x)
        page.set("start-y", "value", y)

        def starts_there(store: dict[str, Any]) -> None:
            start = store["cfg"].get("start")
            if not (isinstance(start, list) and len(start) == 2 and max(abs(start[0] - x), abs(start[1] - y)) < 1e-9):
                raise ProtocolError(f"click: the view starts at {start}, not at the clicked point")

        self._view("click", ["start-x.value", "start-y.value"], starts_there)

    def pick_lesson(self) -> None:
        """Click a lesson button: the controls are re-rendered for it, then its view is computed."""
        page = self.page
        assert page is not None
        key = self.rng.choice(page.ids_of("preset"))
        name = page.index[key]["id"]["name"]
        page.set(key, "n_clicks", (page.get(key, "n_clicks") or 0) + 1)
        answer = self._callback("lesson", "controls", [key + ".n_clicks"], ("optimizer-cards", "rendered-store"))
        changed = page.triggered("collect", page.apply(answer))

        def is_the_lesson(store: dict[str, Any]) -> None:
            if name in self.lessons and store["query"] != self.lessons[name]:
                raise ProtocolError(f"lesson-view: lesson {name} shows another view")

        self._view("lesson-view", changed, is_the_lesson, must_change=False)

    def act(self, action: str) -> None:
        if self.page is None or action == "open":
            self.open()
        elif action == "slider":
            self.move_slider()
        elif action == "click":
            self.click_map()
        elif action == "lesson":
            self.pick_lesson()
        else:
            raise ValueError(f"unknown action {action!r}")


def _raise(message: str) -> Any:
    raise ProtocolError(message)


# --------------------------------------------------------------------------- the class


@dataclass
class Results:
    samples: list[Sample] = field(default_factory=list)
    actions: list[tuple[str, float, bool]] = field(default_factory=list)  # (action, seconds, ok)
    elapsed: float = 0.0
    reconnects: int = 0
    client_cpu: float = 0.0  # seconds of CPU this process used


def parse_mix(text: str) -> dict[str, float]:
    mix: dict[str, float] = {}
    for item in text.split(","):
        name, _, weight = item.partition("=")
        if name.strip() not in ACTIONS:
            raise ValueError(f"--mix: unknown action {name!r} (one of {', '.join(ACTIONS)})")
        mix[name.strip()] = float(weight)
    if not mix or min(mix.values()) < 0 or sum(mix.values()) <= 0:
        raise ValueError("--mix needs positive weights")
    return mix


def run_class(base: str, *, students: int, duration: float, think: tuple[float, float] = (0.5, 2.0), ramp: float = 5.0,
              mix: dict[str, float] | None = None, assets: bool = True, seed: int = 1, timeout: float = 30.0,
              lessons: dict[str, str] | None = None) -> Results:  # fmt: skip
    """``students`` tabs, arriving over ``ramp`` seconds, each acting until ``duration`` seconds have passed."""
    mix = mix or parse_mix(DEFAULT_MIX)
    lessons = lessons or lesson_links()
    results = Results()
    lock = threading.Lock()

    def record(sample: Sample) -> None:
        with lock:
            results.samples.append(sample)

    t0 = time.perf_counter()
    cpu0 = time.process_time()
    deadline = t0 + duration
    names, weights = list(mix), list(mix.values())
    tabs: list[Student] = []

    def student(i: int) -> None:
        rng = random.Random(seed * 1_000_003 + i)
        tab = Student(base, rng, record, lessons=lessons, assets=assets, timeout=timeout, t0=t0)
        tabs.append(tab)
        time.sleep(ramp * i / max(1, students))
        action = "open"
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            action = "open" if tab.page is None else action
            ok = True
            try:
                tab.act(action)
            except ProtocolError:
                ok = False
                tab.page = None  # as a user would: reload
            except Exception as exc:  # a bug of this client, or an answer it cannot read: counted, never silent
                ok = False
                tab.page = None
                record(Sample("client", started - t0, 0.0, 0, f"{action}: the client could not go on: {exc!r}"[:160]))
            with lock:
                results.actions.append((action, time.perf_counter() - started, ok))
            pause = rng.uniform(*think)
            if time.perf_counter() + pause >= deadline:
                break
            time.sleep(pause)
            action = rng.choices(names, weights)[0]
        tab.http.close()

    threads = [threading.Thread(target=student, args=(i,), name=f"student-{i}", daemon=True) for i in range(students)]
    for t in threads:
        t.start()
    for t in threads:
        while t.is_alive():
            t.join(0.5)
    results.elapsed = time.perf_counter() - t0
    results.client_cpu = time.process_time() - cpu0
    results.reconnects = sum(t.http.reconnects for t in tabs)
    return results


# --------------------------------------------------------------------------- the server


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Server:
    base: str
    workers: int | None
    threads: int | None
    proc: subprocess.Popen | None = None
    log_path: Path | None = None
    log: str = ""

    def cpu_seconds(self) -> float | None:
        """CPU used so far by the server and its workers (Linux /proc), or None."""
        if self.proc is None:
            return None
        try:
            tick = os.sysconf("SC_CLK_TCK")
            stats = {}
            for entry in Path("/proc").iterdir():
                if entry.name.isdigit():
                    try:
                        rest = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                    except (OSError, IndexError):
                        continue
                    stats[int(entry.name)] = rest
        except OSError:
            return None
        tree, grew = {self.proc.pid}, True
        while grew:
            more = {pid for pid, rest in stats.items() if int(rest[1]) in tree} - tree
            tree |= more
            grew = bool(more)
        total = 0
        for pid in tree:
            rest = stats.get(pid)
            if rest:
                total += sum(int(v) for v in rest[11:13])  # utime, stime
                if pid == self.proc.pid:
                    total += sum(int(v) for v in rest[13:15])  # workers that already exited
        return total / tick


def machine_busy_seconds() -> float | None:
    """CPU seconds all processes of this machine have used since boot (Linux /proc/stat), or None."""
    try:
        fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    except (OSError, IndexError):
        return None
    ticks = [int(v) for v in fields[:8]]  # user nice system idle iowait irq softirq steal
    return (sum(ticks) - ticks[3] - ticks[4]) / os.sysconf("SC_CLK_TCK")


def wait_health(base: str, proc: subprocess.Popen | None, timeout: float) -> None:
    http = Http(base, 2.0)
    end = time.perf_counter() + timeout
    while True:
        try:
            status, body, _ = http.request("GET", "/health")
            if status == 200 and json.loads(body).get("status") == "ok":
                http.close()
                return
        except (OSError, HTTPException, ValueError):
            pass
        http.close()
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"the server exited with status {proc.returncode} before answering")
        if time.perf_counter() > end:
            raise TimeoutError(f"{base}/health did not answer within {timeout:.0f} s")
        time.sleep(0.2)


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)  # gunicorn: graceful stop of the workers
    try:
        proc.wait(timeout=40)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)


@contextmanager
def served(workers: int, threads: int, *, log_path: Path | None = None, timeout: float = 180.0) -> Iterator[Server]:
    """``descent-lab serve`` on a free localhost port with empty stores of its own; stopped on exit."""
    stores = Path(tempfile.mkdtemp(prefix="descent-lab-bench-"))
    port = free_port()
    env = {**os.environ, "DESCENT_LAB_JOBS_DIR": str(stores / "jobs"),
           "DESCENT_LAB_RESULTS_DIR": str(stores / "results")}  # fmt: skip
    env.setdefault("NUMBA_CACHE_DIR", str(ROOT / ".numba_cache"))
    log_file = log_path or stores / "server.log"
    cmd = [sys.executable, "-m", "app.cli", "serve", "--host", "127.0.0.1", "--port", str(port),
           "--workers", str(workers), "--threads", str(threads)]  # fmt: skip
    server = Server(f"http://127.0.0.1:{port}", workers, threads, log_path=log_file)
    try:
        with open(log_file, "wb") as log:
            # its own session: Ctrl-C reaches only this script, which then stops the server itself
            server.proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                                           start_new_session=True)  # fmt: skip
        wait_health(server.base, server.proc, timeout)
        yield server
    finally:
        if server.proc is not None:
            _stop(server.proc)
        if log_file.exists():
            server.log = log_file.read_text(errors="replace")
        shutil.rmtree(stores, ignore_errors=True)


def log_problems(log: str) -> list[str]:
    """Tracebacks and worker failures in a gunicorn log, one block each."""
    blocks: list[str] = []
    lines = log.splitlines()
    for i, line in enumerate(lines):
        if line.startswith("Traceback"):
            end = i + 1
            while end < len(lines) and (lines[end].startswith((" ", "\t")) or not re.match(r"^\[?\d{4}-", lines[end])):
                end += 1
            blocks.append("\n".join(lines[max(0, i - 1):end]))
        elif re.search(r"WORKER TIMEOUT|Worker \(pid:\d+\) was sent|\[ERROR\]|\[CRITICAL\]", line):
            blocks.append(line)
    return blocks


# --------------------------------------------------------------------------- report


def percentile(values: list[float], q: float) -> float:
    s = sorted(values)
    if not s:
        return math.nan
    k = (len(s) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (k - lo)


def summary(times: list[float], errors: int) -> dict[str, float]:
    ms = [t * 1e3 for t in times]
    return {"n": len(ms), "errors": errors, "p50": percentile(ms, 0.5), "p95": percentile(ms, 0.95),
            "p99": percentile(ms, 0.99), "max": max(ms) if ms else math.nan}  # fmt: skip


def figures(results: Results) -> dict[str, Any]:
    """Latency percentiles (ms) per request kind and per action, throughput and errors."""
    timed = [s for s in results.samples if s.kind != "client"]  # failed requests included: the user waited
    by_kind: dict[str, list[float]] = defaultdict(list)
    for s in timed:
        by_kind[s.kind].append(s.seconds)
    errors = Counter(s.error for s in results.samples if s.error)
    failed = Counter(s.kind for s in results.samples if s.error)
    rows = {k: summary(by_kind[k], failed[k]) for k in KINDS if by_kind[k] or failed[k]}
    views = [s for s in timed if s.kind in VIEWS]
    for label, drawn in (("map redrawn", True), ("map kept", False)):
        part = [s for s in views if s.map == drawn]
        rows[label] = summary([s.seconds for s in part], sum(1 for s in part if s.error))
    rows["all but static"] = summary([s.seconds for s in timed if s.kind != STATIC],
                                     sum(n for k, n in failed.items() if k != STATIC))  # fmt: skip
    rows["all requests"] = summary([s.seconds for s in timed], sum(failed.values()))
    acts: dict[str, list[float]] = defaultdict(list)
    act_failed: Counter[str] = Counter()
    for name, seconds, ok in results.actions:
        acts[name].append(seconds)
        act_failed[name] += not ok
    elapsed = results.elapsed or math.nan
    return {
        "requests": rows,
        "actions": {a: summary(acts[a], act_failed[a]) for a in ACTIONS if a in acts},
        "elapsed_s": results.elapsed,
        "requests_per_s": len(timed) / elapsed,
        "app_requests_per_s": sum(1 for s in timed if s.kind != STATIC) / elapsed,
        "actions_per_s": len(results.actions) / elapsed,
        "errors": dict(errors.most_common()),
        "error_count": sum(errors.values()),
        "reconnects": results.reconnects,
        "client_cpu_s": results.client_cpu,
        "mb_received": sum(s.nbytes for s in results.samples) / 1e6,
    }


def _table(title: str, rows: dict[str, dict[str, float]]) -> list[str]:
    out = [f"{title:<16}{'n':>7}{'errors':>8}{'p50':>9}{'p95':>9}{'p99':>9}{'max':>9}   (ms)"]
    for name, r in rows.items():
        ms = "".join(f"{r[q]:>9.1f}" for q in ("p50", "p95", "p99", "max"))
        out.append(f"  {name:<14}{r['n']:>7}{r['errors']:>8}{ms}")
    return out


def report(fig: dict[str, Any], header: list[str], footer: list[str]) -> str:
    lines = [*header, ""]
    lines += _table("request", fig["requests"]) + [""]
    lines += _table("action", fig["actions"]) + [""]
    lines.append(f"throughput      {fig['requests_per_s']:.1f} requests/s ({fig['app_requests_per_s']:.1f} without "
                 f"static files), {fig['actions_per_s']:.1f} actions/s, {fig['mb_received']:.0f} MB received in "
                 f"{fig['elapsed_s']:.1f} s")  # fmt: skip
    again = f"   (requests sent again after a closed keep-alive: {fig['reconnects']})" if fig["reconnects"] else ""
    lines.append(f"errors          {fig['error_count']}{again}")
    for text, count in fig["errors"].items():
        lines.append(f"  {count:>5} × {text}")
    return "\n".join(lines + footer)


def _think(text: str) -> tuple[float, float]:
    lo, sep, hi = text.partition(":")
    a, b = float(lo), float(hi if sep else lo)
    if not 0 <= a <= b:
        raise argparse.ArgumentTypeError("--think is MIN:MAX seconds, 0 ≤ MIN ≤ MAX")
    return a, b


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--students", type=int, default=50, help="simulated students (default 50)")
    p.add_argument("--duration", type=float, default=60.0, help="seconds of load (default 60)")
    p.add_argument("--workers", type=int, default=2, help="server workers (default 2)")
    p.add_argument("--threads", type=int, default=4, help="threads per worker (default 4)")
    p.add_argument("--think", type=_think, default=None,
                   help="think time between actions, MIN:MAX s (0.5:2); with --classroom, before an answer (0.3:1.5)")
    p.add_argument("--ramp", type=float, default=5.0, help="seconds over which the students arrive (default 5)")
    p.add_argument("--mix", default=DEFAULT_MIX, help=f"action weights (default {DEFAULT_MIX})")
    p.add_argument("--no-static", action="store_true", help="do not fetch scripts and style sheets on a first visit")
    p.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    p.add_argument("--timeout", type=float, default=30.0, help="seconds before a request counts as failed (30)")
    p.add_argument("--url", help="an already running server (not started or stopped by this script)")
    p.add_argument("--server-log", type=Path, help="keep the started server's log in this file")
    p.add_argument("--json", type=Path, help="also write the figures to this file as JSON")
    p.add_argument("--classroom", action="store_true",
                   help="a class room instead: one teacher steps through lessons, the students follow it")
    p.add_argument("--dwell", default="3:5", help="with --classroom: seconds on each step, MIN:MAX (3:5)")
    p.add_argument("--lessons", default="gd_quadratic,momentum_nesterov",
                   help="with --classroom: the lessons the teacher steps through, in turn")
    args = p.parse_args(argv)
    try:
        mix = parse_mix(args.mix)
    except ValueError as exc:
        p.error(str(exc))
    if args.students < 1 or args.duration <= 0:
        p.error("--students and --duration must be positive")

    def stop_on_term(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop_on_term)
    lessons = {} if args.classroom else lesson_links()

    @contextmanager
    def target() -> Iterator[Server]:
        if args.url:
            base = args.url.rstrip("/")
            wait_health(base, None, 10)
            yield Server(base, None, None)
        else:
            print(f"starting the server: {args.workers} workers × {args.threads} threads …", file=sys.stderr,
                  flush=True)  # fmt: skip
            with served(args.workers, args.threads, log_path=args.server_log) as server:
                yield server

    if args.classroom:  # the scenario lives in its own module, which uses this one's client
        sys.modules.setdefault("bench_load", sys.modules[__name__])
        if str(Path(__file__).parent) not in sys.path:
            sys.path.insert(0, str(Path(__file__).parent))
        import classroom_load

        return classroom_load.main(args, target)
    if args.think is None:
        args.think = (0.5, 2.0)
    with target() as server:
        load0 = os.getloadavg()
        cpu0, busy0 = server.cpu_seconds(), machine_busy_seconds()
        print(f"{args.students} students for {args.duration:g} s on {server.base} …", file=sys.stderr, flush=True)
        results = run_class(server.base, students=args.students, duration=args.duration, think=args.think,
                            ramp=args.ramp, mix=mix, assets=not args.no_static, seed=args.seed,
                            timeout=args.timeout, lessons=lessons)  # fmt: skip
        cpu1, busy1 = server.cpu_seconds(), machine_busy_seconds()
        load1 = os.getloadavg()
    fig = figures(results)
    problems = log_problems(server.log) if server.proc is not None else []
    where = (f"started here: {server.workers} workers × {server.threads} threads (gthread)" if server.proc is not None
             else "already running (workers and threads not known here)")  # fmt: skip
    header = [
        f"Descent Lab classroom load test: {args.students} students, {args.duration:g} s, think "
        f"{args.think[0]:g}–{args.think[1]:g} s, ramp {args.ramp:g} s, mix {args.mix}",
        f"server          {server.base}, {where}",
        f"machine         {os.cpu_count()} CPUs, load average {load0[0]:.2f} {load0[1]:.2f} {load0[2]:.2f} before, "
        f"{load1[0]:.2f} {load1[1]:.2f} {load1[2]:.2f} after",
    ]
    # where the machine's CPU went during the run (in cores): the server, this script, everything else
    client = results.client_cpu / results.elapsed
    cpu = f"load generator {client:.2f}"
    if cpu0 is not None and cpu1 is not None:
        cpu = f"server {(cpu1 - cpu0) / results.elapsed:.2f}, " + cpu
    if busy0 is not None and busy1 is not None:
        busy = (busy1 - busy0) / results.elapsed
        others = busy - client - ((cpu1 - cpu0) / results.elapsed if cpu0 is not None and cpu1 is not None else 0.0)
        cpu = f"{busy:.2f} of {os.cpu_count()} cores busy: {cpu}, other processes {max(0.0, others):.2f}"
    footer = [f"CPU             {cpu} (cores, averaged over the run)"]
    if server.proc is not None:
        footer.append(f"server log      {len(problems)} problem(s)" + (":" if problems else ""))
        footer += ["  " + line for block in problems[:3] for line in block.splitlines()]
    p95 = fig["requests"]["all but static"]["p95"]
    verdict = "met" if fig["error_count"] == 0 and p95 <= 300 else "missed"
    footer.append(f"target          0 errors and p95 ≤ 300 ms (all requests but static files): {verdict}, "
                  f"{fig['error_count']} errors, p95 {p95:.0f} ms")  # fmt: skip
    print(report(fig, header, footer))
    if args.json:
        fig.update(students=args.students, duration=args.duration, workers=server.workers, threads=server.threads,
                   load_before=load0, load_after=load1, server_log_problems=problems, cpu=cpu)  # fmt: skip
        args.json.write_text(json.dumps(fig, indent=2, default=str))
    return 0


if __name__ == "__main__":
    try:
        raise SystemExit(main())
    except KeyboardInterrupt:
        print("interrupted (a server this script started has been stopped)", file=sys.stderr)
        raise SystemExit(130) from None
