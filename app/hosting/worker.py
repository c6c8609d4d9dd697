"""The Celery worker entry for background jobs (the Autoencoder lab's races, the sweep maps).

Run it beside the web app, with the same ``REDIS_URL``::

    REDIS_URL=redis://localhost:6379/0 NUMBA_CACHE_DIR=$PWD/.numba_cache \\
        celery -A app.worker.celery_app worker --concurrency 1

(``--pool solo`` runs jobs in the worker process itself; the default prefork
pool forks after this module is imported, so the kernels warmed here are shared.)

Importing this module builds the background manager (``app.hosting.jobs.make_manager``:
a ``CeleryManager`` on ``REDIS_URL``) and a Dash app with every page whose
background callbacks the worker must know: Dash names each Celery task after a
hash of the callback's outputs and its function's source, so the worker
registers the very same callbacks as the web app and the names agree.  Add a
page module to :data:`PAGES` when it gains background callbacks.
"""

from __future__ import annotations

import importlib
from typing import Any

from app.hosting.jobs import make_manager, redis_url
from app.hosting.launcher_warm import job_warm_up

#: modules with ``register_callbacks(app)`` whose background callbacks run on the worker
PAGES: tuple[str, ...] = ("app.lab.page", "app.maps.page")


def build(pages: tuple[str, ...] = PAGES) -> tuple[Any, Any]:
    """(Dash app, Celery app): the pages' callbacks registered on a Dash app with the Celery manager."""
    if redis_url() is None:
        raise RuntimeError(
            "REDIS_URL is not set: the Celery worker needs the Redis URL the web app uses, "
            "e.g. REDIS_URL=redis://localhost:6379/0 celery -A app.worker.celery_app worker"
        )
    from dash import Dash

    from app.shell.assets import ASSETS_DIR

    manager = make_manager()
    dash_app = Dash("app.hosting.worker", background_callback_manager=manager, assets_folder=str(ASSETS_DIR),
                    suppress_callback_exceptions=True)  # fmt: skip
    for name in pages:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
            continue  # a page this checkout does not have
        module.register_callbacks(dash_app)
        for step in job_warm_up(module):
            step()  # load what its jobs need once, before the first job (and before prefork forks)
    return dash_app, manager.handle


dash_app, celery_app = build()
#: ``celery -A app.worker`` looks for an attribute named ``celery``
celery = celery_app

__all__ = ["PAGES", "build", "celery", "celery_app", "dash_app"]
