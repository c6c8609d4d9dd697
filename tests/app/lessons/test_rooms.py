"""Class rooms on a shared store: codes, the teacher's secret, students' answers, bounds, expiry."""

from __future__ import annotations

import pytest
from dash import no_update

from app.hosting.kv import MemoryKV
from app.lessons import room_callbacks as rc
from app.lessons import rooms
from app.lessons.library import library
from app.lessons.rooms import RoomError, answers, create_room, drive, join, load_room, send_answer, valid_code
from app.lessons.truth import truth


def test_a_room_has_an_unguessable_code_and_only_its_teachers_secret_drives_it():
    kv = MemoryKV()
    room, token = create_room(kv, "gd_quadratic", 1)
    assert valid_code(room.code) == room.code and len(token) >= 40
    assert valid_code(room.code.lower()) == room.code and valid_code("O0O0O0O0") is None and valid_code("ABC") is None
    codes = {create_room(kv, "gd_quadratic", 1)[0].code for _ in range(30)}
    assert len(codes) == 30
    assert token not in kv.get(f"room:{room.code}").decode()  # only its hash is kept
    for wrong in ("", token[:-1] + ("A" if token[-1] != "A" else "B"), None, 12, "x" * 1000):
        with pytest.raises(RoomError, match="only the teacher"):
            drive(kv, room.code, wrong, 4, step=2)
    moved = drive(kv, room.code, token, 4, step=3)
    assert moved.step == 3 and moved.rev == room.rev + 1 and load_room(kv, room.code).step == 3
    assert drive(kv, room.code, token, 4, step=99).step == 4 and drive(kv, room.code, token, 4, step=-5).step == 1
    with pytest.raises(RoomError, match="unknown room change"):
        drive(kv, room.code, token, 4, teacher="me")
    with pytest.raises(RoomError, match="lesson's name"):
        drive(kv, room.code, token, 4, lesson="../etc")
    with pytest.raises(RoomError, match="number"):
        drive(kv, room.code, token, 4, k="12")


def test_a_new_step_starts_covered_and_paused():
    kv = MemoryKV()
    room, token = create_room(kv, "gd_quadratic", 1)
    drive(kv, room.code, token, 4, k=40, playing=True, revealed=True)
    assert load_room(kv, room.code).revealed
    after = drive(kv, room.code, token, 4, step=2)
    assert (after.k, after.playing, after.revealed) == (0, False, False)
    other = drive(kv, room.code, token, 2, lesson="saddle_newton", step=1)
    assert other.lesson == "saddle_newton" and other.step == 1


def test_students_join_answer_once_a_second_and_cannot_answer_for_each_other():
    kv = MemoryKV()
    room, token = create_room(kv, "gd_quadratic", 1)
    a_slot, a_tok = join(kv, room.code)
    b_slot, b_tok = join(kv, room.code)
    assert (a_slot, b_slot) == (0, 1)
    send_answer(kv, room.code, a_slot, a_tok, 1, [-1.0, 0.0], now=100.0)
    with pytest.raises(RoomError, match="one answer a second"):
        send_answer(kv, room.code, a_slot, a_tok, 1, [-2.0, 0.0], now=100.5)
    send_answer(kv, room.code, a_slot, a_tok, 1, [-2.0, 0.0], now=101.6)  # a change of mind, later
    with pytest.raises(RoomError, match="not joined"):
        send_answer(kv, room.code, b_slot, a_tok, 1, [5.0, 5.0], now=102.0)
    with pytest.raises(RoomError, match="not joined"):
        send_answer(kv, room.code, 7, a_tok, 1, [5.0, 5.0], now=102.0)
    with pytest.raises(RoomError, match="another step"):
        send_answer(kv, room.code, b_slot, b_tok, 2, [5.0, 5.0], now=102.0)
    with pytest.raises(RoomError, match="too long"):
        send_answer(kv, room.code, b_slot, b_tok, 1, "x" * 500, now=102.0)
    assert answers(kv, room) == (2, [[-2.0, 0.0]])
    drive(kv, room.code, token, 4, revealed=True)
    with pytest.raises(RoomError, match="already revealed"):
        send_answer(kv, room.code, b_slot, b_tok, 1, [1.0, 1.0], now=103.0)


def test_rooms_and_students_are_bounded_and_rooms_expire(monkeypatch):
    kv = MemoryKV()
    monkeypatch.setattr(rooms, "MAX_ROOMS", 3)
    monkeypatch.setattr(rooms, "MAX_STUDENTS", 2)
    made = [create_room(kv, "gd_quadratic", 1)[0] for _ in range(3)]
    with pytest.raises(RoomError, match="all 3 class rooms are in use"):
        create_room(kv, "gd_quadratic", 1)
    join(kv, made[0].code)
    join(kv, made[0].code)
    with pytest.raises(RoomError, match="full"):
        join(kv, made[0].code)
    with pytest.raises(RoomError, match="no class room"):
        join(kv, "ZZZZZZZZ")
    fresh = MemoryKV()
    room, token = create_room(fresh, "gd_quadratic", 1)
    assert load_room(fresh, room.code) is not None
    monkeypatch.setattr(rooms, "ROOM_TTL", -1.0)  # the teacher's next action writes an expired room
    drive(fresh, room.code, token, 4, step=2)
    assert load_room(fresh, room.code) is None


# --------------------------------------------------------------------------- the callbacks' pure functions


def _teacher_page(kv, lesson="gd_quadratic", step=1):
    out = rc.start_outputs(kv, {"id": lesson, "step": step}, "http://class.example/")
    return out["store"], out["panel"]


def test_starting_a_room_shows_its_code_link_and_qr_and_arriving_moves_it():
    from tests.layout_tree import texts

    kv = MemoryKV()
    store, panel = _teacher_page(kv)
    code = store["code"]
    assert code in texts(panel) and f"http://class.example/room/{code}" in texts(panel)
    img = next(c for c in __import__("tests.layout_tree", fromlist=["walk"]).walk(panel) if type(c).__name__ == "Img")
    assert img.src.startswith("data:image/svg+xml") and "xmlns" in __import__("urllib.parse").parse.unquote(img.src)
    out = rc.arrive_outputs(kv, store, {"id": "gd_quadratic", "step": 3}, "http://class.example/")
    assert out["store"] is no_update and load_room(kv, code).step == 3
    ended = rc.end_outputs(kv, store)
    assert ended["store"] is None and load_room(kv, code) is None
    gone = rc.arrive_outputs(kv, store, {"id": "gd_quadratic", "step": 2}, "http://class.example/")
    assert gone["store"] is None and "ended" in texts(gone["panel"])
    assert rc.start_outputs(kv, {"id": "nope", "step": 1}, "/")["store"] is no_update


def test_a_student_joins_on_the_first_tick_sends_an_answer_and_sees_the_verdict_at_the_reveal():
    kv = MemoryKV()
    store, _ = _teacher_page(kv)
    code = store["code"]
    where = {"id": "gd_quadratic", "step": 1, "room": code}
    first = rc.student_outputs(kv, None, where)
    me = first["store"]
    assert me["code"] == code and me["slot"] == 0 and first["state"]["step"] == 1 and first["cover_hidden"] is no_update
    assert "token" not in first["state"] and "teacher" not in first["state"]
    x, y = truth(library().get("gd_quadratic").steps[0]).value
    assert rc.send_outputs(kv, me, where, None, None, [x, y]).startswith("Answer sent")
    assert "Give your prediction" in rc.send_outputs(kv, me, where, None, None, None)
    assert "Click on the map" in rc.send_outputs(kv, me, where, None, None, ["a", "b"])
    tally = rc.tally_outputs(kv, store, {"id": "gd_quadratic", "step": 1})
    assert tally["count"] == "1 of 1 student answered."
    (heat,) = [t for t in tally["figure"]["data"] if t["type"] == "histogram2d"]
    assert heat["x"] == [round(x, 6)]
    assert rc.tally_outputs(kv, store, {"id": "gd_quadratic", "step": 1}, tally["key"])["figure"] is no_update
    assert rc.reveal_class_outputs(kv, store, {"id": "gd_quadratic", "step": 1}) == {"cover_hidden": True}
    later = rc.student_outputs(kv, me, where)
    assert later["store"] is no_update and later["cover_hidden"] is True and later["verdict"].startswith("Right.")
    other = rc.student_outputs(kv, None, where)  # a second student who never answered
    assert other["verdict"].startswith("You did not answer.")
    assert rc.reveal_class_outputs(kv, {"code": code, "token": "forged"}, {"id": "gd_quadratic", "step": 1}) == \
        {"cover_hidden": no_update}  # fmt: skip


def test_choice_answers_become_bars_and_ended_rooms_say_so():
    kv = MemoryKV()
    store, _ = _teacher_page(kv, "momentum_nesterov", 1)
    where = {"id": "momentum_nesterov", "step": 1, "room": store["code"]}
    me = rc.student_outputs(kv, None, where)["store"]
    choices = truth(library().get("momentum_nesterov").steps[0]).choices
    assert rc.send_outputs(kv, me, where, choices[1], None, None).startswith("Answer sent")
    assert "Choose one of the listed" in rc.send_outputs(kv, me, where, "<b>bold</b>", None, None)
    fig = rc.tally_outputs(kv, store, {"id": "momentum_nesterov", "step": 1})["figure"]
    assert fig["data"][0]["type"] == "bar" and fig["data"][0]["y"][1] == 1 and sum(fig["data"][0]["y"]) == 1
    rc.end_outputs(kv, store)
    assert rc.student_outputs(kv, me, where)["state"] == {"ended": True}
    assert rc.student_outputs(kv, me, {"room": "<script>"})["state"] is no_update
