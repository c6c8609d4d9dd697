"""Lesson files: the shipped library loads, every lesson's claims hold on its real runs, bad files are
refused with their line, and a teacher's folder cannot break the others."""

from __future__ import annotations

import math

import numpy as np
import pytest

from app.lessons import library as lib_module
from app.lessons.library import library, read_lesson
from app.lessons.schema import NOTES, LessonError, parse_lesson
from app.lessons.truth import NONE_OF_THEM, _result, judge, truth

GOOD = '''
title = "A lesson"
note = "000"

[[steps]]
text = "Some text with $x^2$."
view = "/?surface=quadratic&s.kappa=50&start=-9,4&steps=100&opt=sgd,lr=1"
hide = ["modifiers"]

[steps.prediction]
kind = "diverge"
question = "Will it diverge?"
'''


def lesson(lesson_id: str):
    found = library().get(lesson_id)
    assert found is not None, library().errors
    return found


def runs(step):
    return _result(step.view).runs


def test_the_shipped_library_loads_without_errors_and_names_its_notes():
    lib = library()
    assert lib.errors == ()
    assert {"gd_quadratic", "momentum_nesterov", "adaptive_rates", "saddle_newton", "cliff_clipping", "second_order",
            "minibatches"} <= set(lib.lessons)
    assert {les.note for les in lib.lessons.values()} == set(NOTES)  # every lecture note has a lesson
    for les in lib.lessons.values():
        assert les.note in NOTES and les.title and les.steps
        for step in les.steps:
            if step.prediction is not None:
                truth(step)  # every prediction can be answered from its view's runs


def test_gd_quadratic_claims_hold_on_the_runs():
    steps = lesson("gd_quadratic").steps
    x100, y100 = truth(steps[0]).value
    assert x100 == pytest.approx(-9 * 0.98**100, rel=1e-9) and y100 == 0.0  # y is solved in the first step
    assert truth(steps[1]).value is False  # η = 1.9 < 2 converges
    assert truth(steps[2]).value is True  # η = 2.05 > 2 diverges
    t = runs(steps[2])[0].trajectory
    assert np.all(np.abs(np.diff(np.abs(t.positions[1:, 1])) - 0.05 * np.abs(t.positions[1:-1, 1])) < 1e-6 * np.abs(t.positions[1:-1, 1]) + 1e-9)
    assert truth(steps[3]).value == pytest.approx(-9 * 0.98**300, rel=1e-9)


def test_momentum_lesson_claims_hold_on_the_runs():
    first, conventions = lesson("momentum_nesterov").steps
    assert truth(first).value.startswith("Nesterov")
    sgd, heavy, nesterov = runs(first)
    assert sgd.distance[-1] > 0.4 and heavy.distance[-1] < 1e-5 and nesterov.distance[-1] < 1e-5
    torch_form, textbook = runs(conventions)
    assert not np.array_equal(torch_form.trajectory.positions, textbook.trajectory.positions)
    assert torch_form.distance[-1] < 1e-5 and textbook.distance[-1] < 1e-5
    assert abs(truth(conventions).value - 23) <= 3


def test_adaptive_rates_lesson_claims_hold_on_the_runs():
    (step,) = lesson("adaptive_rates").steps
    adagrad, rmsprop, _ = runs(step)
    e_ada = adagrad.trajectory.effective_lr[1:]
    e_rms = rmsprop.trajectory.effective_lr[1:]
    assert np.all(np.diff(e_ada, axis=0) <= 1e-15)  # AdaGrad's rate only shrinks
    assert np.any(np.diff(e_rms, axis=0) > 0) and e_rms[-1, 0] > 2 * e_rms[0, 0]  # RMSProp's grows back
    assert truth(step).value.startswith("AdaGrad")


def test_saddle_lesson_claims_hold_on_the_runs():
    newton_step, escape = lesson("saddle_newton").steps
    assert truth(newton_step).value == pytest.approx((0.0, 0.0), abs=1e-12)
    sgd = runs(escape)[0].trajectory
    assert truth(escape).value is True and sgd.diverged
    k = int(np.argmin(np.hypot(sgd.positions[:, 0], sgd.positions[:, 1])))
    assert 0 < k < sgd.steps and np.hypot(*sgd.positions[k]) < 0.05  # it stalls near the saddle first


def test_cliff_lesson_claims_hold_on_the_runs():
    raw, clipped = lesson("cliff_clipping").steps
    assert np.abs(runs(raw)[0].trajectory.positions[:, 0]).max() > 40  # flung far off the map
    assert np.abs(runs(clipped)[0].trajectory.positions[:, 0]).max() <= 2.5 + 1e-9
    assert truth(raw).value > 3 * truth(clipped).value


def test_second_order_lesson_claims_hold_on_the_runs():
    first, lbfgs_step = lesson("second_order").steps
    assert truth(first).value.startswith("Newton")
    sgd, adam, lbfgs, newton = runs(first)
    assert sgd.distance[-1] > 0.5 and adam.distance[-1] > 0.5  # still in the valley after 300 steps
    assert lbfgs.distance[-1] < 1e-8 and newton.distance[-1] < 1e-8
    assert 20 <= truth(lbfgs_step).value <= 50


def test_minibatch_lesson_claims_hold_on_the_runs():
    noisy, online, full = lesson("minibatches").steps
    (sgd,) = runs(noisy)
    m = _result(noisy.view).surface.minima[0]
    tail = sgd.distance[-100:]
    assert 0.01 < tail.mean() < 0.3 and tail.std() > 0  # a ball around the minimum, not the point itself
    assert abs(sgd.trajectory.losses[-1] - m.value) > 1e-4
    rprop, rmsprop, sgd_online = runs(online)
    assert rprop.distance[-100:].mean() > 10 * max(rmsprop.distance[-100:].mean(), sgd_online.distance[-100:].mean())
    assert rmsprop.distance[-100:].mean() < 0.2 and truth(online).value.startswith("SGD")
    moves = np.linalg.norm(rprop.trajectory.updates[-100:], axis=1)
    assert moves.mean() < 0.01 * rprop.distance[-1]  # frozen: its steps collapsed far from the minimum
    rprop_full = runs(full)[0]
    assert rprop_full.distance[-1] < 1e-5 and truth(full).value.startswith("Rprop")


def test_adam_lesson_claims_hold_on_the_runs():
    first_step, uncorrected, decay = lesson("adam").steps
    (adam,) = runs(first_step)
    assert np.allclose(adam.trajectory.updates[1], -0.5 * np.sign(adam.trajectory.gradients[0]), rtol=1e-6)
    assert truth(first_step).value == pytest.approx(0.5, rel=1e-6)
    (raw,) = runs(uncorrected)
    longer = 0.1 / math.sqrt(1e-3)  # (1 − β₁)/√(1 − β₂)
    assert np.allclose(raw.trajectory.updates[1], -0.5 * longer * np.sign(raw.trajectory.gradients[0]), rtol=1e-6)
    assert truth(uncorrected).value == pytest.approx(1 - 0.5 * longer, rel=1e-6)
    l2, adamw = runs(decay)
    s = _result(decay.view).surface
    for run, stationary in ((l2, True), (adamw, False)):
        x, y = run.trajectory.positions[-1]
        g = s.gradient(x, y) + 0.5 * np.array([x, y])  # the gradient of f + λ/2 |θ|²
        assert bool(np.linalg.norm(g) < 1e-3) == stationary
    assert np.hypot(*(l2.trajectory.positions[-1] - adamw.trajectory.positions[-1])) > 1.0


def test_predictions_are_judged_on_the_runs_and_hostile_answers_refused():
    step = lesson("gd_quadratic").steps[0]
    x, y = truth(step).value
    assert judge(step, [x + 0.5, y]).right and not judge(step, [x + 5.0, y]).right
    for bad in (None, "1,2", [1.0], [math.nan, 0.0], ["x", 1.0], [1e300, 0.0], [[1], [2]], [True, 0.0]):
        with pytest.raises(ValueError):
            judge(step, bad)
    diverge = lesson("gd_quadratic").steps[2]
    assert judge(diverge, "yes").right and not judge(diverge, "no").right
    with pytest.raises(ValueError):
        judge(diverge, "maybe")
    number = lesson("gd_quadratic").steps[3]
    assert judge(number, "-0.021").right and not judge(number, -0.05).right
    with pytest.raises(ValueError):
        judge(number, "1" * 100)
    first = lesson("momentum_nesterov").steps[0]
    assert NONE_OF_THEM in truth(first).choices
    assert not judge(first, NONE_OF_THEM).right
    with pytest.raises(ValueError):
        judge(first, "<script>")


@pytest.mark.parametrize(("text", "line", "reason"), [
    (GOOD.replace('note = "000"', 'note = "000'), 3, "not valid TOML"),
    (GOOD.replace('title = "A lesson"', 'title = "A lesson"\ncolour = 3'), 3, "unknown key 'colour'"),
    (GOOD.replace('note = "000"', 'note = "999"'), 3, "note must be one of"),
    (GOOD.replace('view = "/?surface', 'view = "https://example.org/?surface'), 7, "a link within the app"),
    (GOOD.replace('view = "/?surface', 'view = "/admin?surface'), 7, "must open one of the pages"),
    (GOOD.replace('hide = ["modifiers"]', 'hide = ["everything"]'), 8, "unknown control 'everything'"),
    (GOOD.replace('kind = "diverge"', 'kind = "guess"'), 10, "prediction kind must be one of"),
    (GOOD.replace("lr=1", "lr=banana"), 7, "view:"),
    (GOOD.replace('question = "Will it diverge?"', 'question = "Will it?"\nrun = 4'), 7, "asks about run 4"),
    (GOOD.replace('view = "/?surface=quadratic&s.kappa=50&start=-9,4&steps=100&opt=sgd,lr=1"', 'view = "/maps"')
     .replace('hide = ["modifiers"]', 'hide = ["form"]'), 10, "Explorer views only"),
    (GOOD.replace('text = "Some text with $x^2$."', 'text = ""'), 6, "text is required"),
    ('title = "x"\nnote = "000"\n', None, "at least one [[steps]]"),
])  # fmt: skip
def test_a_bad_lesson_file_names_its_line_and_reason(text, line, reason):
    from app.lessons.library import check_explorer_view

    with pytest.raises(LessonError) as err:
        parse_lesson(text, "bad.toml", "bad", check_view=check_explorer_view)
    assert err.value.line == line and reason in err.value.reason, str(err.value)
    assert str(err.value).startswith("bad.toml" + (f", line {line}" if line else ""))


def test_limits_on_size_names_and_steps():
    with pytest.raises(LessonError, match="at most 64 kB"):
        parse_lesson(GOOD + "#" * 70_000, "big.toml", "big")
    with pytest.raises(LessonError, match="file name"):
        parse_lesson(GOOD, "Bad Name.toml", "Bad Name")
    many = GOOD.split("[[steps]]")[0] + "".join('[[steps]]\ntext = "t"\nview = "/"\n' for _ in range(41))
    with pytest.raises(LessonError, match="at most 40 steps"):
        parse_lesson(many, "many.toml", "many")
    with pytest.raises(LessonError, match="UTF-8"):
        parse_lesson(b"title = \"\xff\"", "enc.toml", "enc")


def test_a_teachers_folder_adds_lessons_and_a_bad_file_never_breaks_the_others(tmp_path, monkeypatch):
    (tmp_path / "mine.toml").write_text(GOOD)
    (tmp_path / "broken.toml").write_text(GOOD.replace('kind = "diverge"', 'kind = 7'))
    (tmp_path / "gd_quadratic.toml").write_text(GOOD)  # the name of a shipped lesson
    monkeypatch.setenv(lib_module.ENV_DIR, str(tmp_path))
    lib = library()
    assert "mine" in lib.lessons and "gd_quadratic" in lib.lessons and "broken" not in lib.lessons
    assert lib.lessons["gd_quadratic"].source == "gd_quadratic.toml" and lib.lessons["gd_quadratic"].title != "A lesson"
    assert any(e.startswith("broken.toml, line 10: step 1: prediction kind") for e in lib.errors), lib.errors
    assert any("exists already" in e for e in lib.errors)
    (tmp_path / "broken.toml").write_text(GOOD.replace("A lesson", "Fixed"))  # read again once the file changes
    assert library().get("broken").title == "Fixed"
    monkeypatch.setenv(lib_module.ENV_DIR, str(tmp_path / "missing"))
    assert any("does not exist" in e for e in library().errors) and "gd_quadratic" in library().lessons


def test_read_lesson_reports_an_unreadable_file(tmp_path):
    with pytest.raises(LessonError, match="cannot be read"):
        read_lesson(tmp_path / "nope.toml")


def test_the_lessons_command_lists_lessons_and_reports_a_bad_file_with_its_line(tmp_path, capsys, monkeypatch):
    from app.cli import main

    monkeypatch.delenv(lib_module.ENV_DIR, raising=False)
    assert main(["lessons"]) == 0
    out = capsys.readouterr().out
    assert "gd_quadratic" in out and "error" not in out
    (tmp_path / "mine.toml").write_text(GOOD.replace('kind = "diverge"', 'kind = "vote"'))
    monkeypatch.setenv(lib_module.ENV_DIR, "")  # set again by the flag below
    assert main(["lessons", "--lessons", str(tmp_path)]) == 2
    out = capsys.readouterr().out
    assert "error: mine.toml, line 10: step 1: prediction kind must be one of" in out and "gd_quadratic" in out
    assert main(["lessons", "--lessons", str(tmp_path / "nope")]) == 2
    assert "no such folder" in capsys.readouterr().err
