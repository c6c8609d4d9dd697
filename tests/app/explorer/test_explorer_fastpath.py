"""The Explorer's fast path: one hyperparameter moved, the race recomputed, over plain HTTP."""

from __future__ import annotations

import math
from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app import create_app
from app.explorer import views
from app.explorer.compute import unb64
from app.explorer.fastpath import ROUTE, BadRequest, moved
from app.explorer.inputs import Cards, Form, Numbers, config_from_controls, resolve_numbers, slider_value
from app.explorer.state import DEFAULT, from_query, to_query


@pytest.fixture(scope="module")
def client():
    return create_app(warm=False).server.test_client()


def args(**kw):
    base = {"q": to_query(DEFAULT), "slot": "0", "key": "lr", "s": "-2", "scale": "log"}
    base.update({k: str(v) for k, v in kw.items()})
    return base


def test_a_slider_position_sets_that_optimizers_value():
    cfg = moved(args(slot=3, key="lr", s=math.log10(0.0123456)))
    assert cfg.optimizers[3].name == DEFAULT.optimizers[3].name
    assert dict(cfg.optimizers[3].values)["lr"] == 0.0123  # three digits, like the page's number box
    for i in (0, 1, 2, 4, 5):
        assert cfg.optimizers[i] == DEFAULT.optimizers[i]
    assert slider_value(-2.0, "log") == 0.01 and slider_value(2.6, "int") == 3.0 and slider_value(0.1234567, "lin") == 0.123457


def test_the_fast_path_and_the_dash_callback_reach_the_same_configuration():
    """The slider value the callback resolves is the one the endpoint sets, so the second is a cache hit."""
    s = -2.51
    fast = moved(args(slot=0, key="lr", s=s))
    sid = {"type": "slider", "group": "hp", "slot": 0, "key": "lr", "scale": "log"}
    nid = dict(sid, type="num")
    fired = {("slider", "hp", 0, "lr")}
    values = resolve_numbers(Numbers((0.001,), (nid,), (s,), (sid,), ((-5.0, 1.0, 0.01),)), fired)
    assert values == [slider_value(s, "log")]
    assert dict(fast.optimizers[0].values)["lr"] == values[0]
    form = Form(surface=DEFAULT.surface, formula="", start_x=DEFAULT.start[0], start_y=DEFAULT.start[1],
                steps=DEFAULT.steps, schedule="constant", clip="none", clip_value=1.0, noise=0.0, seed=0, view="2d",
                arrows=DEFAULT.arrows)  # box: all None
    cards = Cards(tuple({"name": e.name, "color": e.color} for e in DEFAULT.optimizers))
    dash = config_from_controls(form, Numbers((values[0],), (nid,)), cards)
    assert dict(dash.optimizers[0].values)["lr"] == dict(fast.optimizers[0].values)["lr"]


@pytest.mark.parametrize("part", ["group", "slot", "key"])
def test_a_parameter_id_with_a_part_that_cannot_name_one_keeps_its_typed_number(part):
    """Ids come from the browser: a dict or list where a name belongs is no parameter (no slider overrides it)."""
    for junk in ({"a": 1}, [1, 2]):
        sid = {"type": "slider", "group": "hp", "slot": 0, "key": "lr", "scale": "log", part: junk}
        nid = dict(sid, type="num")
        fired = {("slider", "hp", 0, "lr")}
        assert resolve_numbers(Numbers((0.001,), (nid,), (-2.51,), (sid,), ((-5.0, 1.0, 0.01),)), fired) == [0.001]


@pytest.mark.parametrize(
    "bad",
    [{"slot": "x"}, {"slot": "9"}, {"slot": "-1"}, {"s": "nan"}, {"s": "inf"}, {"s": "1e9"}, {"key": "LR;drop"},
     {"key": ""}, {"scale": "exp"}, {"q": "?" + "a" * 9000}, {"q": "?surface=beale&opt=adam", "slot": "3"}],
)  # fmt: skip
def test_malformed_requests_are_refused(bad):
    with pytest.raises(BadRequest):
        moved(args(**bad))


def test_the_endpoint_answers_the_payload_the_page_would_get(client):
    r = client.get(ROUTE + "?" + urlencode(args(slot=5, key="lr", s=-1.5)))
    assert r.status_code == 200 and "max-age" in r.headers["Cache-Control"]
    out = r.get_json()
    cfg = from_query(out["payload"]["query"])
    assert dict(cfg.optimizers[5].values)["lr"] == 0.0316
    expected = views.views_for(cfg, None, rev="x")["payload"]
    got = out["payload"]
    assert got["query"] == expected["query"] == to_query(cfg)
    assert [s["color"] for s in got["slots"]] == [s["color"] for s in expected["slots"]]
    assert (unb64(got["slots"][5]["x"]) == unb64(expected["slots"][5]["x"])).all()
    assert got["index"]["rev"] is None  # the page fills in its map's revision


def test_bad_requests_get_400_with_a_reason(client):
    r = client.get(ROUTE + "?" + urlencode(args(slot="seven")))
    assert r.status_code == 400 and r.get_json()["error"] == "bad request"


@settings(max_examples=80, deadline=None, suppress_health_check=list(HealthCheck), database=None)
@given(st.dictionaries(st.sampled_from(["q", "slot", "key", "s", "scale", "x"]), st.text(max_size=80), max_size=6))
def test_no_query_makes_the_endpoint_fail(client, params):
    r = client.get(ROUTE + "?" + urlencode(params))
    assert r.status_code in (200, 400)
