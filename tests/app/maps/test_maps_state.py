"""The Sweep maps URL state: every lesson, every setting and every hostile query round-trips to a valid map."""

from __future__ import annotations

from urllib.parse import parse_qs, parse_qsl

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from layout_tree import find

from app.maps.ids import Ids
from app.maps.layout import layout
from app.maps.presets import PRESETS, PRESETS_BY_NAME, lesson_for
from app.maps.state import DEFAULT_MAP, Axis, MapConfig, map_from_query, map_query


def test_every_lesson_round_trips_through_the_url():
    for p in PRESETS:
        q = map_query(p.config)
        assert map_from_query(q) == p.config
        back = map_from_query(dict(parse_qsl(q.lstrip("?"))))
        assert back == p.config and back.notes == ()
        assert lesson_for(back) == p.lesson
    assert map_from_query({}) == DEFAULT_MAP and layout({}) is not None


def test_query_carries_everything_a_map_shows():
    cfg = map_from_query({"kind": "hyper", "surface": "rosenbrock", "s.b": "50", "start": "-1.5,2", "steps": "300",
                            "opt": "nesterov,lr=0.002,momentum=0.8", "grid": "64", "show": "loss",
                            "ax": "momentum,0.1,0.95,lin", "ay": "lr,0.0001,0.01,log", "clip": "norm", "clipv": "2",
                            "noise": "0.1", "seed": "3"})  # fmt: skip
    assert cfg.notes == ()
    assert (cfg.kind, cfg.grid, cfg.show) == ("hyper", 64, "loss")
    assert cfg.base.surface == "rosenbrock" and dict(cfg.base.surface_params)["b"] == 50
    assert cfg.base.start == (-1.5, 2.0) and cfg.base.steps == 300
    assert cfg.entry.name == "nesterov" and cfg.entry.value("lr") == 0.002
    assert cfg.x_axis == Axis("momentum", 0.1, 0.95, False) and cfg.y_axis == Axis("lr", 1e-4, 1e-2, True)
    assert (cfg.base.clip, cfg.base.clip_value, cfg.base.noise, cfg.base.seed) == ("norm", 2.0, 0.1, 3)
    assert map_from_query(map_query(cfg)) == cfg


def test_missing_settings_come_from_the_default_map_not_the_explorer():
    cfg = map_from_query({"grid": "32"})
    assert cfg.base.surface == DEFAULT_MAP.base.surface and cfg.entry == DEFAULT_MAP.entry
    assert cfg.grid == 32 and cfg.notes == ()


@pytest.mark.parametrize(
    ("query", "expect"),
    [
        ({"kind": "<script>alert(1)</script>"}, "map kind"),
        ({"grid": "1e9"}, "grid"),
        ({"grid": "nan"}, "grid"),
        ({"steps": "99999"}, "steps"),
        ({"show": "rainbow"}, "colouring"),
        ({"surface": "../../etc/passwd"}, "unknown surface"),
        ({"opt": "adam,lr=-1"}, "lr"),
        ({"opt": "evil"}, "optimizer"),
        ({"kind": "hyper", "ax": "lr,inf,nan,log"}, "x axis"),
        ({"kind": "hyper", "ax": "amsgrad,0,1,lin"}, "x axis"),
        ({"kind": "hyper", "ax": "lr,1,0.1,log"}, "from < to"),
        ({"kind": "hyper", "opt": "sgd", "ax": "momentum,-5,2,log"}, "momentum"),
        ({"kind": "hyper", "ax": "lr,0.1,1,log", "ay": "lr,0.1,1,log"}, "axes must differ"),
        ({"x" * 200: "1"}, "unknown setting"),
        ({"grid": "9" * 5000}, "too long"),
    ],
)
def test_hostile_queries_fall_back_with_a_notice(query, expect):
    cfg = map_from_query(query)
    assert any(expect in n for n in cfg.notes), cfg.notes
    assert cfg.work <= 400 * 400 * 5000
    map_from_query(map_query(cfg))  # the repaired state is a valid link again
    page = layout(query)
    notice = find(page, Ids.NOTICE)
    assert notice.hidden is False and notice.children


def test_non_text_query_values_never_raise():
    for q in ({"grid": None}, {"grid": 3.5}, {"grid": ["1", "2"]}, {1: "x"}, {"opt": object()}, "grid=%zz&&=",
              {f"k{i}": "1" for i in range(500)}, None, 42):  # fmt: skip
        cfg = map_from_query(q)  # type: ignore[arg-type]
        assert isinstance(cfg, MapConfig)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(st.sampled_from(["kind", "grid", "show", "ax", "ay", "surface", "opt", "steps", "start",
                                        "s.kappa", "f", "box", "clip", "noise", "junk"]),
                       st.one_of(st.text(max_size=40), st.from_regex(r"[a-z_]+,-?[0-9.e]+,-?[0-9.e]+,(log|lin)"))))
def test_any_query_gives_a_valid_map_that_round_trips(query):
    cfg = map_from_query(query)
    assert isinstance(cfg, MapConfig)
    again = map_from_query(map_query(cfg))
    assert again == cfg and again.notes == ()


def test_query_links_are_parseable_explorer_links():
    cfg = PRESETS_BY_NAME["gd_quadratic"].config
    q = parse_qs(map_query(cfg).lstrip("?"))
    assert q["kind"] == ["hyper"] and q["ax"] == ["lr,0.05,3,lin"] and q["opt"] == ["sgd,lr=0.5,color=0"]


@pytest.mark.parametrize("query", ["theme=dark", "kind=hyper&theme=projector", {"theme": "light", "kind": "hyper"}])
def test_a_theme_in_the_link_is_accepted_silently_and_changes_nothing(query):
    """``?theme=`` belongs to the browser (assets/theme.js): no notice, the same map as without it."""
    without = {k: v for k, v in (parse_qsl(query) if isinstance(query, str) else query.items()) if k != "theme"}
    cfg = map_from_query(query)
    assert cfg.notes == () and cfg == map_from_query(without)
