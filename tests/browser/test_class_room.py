"""A class room in two real browsers: a teacher drives a lesson, a student follows, predicts, explores."""

from __future__ import annotations

import json

import pytest

from app.lessons.room_layout import room_store
from app.lessons.rooms import load_room
from tests.browser.axe import describe, violations
from tests.browser.conftest import VIEWPORT

pytestmark = pytest.mark.browser

FRAME_READY = """() => {
  const f = document.getElementById('lesson-view-frame');
  const d = f && f.contentDocument;
  return !!(d && d.documentElement && d.getElementById('map') && f.contentWindow.DescentLab
            && f.contentWindow.DescentLab.state().applied >= 1);
}"""


@pytest.fixture
def two(browser, live_server):
    """(teacher page, student page), each in its own browser context (its own session storage)."""
    contexts = [browser.new_context(viewport=VIEWPORT) for _ in range(2)]
    pages = [c.new_page() for c in contexts]
    errors: list[str] = []
    for p in pages:
        p.set_default_timeout(25_000)
        p.on("pageerror", lambda e: errors.append(str(e)))
    yield pages[0], pages[1], live_server
    for c in contexts:
        c.close()
    assert not errors, errors


def _wait_room(code: str, **want):
    import time

    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        room = load_room(room_store(), code)
        if room is not None and all(getattr(room, k) == v for k, v in want.items()):
            return room
        time.sleep(0.1)
    raise AssertionError(f"room {code} never reached {want}: {load_room(room_store(), code)}")


def test_a_student_follows_the_teacher_and_predicts_and_explores_alone(two):
    teacher, student, base = two
    teacher.goto(base + "lesson/gd_quadratic?step=1")
    teacher.click("#room-start")
    teacher.wait_for_selector("#room-code")
    code = teacher.inner_text("#room-code").strip()
    teacher.wait_for_function("document.querySelector('.room-qr').complete && document.querySelector('.room-qr').naturalWidth > 100")

    student.goto(base + f"room/{code}")
    student.wait_for_selector("#lesson-text")
    assert "Step 1 of 4" in student.inner_text(".lesson-counter")
    assert student.is_visible("#lesson-view-cover")
    student.wait_for_function(FRAME_READY)
    student.wait_for_selector("#lesson-prediction-map .nsewdrag")
    student.locator("#lesson-prediction-map .nsewdrag").scroll_into_view_if_needed()
    box = student.locator("#lesson-prediction-map .nsewdrag").bounding_box()
    student.mouse.click(box["x"] + box["width"] * 0.44, box["y"] + box["height"] * 0.5)
    student.wait_for_function("document.getElementById('lesson-prediction-point').textContent.includes('Your prediction')")
    student.click("#room-send")
    student.wait_for_function("document.getElementById('room-status').textContent.startsWith('Answer sent')")

    # the answer reaches the teacher's heat map
    teacher.wait_for_function("document.getElementById('room-count').textContent.startsWith('1 of 1 student answered')")
    heat = teacher.evaluate("document.getElementById('room-tally').querySelector('.js-plotly-plot') ? "
                            "document.getElementById('room-tally').querySelector('.js-plotly-plot').data"
                            ".filter(t => t.type === 'histogram2d').map(t => t.x.length) : []")
    assert heat == [1]
    for page in (teacher, student):  # the room's boxes pass axe-core too
        found = violations(page)
        assert not found, "\n" + describe(found)

    # the teacher reveals: the student's view opens with the verdict
    teacher.click("#room-reveal")
    student.wait_for_selector("#lesson-view-cover", state="hidden")
    student.wait_for_function("/^(Right|Not quite)\\./.test(document.getElementById('lesson-verdict').textContent)")

    # the teacher moves on: the student's page follows
    teacher.click("#lesson-next")
    teacher.wait_for_url("**/lesson/gd_quadratic?step=2")
    _wait_room(code, step=2)
    student.wait_for_function("document.querySelector('[data-lesson-at]') && "
                              "document.querySelector('[data-lesson-at]').getAttribute('data-lesson-at') === 'gd_quadratic:2'")

    # exploring alone: the teacher's next step does not move the student; "Follow again" does
    student.wait_for_selector("#room-follow")
    student.click("#room-follow")
    assert student.get_attribute("#room-follow", "aria-pressed") == "true"
    teacher.wait_for_selector("#lesson-next")
    teacher.click("#lesson-next")
    teacher.wait_for_url("**/lesson/gd_quadratic?step=3")
    _wait_room(code, step=3)
    assert student.get_attribute("[data-lesson-at]", "data-lesson-at") == "gd_quadratic:2"
    student.click("#room-follow")
    student.wait_for_function("document.querySelector('[data-lesson-at]') && "
                              "document.querySelector('[data-lesson-at]').getAttribute('data-lesson-at') === 'gd_quadratic:3'")


def test_a_forged_teacher_secret_cannot_drive_the_room(two):
    teacher, intruder, base = two
    teacher.goto(base + "lesson/gd_quadratic?step=1")
    teacher.click("#room-start")
    teacher.wait_for_selector("#room-code")
    code = teacher.inner_text("#room-code").strip()
    intruder.goto(base + "lesson/gd_quadratic?step=3")
    intruder.wait_for_selector("#room-start")
    forged = json.dumps({"code": code, "token": "forged-" + "x" * 40})
    intruder.evaluate(f"sessionStorage.setItem('room-teacher-store', {json.dumps(forged)})")
    intruder.reload()
    intruder.wait_for_function("document.querySelector('.room-problem') && "
                               "document.querySelector('.room-problem').textContent.includes('only the teacher')")
    assert load_room(room_store(), code).step == 1  # the room did not move
    assert intruder.locator("#room-code").count() == 0
