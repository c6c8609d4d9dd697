"""No input makes the server answer 500: every callback and every link, fuzzed over HTTP.

The requests are built the way the browser builds them: for each server-side
callback in ``/_dash-dependencies``, the ids of its inputs, states and outputs are
taken from the real pages (pattern-matching ids expanded to the components the
page has), and each value is either the page's own or something hostile.
Background callbacks (maps, training) are left out: each would start a job; their
job functions sanitize the same way and are tested in their pages' tests.
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import quote

import pytest
from dash.development.base_component import Component
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app import create_app
from app.lab import page as lab_page
from app.explorer import layout
from app.maps import page as maps_page
from app.explorer.state import DEFAULT

WILD = (["ALL"], ["MATCH"], ["ALLSMALLER"])


@pytest.fixture(scope="module")
def dash_app():
    return create_app(warm=False)


@pytest.fixture(scope="module")
def client(dash_app):
    return dash_app.server.test_client()


def _components() -> dict[str, dict[str, Any]]:
    """Every component with an id on the three pages: json id → (id, props)."""
    found: dict[str, dict[str, Any]] = {}

    def walk(node: Any) -> None:
        if isinstance(node, (list, tuple)):
            for child in node:
                walk(child)
            return
        if not isinstance(node, Component):
            return
        cid = getattr(node, "id", None)
        if cid is not None:
            props = {k: v for k, v in node.to_plotly_json()["props"].items() if k != "children"}
            found[_id_text(cid)] = {"id": cid, "props": props}
        walk(getattr(node, "children", None))

    for root in (layout.page(DEFAULT), maps_page.layout({}), lab_page.layout({})):
        walk(root)
    return found


def _id_text(cid: Any) -> str:
    return json.dumps(cid, sort_keys=True, separators=(",", ":")) if isinstance(cid, dict) else str(cid)


COMPONENTS = _components()


def _parse_id(text: str) -> Any:
    return json.loads(text) if text.startswith("{") else text


def _matches(pattern: dict[str, Any], cid: Any) -> bool:
    if not isinstance(cid, dict) or set(cid) != set(pattern):
        return False
    return all(v in WILD or cid[k] == v for k, v in pattern.items())


def _concrete(pattern: Any) -> list[Any]:
    if not isinstance(pattern, dict):
        return [pattern]
    return [c["id"] for c in COMPONENTS.values() if _matches(pattern, c["id"])]


def _outputs(spec: str) -> list[tuple[Any, str]]:
    items = spec[2:-2].split("...") if spec.startswith("..") else [spec]
    out = []
    for item in items:
        cid, _, prop = item.rpartition(".")
        out.append((_parse_id(cid), prop))
    return out


def _server_callbacks(client) -> list[dict[str, Any]]:
    deps = client.get("/_dash-dependencies").get_json()
    return [d for d in deps if not d.get("clientside_function") and not d.get("background")]


def _callback_ids(client) -> list[str]:
    return [d["output"] for d in _server_callbacks(client)]


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(10**15), 10**15) | st.floats() | st.text(max_size=40),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)


def _value(draw: Any, cid: Any, prop: str) -> Any:
    """The page's own value (half the time), else something hostile."""
    real = COMPONENTS.get(_id_text(cid), {}).get("props", {}).get(prop.split("@")[0])
    return real if draw(st.booleans()) else draw(json_values)


def _match_value(pattern: Any, cid: Any) -> dict[str, Any]:
    return {k: cid[k] for k, v in pattern.items() if v == ["MATCH"]} if isinstance(pattern, dict) else {}


def _entries(draw: Any, deps: list[dict[str, Any]], match: dict[str, Any]) -> list[Any]:
    entries: list[Any] = []
    for dep in deps:
        pattern = _parse_id(dep["id"])
        ids = _concrete(pattern)
        ids = [c for c in ids if all(c.get(k) == v for k, v in match.items() if k in c)] if match else ids
        one = lambda c: {"id": c, "property": dep["property"], "value": _value(draw, c, dep["property"])}  # noqa: E731
        if isinstance(pattern, dict) and any(v in (["ALL"], ["ALLSMALLER"]) for v in pattern.values()):
            entries.append([one(c) for c in ids])
        else:
            entries.append(one(ids[0] if ids else pattern))
    return entries


@st.composite
def callback_request(draw: Any, dep: dict[str, Any]) -> dict[str, Any]:
    outputs = _outputs(dep["output"])
    match: dict[str, Any] = {}
    for cid, _ in outputs:  # a MATCH callback fires for one concrete component
        if isinstance(cid, dict) and ["MATCH"] in cid.values():
            options = _concrete(cid)
            if options:
                match = _match_value(cid, draw(st.sampled_from(options)))
            break
    inputs = _entries(draw, dep["inputs"], match)
    state = _entries(draw, dep["state"], match)
    out_specs: list[Any] = []
    for cid, prop in outputs:
        ids = [c for c in _concrete(cid) if all(c.get(k) == v for k, v in match.items())] if match else _concrete(cid)
        if isinstance(cid, dict) and any(v in (["ALL"], ["ALLSMALLER"]) for v in cid.values()):
            out_specs.append([{"id": c, "property": prop.split("@")[0]} for c in ids])
        else:
            out_specs.append({"id": ids[0] if ids else cid, "property": prop.split("@")[0]})
    flat = [e for group in inputs for e in (group if isinstance(group, list) else [group])]
    changed = [f"{_id_text(e['id'])}.{e['property']}" for e in flat]
    chosen = draw(st.lists(st.sampled_from(changed), max_size=2, unique=True)) if changed else []
    return {
        "output": dep["output"],
        "outputs": out_specs if dep["output"].startswith("..") else out_specs[0],
        "inputs": inputs,
        "state": state,
        "changedPropIds": chosen,
    }


def _post(client, body: dict[str, Any]):
    return client.post("/_dash-update-component", data=json.dumps(body), content_type="application/json")


def _assert_no_server_error(response) -> None:
    assert response.status_code < 500, response.get_data(as_text=True)[:500]
    text = response.get_data(as_text=True)
    assert "Traceback" not in text and not re.search(r"/(home|root|usr|tmp)/", text)


def test_every_server_callback_is_covered(client):
    ids = _callback_ids(client)
    assert len(ids) >= 15  # explorer, export, maps, lab
    for spec in ids:
        for cid, _ in _outputs(spec):
            assert _concrete(cid), f"no component on the pages for output {cid!r}"


@pytest.mark.parametrize("index", range(40))
def test_fuzzed_callback_requests_never_fail_the_server(client, index):
    deps = _server_callbacks(client)
    if index >= len(deps):
        assert index >= len(deps)  # fewer callbacks than slots: nothing to fuzz in this slot
        return
    dep = deps[index]

    @settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    @given(callback_request(dep))
    def check(body):
        _assert_no_server_error(_post(client, body))

    check()


malformed_bodies = st.one_of(
    st.just(b""),
    st.just(b"{"),
    st.just(b"[]"),
    st.just(b'{"output": 5}'),
    st.just(b'{"output": "no-such.children", "inputs": [], "state": []}'),
    json_values.map(lambda v: json.dumps(v).encode()),
    st.binary(max_size=200),
)


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck), database=None)
@given(malformed_bodies)
def test_malformed_callback_bodies_are_refused_not_crashed(client, body):
    r = client.post("/_dash-update-component", data=body, content_type="application/json")
    assert 400 <= r.status_code < 500, (body, r.status_code, r.get_data(as_text=True)[:300])


queries = st.one_of(
    st.text(max_size=300).map(lambda t: quote(t, safe="&=,;:+%")),  # as a browser would send it
    st.lists(st.tuples(st.sampled_from(["surface", "opt", "start", "steps", "preset", "noise", "seed", "view",
                                        "kind", "grid", "x", "y", "data", "hidden", "epochs", "limit", "lr", "q"]),
                       st.text(max_size=60)), max_size=8)  # fmt: skip
    .map(lambda kv: "&".join(f"{quote(k)}={quote(v)}" for k, v in kv)),
)


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck), database=None)
@given(st.sampled_from(["/", "/maps", "/lab"]), queries)
def test_any_link_gives_a_page(client, path, query):
    assert client.get(path + "?" + query).status_code == 200
    r = client.get("/_dash-layout", headers={"Referer": f"http://localhost{path}?{query}"})
    _assert_no_server_error(r)
    assert r.status_code == 200 and r.get_json()["type"] == "Div"
