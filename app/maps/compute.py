"""Computing a map: the background job behind the Compute button, with progress, Cancel and a time limit.

:func:`run_request` takes the request store's (untrusted) data, refuses what cannot be computed
(over the work budget, a refused setting, a formula that does not parse) with a message, and
otherwise sweeps the map through the shared result cache, so that the same map is swept once
for everyone.  A stopped or refused map is shown but never cached.  :func:`warm` loads the sweep
kernels the web server runs; :data:`JOB_WARM_UP` those its background jobs run.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from dash import no_update

from app.hosting import result_cache
from app.maps.run_path import trajectory_trace
from app.maps.map_figure import BOUND_EXPLANATION, heavy_ball_bound, map_figure
from app.maps.state import MapConfig, build_surface, config_from_store
from app.maps.sweep import run_sweep, sweep_document, sweep_from_document
from app.maps.wording import first_line, thousands
from app.shell import style
from app.shell.surface_grid import sample
from optimizers import make_config
from optimizers import maps as sweep_engine
from optimizers.maps import SweepMap
from surfaces import get_surface

#: a map that has not finished after this many seconds stops itself
TIME_LIMIT = 120.0
#: the result cache's namespace of computed maps' data (beside "sweep", their figures)
DATA_NAMESPACE = "sweep-data"
#: a kernel load at least this long (seconds) is mentioned in the map's status line
LOADING_SHOWN = 1.0
#: the progress line while a map job loads its sweep kernel (see ``optimizers.maps.kernel_loaded``)
KERNEL_NOTE = ("Loading the sweep kernel… The first map after an install compiles it for this computer, "
               "which takes up to half a minute; later maps start at once.")  # fmt: skip


@dataclass(frozen=True)
class Outcome:
    """What the compute callback returns: figure, the map's metadata (for clicks), status, explanation."""

    figure: Any
    meta: Any
    status: str
    explain: str


def run_request(
    request: Any,
    report: Callable[[tuple[str, str]], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    clock: Callable[[], float] = time.monotonic,
    later: list[Callable[[], None]] | None = None,
) -> Outcome:
    """Compute the map a request store asks for, reporting progress as (percent, text).

    The request is untrusted (sanitized again).  A map over the work budget, an
    optimizer setting that is refused, or a formula that does not parse gives a
    message instead of a map.  ``should_stop`` returning True stops the
    computation (the previous map stays on screen).  With ``later`` (a list), storing
    the computed map's data (:func:`store_data`) is appended to it instead of done here:
    the caller runs it once the map has been answered.
    """
    cfg = config_from_store(request)
    if cfg is None:
        return Outcome(no_update, no_update, "", no_update)
    why = cfg.problem()
    if why:
        return Outcome(style.message_figure(why), None, why, "")
    try:
        surface = build_surface(cfg)
    except ValueError as exc:
        msg = f"The surface cannot be built: {first_line(exc)}"
        return Outcome(style.message_figure(msg), None, msg, "")
    try:
        stored, cached = result_cache.fetch(
            "sweep", data_key(cfg),
            lambda: _compute_map(cfg, surface, report, should_stop, clock, later),
            lease=TIME_LIMIT + 30.0, wait=TIME_LIMIT + 30.0, stop=should_stop,
            on_wait=lambda: report(("0", "The same map is being computed for someone else; waiting for it…"))
            if report is not None else None,
        )  # fmt: skip
    except _NotStored as stop:
        return stop.outcome
    return _outcome_of(stored, cached)


#: what the status line adds to a map that was computed before (for anyone) and read from the result cache
STORED_NOTE = " (computed earlier for the same settings)"


def _outcome_of(stored: dict[str, Any], cached: bool) -> Outcome:
    """The outcome of a stored map; the kernel's load time is the computing request's news, not a later viewer's."""
    status = stored["status"] + (STORED_NOTE if cached else stored.get("loading", ""))
    return Outcome(stored["figure"], stored["meta"], status, stored["explain"])


def stored_outcome(request: Any) -> Outcome | None:
    """The outcome of the map a request store asks for when the shared result cache holds it, else None.

    A lookup only, cheap enough for the web request itself: a stored map is shown without a background
    job (which on a fresh install may first wait for the job launcher's kernel compile).  The request is
    untrusted: one that does not validate, or a map that is refused, is None here (the job answers it).
    """
    cfg = config_from_store(request)
    if cfg is None or cfg.problem():
        return None
    stored = result_cache.peek("sweep", data_key(cfg))
    if not isinstance(stored, dict) or not {"figure", "meta", "status", "explain"} <= stored.keys():
        return None
    return _outcome_of(stored, True)


class _NotStored(Exception):
    """A map that was stopped or refused: its outcome is shown but never cached."""

    def __init__(self, outcome: Outcome) -> None:
        super().__init__(outcome.status)
        self.outcome = outcome


def _compute_map(cfg: MapConfig, surface: Any, report: Callable[[tuple[str, str]], None] | None,
                 should_stop: Callable[[], bool] | None, clock: Callable[[], float],
                 later: list[Callable[[], None]] | None = None) -> dict[str, Any]:  # fmt: skip
    """Run the sweep of a valid map configuration: the cacheable outcome, or :class:`_NotStored`.

    The map's data is stored too (:func:`store_data`), for an export of the map on screen: here, or
    appended to ``later`` when that is a list.
    """
    steps = cfg.base.steps
    total = cfg.runs

    def progress(fraction: float) -> None:
        if report is not None:
            done = round(fraction * total)
            report(
                (f"{100.0 * fraction:.0f}", f"{100.0 * fraction:.0f} % · {thousands(done)} of {thousands(total)} runs")
            )

    def stop() -> bool:
        return (should_stop is not None and should_stop()) or clock() - t0 > TIME_LIMIT

    progress(0.0)
    loading = _load_kernel(cfg.kind, report)
    t0 = clock()  # the time limit is the sweep's: a fresh install's compiler does not count
    try:
        smap = run_sweep(cfg, surface, progress=progress if report is not None else None, should_stop=stop)
    except sweep_engine.Cancelled:
        over = clock() - t0 > TIME_LIMIT
        why = f"stopped after {TIME_LIMIT:.0f} s (the time limit)" if over else "stopped"
        raise _NotStored(
            Outcome(no_update, no_update, f"The map was {why}; lower the grid or the steps.", no_update)
        ) from None
    except ValueError as exc:
        msg = f"The map cannot be computed: {first_line(exc)}"
        raise _NotStored(Outcome(style.message_figure(msg), None, msg, "")) from None
    seconds = clock() - t0
    if later is None:
        store_data(cfg, smap)
    else:
        later.append(lambda: store_data(cfg, smap))
    fig = map_figure(cfg, smap, surface)
    path = trajectory_trace(cfg, surface)  # the start's run over a basin map, as the live preview draws it
    if path is not None:
        fig["data"] = [*fig["data"], path]
    meta = {"cfg": cfg.to_dict(), "minima": [list(m) for m in smap.minima]}
    conv = 100.0 * float(smap.converged.mean())
    div = 100.0 * float(smap.diverged.mean())
    status = (f"{thousands(total)} runs × up to {steps} steps in {seconds:.1f} s: "
              f"{conv:.0f} % converged, {div:.0f} % diverged.")  # fmt: skip
    note = ""
    if loading >= LOADING_SHOWN:
        note = f" The sweep kernel took {loading:.0f} s to load first (it is compiled once per install)."
    explain = BOUND_EXPLANATION if heavy_ball_bound(cfg) is not None else ""
    return {"figure": fig, "meta": meta, "status": status, "loading": note, "explain": explain}


def _load_kernel(kind: str, report: Callable[[tuple[str, str]], None] | None) -> float:
    """Load the sweep kernel a ``kind`` map runs unless this process has it (a job forked before the launcher's
    warm-up reached it), saying so on the progress line; the seconds it took (0.0 if it was loaded)."""
    if sweep_engine.kernel_loaded(kind):
        return 0.0
    if report is not None:
        report(("0", KERNEL_NOTE))
    start = time.monotonic()
    (warm_lock_step if kind == "basin" else warm_one_run_at_a_time)()
    return time.monotonic() - start


def data_key(cfg: MapConfig) -> str:
    """The result cache's key of a map (its normalized configuration): the figure's and the data's."""
    return json.dumps(cfg.to_dict(), sort_keys=True)


def store_data(cfg: MapConfig, smap: SweepMap) -> None:
    """Keep the computed map's data in the shared result cache (a store that fails costs nothing)."""
    result_cache.fetch_text(DATA_NAMESPACE, data_key(cfg), lambda: sweep_document(smap))


def map_data(cfg: MapConfig, surface: Any, clock: Callable[[], float] = time.monotonic) -> SweepMap:
    """The computed map of ``cfg``: the data its computation stored, else computed again (within the time limit).

    ValueError when it cannot be computed (a refused setting, or the time limit reached).
    """
    t0 = clock()

    def compute() -> dict[str, Any]:
        try:
            smap = run_sweep(cfg, surface, should_stop=lambda: clock() - t0 > TIME_LIMIT)
        except sweep_engine.Cancelled:
            raise ValueError(f"the map took longer than {TIME_LIMIT:.0f} s") from None
        return sweep_document(smap)

    doc, _ = result_cache.fetch(DATA_NAMESPACE, data_key(cfg), compute, lease=TIME_LIMIT + 30.0,
                                wait=TIME_LIMIT + 30.0)  # fmt: skip
    return sweep_from_document(doc)


def warm_lock_step() -> None:
    """Load the float64 lock-step sweep kernel (every basin map, the default one included) and the surface grid."""
    s = get_surface("booth")
    sweep_engine.basin_map(s, make_config("sgd", lr=0.01), grid=2, steps=2)
    sample(s, 8)


def warm_one_run_at_a_time() -> None:
    """Load the kernel that sweeps one run at a time (the hyperparameter maps: every run has its own settings)."""
    sweep_engine.hyper_map(get_surface("booth"), make_config("sgd", lr=0.01), (0.0, 0.0),
                           ("lr", np.array([0.01, 0.02])), ("momentum", np.array([0.0, 0.5])), steps=2)  # fmt: skip


def warm_float32_preview() -> None:
    """Load the float32 lock-step kernel, which only the live preview of a basin map runs (in the web server)."""
    sweep_engine.basin_map(get_surface("booth"), make_config("sgd", lr=0.01), grid=2, steps=2, precision="float32")


#: what the page's background jobs (the Compute button's maps, always float64) need loaded, in the order a
#: first map needs it: the job launcher runs one step at a time and starts jobs in between
JOB_WARM_UP = (warm_lock_step, warm_one_run_at_a_time)


def warm() -> None:
    """Load the sweep kernels the web server runs itself: the live preview's float32 kernel first, then the rest.

    The job launcher loads :data:`JOB_WARM_UP` for the jobs at the same time; on an empty compile
    cache the two begin with different kernels, so that neither compiles what the other is compiling,
    and each later loads what the other has put in the cache.  Call it once at start-up (e.g. in
    ``create_app``), so that no request compiles.
    """
    warm_float32_preview()
    for step in JOB_WARM_UP:
        step()


def be_nice(level: int = 10) -> None:
    """Run the map at a lower CPU priority than the web server (a job process; idempotent)."""
    try:
        if os.getpriority(os.PRIO_PROCESS, 0) < level:
            os.setpriority(os.PRIO_PROCESS, 0, level)
    except (AttributeError, OSError):  # not on this platform, or not allowed
        pass
