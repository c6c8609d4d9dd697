"""The class-room scenario of the load test (``bench_load.py --classroom``): one teacher, N students.

The teacher opens a lesson's first step, starts a class room, then every few seconds (``dwell``)
loads the next step's page, whose load runs the ``arrive`` callback (the room moves to that step);
on a step with a prediction it presses "Reveal to the class" (``reveal_class``) part-way through
the step.  Its page also polls the answers (``tally``) as the browser's timer does.  After the
lesson's last step it opens the next lesson of the list, and so on.

Each student opens ``/room/<code>`` and then does what the page does: its timer fires ``follow``
every ``interval`` ms of the page's own ``dcc.Interval`` (the first call, with an empty session
store, joins the room); when the room's state names another step than the page shows, the page
reloads (``assets/room.js``), keeping its session store.  On a step with a prediction the student
sends one answer valid for the step's kind (a point inside the prediction map, a listed choice,
or a number) after a random think time.

Every request is checked (HTTP 200, the callback's outputs present, an "Answer sent" status); a
room state whose revision goes backwards, or that differs from what the teacher set at that
revision, or a teacher action a student never sees, is an error too.  The headline figure is
"teacher action → student updated": from the moment the teacher's ``arrive`` / ``reveal_class``
request is sent to the moment a student's ``follow`` answer carries the new revision, for every
student and action.  An answer that reaches the server after the reveal or the next step (the
student was slower than the teacher) is counted as late, not as an error.
"""

from __future__ import annotations

import json
import math
import os
import random
import re
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import bench_load as bl

ROOM_CALLBACKS = ("start", "arrive", "tally", "reveal", "follow", "send")
#: request kinds of the scenario, in report order
KINDS = ("page", "layout", "deps", "start", "arrive", "reveal", "tally", "follow", "send")
DEFAULT_LESSONS = ("gd_quadratic", "momentum_nesterov")
REVEAL_AT = 0.7  # the teacher reveals a prediction this far through the step's dwell

TEACHER_STORE = "room-teacher-store"
STUDENT_STORE = "room-student-store"
LESSON_STORE = "lesson-id-store"
STATE_STORE = "room-state-store"
STUDENT_TICK = "room-student-tick"
TEACHER_TICK = "room-tick"


def room_callbacks(deps: Any) -> dict[str, bl.Callback]:
    """The class room's server callbacks among ``/_dash-dependencies``, each found by what only it reads or writes."""
    if not isinstance(deps, list):
        raise bl.ProtocolError("the dependencies are not a list")
    found: dict[str, bl.Callback] = {}
    for d in deps:
        if d.get("clientside_function"):
            continue
        cb = bl.Callback(d["output"], tuple(bl._parse_outputs(d["output"])),
                         tuple((i["id"], i["property"]) for i in d["inputs"]),
                         tuple((s["id"], s["property"]) for s in d["state"]))  # fmt: skip
        ins = set(cb.inputs)
        if ("room-start", "n_clicks") in ins:
            found["start"] = cb
        elif (TEACHER_STORE, "modified_timestamp") in ins:
            found["arrive"] = cb
        elif (TEACHER_TICK, "n_intervals") in ins:
            found["tally"] = cb
        elif ("room-reveal", "n_clicks") in ins:
            found["reveal"] = cb
        elif (STUDENT_TICK, "n_intervals") in ins and cb.writes(STATE_STORE, "data"):
            found["follow"] = cb
        elif ("room-send", "n_clicks") in ins:
            found["send"] = cb
    missing = [n for n in ROOM_CALLBACKS if n not in found]
    if missing:
        raise bl.ProtocolError(f"class room callbacks not found in the dependencies: {', '.join(missing)}")
    return found


# --------------------------------------------------------------------------- one browser tab


class Tab(bl.Student):
    """A browser tab on the lesson pages: loads a page as the browser does and runs its callbacks."""

    def __init__(self, base: str, record: Callable[[bl.Sample], None], *, rng: random.Random, timeout: float,
                 t0: float) -> None:  # fmt: skip
        super().__init__(base, rng, record, lessons={}, assets=False, timeout=timeout, t0=t0)

    def now(self) -> float:
        return time.perf_counter() - self.t0

    def load(self, link: str) -> bl.Page:
        """GET the page, its layout (Referer = the link) and the dependencies; the page's session stores are
        carried over from the tab's previous page (session storage outlives a reload)."""
        old = self.page
        _, end_id = self._send("page", "GET", link, lambda s, d: bl.read_index(d))
        tree = self._send("layout", "GET", "/_dash-layout", lambda s, d: bl._json(d, "layout"), referer=link)
        page = bl.Page(tree, {}, end_id, link)
        page.callbacks = self._send("deps", "GET", "/_dash-dependencies",
                                    lambda s, d: room_callbacks(bl._json(d, "deps")), referer=link)  # fmt: skip
        for store in (TEACHER_STORE, STUDENT_STORE):
            kept = old.get(store, "data") if old is not None else None
            if store in page.index and kept is not None:
                page.set(store, "data", kept)
                page.set(store, "modified_timestamp", int(time.time() * 1000))
        self.page = page
        return page

    def run(self, kind: str, name: str, changed: list[str], need: tuple[str, ...],
            verify: Callable[[dict[str, Any]], None] | None = None, may_skip: bool = False) -> dict[str, Any] | None:  # fmt: skip
        """Run a callback of the page and apply its answer."""
        answer = self._callback(kind, name, changed, need, verify, may_skip)
        if answer is not None:
            assert self.page is not None
            self.page.apply(answer)
        return answer


def _response(answer: dict[str, Any], cid: str, prop: str) -> Any:
    return answer["response"].get(cid, {}).get(prop, bl.MISSING)


# --------------------------------------------------------------------------- the run's records


@dataclass
class Action:
    """One teacher action: the room's revision it makes, what the room then shows, when it was sent."""

    rev: int
    kind: str  # "start", "arrive" or "reveal"
    lesson: str
    step: int
    revealed: bool
    sent: float  # seconds since the run started
    done: float = math.nan


@dataclass
class Seen:
    """What one student saw: (revision, lesson, step, revealed, time the answer arrived) of every follow."""

    index: int
    joined: float = math.nan
    states: list[tuple[int, str, int, bool, float]] = field(default_factory=list)
    loaded: list[tuple[str, int, float]] = field(default_factory=list)  # pages shown: (lesson, step, loaded at)
    late: list[float] = field(default_factory=list)  # how late this client sent each timer tick (a busy machine)


@dataclass
class ClassResults:
    samples: list[bl.Sample] = field(default_factory=list)
    actions: list[Action] = field(default_factory=list)
    seen: list[Seen] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # errors that are not one request's
    answers: Counter[str] = field(default_factory=Counter)  # "sent", "late"
    elapsed: float = 0.0
    client_cpu: float = 0.0
    reconnects: int = 0
    interval_ms: float = math.nan  # the students' poll interval, as the page sets it


# --------------------------------------------------------------------------- the teacher


class Teacher:
    def __init__(self, tab: Tab, results: ClassResults, lock: threading.Lock, *, lessons: tuple[str, ...],
                 dwell: tuple[float, float], wait_answers: bool, students: int) -> None:  # fmt: skip
        self.tab = tab
        self.results = results
        self.lock = lock
        self.lessons = lessons
        self.dwell = dwell
        self.wait_answers = wait_answers
        self.students = students
        self.code: str | None = None
        self.rev = 0
        self.lesson = lessons[0]
        self.step = 1
        self.n_steps = 0
        self.has_prediction = False
        self.answered = -1  # answers to the current step, as the last tally said
        self.next_tally = math.inf
        self.tally_ms = 1500.0

    def _record(self, kind: str, revealed: bool, sent: float) -> Action:
        a = Action(self.rev, kind, self.lesson, self.step, revealed, sent)
        with self.lock:
            self.results.actions.append(a)
        return a

    def _open(self) -> bl.Page:
        page = self.tab.load(f"/lesson/{self.lesson}?step={self.step}")
        where = page.get(LESSON_STORE, "data")
        if not isinstance(where, dict) or where.get("id") != self.lesson or where.get("step") != self.step:
            raise bl.ProtocolError(f"layout: the teacher's page shows {where}, not {self.lesson} step {self.step}")
        self.tally_ms = float(page.get(TEACHER_TICK, "interval") or 1500)
        self.answered = -1
        return page

    def begin(self) -> str:
        """Open the first step and start a room: its code."""
        self._open()
        if self.tab.page is not None and (TEACHER_STORE, "modified_timestamp") in self.tab.page.input_props("arrive"):
            # the page load's arrive with an empty store: nothing to do (the server answers 204)
            self.tab.run("arrive", "arrive", [], (), may_skip=True)
        page = self.tab.page
        assert page is not None
        page.set("room-start", "n_clicks", 1)
        sent = self.tab.now()

        def started(answer: dict[str, Any]) -> None:
            store = _response(answer, TEACHER_STORE, "data")
            if not (isinstance(store, dict) and isinstance(store.get("code"), str) and store.get("token")):
                raise bl.ProtocolError(f"start: no room in the answer ({bl.as_js(answer)['response']})"[:200])

        self.tab.run("start", "start", ["room-start.n_clicks"], (TEACHER_STORE, "room-panel"), started)
        self.code = page.get(TEACHER_STORE, "data")["code"]
        self.n_steps = self._steps(page)
        self.has_prediction = self._predicts(page)
        self._record("start", False, sent).done = self.tab.now()
        self.next_tally = self.tab.now() + self.tally_ms / 1000
        return self.code

    @staticmethod
    def _steps(page: bl.Page) -> int:
        # the step counter of the nav: "Step k of n"
        text = json.dumps(page.tree)
        m = re.search(r"Step \d+ of (\d+)", text)
        if not m:
            raise bl.ProtocolError("layout: the lesson page has no step counter")
        return int(m.group(1))

    @staticmethod
    def _predicts(page: bl.Page) -> bool:
        return "room-reveal" in page.index and not page.get("room-reveal", "disabled", False)

    def advance(self) -> None:
        """The next step's page (the first step of the next lesson after the last): its load drives the room."""
        if self.step < self.n_steps:
            self.step += 1
        else:
            self.lesson = self.lessons[(self.lessons.index(self.lesson) + 1) % len(self.lessons)]
            self.step = 1
        page = self._open()
        sent = self.tab.now()
        self.rev += 1
        action = self._record("arrive", False, sent)
        self.tab.run("arrive", "arrive", [f"{TEACHER_STORE}.modified_timestamp"], ("room-panel",))
        action.done = self.tab.now()
        if "room-code" not in page.index:
            raise bl.ProtocolError("arrive: the room box does not show the room")
        self.n_steps = self._steps(page)
        self.has_prediction = self._predicts(page)

    def reveal(self) -> None:
        page = self.tab.page
        assert page is not None
        page.set("room-reveal", "n_clicks", 1)
        sent = self.tab.now()
        self.rev += 1
        action = self._record("reveal", True, sent)

        def uncovered(answer: dict[str, Any]) -> None:
            if _response(answer, "lesson-view-cover", "hidden") is not True:
                raise bl.ProtocolError("reveal: the teacher's view stays covered")

        self.tab.run("reveal", "reveal", ["room-reveal.n_clicks"], ("lesson-view-cover",), uncovered)
        action.done = self.tab.now()

    def tally(self) -> None:
        page = self.tab.page
        assert page is not None
        page.set(TEACHER_TICK, "n_intervals", (page.get(TEACHER_TICK, "n_intervals") or 0) + 1)
        self.tab.run("tally", "tally", [f"{TEACHER_TICK}.n_intervals"], ("room-count",))
        said = str(page.get("room-count", "children") or "")
        m = re.match(r"(\d+) of (\d+) student", said)
        self.answered = int(m.group(1)) if m else -1

    def wait_until(self, t: float, stop: Callable[[], bool] = lambda: False) -> None:
        """Sleep until ``t`` (seconds since the start), polling the answers on the page's timer."""
        while not stop():
            now = self.tab.now()
            if now >= t:
                return
            if now >= self.next_tally:
                self.tally()
                self.next_tally = max(self.next_tally + self.tally_ms / 1000, self.tab.now())
                continue
            time.sleep(min(t, self.next_tally) - now)

    def teach(self, rng: random.Random, deadline: float, max_steps: int | None) -> None:
        """Step through the lessons until ``deadline`` (or ``max_steps`` advances)."""
        steps = 0
        while max_steps is None or steps < max_steps:
            dwell = rng.uniform(*self.dwell)
            arrived = self.tab.now()
            if self.has_prediction:
                due = arrived + REVEAL_AT * dwell
                self.wait_until(due)
                if self.wait_answers:  # as a teacher watching the count: reveal once every student answered
                    self.wait_until(arrived + dwell + 30, lambda: self.answered >= self.students)
                if self.tab.now() >= deadline:
                    break
                self.reveal()
            self.wait_until(max(arrived + dwell, self.tab.now()))
            if self.tab.now() >= deadline:
                break
            self.advance()
            steps += 1


# --------------------------------------------------------------------------- a student


class Pupil:
    def __init__(self, tab: Tab, seen: Seen, results: ClassResults, lock: threading.Lock, code: str,
                 think: tuple[float, float]) -> None:  # fmt: skip
        self.tab = tab
        self.seen = seen
        self.results = results
        self.lock = lock
        self.code = code
        self.think = think
        self.last_rev = -1
        self.answer_at = math.inf  # when to send this page's answer (inf: none to send)

    def _problem(self, text: str) -> None:
        with self.lock:
            self.results.problems.append(text)

    def open(self) -> bl.Page:
        page = self.tab.load(f"/room/{self.code}")
        where = page.get(LESSON_STORE, "data")
        if not isinstance(where, dict) or where.get("room") != self.code:
            raise bl.ProtocolError(f"layout: the student's page is not room {self.code}'s")
        self.seen.loaded.append((where.get("id"), where.get("step"), self.tab.now()))
        self.answer_at = math.inf
        if "room-send" in page.index:  # a step that asks a prediction
            self.answer_at = self.tab.now() + self.tab.rng.uniform(*self.think)
        return page

    def follow(self) -> dict[str, Any] | None:
        """One tick of the page's timer: the room's state (joining first when the session holds no slot)."""
        page = self.tab.page
        assert page is not None
        joining = not isinstance(page.get(STUDENT_STORE, "data"), dict)
        page.set(STUDENT_TICK, "n_intervals", (page.get(STUDENT_TICK, "n_intervals") or 0) + 1)

        def check(answer: dict[str, Any]) -> None:
            state = _response(answer, STATE_STORE, "data")
            if not isinstance(state, dict):
                raise bl.ProtocolError("follow: no room state in the answer")
            if state.get("ended"):
                raise bl.ProtocolError("follow: the room has ended")
            if not isinstance(state.get("rev"), int):
                raise bl.ProtocolError("follow: the room state has no revision")
            if joining:
                me = _response(answer, STUDENT_STORE, "data")
                if not (isinstance(me, dict) and isinstance(me.get("slot"), int) and me.get("token")):
                    raise bl.ProtocolError(f"follow: the student could not join ({_response(answer, 'lesson-verdict', 'children')})")

        self.tab.run("follow", "follow", [f"{STUDENT_TICK}.n_intervals"], (STATE_STORE,), check)
        got = self.tab.now()
        state = page.get(STATE_STORE, "data")
        if joining:
            self.seen.joined = got
        if state["rev"] < self.last_rev:
            self._problem(f"follow: the room went back from revision {self.last_rev} to {state['rev']}")
        self.last_rev = max(self.last_rev, state["rev"])
        self.seen.states.append((state["rev"], state.get("lesson"), state.get("step"), bool(state.get("revealed")),
                                 got))  # fmt: skip
        return state

    def send(self) -> None:
        """Send one answer valid for the step's kind (as read from the page: map, choices or number field)."""
        page = self.tab.page
        assert page is not None
        rng = self.tab.rng
        options = page.get("lesson-choice", "options") or []
        if "lesson-prediction-map" in page.index:
            lay = (page.get("lesson-prediction-map", "figure") or {}).get("layout", {})
            (x0, x1), (y0, y1) = lay["xaxis"]["range"], lay["yaxis"]["range"]
            point = [round(rng.uniform(x0, x1), 3), round(rng.uniform(y0, y1), 3)]
            page.set("lesson-point-store", "data", point)
        elif options:
            pick = rng.choice(options)
            page.set("lesson-choice", "value", pick["value"] if isinstance(pick, dict) else pick)
        else:
            page.set("lesson-number", "value", round(rng.uniform(0, 100), 1))
        page.set("room-send", "n_clicks", (page.get("room-send", "n_clicks") or 0) + 1)
        late = ("already revealed", "moved to another step")
        outcome: list[str] = []

        def check(answer: dict[str, Any]) -> None:
            said = str(_response(answer, "room-status", "children"))
            if said.startswith("Answer sent"):
                outcome.append("sent")
            elif any(w in said.lower() for w in late):
                outcome.append("late")
            else:
                raise bl.ProtocolError(f"send: {said[:80]}")

        self.tab.run("send", "send", ["room-send.n_clicks"], ("room-status",), check)
        with self.lock:
            self.results.answers[outcome[0]] += 1

    def attend(self, interval: float, done: Callable[[int], bool], hard_stop: float, followed: bool = False) -> None:
        """Follow the room until ``done(last revision seen)`` (or ``hard_stop``); ``followed``: the page is open
        and its first tick has just been answered."""
        page = self.tab.page if followed and self.tab.page is not None else self.open()
        tick_at = due = self.tab.now()
        while True:
            if followed:
                followed = False
                state = page.get(STATE_STORE, "data")
            else:
                tick_at = self.tab.now()  # a page's load fires follow at once, then its timer every interval
                self.seen.late.append(max(0.0, tick_at - due))
                state = self.follow()
            where = page.get(LESSON_STORE, "data")
            if isinstance(state, dict) and (state.get("lesson"), state.get("step")) != (where.get("id"), where.get("step")):
                page = self.open()  # assets/room.js: another step reloads the page
                continue
            if done(self.last_rev) or self.tab.now() >= hard_stop:
                return
            nxt = due = tick_at + interval
            while self.tab.now() < nxt:
                if self.answer_at <= self.tab.now():
                    self.answer_at = math.inf
                    self.send()
                    continue
                time.sleep(max(0.0, min(nxt, self.answer_at) - self.tab.now()))


# --------------------------------------------------------------------------- the class


def run_classroom(base: str, *, students: int = 50, duration: float = 60.0, dwell: tuple[float, float] = (3.0, 5.0),
                  think: tuple[float, float] = (0.3, 1.5), ramp: float = 5.0, seed: int = 1, timeout: float = 30.0,
                  lessons: tuple[str, ...] = DEFAULT_LESSONS, max_steps: int | None = None,
                  wait_answers: bool = False, grace: float = 15.0) -> ClassResults:  # fmt: skip
    """A teacher and ``students`` students (arriving over ``ramp`` seconds) for ``duration`` seconds of teaching
    (or ``max_steps`` step changes); the students then follow until they have seen the teacher's last action
    (at most ``grace`` seconds more)."""
    results = ClassResults()
    lock = threading.Lock()

    def record(sample: bl.Sample) -> None:
        with lock:
            results.samples.append(sample)

    t0 = time.perf_counter()
    cpu0 = time.process_time()
    tabs: list[Tab] = []
    teacher_tab = Tab(base, record, rng=random.Random(seed), timeout=timeout, t0=t0)
    tabs.append(teacher_tab)
    teacher = Teacher(teacher_tab, results, lock, lessons=lessons, dwell=dwell, wait_answers=wait_answers,
                      students=students)  # fmt: skip
    try:
        code = teacher.begin()
    except bl.ProtocolError as exc:
        results.problems.append(f"the teacher could not start a room: {exc}")
        results.elapsed = time.perf_counter() - t0
        return results
    finished = threading.Event()  # the teacher's last action is recorded
    joined = threading.Semaphore(0)

    def done(rev: int) -> bool:
        return finished.is_set() and rev >= teacher.rev

    def student(i: int) -> None:
        seen = Seen(i)
        with lock:
            results.seen.append(seen)
        tab = Tab(base, record, rng=random.Random(seed * 1_000_003 + i), timeout=timeout, t0=t0)
        tabs.append(tab)
        time.sleep(ramp * i / max(1, students))
        pupil = Pupil(tab, seen, results, lock, code, think)
        hard_stop = duration + ramp + grace + 60.0
        tries = 0
        while True:
            try:
                if math.isnan(seen.joined):  # the first visit: open the room's page, join on the first tick
                    pupil.open()
                    interval = _interval(tab, results)
                    pupil.follow()
                    joined.release()
                    pupil.attend(interval, done, hard_stop, followed=True)
                else:  # after a failed request, as a student would: reload the page (the session keeps the slot)
                    pupil.attend(interval, done, hard_stop)
                break
            except bl.ProtocolError:
                tries += 1
                if tries > 20 or tab.now() >= hard_stop:
                    break
                time.sleep(0.5)
            except Exception as exc:  # noqa: BLE001 (a bug of this client: counted, never silent)
                record(bl.Sample("client", tab.now(), 0.0, 0, f"student: the client could not go on: {exc!r}"[:160]))
                break
        tab.http.close()

    threads = [threading.Thread(target=student, args=(i,), name=f"student-{i}", daemon=True) for i in range(students)]
    for t in threads:
        t.start()
    for _ in range(students):  # teaching starts once the class is in (or the ramp is long over)
        if not joined.acquire(timeout=max(0.0, ramp + 30.0 - teacher_tab.now())):
            break
    start = teacher_tab.now()
    try:
        teacher.teach(random.Random(seed + 7), start + duration, max_steps)
    except bl.ProtocolError as exc:
        results.problems.append(f"the teacher could not go on: {exc}")
    except Exception as exc:  # noqa: BLE001 (a bug of this client: counted, never silent)
        record(bl.Sample("client", teacher_tab.now(), 0.0, 0, f"teacher: the client could not go on: {exc!r}"[:160]))
    finished.set()
    for t in threads:
        while t.is_alive():
            t.join(0.5)
    teacher_tab.http.close()
    results.elapsed = time.perf_counter() - t0
    results.client_cpu = time.process_time() - cpu0
    results.reconnects = sum(t.http.reconnects for t in tabs)
    return results


def _interval(tab: Tab, results: ClassResults) -> float:
    """The poll interval (seconds) the student's page sets on its timer."""
    assert tab.page is not None
    ms = tab.page.get(STUDENT_TICK, "interval")
    if not isinstance(ms, (int, float)) or ms <= 0:
        raise bl.ProtocolError("layout: the student's page has no timer")
    results.interval_ms = float(ms)
    return ms / 1000


# --------------------------------------------------------------------------- figures


def updates(results: ClassResults) -> tuple[list[float], list[float], list[float], list[str]]:
    """(teacher action → student updated, one per action and student; the slowest student of each action;
    teacher step → student's new page loaded; problems), in seconds.

    A student counts for an action sent after it joined; it is updated by the first follow answer that carries
    the action's revision (or a later one).  Every state a student saw must be what the teacher set at that
    revision."""
    by_rev = {a.rev: a for a in results.actions}
    per_pair: list[float] = []
    slowest: dict[int, float] = {}  # revision → the slowest student's delay
    loads: list[float] = []
    problems: list[str] = []
    wrong = missed = 0
    for s in results.seen:
        if math.isnan(s.joined):
            continue
        for rev, lesson, step, revealed, _ in s.states:
            a = by_rev.get(rev)
            if a is None or (a.lesson, a.step, a.revealed) != (lesson, step, revealed):
                wrong += 1
        for a in results.actions:
            if a.kind == "start" or a.sent < s.joined:
                continue
            got = next((t for rev, *_, t in s.states if rev >= a.rev), None)
            if got is None:
                missed += 1
                continue
            per_pair.append(got - a.sent)
            slowest[a.rev] = max(slowest.get(a.rev, 0.0), got - a.sent)
            if a.kind == "arrive":
                shown = next((t for lesson, step, t in s.loaded if t >= a.sent and (lesson, step) == (a.lesson, a.step)),
                             None)  # fmt: skip
                if shown is not None:
                    loads.append(shown - a.sent)
    if wrong:
        problems.append(f"follow: {wrong} room state(s) differ from what the teacher set at their revision")
    if missed:
        problems.append(f"follow: {missed} teacher action(s) never seen by a student that had joined")
    return per_pair, list(slowest.values()), loads, problems


def updates_by_rev(results: ClassResults) -> dict[int, float]:
    """Revision → the delay (s) until the slowest student that had joined saw it."""
    worst: dict[int, float] = {}
    for s in results.seen:
        for a in results.actions:
            if a.kind == "start" or math.isnan(s.joined) or a.sent < s.joined:
                continue
            got = next((t for rev, *_, t in s.states if rev >= a.rev), None)
            if got is not None:
                worst[a.rev] = max(worst.get(a.rev, 0.0), got - a.sent)
    return worst


def figures(results: ClassResults) -> dict[str, Any]:
    timed = [s for s in results.samples if s.kind != "client"]
    by_kind: dict[str, list[float]] = defaultdict(list)
    for s in timed:
        by_kind[s.kind].append(s.seconds)
    failed = Counter(s.kind for s in results.samples if s.error)
    rows = {k: bl.summary(by_kind[k], failed[k]) for k in KINDS if by_kind[k] or failed[k]}
    rows["all requests"] = bl.summary([s.seconds for s in timed], sum(failed.values()))
    per_pair, slowest, loads, problems = updates(results)
    errors = Counter(s.error for s in results.samples if s.error)
    for text in results.problems + problems:
        errors[text] += 1
    elapsed = results.elapsed or math.nan
    kinds = Counter(a.kind for a in results.actions)
    # teacher action → a student's follow answer with the new revision: each student, the class's slowest,
    # and (a step change) → the student's reloaded page
    kind_of = {a.rev: a.kind for a in results.actions}
    worst = updates_by_rev(results)
    seen = {"each student": bl.summary(per_pair, 0), "all students": bl.summary(slowest, 0),
            "  of a step": bl.summary([t for r, t in worst.items() if kind_of[r] == "arrive"], 0),
            "  of a reveal": bl.summary([t for r, t in worst.items() if kind_of[r] == "reveal"], 0),
            "page reloaded": bl.summary(loads, 0),
            "timer late": bl.summary([t for s in results.seen for t in s.late], 0)}  # fmt: skip
    return {
        "requests": rows,
        "updates": seen,
        "actions": dict(kinds),
        "students_joined": sum(1 for s in results.seen if not math.isnan(s.joined)),
        "answers": dict(results.answers),
        "interval_ms": results.interval_ms,
        "elapsed_s": results.elapsed,
        "requests_per_s": len(timed) / elapsed,
        "follow_per_s": len(by_kind["follow"]) / elapsed,
        "errors": dict(errors.most_common()),
        "error_count": sum(errors.values()),
        "reconnects": results.reconnects,
        "client_cpu_s": results.client_cpu,
        "mb_received": sum(s.nbytes for s in results.samples) / 1e6,
    }


def report(fig: dict[str, Any], header: list[str], footer: list[str]) -> str:
    lines = [*header, ""]
    lines += bl._table("request", fig["requests"]) + [""]
    lines += bl._table("action → seen", fig["updates"]) + [""]
    acts = ", ".join(f"{n} {k}" for k, n in fig["actions"].items())
    lines.append(f"teacher         {acts}; {fig['students_joined']} students joined, polling every "
                 f"{fig['interval_ms']:.0f} ms")  # fmt: skip
    lines.append(f"answers         {fig['answers'].get('sent', 0)} sent, {fig['answers'].get('late', 0)} late "
                 f"(after the reveal or the next step)")  # fmt: skip
    lines.append(f"throughput      {fig['requests_per_s']:.1f} requests/s ({fig['follow_per_s']:.1f} follow/s), "
                 f"{fig['mb_received']:.1f} MB received in {fig['elapsed_s']:.1f} s")  # fmt: skip
    again = f"   (requests sent again after a closed keep-alive: {fig['reconnects']})" if fig["reconnects"] else ""
    lines.append(f"errors          {fig['error_count']}{again}")
    for text, count in fig["errors"].items():
        lines.append(f"  {count:>5} × {text}")
    return "\n".join(lines + footer)


def _span(text: str) -> tuple[float, float]:
    lo, sep, hi = text.partition(":")
    return float(lo), float(hi if sep else lo)


def main(args: Any, target: Callable[[], Any]) -> int:
    """``bench_load.py --classroom``: run the scenario against ``target()`` (a context giving a Server) and report."""
    think = args.think if args.think is not None else (0.3, 1.5)
    dwell = _span(args.dwell)
    lessons = tuple(x for x in args.lessons.split(",") if x)
    with target() as server:
        load0 = os.getloadavg()
        cpu0, busy0 = server.cpu_seconds(), bl.machine_busy_seconds()
        results = run_classroom(server.base, students=args.students, duration=args.duration, dwell=dwell,
                                think=think, ramp=args.ramp, seed=args.seed, timeout=args.timeout,
                                lessons=lessons)  # fmt: skip
        cpu1, busy1 = server.cpu_seconds(), bl.machine_busy_seconds()
        load1 = os.getloadavg()
    fig = figures(results)
    problems = bl.log_problems(server.log) if server.proc is not None else []
    where = (f"started here: {server.workers} workers × {server.threads} threads (gthread)" if server.proc is not None
             else "already running (workers and threads not known here)")  # fmt: skip
    header = [
        (f"Descent Lab class room load test: 1 teacher on {', '.join(lessons)} (a step every {dwell[0]:g}–{dwell[1]:g}"
         f" s), {args.students} students (think {think[0]:g}–{think[1]:g} s, ramp {args.ramp:g} s), {args.duration:g} s"),
        f"server          {server.base}, {where}",
        (f"machine         {os.cpu_count()} CPUs, load average {load0[0]:.2f} {load0[1]:.2f} {load0[2]:.2f} before, "
         f"{load1[0]:.2f} {load1[1]:.2f} {load1[2]:.2f} after"),
    ]
    client = results.client_cpu / results.elapsed
    cpu = f"load generator {client:.2f}"
    server_cores = (cpu1 - cpu0) / results.elapsed if cpu0 is not None and cpu1 is not None else None
    if server_cores is not None:
        cpu = f"server {server_cores:.2f}, " + cpu
    if busy0 is not None and busy1 is not None:
        busy = (busy1 - busy0) / results.elapsed
        others = busy - client - (server_cores or 0.0)
        cpu = f"{busy:.2f} of {os.cpu_count()} cores busy: {cpu}, other processes {max(0.0, others):.2f}"
    footer = [f"CPU             {cpu} (cores, averaged over the run)"]
    if server.proc is not None:
        footer.append(f"server log      {len(problems)} problem(s)" + (":" if problems else ""))
        footer += ["  " + line for block in problems[:3] for line in block.splitlines()]
    each = fig["updates"]["each student"]["p95"]
    every = fig["updates"]["all students"]["p95"]
    verdict = "met" if fig["error_count"] == 0 and every <= 1000 else "missed"
    footer.append(f"target          0 errors and p95 ≤ 1 s for teacher action → all students updated: {verdict}, "
                  f"{fig['error_count']} errors, p95 {every:.0f} ms (each student: p95 {each:.0f} ms)")  # fmt: skip
    print(report(fig, header, footer))
    if args.json:
        fig.update(students=args.students, duration=args.duration, workers=server.workers, threads=server.threads,
                   load_before=load0, load_after=load1, server_log_problems=problems, cpu=cpu,
                   server_cores=server_cores)  # fmt: skip
        args.json.write_text(json.dumps(fig, indent=2, default=str))
    return 0
