"""The lab's callbacks: each gathers its named inputs, calls one plain function, and returns.

One style throughout (Dash's flexible callback signatures): ``output``, ``inputs`` and ``state``
are dicts of named dependencies, the function takes them as keyword arguments, and the form
arrives as one named group (``form``, see :func:`app.lab.form.form_deps`) that
:func:`app.lab.form.read_form` unpacks into typed values.  A callback with a single output keeps
it bare (``output=Output(...)``), so what the browser is sent stays the same.  ALL- and
MATCH-pattern inputs arrive as lists / single values and are paired by card index in the plain
functions, never here.

The clientside callbacks are ``ClientsideFunction("lab", name)`` in ``assets/lab.js``; the
component ids they need come in as arguments (a component's ``id`` property), never written there.

Data flow::

    Start ──> lab_start (gate: queue the race) ──> lab-run.data ──> lab_race (background job:
              progress = loss curves, status, bar; result = reconstructions, PSNR, landscapes, summary,
              curvature spectrum and links)
    while it runs: lab_watch (its job died?)      other tabs: lab_follow (its live status)
    Cancel ──> lab_cancel (the race's cancel flag; the job stops after its minibatch)
    a finished race's record (lab-last-race) ──> lab_keep (the kept races, session storage) ──> lab_compare
    the form ──> lab_check (summary, problems, link), lab_rows / lab_opt_kind (cards), lab_noise, lab_source
    a file ──> lab_upload (checked, kept in the job store by hash)
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dash import ALL, MATCH, ClientsideFunction, Input, Output, State, ctx, no_update
from dash.exceptions import PreventUpdate

from app.hosting.kv import kv_for
from app.lab.cards import fields_for, opt_cards, rows_after_click
from app.lab.form import form_check, form_deps, read_form
from app.lab.gate import bar_value, cancel_race, check_job, follow, gate, run_of
from app.lab.compare import kept_after
from app.lab.ids import KEPT_REMOVE, OPT_FOR, OPT_NAME, OPT_PARAMS, OPT_REMOVE, Ids, card_id
from app.lab.jobs import run_job
from app.lab.layout import level_props
from app.lab.limits import MAX_OPTIMIZERS
from app.lab.queue import RaceQueue, is_celery, training_slots
from app.lab.results import kept_view, result_outputs
from app.lab.uploads import upload_outputs

#: the outputs the job-related callbacks may change, by the names the functions of :mod:`app.lab.gate` use
JOB_OUTPUTS = {
    "run": (Ids.RUN, "data"),
    "status": (Ids.STATUS, "children"),
    "status_class": (Ids.STATUS, "className"),
    "start_disabled": (Ids.START, "disabled"),
    "cancel_disabled": (Ids.CANCEL, "disabled"),
    "results_class": (Ids.RESULTS, "className"),
    "watch_disabled": (Ids.WATCH, "disabled"),
    "follow_disabled": (Ids.FOLLOW, "disabled"),
    "following": (Ids.FOLLOWING, "data"),
    "bar": (Ids.BAR, "value"),
}
START_OUTPUTS = ("run", "status", "status_class", "follow_disabled", "following", "start_disabled", "bar")
WATCH_OUTPUTS = ("status", "status_class", "start_disabled", "cancel_disabled", "results_class", "watch_disabled",
                 "follow_disabled", "following")  # fmt: skip
FOLLOW_OUTPUTS = ("status", "status_class", "bar", "start_disabled", "follow_disabled", "following")


def job_outputs(*names: str) -> dict[str, Output]:
    """Named outputs of :data:`JOB_OUTPUTS` (several callbacks share them, hence ``allow_duplicate``)."""
    return {n: Output(*JOB_OUTPUTS[n], allow_duplicate=True) for n in names}


def changes(out: Mapping[str, Any], names: tuple[str, ...]) -> dict[str, Any]:
    """A decision (a dict of what to change) as the outputs ``names``: the rest left as they are."""
    if not out:
        raise PreventUpdate
    return {n: out.get(n, no_update) for n in names}


def manager_of(app: Any) -> Any:
    manager = getattr(app, "_background_manager", None)
    if manager is None:
        raise RuntimeError(
            "the Autoencoder lab needs Dash(background_callback_manager=app.hosting.jobs.make_manager())"
        )
    return manager


def register_callbacks(app: Any) -> None:
    """Register the lab's callbacks on ``app`` (a Dash app with a background callback manager)."""
    manager = manager_of(app)
    kv = kv_for(manager)
    queue = RaceQueue(kv, training_slots(manager))
    _register_race(app, queue, kv, own_process=not is_celery(manager))
    _register_job_status(app, queue, kv, manager)
    _register_form(app, kv)
    _register_kept(app)
    _register_clientside(app)


def _register_race(app: Any, queue: RaceQueue, kv: Any, own_process: bool) -> None:
    """Start (the gate, a plain callback) and the race itself (a background callback)."""

    @app.callback(
        output=job_outputs(*START_OUTPUTS),
        inputs={"n_clicks": Input(Ids.START, "n_clicks")},
        state={"browser": State(Ids.BROWSER, "data"), "nonce": State(Ids.NONCE, "data"), "run": State(Ids.RUN, "data")},
        prevent_initial_call=True,
    )
    def lab_start(n_clicks: Any, browser: Any, nonce: Any, run: Any) -> dict[str, Any]:
        if not n_clicks:
            raise PreventUpdate
        return changes(gate(queue, browser, nonce, run), START_OUTPUTS)

    @app.callback(
        output={
            "recon": Output(Ids.RECON, "figure"),
            "psnr": Output(Ids.PSNR, "children"),
            "pca": Output(Ids.PCA, "children"),
            "land": Output(Ids.LAND_STORE, "data"),
            "summary": Output(Ids.SUMMARY, "children"),
            "spectrum": Output(Ids.SPECTRUM, "figure"),
            "curv_links": Output(Ids.CURV_LINKS, "children"),
            "record": Output(Ids.LAST_RACE, "data"),
        },
        inputs={"run": Input(Ids.RUN, "data")},
        state={"upload": State(Ids.UPLOAD_STORE, "data"), "form": form_deps(State)},
        background=True,
        progress=[Output(Ids.LOSS_GRAPH, "figure"), Output(Ids.STATUS, "children"), Output(Ids.BAR, "value")],
        running=[
            (Output(Ids.START, "disabled"), True, False),
            (Output(Ids.CANCEL, "disabled"), False, True),
            (Output(Ids.RUNNING, "hidden"), False, True),
            (Output(Ids.RESULTS, "className"), "lab-results stale", "lab-results"),
            (Output(Ids.WATCH, "disabled"), False, True),
        ],
        interval=500,
        prevent_initial_call=True,
    )
    def lab_race(set_progress: Any, run: Any, upload: Any, form: Any) -> dict[str, Any]:
        mine = run_of(run)
        if mine is None:
            raise PreventUpdate

        def push(fig: dict[str, Any], text: str, pct: float) -> None:
            set_progress((fig, text, bar_value(pct)))

        out = run_job(read_form(form).raw(), upload, kv=kv, token=mine.token, browser=mine.browser, push=push,
                      queue=queue, own_process=own_process)  # fmt: skip
        return result_outputs(out)


def _register_job_status(app: Any, queue: RaceQueue, kv: Any, manager: Any) -> None:
    """The running page's watch, other tabs' follow mode, and Cancel."""

    @app.callback(
        output=job_outputs(*WATCH_OUTPUTS),
        inputs={"tick": Input(Ids.WATCH, "n_intervals"), "hidden": Input(Ids.RUNNING, "hidden")},
        state={"run": State(Ids.RUN, "data")},
        prevent_initial_call=True,
    )
    def lab_watch(tick: Any, hidden: Any, run: Any) -> dict[str, Any]:
        ended = ctx.triggered_id == Ids.RUNNING
        if ended and hidden is not True:
            raise PreventUpdate  # the race has just started
        return changes(check_job(queue, run, ended, kv=kv, manager=manager), WATCH_OUTPUTS)

    @app.callback(
        output=job_outputs(*FOLLOW_OUTPUTS),
        inputs={"tick": Input(Ids.FOLLOW, "n_intervals"), "browser": Input(Ids.BROWSER, "data")},
        state={"nonce": State(Ids.NONCE, "data"), "following": State(Ids.FOLLOWING, "data"),
               "run": State(Ids.RUN, "data")},
        prevent_initial_call=True,
    )
    def lab_follow(tick: Any, browser: Any, nonce: Any, following: Any, run: Any) -> dict[str, Any]:
        on_load = ctx.triggered_id == Ids.BROWSER
        return changes(follow(queue, browser, nonce, following, run, on_load, manager), FOLLOW_OUTPUTS)

    @app.callback(
        output=Output(Ids.STATUS, "children", allow_duplicate=True),
        inputs={"n_clicks": Input(Ids.CANCEL, "n_clicks")},
        state={"run": State(Ids.RUN, "data")},
        prevent_initial_call=True,
    )
    def lab_cancel(n_clicks: Any, run: Any) -> str:
        mine = run_of(run)
        if not n_clicks or mine is None:
            raise PreventUpdate
        return cancel_race(queue, kv, mine.token)


def _register_form(app: Any, kv: Any) -> None:
    """The form: uploads, the data source, the noise strength, the check and link, the optimizer cards, the notice."""

    @app.callback(
        output={"ref": Output(Ids.UPLOAD_STORE, "data"), "message": Output(Ids.UPLOAD_MSG, "children"),
                "contents": Output(Ids.UPLOAD, "contents")},
        inputs={"contents": Input(Ids.UPLOAD, "contents")},
        state={"filename": State(Ids.UPLOAD, "filename")},
        prevent_initial_call=True,
    )
    def lab_upload(contents: Any, filename: Any) -> dict[str, Any]:
        if not contents:
            raise PreventUpdate
        return upload_outputs(kv, contents, filename)

    @app.callback(output=Output(Ids.UPLOAD_BOX, "hidden"), inputs={"source": Input(Ids.DATA, "value")})
    def lab_source(source: Any) -> bool:
        return source != "file"

    @app.callback(
        output={"value": Output(Ids.LEVEL, "value"), "min": Output(Ids.LEVEL, "min"), "max": Output(Ids.LEVEL, "max"),
                "disabled": Output(Ids.LEVEL, "disabled"), "label": Output(Ids.LEVEL_LABEL, "children"),
                "hint": Output(Ids.LEVEL_HINT, "children")},
        inputs={"noise": Input(Ids.NOISE, "value")},
        prevent_initial_call=True,
    )
    def lab_noise(noise: Any) -> dict[str, Any]:
        return level_props(noise if isinstance(noise, str) else "none")

    @app.callback(
        output={"summary": Output(Ids.MODEL_SUMMARY, "children"), "issues": Output(Ids.ISSUES, "children"),
                "share": Output(Ids.SHARE, "href")},
        inputs={"upload": Input(Ids.UPLOAD_STORE, "data"), "form": form_deps(Input)},
    )
    def lab_check(upload: Any, form: Any) -> dict[str, Any]:
        return form_check(read_form(form), upload)

    @app.callback(
        output={"cards": Output(Ids.OPT_ROWS, "children"), "add_disabled": Output(Ids.OPT_ADD, "disabled")},
        inputs={"add": Input(Ids.OPT_ADD, "n_clicks"), "removes": Input(card_id(OPT_REMOVE, ALL), "n_clicks")},
        state={"form": form_deps(State)},
        prevent_initial_call=True,
    )
    def lab_rows(add: Any, removes: Any, form: Any) -> dict[str, Any]:
        clicked = any(t.get("value") for t in ctx.triggered)
        rows = rows_after_click(ctx.triggered_id, clicked, add, read_form(form))
        if rows is None:
            raise PreventUpdate
        return {"cards": opt_cards(rows), "add_disabled": len(rows) >= MAX_OPTIMIZERS}

    @app.callback(
        output={"fields": Output(card_id(OPT_PARAMS, MATCH), "children"),
                "built_for": Output(card_id(OPT_FOR, MATCH), "data")},
        inputs={"name": Input(card_id(OPT_NAME, MATCH), "value")},
        state={"built_for": State(card_id(OPT_FOR, MATCH), "data")},
        prevent_initial_call=True,
    )
    def lab_opt_kind(name: Any, built_for: Any) -> dict[str, Any]:
        change = fields_for(name, built_for, ctx.triggered_id)
        if change is None:
            raise PreventUpdate
        return {"fields": change[0], "built_for": change[1]}

    @app.callback(
        output=Output(Ids.NOTICE, "hidden"),
        inputs={"n_clicks": Input(Ids.NOTICE_CLOSE, "n_clicks")},
        prevent_initial_call=True,
    )
    def lab_notice_close(n_clicks: Any) -> bool:
        if not n_clicks:
            raise PreventUpdate
        return True


def _register_kept(app: Any) -> None:
    """Finished races kept side by side: each new record joins the kept list; Remove and Clear change it; the
    list draws the comparison (:mod:`app.lab.compare`)."""

    @app.callback(
        output=Output(Ids.KEPT, "data"),
        inputs={"record": Input(Ids.LAST_RACE, "data"), "removes": Input(card_id(KEPT_REMOVE, ALL), "n_clicks"),
                "clear": Input(Ids.KEPT_CLEAR, "n_clicks")},
        state={"kept": State(Ids.KEPT, "data")},
        prevent_initial_call=True,
    )
    def lab_keep(record: Any, removes: Any, clear: Any, kept: Any) -> list[dict[str, Any]]:
        trigger = ctx.triggered_id
        if trigger == Ids.LAST_RACE:
            return kept_after(kept, add=record)
        if trigger == Ids.KEPT_CLEAR and clear:
            return kept_after(kept, clear=True)
        if isinstance(trigger, Mapping) and any(t.get("value") for t in ctx.triggered):
            return kept_after(kept, remove=str(trigger.get("index")))
        raise PreventUpdate  # a Remove button that has just been drawn

    @app.callback(
        output={"figure": Output(Ids.KEPT_GRAPH, "figure"), "table": Output(Ids.KEPT_TABLE, "children"),
                "clear_disabled": Output(Ids.KEPT_CLEAR, "disabled")},
        inputs={"kept": Input(Ids.KEPT, "data")},
    )
    def lab_compare(kept: Any) -> dict[str, Any]:
        return kept_view(kept)


def _register_clientside(app: Any) -> None:
    """The browser's id, the upload size guard and the landscape picker run in the browser (assets/lab.js)."""
    app.clientside_callback(
        ClientsideFunction("lab", "browserId"),
        Output(Ids.BROWSER, "data"),
        Input(Ids.NONCE, "data"),
        State(Ids.BROWSER, "data"),
        State(Ids.BROWSER, "id"),  # the store's local-storage key
    )
    app.clientside_callback(
        ClientsideFunction("lab", "guardUpload"),
        Output(Ids.UPLOAD, "className"),
        Input(Ids.NONCE, "data"),
        State(Ids.UPLOAD, "id"),
        State(Ids.UPLOAD_MSG, "id"),
        State(Ids.UPLOAD, "max_size"),
    )
    app.clientside_callback(
        ClientsideFunction("lab", "pickLandscape"),
        Output(Ids.LAND_GRAPH, "figure"),
        Input(Ids.LAND_METHOD, "value"),
        Input(Ids.LAND_STORE, "data"),
    )
