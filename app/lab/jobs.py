"""The race as a background job: validate, wait for a training slot, load, train, measure, slice.

:func:`run_job` is what the background callback runs (in a job process on diskcache, on a
Celery worker otherwise).  It never raises: every failure comes back as ``ok=False`` with a
sentence for the page.  :class:`QueuedJob` is the job's side of the race queue (claim the queued
race, wait for a training slot, keep a heartbeat, always leave a done marker); :class:`Reporter` turns the
trainer's snapshots into throttled progress updates.  A new measurement is computed in
:func:`_train_and_measure` and drawn by :mod:`app.lab.figures` / :mod:`app.lab.results`.
"""

from __future__ import annotations

import math
import os
import sys
import time
import traceback
from collections.abc import Callable, Mapping
from typing import Any

from app.lab import figures as lab_figures
from app.lab.checks import check_run, landscape_plan, model_summary, psnr_columns
from app.lab.heartbeat import Heartbeat, cancel_check, cancel_key, job_record, request_cancel, valid_token
from app.lab.limits import (
    HARD_MARGIN,
    JOB_WALL_LIMIT,
    LOAD_LIMIT,
    MEASURE_LIMIT,
    N_SHOW,
    PROGRESS_INTERVAL,
    PSNR_SAMPLES,
    SLOT_WAIT_LIMIT,
    WAIT_POLL,
)
from app.lab.queue import QueueBusy, RaceQueue, Turn
from app.lab.state import INIT_LABELS, LabSettings, sanitize
from app.lab.uploads import load_dataset


class Reporter:
    """Turns the race's snapshots into progress updates, at most every ``interval`` seconds.

    ``push(loss_figure, status_text, percent)`` is Dash's ``set_progress`` (wrapped);
    each update carries the whole downsampled history, since Dash keeps only the last.
    """

    def __init__(self, push: Callable[[dict[str, Any], str, float], None], epochs: int, time_limit: float | None,
                 interval: float = PROGRESS_INTERVAL, clock: Callable[[], float] = time.monotonic) -> None:  # fmt: skip
        self.push = push
        self.epochs = epochs
        self.time_limit = time_limit
        self.interval = interval
        self.clock = clock
        self.last = -math.inf
        self.snap: dict[str, Any] | None = None
        self.pushes = 0

    def figure(self) -> dict[str, Any]:
        if self.snap is None:
            return lab_figures.message_figure("The loss curves appear after the first epoch.")
        return lab_figures.loss_figure(self.snap.get("runs") or [], self.epochs)

    def phase(self, text: str, percent: float | None = None) -> None:
        pct = percent if percent is not None else (100.0 * float(self.snap["fraction"]) if self.snap else 0.0)
        self.push(self.figure(), text, pct)
        self.pushes += 1
        self.last = self.clock()

    def snapshot(self, snap: dict[str, Any]) -> None:
        self.snap = snap
        now = self.clock()
        if now - self.last >= self.interval or float(snap.get("fraction", 0.0)) >= 1.0:
            self.phase(lab_figures.status_line(snap, self.time_limit))


def _race_status(race: Any, s: LabSettings) -> str:
    last = max((r.history[-1].epoch for r in race.runs), default=0)
    if race.stopped == "cancelled":
        head = f"Cancelled after epoch {last} of {s.epochs}; the results below are for the epochs completed."
    elif race.stopped == "time_limit":
        head = f"Stopped at the time limit ({s.limit:g} s) after epoch {last} of {s.epochs}."
    else:
        head = f"Finished {s.epochs} epochs in {race.elapsed:.1f} s."
    ok = [r for r in race.runs if r.history]
    if ok:
        best = min(ok, key=lambda r: r.final_val_loss)
        head += f" Lowest validation loss: {best.label} ({best.final_val_loss:.4g})."
    for r in race.runs:
        if r.status in ("diverged", "stalled"):
            head += f" {r.label} {r.message}."
    return head


def waiting_text(turn: Turn, slots: int, waited: float) -> str:
    races = "race is" if turn.running == 1 else "races are"
    return (f"Waiting for a free training slot: you are number {turn.position} of {turn.waiting} in the queue "
            f"({turn.running} {races} training, at most {slots} at once; waited {waited:.0f} s)…")  # fmt: skip


def _exit_now() -> None:
    os._exit(70)  # the job's own process (DiskcacheManager): Dash sees it gone, the page reports why


class QueuedJob:
    """The job's side of the race queue: begin, wait for a training slot, publish status, end (always).

    ``own_process``: the job has a process of its own (DiskcacheManager), which its heartbeat ends
    if the job runs past its hard bound; on a Celery worker the bound cancels the race instead
    (and Celery's task time limit is the last resort).
    """

    def __init__(self, queue: RaceQueue, token: str | None, browser: str | None, *, own_process: bool = False,
                 clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep,
                 exit_now: Callable[[], None] = _exit_now, kv: Any = None) -> None:  # fmt: skip
        self.queue = queue
        self.token = valid_token(token)
        self.browser = valid_token(browser)
        self.own_process = own_process
        self.clock = clock
        self.sleep = sleep
        self.exit_now = exit_now
        self.kv = kv if kv is not None else queue.kv
        self.heart: Heartbeat | None = None
        self.began = False

    def status(self, text: str, pct: float | None) -> None:
        if self.token is None or self.browser is None:
            return
        if self.heart is not None:
            self.heart.status = (self.browser, text, pct)
        self.queue.publish(self.browser, self.token, text, pct)

    def begin(self) -> str | None:
        """Claim the queued race; a sentence saying why it cannot run, or None."""
        if self.token is None or self.browser is None:
            return "This race request is not valid; reload the page and press Start again."
        record = job_record()
        try:
            state = self.queue.begin(self.token, self.browser, record)
        except QueueBusy:
            return "The server's race queue is too busy right now; press Start again in a minute."
        if state == "missing":
            return "This race request expired before it could start; press Start again."
        if state == "again":
            return ("This race was interrupted when its worker was lost and is not run a second time; "
                    "press Start to run it again.")  # fmt: skip
        self.began = True
        self.heart = Heartbeat(self.queue, self.token, record, self.clock() + JOB_WALL_LIMIT, self._overrun,
                               clock=self.clock).start()  # fmt: skip
        return None

    def bound(self, seconds: float) -> None:
        """From now on the job may run at most ``seconds`` more (its hard bound)."""
        if self.heart is not None:
            self.heart.deadline = min(self.heart.deadline, self.clock() + seconds)

    def _overrun(self) -> None:
        assert self.token is not None
        text = (f"The race was stopped: its job ran past its time bound (training limit plus "
                f"{LOAD_LIMIT + MEASURE_LIMIT + HARD_MARGIN:g} s for loading and measuring).")  # fmt: skip
        self.queue.set_fate(self.token, text)
        if self.own_process:
            self.queue.leave(self.token)
            self.exit_now()
        else:
            request_cancel(self.kv, self.token)

    def wait_turn(self, cancelled: Callable[[], bool], waiting: Callable[[str], None]) -> str:
        """Wait for a training slot: "run", "cancelled", "timeout" or "missing" (bounded in time and rounds)."""
        assert self.token is not None
        start = self.clock()
        for _ in range(int(SLOT_WAIT_LIMIT / WAIT_POLL) + 10):
            turn = self.queue.turn(self.token)
            if turn.kind in ("run", "missing"):
                return turn.kind
            if cancelled():
                return "cancelled"
            waited = self.clock() - start
            if waited > SLOT_WAIT_LIMIT:
                return "timeout"
            waiting(waiting_text(turn, self.queue.slots, waited))
            self.sleep(WAIT_POLL)
        return "timeout"

    def end(self, out: Mapping[str, Any] | None) -> None:
        """The job is over (whatever happened): stop the heartbeat, leave the done marker, free the entry."""
        if self.heart is not None:
            self.heart.stop()
        if self.token is None:
            return
        ok = bool(out and out.get("ok"))
        text = str(out.get("status", "")) if out else "The race ended without a result."
        if self.browser is not None:
            self.queue.publish(self.browser, self.token, text, 100.0 if ok else None, final=True)
        self.queue.finish(self.token, ok, text)


def run_job(form: Mapping[str, Any], upload: Any, *, kv: Any, token: str | None,
            push: Callable[[dict[str, Any], str, float], None], queue: RaceQueue | None = None,
            browser: str | None = None, own_process: bool = False,
            clock: Callable[[], float] = time.monotonic,
            sleep: Callable[[float], None] = time.sleep) -> dict[str, Any]:  # fmt: skip
    """One race from the form's raw values: validate, wait for a training slot, load, train, measure, slice.

    With a ``queue`` the race must have been queued by the page (``RaceQueue.join``) for ``browser``:
    the job claims it, waits for a training slot, keeps a heartbeat and publishes its status while
    it runs, and always leaves a done marker and frees its entry at the end.

    Returns ``ok``, ``status`` (a sentence), and when trained the figures: ``loss``,
    ``recon``, ``psnr`` (table rows), ``landscapes`` (``random`` and ``pca`` figures)
    and ``summary``.  Never raises: failures come back as ``ok=False`` with the reason.
    """
    settings, notes = sanitize(form)
    job = QueuedJob(queue, token, browser, own_process=own_process, clock=clock, sleep=sleep, kv=kv) \
        if queue is not None else None  # fmt: skip

    def publish(fig: dict[str, Any], text: str, pct: float) -> None:
        push(fig, text, pct)
        if job is not None:
            job.status(text, pct)

    reporter = Reporter(publish, settings.epochs, settings.limit, clock=clock)
    out: dict[str, Any] | None = None
    try:
        out = _run_checked(settings, notes, upload, kv, token, reporter, job, clock)
        return out
    finally:
        if job is not None:
            job.end(out)
        if token is not None:
            kv.delete(cancel_key(token))


_FAILED = {"ok": False, "loss": None, "recon": None, "psnr": None, "pca": None, "landscapes": None, "summary": ""}


def _run_checked(settings: LabSettings, notes: list[str], upload: Any, kv: Any, token: str | None,
                 reporter: Reporter, job: QueuedJob | None, clock: Callable[[], float]) -> dict[str, Any]:  # fmt: skip
    def fail(text: str, pct: float | None = 0.0) -> dict[str, Any]:
        reporter.phase(text, pct)
        return {**_FAILED, "status": text}

    if notes:
        return fail("Fix these settings first: " + "; ".join(notes) + ".")
    errors = check_run(settings, upload)
    if errors:
        return fail(" ".join(errors))
    cancelled = cancel_check(kv, token, clock)
    try:
        if job is not None:
            refusal = job.begin()
            if refusal is not None:
                return fail("Cancelled before training started." if cancelled() else refusal)
            got = job.wait_turn(cancelled, lambda text: reporter.phase(text, 0.0))
            if got == "cancelled":
                return fail("Cancelled before training started.")
            if got == "timeout":
                return fail(f"No training slot became free within {SLOT_WAIT_LIMIT / 60:g} minutes; "
                            "try again later.")  # fmt: skip
            if got == "missing":
                return fail("This race was dropped from the queue (its page stopped answering); press Start again.")
            job.bound(LOAD_LIMIT + settings.limit + MEASURE_LIMIT + HARD_MARGIN)
        reporter.phase("Loading data…", 0.0)
        data = load_dataset(settings, kv, upload)
        problems = check_run(settings, {"n_features": data.n_features, "image_shape": data.image_shape})
        if problems:
            return fail(" ".join(problems))
        return _train_and_measure(settings, data, reporter, cancelled, clock)
    except Exception as exc:  # noqa: BLE001 - every failure becomes a message on the page
        if not isinstance(exc, ValueError):
            traceback.print_exc(file=sys.stderr)
        text = f"The race could not run: {exc}" if isinstance(exc, ValueError) else \
            f"The race failed ({type(exc).__name__}: {exc})."  # fmt: skip
        return fail(text, 0.0 if reporter.snap is None else None)


def _train_and_measure(s: LabSettings, data: Any, reporter: Reporter, cancelled: Callable[[], bool],
                       clock: Callable[[], float] = time.monotonic) -> dict[str, Any]:  # fmt: skip
    from app.lab.compare import race_record
    from autoencoder.landscape import race_landscape

    reporter.phase("Training…", 0.0)
    race = train_settings(s, data, progress=reporter.snapshot, cancel=cancelled)
    keys = [r.key for r in race.runs]
    labels = [r.label for r in race.runs]
    runs = [r.summary() for r in race.runs]
    reporter.snap = {"runs": runs, "fraction": 1.0}
    curvature_start = clock()
    curvature = _curvature(race, labels, cancelled, reporter, s.seed, clock)
    curvature_used = clock() - curvature_start  # comes out of the landscape's measuring time
    landscapes: dict[str, Any] = {}
    if race.stopped == "cancelled":
        msg = lab_figures.message_figure("The loss landscape is skipped when a race is cancelled.")
        landscapes = {"random": msg, "pca": msg}
    else:
        reporter.phase("Computing the loss landscape…", 100.0)
        res, samples = landscape_plan(race.model.n_params, race.landscape_inputs.shape[0])
        measure_end = clock() + MEASURE_LIMIT - curvature_used

        def stop_slicing() -> bool:
            return cancelled() or clock() > measure_end

        for method in ("random", "pca"):
            try:
                land = race_landscape(race, method=method, resolution=res, samples=samples, seed=s.seed,
                                      cancel=stop_slicing)  # fmt: skip
                landscapes[method] = lab_figures.landscape_figure(land.to_dict(), labels, keys)
            except ValueError as exc:
                name = "PCA" if method == "pca" else "random"
                landscapes[method] = lab_figures.message_figure(f"No {name} slice: {exc}.")
            except InterruptedError:
                why = "was cancelled" if cancelled() else f"took longer than the {MEASURE_LIMIT:g} s it may use"
                landscapes[method] = lab_figures.message_figure(f"The loss landscape {why}.")
    c = s.corruption()
    recon = lab_figures.recon_figure(race.originals, race.inputs if c is not None else None,
                            [race.reconstructions[k] for k in keys], labels, data.image_shape,
                            input_label=c.label() if c is not None else None)  # fmt: skip
    status = _race_status(race, s)
    reporter.phase(status, 100.0)
    pca = _pca_comparison(race, data)
    psnr = race.psnr.to_dict() if race.psnr is not None else None
    return {
        "ok": True,
        "status": status,
        "loss": lab_figures.loss_figure(runs, s.epochs),
        "recon": recon,
        "psnr": lab_figures.psnr_rows(psnr),
        "pca": pca,
        "landscapes": landscapes,
        "curvature": curvature,
        "summary": _summary(s, data, race),
        # a cancelled race is not kept for comparison (it did not run what its settings say)
        "record": None if race.stopped == "cancelled" else race_record(s, runs, psnr),
    }


def train_settings(s: LabSettings, data: Any, progress: Callable[[dict[str, Any]], None] | None = None,
                   cancel: Callable[[], bool] | None = None) -> Any:  # fmt: skip
    """The race the page trains for settings ``s`` on ``data`` (an :class:`autoencoder.train.RaceResult`): every
    optimizer from the same weights on the same minibatches, with the page's PSNR table and landscape rows.
    Lessons' tests call it to check their claims on the very runs a lesson's view shows."""
    from autoencoder.train import RaceEntry, train_race

    return train_race(
        data, [RaceEntry(o.config()) for o in s.opts], s.model_spec(), epochs=s.epochs, batch_size=s.batch,
        seed=s.seed, corruption=s.corruption(), time_limit=s.limit, progress=progress, cancel=cancel, n_show=N_SHOW,
        psnr_corruptions=psnr_columns(s), psnr_samples=PSNR_SAMPLES, landscape_samples=500,
    )  # fmt: skip


def _pca_comparison(race: Any, data: Any) -> dict[str, Any]:
    """Each run's decoder subspace against PCA (a JSON-able dict), or ``{"why": …}`` for a model that is not a
    linear autoencoder."""
    from autoencoder.pca_baseline import pca_baseline, why_not_linear

    why = why_not_linear(race.model)
    if why is not None:
        return {"why": why}
    import numpy as np

    runs = [(r.label, r.theta if r.theta is not None else np.empty(0)) for r in race.runs]
    try:
        return pca_baseline(race.model, runs, data.train, data.val).to_dict()
    except ValueError as exc:
        return {"why": str(exc)}


#: seconds the curvature report may use for the whole race, and the largest model it is tried on
CURVATURE_LIMIT = 10.0
CURVATURE_MAX_PARAMS = 200_000
#: fewest Lanczos iterations worth reporting
CURVATURE_MIN_ITER = 10


def _curvature(race: Any, labels: list[str], cancelled: Callable[[], bool], reporter: Reporter, seed: int,
               clock: Callable[[], float] = time.monotonic) -> dict[str, Any]:  # fmt: skip
    """Each run's top and bottom Hessian eigenvalues at its final weights (Lanczos on exact products).

    Evaluated on the race's fixed landscape rows (training-mode loss).  Bounded: the iterations
    per run are cut so the whole report fits :data:`CURVATURE_LIMIT` seconds, measured from one
    product; a run that diverged, a cancelled race or too large a model gets a sentence instead.
    """
    import numpy as np

    from app.lab.spectrum import quadratic_link, spectrum_figure
    from autoencoder.hvp import hessian_vector_product
    from autoencoder.lanczos import REPORT_ITER, REPORT_K, curvature_report

    net, x, t = race.model, race.landscape_inputs, race.landscape_targets
    rows: list[dict[str, Any]] = []
    why = None
    if race.stopped == "cancelled":
        why = "The curvature report is skipped when a race is cancelled."
    elif net.n_params > CURVATURE_MAX_PARAMS:
        why = f"The curvature report is skipped for models over {CURVATURE_MAX_PARAMS:,} parameters."
    if why is None:
        reporter.phase("Computing curvature (Hessian eigenvalues)…", 100.0)
        start = clock()
        probe = np.random.default_rng(seed).standard_normal(net.n_params)
        hessian_vector_product(net, race.theta0, x, t, probe)
        per_product = max(clock() - start, 1e-6)
        finite = [r for r in race.runs if r.theta is not None and bool(np.all(np.isfinite(r.theta)))]
        iters = min(REPORT_ITER, int(CURVATURE_LIMIT / (per_product * 1.5 * max(len(finite), 1))))
        if iters < CURVATURE_MIN_ITER:
            why = f"The curvature report would take longer than the {CURVATURE_LIMIT:g} s it may use."
    for i, r in enumerate(race.runs):
        entry: dict[str, Any] = {"label": labels[i], "key": r.key, "report": None, "link": None, "message": ""}
        if why is not None:
            entry["message"] = why
        elif cancelled():
            entry["message"] = "Cancelled before its curvature was computed."
        elif r.theta is None or not bool(np.all(np.isfinite(r.theta))):
            entry["message"] = "No curvature: its weights are not finite (it diverged)."
        else:
            reporter.phase(f"Computing curvature of {labels[i]} ({i + 1} of {len(race.runs)})…", 100.0)
            entry["report"] = curvature_report(net, r.theta, x, t, k=REPORT_K, max_iter=iters, seed=seed)
            entry["link"] = quadratic_link(r.config.to_dict(), entry["report"])
        rows.append(entry)
    return {"figure": spectrum_figure(rows) if why is None else lab_figures.message_figure(why), "rows": rows}


def _summary(s: LabSettings, data: Any, race: Any) -> str:
    arch, _ = model_summary(s, data.n_features)
    extras = [INIT_LABELS.get(s.init, s.init) + " init", f"{s.act} hidden units", f"{s.loss.upper()} loss"]
    if s.bn:
        extras.append("batch norm")
    if s.skip != "none":
        extras.append(f"{s.skip} skip connection" if s.skip != "both" else "shallow and deep skip connections")
    c = s.corruption()
    noise = f"denoising {c.label()}" if c is not None else "no input noise"
    text = (f"{data.description}. {data.train.shape[0]:,} training and {data.val.shape[0]:,} validation samples. "
            f"Model {arch} ({', '.join(extras)}). Batch size {s.batch}, seed {s.seed}, {noise}.")  # fmt: skip
    return " ".join([text, *cg_notes(race.runs)])


def cg_notes(runs: Any) -> list[str]:
    """One sentence per run that solved CG systems (Hessian-free): its CG iterations per step."""
    notes = []
    for r in runs:
        its = list(getattr(r, "cg_iterations", None) or [])
        if its:
            mean = sum(its) / len(its)
            notes.append(f"{r.label}: {mean:.1f} CG iterations per step (min {min(its)}, max {max(its)}) "
                         f"over {len(its):,} steps.")  # fmt: skip
    return notes
