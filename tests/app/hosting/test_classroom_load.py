"""The class room scenario of the load test still speaks the room's protocol, against the app in this process.

A teacher steps through a lesson and reveals its predictions, three students join, follow and answer;
every request must get a valid answer and every student must see every step.  The teacher reveals only
once the answers count says everyone answered, so the run depends on conditions, not on timings.
The figures themselves are the script's business (``bench/bench_load.py --classroom``).
"""

from __future__ import annotations

import importlib.util
import math
import sys
import threading
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]


def _load(name: str):
    spec = importlib.util.spec_from_file_location(name, ROOT / "bench" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault(name, module)  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return sys.modules[name]


_load("bench_load")
classroom = _load("classroom_load")


@pytest.fixture(scope="module")
def base():
    import logging

    from werkzeug.serving import make_server

    from app import create_app

    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    server = make_server("127.0.0.1", 0, create_app().server, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="classroom-test-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=5)


def test_a_short_class_follows_every_step_with_no_errors(base):
    results = classroom.run_classroom(base, students=3, duration=120.0, dwell=(0.3, 0.6), think=(0.05, 0.2),
                                      ramp=0.2, max_steps=4, wait_answers=True)  # fmt: skip
    fig = classroom.figures(results)
    assert fig["error_count"] == 0, fig["errors"]
    assert fig["students_joined"] == 3
    arrives = [(a.lesson, a.step) for a in results.actions if a.kind == "arrive"]
    reveals = [a for a in results.actions if a.kind == "reveal"]
    # four step changes: the lesson's steps 2–4, then the next lesson's first step
    assert arrives == [("gd_quadratic", 2), ("gd_quadratic", 3), ("gd_quadratic", 4), ("momentum_nesterov", 1)]
    assert len(reveals) == 4  # every step of gd_quadratic asks a prediction
    for seen in results.seen:
        assert [(lesson, step) for lesson, step, _ in seen.loaded] == [("gd_quadratic", 1), *arrives]
        revs = [rev for rev, *_ in seen.states]
        assert revs == sorted(revs) and revs[-1] == results.actions[-1].rev
    # every student was updated by every action, and answered every prediction before its reveal
    n_actions = len(arrives) + len(reveals)
    assert fig["updates"]["each student"]["n"] == 3 * n_actions and fig["updates"]["all students"]["n"] == n_actions
    assert fig["updates"]["page reloaded"]["n"] == 3 * len(arrives)
    timed = ("each student", "all students", "  of a step", "  of a reveal", "page reloaded")
    assert all(math.isfinite(fig["updates"][k]["p95"]) and fig["updates"][k]["p50"] > 0 for k in timed)
    assert fig["updates"]["timer late"]["n"] > 0
    assert fig["answers"] == {"sent": 3 * len(reveals)}
    kinds = fig["requests"]
    assert {"page", "layout", "deps", "start", "arrive", "reveal", "tally", "follow", "send"} <= set(kinds)
    assert "p95" in classroom.report(fig, [], [])


def test_a_state_that_goes_back_or_differs_from_the_teachers_is_an_error():
    results = classroom.ClassResults()
    results.actions = [classroom.Action(0, "start", "gd_quadratic", 1, False, 0.0, 0.1),
                       classroom.Action(1, "reveal", "gd_quadratic", 1, True, 1.0, 1.1),
                       classroom.Action(2, "arrive", "gd_quadratic", 2, False, 2.0, 2.1)]  # fmt: skip
    good = classroom.Seen(0, joined=0.5, states=[(0, "gd_quadratic", 1, False, 0.5), (1, "gd_quadratic", 1, True, 1.4),
                                                 (2, "gd_quadratic", 2, False, 2.3)])  # fmt: skip
    results.seen = [good]
    per_pair, slowest, _, problems = classroom.updates(results)
    assert problems == [] and per_pair == pytest.approx([0.4, 0.3]) and slowest == pytest.approx([0.4, 0.3])
    wrong = classroom.Seen(1, joined=0.5, states=[(0, "gd_quadratic", 1, False, 0.5), (1, "gd_quadratic", 2, False, 1.4)])
    results.seen = [good, wrong]
    _, _, _, problems = classroom.updates(results)
    assert any("differ from what the teacher set" in p for p in problems)
    assert any("never seen" in p for p in problems)  # the second student never saw revision 2
