"""The Autoencoder lab page's entry: what the app shell, the Celery worker and the tests import.

This module stays small on purpose; the page itself lives in the modules of :mod:`app.lab`.
Contract with the app shell (``app.PAGES`` maps ``/lab`` here; ``app.hosting.worker`` lists it):

* ``PATH = "/lab"``, ``TITLE = "Autoencoder lab"``;
* ``layout(query)`` — the page for a link's query (``dict[str, str]``); every value is validated
  and clamped, and what could not be used is listed in a visible notice (never an exception);
* ``register_callbacks(app)`` — once per Dash app; the app must have been made with
  ``Dash(background_callback_manager=app.hosting.jobs.make_manager())`` and
  ``suppress_callback_exceptions=True`` (the page is not in the first layout);
* ``warm()`` — load what every race needs once, before job processes fork;
* ``standalone_app()`` — a Dash app serving only this page (tests, demos).

The race runs as a Dash background callback (``background=True``), so it runs in a job process
(DiskcacheManager) or on a Celery worker (CeleryManager), never on the request thread.  While it
runs, Start is disabled (``running=``) and the job reports through ``progress=`` the whole
downsampled loss history each time (Dash keeps only the last progress value).

Job state lives in the background manager's store (the shared diskcache directory, or Redis),
not in this process: uploaded files (by content hash), cancel requests (by race token) and the
race queue.  Cancelling is cooperative: the race checks the token's flag between minibatches and
stops with the epochs it completed, whose results are still shown.  Dash's own ``cancel=`` would
kill the job process instead (losing those results) and cannot stop a task on Celery's solo pool.

Bounded work, for a class on one small server (:mod:`app.lab.limits`, :mod:`app.lab.queue`):

* Start goes through a plain callback, the gate (:mod:`app.lab.gate`), which queues the race
  under the browser's id (a random token in its local storage) before the background job is
  asked for.  A browser gets one race at a time: Start in a second tab starts nothing and shows
  the first race's live status instead.
* At most ``training_slots`` races train at once (2 on diskcache, 4 on Celery, or
  ``$DESCENT_LAB_TRAINING_SLOTS``); the others wait in order and are told their place.  Every
  job has a hard wall-time bound (``JOB_WALL_LIMIT``).
* A job keeps a heartbeat while it runs and leaves a done marker when it ends.  When its process
  or worker is killed, the page notices (Dash stops polling a dead diskcache job; the page's
  watch sees a dead heartbeat), says so, frees the job's training slot and lets Start be pressed
  again; other races go on.
"""

from __future__ import annotations

from typing import Any

from dash import html

from app.lab.callbacks import register_callbacks
from app.lab.ids import PATH, TITLE
from app.lab.layout import layout


def warm() -> None:
    """Load what every race needs (the compiled kernels, scikit-learn's data loaders) once, in this process.

    DiskcacheManager forks a job process per race from the web process, and
    Celery's prefork pool forks its children from the worker: warming before
    the fork saves each race a second or two.
    """
    import sklearn.datasets  # noqa: F401 - the digits and sample images come from here

    from autoencoder.train import warm_kernels

    warm_kernels()


def standalone_app(manager: Any = None, *, warm_up: bool = True, **dash_kwargs: Any) -> Any:
    """A Dash app serving only this page at ``/`` (tests, demos), with the app's assets (``assets/lab.js`` included).

    ``manager`` defaults to :func:`app.hosting.jobs.make_manager` (Celery when REDIS_URL is set);
    ``warm_up`` calls :func:`warm` first.
    """
    if warm_up:
        warm()
    from dash import Dash

    from app.hosting.job_manager import callbacks_for
    from app.hosting.jobs import make_manager
    from app.shell.assets import ASSETS_DIR

    options: dict[str, Any] = {"title": f"Descent Lab · {TITLE}", "update_title": None,
                               "assets_folder": str(ASSETS_DIR), "suppress_callback_exceptions": True}  # fmt: skip
    options.update(dash_kwargs)
    dash_app = Dash("app.lab", background_callback_manager=manager if manager is not None else make_manager(),
                    **options)  # fmt: skip

    def serve() -> Any:
        # Dash fetches the layout from the page, so the page's own query is in the Referer
        from urllib.parse import parse_qsl, urlsplit

        from flask import has_request_context, request

        query: dict[str, str] = {}
        if has_request_context() and request.referrer:
            parts = urlsplit(request.referrer)
            if parts.netloc == request.host:
                query = dict(parse_qsl(parts.query[:20_000], keep_blank_values=True))
        return html.Div(layout(query), className="lab-standalone")

    dash_app.layout = serve
    with callbacks_for(dash_app._background_manager):  # this app's jobs run this app's callbacks
        register_callbacks(dash_app)
    return dash_app


__all__ = ["PATH", "TITLE", "layout", "register_callbacks", "standalone_app", "warm"]
