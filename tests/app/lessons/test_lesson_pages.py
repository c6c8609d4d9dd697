"""The lesson pages without a browser: routing, the index, the player's step, its callbacks."""

from __future__ import annotations

import json

from dash import no_update

from app import PAGES, PREFIX_PAGES
from app.lessons.callbacks import clicked_point, point_outputs, reveal_outputs
from app.lessons.ids import AUTOPLAY_ATTR, HIDE_ATTR, LOCK_ATTR, REPLAY_ATTR, VIEW_ATTR, Ids
from app.lessons.layout import index, player, step_number
from app.lessons.library import library
from app.lessons.truth import truth
from app.shell.header import PAGES as HEADER_PAGES
from app.shell.router import Router
from tests.layout_tree import find, find_all, texts


def test_the_router_sends_lesson_paths_to_the_player_with_the_rest_of_the_path():
    router = Router(PAGES, "app:explorer_page", PREFIX_PAGES)
    page = router.layout_for("http://h/lesson/gd_quadratic?step=2", "h")
    assert "Step 2 of 4" in texts(page)
    assert "Lecture note 000" in texts(router.layout_for("http://h/lessons", "h"))
    assert "No such lesson" in texts(router.layout_for("http://h/lesson/../../etc", "h"))
    assert ("/lessons", "Lessons") in HEADER_PAGES


def test_the_index_groups_lessons_by_note_and_links_each_first_step():
    page = index({})
    links = {c.children: c.href for c in find_all(page, lambda c: getattr(c, "className", "") == "lesson-link")}
    assert links["Gradient descent on an ill-conditioned bowl"] == "/lesson/gd_quadratic?step=1"
    assert len(links) == len(library().lessons)
    assert "could not be read" not in texts(page)


def test_the_player_shows_one_step_with_its_view_controls_and_navigation():
    page = player({"step": "1"}, "gd_quadratic")
    assert "Step 1 of 4" in texts(page) and "Predict first" in texts(page)
    frame = find(page, Ids.FRAME)
    attrs = frame.to_plotly_json()["props"]
    assert json.loads(attrs[HIDE_ATTR]) == ["#schedule", "#presets"] and json.loads(attrs[LOCK_ATTR]) == ["#surface"]
    assert attrs["src"] == attrs[VIEW_ATTR] and attrs["src"].startswith("/?surface=quadratic")
    assert json.loads(attrs[REPLAY_ATTR]) == ["#to-start"]
    assert json.loads(attrs[AUTOPLAY_ATTR]) == ["#play"]  # skipped by assets/lesson.js under reduced motion
    assert find(page, Ids.BACK).href is None and find(page, Ids.NEXT).href == "/lesson/gd_quadratic?step=2"
    assert find(page, Ids.COVER).hidden is False and find(page, Ids.PRED_MAP) is not None
    last = player({"step": "99", "present": "1"}, "gd_quadratic")
    assert "Step 4 of 4" in texts(last) and "present" in last.className and find(last, Ids.NEXT).href is None
    assert find(last, Ids.BACK).href == "/lesson/gd_quadratic?step=3&present=1"
    plain = player({"step": "2"}, "saddle_newton")
    assert find(plain, Ids.PRED_MAP) is None and find(plain, Ids.CHOICE).options[0]["value"] == "yes"


def test_step_numbers_from_a_link_are_clamped():
    assert [step_number({"step": s}, 4) for s in ("2", "0", "-3", "99", "x", "1" * 50)] == [2, 1, 1, 4, 1, 1]
    assert step_number({}, 4) == 1


def test_a_click_on_the_prediction_map_places_a_point_and_hostile_clicks_do_nothing():
    assert clicked_point({"points": [{"x": 1.5, "y": -2}]}) == (1.5, -2.0)
    for bad in (None, {}, {"points": []}, {"points": [{"x": "nan", "y": 0}]}, {"points": [{"x": 1e300, "y": 0}]},
                {"points": [{"x": [1], "y": 0}]}, "junk"):  # fmt: skip
        assert clicked_point(bad) is None
        assert point_outputs(bad, None)["point"] is no_update
    out = point_outputs({"points": [{"x": 1.5, "y": -2}]}, None)
    assert out["point"] == [1.5, -2.0] and "(1.5, -2)" in out["said"]


def test_reveal_judges_the_answer_and_uncovers_the_view():
    step1 = library().get("gd_quadratic").steps[0]
    x, y = truth(step1).value
    right = reveal_outputs({"id": "gd_quadratic", "step": 1}, None, None, [x, y])
    assert right["verdict"].startswith("Right.") and right["cover_hidden"] is True
    assert "0.98" in right["verdict"]  # the step's explanation follows the verdict
    wrong = reveal_outputs({"id": "gd_quadratic", "step": 1}, None, None, [x + 9.0, y + 5.0])
    assert wrong["verdict"].startswith("Not quite.") and wrong["cover_hidden"] is True
    missing = reveal_outputs({"id": "gd_quadratic", "step": 1}, None, None, None)
    assert missing["cover_hidden"] is no_update and "prediction first" in missing["verdict"]
    for where in (None, "x", {"id": "nope", "step": 1}, {"id": "gd_quadratic", "step": 9}, {"id": 3, "step": "1"}):
        assert reveal_outputs(where, "yes", None, None)["cover_hidden"] is no_update
    bad_number = reveal_outputs({"id": "gd_quadratic", "step": 4}, None, "abc", None)
    assert bad_number["cover_hidden"] is no_update and bad_number["verdict"] == "Enter a number."
