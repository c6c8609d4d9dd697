"""The lab's race queue without Dash: global slots, one race per browser, liveness, what pages are told.

Everything runs on ``MemoryKV`` (and one test on the DiskcacheManager's store, as after a restart); a
job's process is "alive" or "dead" through the injected ``alive`` check, except where a real dead
process is used.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from app.hosting.kv import DiskKV, MemoryKV
from app.lab import gate, heartbeat, jobs, limits
from app.lab import queue as lab_queue

B1, B2, B3, B4 = ("browser-one-0000", "browser-two-0000", "browser-three-00", "browser-four-000")


def tok(n: int) -> str:
    return f"race-token-{n:06d}"


class Procs:
    """The ``alive`` check of a queue: every pid lives unless killed here."""

    def __init__(self) -> None:
        self.dead: set[int] = set()

    def __call__(self, pid, started) -> bool:
        return isinstance(pid, int) and pid not in self.dead


def record(pid: int) -> dict:
    return {"host": "here", "pid": pid, "ct": 1.0, "task": None}


def make_queue(slots: int = 2, **kw) -> tuple[lab_queue.RaceQueue, Procs, list[float]]:
    procs, now = Procs(), [1000.0]
    q = lab_queue.RaceQueue(MemoryKV(), slots, clock=lambda: now[0], here="here", alive=procs, **kw)
    return q, procs, now


def begun(q: lab_queue.RaceQueue, browser: str, token: str, pid: int) -> None:
    assert q.join(browser, token)[0] == "new"
    assert q.begin(token, browser, record(pid)) == "ok"


# --------------------------------------------------------------------------- limits


def test_one_race_per_browser_and_a_bounded_queue():
    q, _, _ = make_queue(max_entries=3)
    state, entry = q.join(B1, tok(1))
    assert state == "new" and entry["s"] == "queued"
    # a second tab of the same browser gets the first race back, not a new one
    state, entry = q.join(B1, tok(2))
    assert state == "existing" and entry["t"] == tok(1)
    assert q.join(B2, tok(3))[0] == "new" and q.join(B3, tok(4))[0] == "new"
    assert q.join(B4, tok(5)) == ("full", None)
    assert [e["t"] for e in q.live()] == [tok(1), tok(3), tok(4)]
    # leaving frees the browser and the place
    q.leave(tok(1))
    assert q.join(B4, tok(5))[0] == "new"
    assert q.for_browser(B1) is None and q.for_browser(B4)["t"] == tok(5)


def test_global_slots_first_come_first_served_with_positions():
    q, _, _ = make_queue(slots=2)
    for n, b in enumerate((B1, B2, B3, B4), start=1):
        begun(q, b, tok(n), pid=100 + n)
    assert q.turn(tok(1)).kind == "run" and q.turn(tok(2)).kind == "run"
    t3, t4 = q.turn(tok(3)), q.turn(tok(4))
    assert (t3.kind, t3.position, t3.waiting, t3.running) == ("wait", 1, 2, 2)
    assert (t4.kind, t4.position) == ("wait", 2)
    # the fourth may not jump the third when a slot frees
    q.finish(tok(1), True, "Finished.")
    assert q.turn(tok(4)).kind == "wait" and q.turn(tok(4)).position == 2
    assert q.turn(tok(3)).kind == "run"
    assert q.turn(tok(4)).kind == "wait" and q.turn(tok(4)).position == 1
    q.finish(tok(2), False, "Cancelled.")
    assert q.turn(tok(4)).kind == "run"
    assert sum(e["s"] == "running" for e in q.live()) == 2


def test_a_queued_race_whose_job_has_not_begun_does_not_block_begun_ones():
    q, _, _ = make_queue(slots=1)
    assert q.join(B1, tok(1))[0] == "new"  # e.g. a Celery task still waiting for a worker
    begun(q, B2, tok(2), pid=7)
    assert q.place(tok(2)).position == 2  # shown behind it...
    assert q.turn(tok(2)).kind == "run"  # ...but it may take the free slot


def test_a_job_may_begin_only_its_own_queued_race_and_only_once():
    q, _, _ = make_queue()
    assert q.begin(tok(1), B1, record(5)) == "missing"
    q.join(B1, tok(1))
    assert q.begin(tok(1), B2, record(5)) == "missing"  # another browser's race
    assert q.begin(tok(1), B1, record(5)) == "ok"
    assert q.begin(tok(1), B1, record(6)) == "again"  # a redelivered task does not run the race twice


# --------------------------------------------------------------------------- liveness


def test_a_killed_job_frees_its_slot_within_seconds_or_at_once_when_its_page_notices():
    q, procs, now = make_queue(slots=1)
    begun(q, B1, tok(1), pid=11)
    begun(q, B2, tok(2), pid=12)
    assert q.turn(tok(1)).kind == "run" and q.turn(tok(2)).kind == "wait"
    procs.dead.add(11)  # SIGKILL: its heartbeat key is still there, its process is not
    assert q.verdict(tok(1)).kind == "lost"  # its own page sees it at once
    assert q.turn(tok(2)).kind == "wait"  # waiting jobs read the queue as last checked…
    now[0] += limits.PRUNE_EVERY  # …which is checked again every few seconds
    assert q.turn(tok(2)).kind == "run"
    assert [e["t"] for e in q.live()] == [tok(2)]
    assert q.join(B1, tok(3))[0] == "new"  # and its browser may start again
    # a job whose page reports it dead frees its slot at once
    assert q.begin(tok(3), B1, record(13)) == "ok"
    assert q.turn(tok(3)).kind == "wait"
    procs.dead.add(12)
    q.forget(tok(2))
    assert q.turn(tok(3)).kind == "run"


def test_reading_the_queue_is_cheap_and_only_one_reader_at_a_time_prunes_it():
    q, procs, now = make_queue(slots=1)
    for n, b in enumerate((B1, B2, B3), start=1):
        begun(q, b, tok(n), pid=n)
    checks = []
    real = q.alive_pid
    q.alive_pid = lambda pid, ct: checks.append(pid) or real(pid, ct)
    q.view()
    q.place(tok(3))
    assert q.turn(tok(3)).kind == "wait" and checks == []  # no liveness checks while the check is recent
    assert q.entry(tok(2)) is not None and checks == [2]  # one entry's own check
    now[0] += limits.PRUNE_EVERY
    q.kv.add(q.LOCK, b"someone else", 5)
    assert len(q.view()) == 3 and checks == [2]  # another reader holds the lock: use the entries as they are
    q.kv.delete(q.LOCK)
    assert len(q.view()) == 3 and sorted(checks) == [1, 2, 2, 3]


def test_on_another_host_the_heartbeat_keys_expiry_decides():
    q, procs, _ = make_queue(slots=1)
    assert q.join(B1, tok(1))[0] == "new"
    assert q.begin(tok(1), B1, {"host": "elsewhere", "pid": 11, "ct": 1.0, "task": None}) == "ok"
    procs.dead.add(11)  # a pid on another machine says nothing here
    assert q.verdict(tok(1)).kind == "running"
    q.kv.delete(q.beat_key(tok(1)))  # the key expired: no beat for BEAT_TTL seconds
    assert q.verdict(tok(1)).kind == "lost" and q.live() == []


def test_queued_races_live_while_their_page_asks_and_entries_have_a_maximum_age():
    q, _, now = make_queue()
    q.join(B1, tok(1))
    q.join(B2, tok(2))
    q.kv.delete(q.wants_key(tok(1)))  # the page went away before a job began
    assert [e["t"] for e in q.live()] == [tok(2)]
    now[0] += limits.SLOT_WAIT_LIMIT + 1  # nobody began it in time
    q.want(tok(2))
    assert q.live() == []
    begun(q, B3, tok(3), pid=5)
    now[0] += limits.JOB_WALL_LIMIT + 1  # a job past its hard bound holds nothing
    assert q.live() == []


def test_a_stale_lock_expires_and_a_held_one_makes_joins_busy():
    q, _, _ = make_queue(lock_wait=0.05)
    q.kv.add(q.LOCK, b"someone", 0.2)
    assert q.join(B1, tok(1)) == ("busy", None)
    with pytest.raises(lab_queue.QueueBusy):
        q.begin(tok(1), B1, record(1))
    q.leave(tok(1))  # never raises
    import time

    time.sleep(0.25)
    assert q.join(B1, tok(1))[0] == "new"


def test_a_corrupt_or_foreign_queue_document_reads_as_empty():
    q, _, _ = make_queue()
    q.kv.set(q.DOC, b"\x80not json", 60)
    assert q.live() == [] and q.join(B1, tok(1))[0] == "new"
    bad = {"v": 1, "entries": [{"t": "<script>", "b": B2, "c": 1, "s": "queued"}, {"t": tok(2)}, 5,
                               {"t": tok(3), "b": B3, "c": 1.0, "s": "hacked"}]}  # fmt: skip
    q.kv.set(q.DOC, json.dumps(bad).encode(), 60)
    assert q._entries() == []


def test_after_a_restart_stale_claims_of_dead_jobs_block_nothing(tmp_path):
    import diskcache

    # a job process that has died (as after a server restart), with its claim and the lock it held
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait(timeout=30)
    kv = DiskKV(diskcache.Cache(str(tmp_path)))
    q = lab_queue.RaceQueue(kv, 1, lock_wait=0.5)
    assert q.join(B1, tok(1))[0] == "new"
    assert q.begin(tok(1), B1, heartbeat.job_record()) == "ok"
    assert q.turn(tok(1)).kind == "run"
    q.beat(tok(1), {"host": q.here, "pid": proc.pid, "ct": 1.0, "task": None})  # it was that process
    kv.add(q.LOCK, b"dead job", 1.0)
    assert [e["s"] for e in q._entries()] == ["running"]
    # the restarted server: a new store object on the same directory
    q2 = lab_queue.RaceQueue(DiskKV(diskcache.Cache(str(tmp_path))), 1, lock_wait=2.0)
    assert q2.join(B2, tok(2))[0] == "new"  # waited out the dead lock; the dead job's entry is gone
    assert q2.begin(tok(2), B2, heartbeat.job_record()) == "ok"
    assert q2.turn(tok(2)).kind == "run"
    assert q2.verdict(tok(1)).kind == "lost" and q2.for_browser(B1) is None


def test_pid_checks_see_the_living_the_dead_and_reused_pids():
    me = heartbeat.job_record()
    assert me["pid"] == os.getpid() and me["task"] is None
    assert heartbeat.pid_alive(me["pid"], me["ct"])
    assert not heartbeat.pid_alive(me["pid"], me["ct"] - 1000)  # same pid, another process
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait(timeout=30)
    assert not heartbeat.pid_alive(proc.pid, None)
    assert not heartbeat.pid_alive("1", None) and not heartbeat.pid_alive(True, None) and not heartbeat.pid_alive(-3, None)


# --------------------------------------------------------------------------- verdicts and what pages show


def test_verdicts_tell_done_running_queued_lost_and_cancelled():
    q, procs, _ = make_queue()
    q.join(B1, tok(1))
    assert q.verdict(tok(1)).kind == "queued"
    q.begin(tok(1), B1, record(9))
    assert q.verdict(tok(1)).kind == "running"
    q.finish(tok(1), True, "Finished 3 epochs.")
    assert q.verdict(tok(1)) == lab_queue.Verdict("done", "Finished 3 epochs.", 100.0)
    # a job that stopped at its hard bound says why
    begun(q, B2, tok(2), pid=10)
    q.set_fate(tok(2), "The race was stopped: over time.")
    q.leave(tok(2))
    assert q.verdict(tok(2)) == lab_queue.Verdict("lost", "The race was stopped: over time.")
    # one that vanished without a trace
    begun(q, B3, tok(3), pid=12)
    procs.dead.add(12)
    assert q.verdict(tok(3)).kind == "lost" and q.verdict(tok(3)).text == lab_queue.LOST_TEXT
    assert q.verdict(tok(4), cancel_requested=True).kind == "cancelled"


def test_status_lines_are_published_per_browser_and_checked_against_the_race():
    q, _, _ = make_queue()
    q.publish(B1, tok(1), "Epoch 3 of 50 · 1.2 s elapsed", 6.0)
    assert q.status(B1, tok(1))["text"].startswith("Epoch 3 of 50")
    assert q.status(B1, tok(2)) is None  # an older race's line is not shown for another
    assert q.status(B2, tok(1)) is None
    q.publish(B1, tok(1), "x" * 5000, None)
    assert len(q.status(B1, tok(1))["text"]) == 600


def test_the_start_gate_queues_once_and_a_second_tab_follows_the_first_race():
    q, _, _ = make_queue()
    first = gate.gate(q, B1, "nonce-aaaaaaaa", None)
    run = first["run"]
    assert gate.run_of(run) == (run["token"], B1) and first["follow_disabled"] is True
    assert gate.gate(q, B1, "nonce-aaaaaaaa", run) == {}  # a second click on the same page
    q.begin(run["token"], B1, record(3))
    q.publish(B1, run["token"], "Epoch 2 of 9 · training loss …", 20.0)
    second = gate.gate(q, B1, "nonce-bbbbbbbb", None)  # another tab of the browser
    assert "run" not in second and second["start_disabled"] is True and second["follow_disabled"] is False
    assert "already has a race running" in second["status"] and "Epoch 2 of 9" in second["status"]
    assert second["following"] == {"token": run["token"]} and second["bar"] == "20.0"
    assert len(q.live()) == 1


def test_the_gate_falls_back_to_the_page_id_and_refuses_when_full_or_unidentified():
    q, _, _ = make_queue(max_entries=1)
    out = gate.gate(q, "<bad id>", "nonce-aaaaaaaa", None)
    assert out["run"]["browser"] == "page-nonce-aaaaaaaa"
    full = gate.gate(q, B2, "nonce-bbbbbbbb", None)
    assert "run" not in full and "The lab is full" in full["status"]
    assert "could not identify" in gate.gate(q, None, "x", None)["status"]
    assert gate.run_of({"token": "../x", "browser": B1}) is None and gate.run_of("junk") is None


def test_check_job_reports_a_dead_job_frees_it_and_restores_start():
    q, procs, _ = make_queue(slots=1)
    kv = q.kv
    run = gate.gate(q, B1, "nonce-aaaaaaaa", None)["run"]
    other = gate.gate(q, B2, "nonce-bbbbbbbb", None)["run"]
    q.begin(run["token"], B1, record(21))
    q.begin(other["token"], B2, record(22))
    assert q.turn(run["token"]).kind == "run" and q.turn(other["token"]).kind == "wait"
    assert gate.check_job(q, run, ended=False, kv=kv) == {}  # alive: nothing to say
    procs.dead.add(21)
    # while Dash still polls, the watch notices...
    out = gate.check_job(q, run, ended=False, kv=kv)
    assert out["status"] == lab_queue.LOST_TEXT and out["start_disabled"] is False and out["cancel_disabled"] is True
    assert out["status_class"].endswith("lab-status-failed") and out["watch_disabled"] is True
    # ...and so does the end of polling; the other student's race gets the slot
    assert gate.check_job(q, run, ended=True, kv=kv)["status"] == lab_queue.LOST_TEXT
    assert q.turn(other["token"]).kind == "run"
    assert q.for_browser(B1) is None


def test_check_job_says_nothing_after_a_result_and_follows_a_job_it_lost_contact_with():
    q, _, _ = make_queue()
    kv = q.kv
    run = gate.gate(q, B1, "nonce-aaaaaaaa", None)["run"]
    q.begin(run["token"], B1, record(5))
    # Dash stopped polling but the job still beats (e.g. the web server answered 500 once)
    out = gate.check_job(q, run, ended=True, kv=kv)
    assert "lost contact" in out["status"] and out["follow_disabled"] is False
    assert out["following"] == {"token": run["token"]}
    q.finish(run["token"], True, "Finished 2 epochs.")
    assert gate.check_job(q, run, ended=True, kv=kv) == {}
    assert gate.check_job(q, None, ended=True, kv=kv) == {}


def test_check_job_shows_the_queue_position_and_a_cancelled_queued_race():
    q, _, _ = make_queue(slots=1)
    kv = q.kv
    a = gate.gate(q, B1, "nonce-aaaaaaaa", None)["run"]
    b = gate.gate(q, B2, "nonce-bbbbbbbb", None)["run"]
    q.begin(a["token"], B1, record(1))
    q.turn(a["token"])
    out = gate.check_job(q, b, ended=False, kv=kv)  # its job has not begun (no Celery worker free yet)
    assert out["status"].startswith("Queued: number 1 of 1 waiting (1 race is training, at most 1 at once)")
    assert gate.cancel_race(q, kv, b["token"]) == lab_queue.CANCELLED_QUEUED
    assert q.entry(b["token"]) is None
    out = gate.check_job(q, b, ended=False, kv=kv)
    assert out["status"] == lab_queue.CANCELLED_QUEUED and out["status_class"] == "lab-status"
    assert gate.cancel_race(q, kv, a["token"]).startswith("Cancelling")
    assert kv.get(heartbeat.cancel_key(a["token"])) == b"1"


def test_a_diskcache_job_that_died_before_it_began_is_lost_but_a_celery_one_is_followed():
    q, _, _ = make_queue()
    run = gate.gate(q, B1, "nonce-aaaaaaaa", None)["run"]
    assert gate.check_job(q, run, ended=True, kv=q.kv)["status"] == lab_queue.LOST_TEXT

    class FakeCelery:
        class handle:  # noqa: N801 - mimics CeleryManager.handle
            backend = object()

    run = gate.gate(q, B2, "nonce-bbbbbbbb", None)["run"]
    out = gate.check_job(q, run, ended=True, kv=q.kv, manager=FakeCelery())
    assert "lost contact" in out["status"]


def test_forget_marks_the_lost_celery_task_failed_so_dash_stops_polling_it():
    q, procs, _ = make_queue()
    marked = []

    class Backend:
        def mark_as_failure(self, task, exc):
            marked.append((task, str(exc)))

    class Manager:
        class handle:  # noqa: N801
            backend = Backend()

    q.join(B1, tok(1))
    q.begin(tok(1), B1, {**record(31), "task": "celery-task-id"})
    procs.dead.add(31)
    q.forget(tok(1), Manager())
    assert marked == [("celery-task-id", "the race's worker was lost")]
    assert q.entry(tok(1)) is None


def test_other_tabs_follow_the_race_until_it_ends_or_dies():
    q, procs, _ = make_queue()
    run = gate.gate(q, B1, "nonce-aaaaaaaa", None)["run"]
    token = run["token"]
    # a page opened later in the same browser picks the race up on load
    out = gate.follow(q, B1, "nonce-bbbbbbbb", None, None, on_load=True)
    assert out["following"] == {"token": token} and "Queued" in out["status"]
    assert gate.follow(q, B1, "nonce-aaaaaaaa", None, run, on_load=True) == {}  # the page that started it
    assert gate.follow(q, B2, "nonce-cccccccc", None, None, on_load=True) == {}  # another browser
    q.begin(token, B1, record(41))
    q.publish(B1, token, "Epoch 7 of 50 · 3.0 s elapsed", 14.0)
    out = gate.follow(q, B1, "nonce-bbbbbbbb", {"token": token}, None, on_load=False)
    assert out["status"] == gate.OTHER_PREFIX + "Epoch 7 of 50 · 3.0 s elapsed" and out["bar"] == "14.0"
    assert out["start_disabled"] is True
    q.publish(B1, token, "Finished 50 epochs in 9.0 s.", 100.0, final=True)
    q.finish(token, True, "Finished 50 epochs in 9.0 s.")
    out = gate.follow(q, B1, "nonce-bbbbbbbb", {"token": token}, None, on_load=False)
    assert "has ended. Finished 50 epochs" in out["status"]
    assert out["start_disabled"] is False and out["follow_disabled"] is True and out["following"] is None
    # a followed race whose job is killed
    run2 = gate.gate(q, B1, "nonce-bbbbbbbb", None)["run"]
    q.begin(run2["token"], B1, record(42))
    procs.dead.add(42)
    out = gate.follow(q, B1, "nonce-cccccccc", {"token": run2["token"]}, None, on_load=False)
    assert lab_queue.LOST_TEXT in out["status"] and out["start_disabled"] is False
    assert q.for_browser(B1) is None
    assert gate.follow(q, B1, "nonce-cccccccc", {"token": "<x>"}, None, on_load=False) == {"follow_disabled": True}


# --------------------------------------------------------------------------- the job's side


def test_the_heartbeat_refreshes_the_beat_and_status_and_enforces_the_deadline():
    q, _, _ = make_queue()
    now = [0.0]
    over = []
    hb = heartbeat.Heartbeat(q, tok(1), record(1), deadline=10.0, overrun=lambda: over.append(1), clock=lambda: now[0])
    hb.status = (B1, "Epoch 1 of 2", 50.0)
    assert hb.tick() and q.kv.get(q.beat_key(tok(1))) is not None
    assert q.status(B1, tok(1))["text"] == "Epoch 1 of 2"
    now[0] = 10.5
    assert hb.tick() is False and over == [1]
    # the thread: beats until stopped
    hb = heartbeat.Heartbeat(q, tok(2), record(2), deadline=1e9, overrun=lambda: None, every=0.01).start()
    import time

    deadline = time.monotonic() + 5
    while q.kv.get(q.beat_key(tok(2))) is None and time.monotonic() < deadline:
        time.sleep(0.01)
    hb.stop()
    assert q.kv.get(q.beat_key(tok(2))) is not None and not hb._thread.is_alive()


def test_a_job_past_its_hard_bound_leaves_its_reason_and_ends_its_process_or_cancels():
    q, _, _ = make_queue()
    exits = []
    q.join(B1, tok(1))
    job = jobs.QueuedJob(q, tok(1), B1, own_process=True, exit_now=lambda: exits.append(1))
    assert job.begin() is None
    job.heart.stop()
    job._overrun()
    assert exits == [1] and q.entry(tok(1)) is None
    assert q.verdict(tok(1)).text.startswith("The race was stopped: its job ran past its time bound")
    # on a Celery worker the race is cancelled instead (the worker process is shared)
    q.join(B2, tok(2))
    job = jobs.QueuedJob(q, tok(2), B2, own_process=False, exit_now=lambda: exits.append(2))
    assert job.begin() is None
    job.heart.stop()
    job._overrun()
    assert exits == [1] and q.kv.get(heartbeat.cancel_key(tok(2))) == b"1"


def test_waiting_for_a_slot_reports_the_position_and_is_bounded():
    q, _, _ = make_queue(slots=1)
    begun(q, B1, tok(1), pid=1)
    assert q.turn(tok(1)).kind == "run"
    q.join(B2, tok(2))
    now = [0.0]
    texts = []

    def sleep(s):
        now[0] += s
        if now[0] >= 3:  # the first race ends after three seconds
            q.finish(tok(1), True, "Finished.")

    job = jobs.QueuedJob(q, tok(2), B2, clock=lambda: now[0], sleep=sleep)
    assert job.begin() is None
    job.heart.stop()
    assert job.wait_turn(lambda: False, texts.append) == "run"
    assert len(texts) == 3 and texts[0].startswith("Waiting for a free training slot: you are number 1 of 1")
    assert "1 race is training, at most 1 at once; waited 0 s" in texts[0]
    # cancelled while waiting, and waiting too long
    begun(q, B3, tok(3), pid=3)
    job3 = jobs.QueuedJob(q, tok(3), B3, clock=lambda: now[0], sleep=lambda s: None)
    assert job3.wait_turn(lambda: True, texts.append) == "cancelled"
    job3 = jobs.QueuedJob(q, tok(3), B3, clock=lambda: now[0], sleep=lambda s: now.__setitem__(0, now[0] + 100))
    assert job3.wait_turn(lambda: False, texts.append) == "timeout"
    q.leave(tok(3))
    assert job3.wait_turn(lambda: False, texts.append) == "missing"


def test_training_slots_come_from_the_environment_within_bounds(capsys):
    class Celery:
        class handle:  # noqa: N801
            backend = object()

    disk = object()
    assert lab_queue.training_slots(disk, {}) == limits.DISK_SLOTS
    assert lab_queue.training_slots(Celery(), {}) == limits.CELERY_SLOTS
    assert lab_queue.training_slots(Celery(), {limits.SLOTS_ENV: " 7 "}) == 7
    for bad in ("0", "-1", "2.5", "many", "99999"):
        assert lab_queue.training_slots(disk, {limits.SLOTS_ENV: bad}) == limits.DISK_SLOTS
    assert limits.SLOTS_ENV in capsys.readouterr().err


def test_the_celery_task_time_limit_covers_a_jobs_hard_bound_and_lost_workers_are_not_requeued():
    from app.hosting.jobs import celery_app

    conf = celery_app("redis://127.0.0.1:1/0").conf
    assert conf.task_time_limit > limits.JOB_WALL_LIMIT
    assert conf.task_acks_late is True and conf.task_reject_on_worker_lost is False
    assert conf.broker_transport_options["visibility_timeout"] > conf.task_time_limit

