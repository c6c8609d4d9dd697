"""Descent Lab's web app: :func:`create_app` assembles the pages (the Explorer, the sweep maps,
the Autoencoder lab), the router, the background-job manager and the hosting limits.

A page lives in its own package (``app/explorer``, ``app/maps``, ``app/lab``) on the shared
``app/shell``, ``app/export`` and ``app/hosting``; this module is the one place that knows them
all.  ``import app`` stays light: Dash, the engine and the Numba kernels load only
when :func:`create_app` is called.

>>> from app import create_app          # doctest: +SKIP
>>> create_app().run(port=8050)         # doctest: +SKIP
"""

from __future__ import annotations

import contextlib
import gc
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from app.shell.assets import ASSETS_DIR

__all__ = ["ASSETS_DIR", "create_app"]


def create_app(*, warm: bool | str = True, freeze: bool = False, **dash_kwargs: Any) -> Any:
    """A new Dash app serving the Explorer at ``/``.

    ``warm`` loads (or compiles) the Numba kernels now, so the first visitor
    does not wait (``"background"``: in a thread, so the server answers sooner;
    do not use it with gunicorn ``--preload``, whose workers fork after
    ``create_app`` returns).  Extra keyword arguments go to ``dash.Dash`` (e.g.
    ``requests_pathname_prefix`` behind a proxy).  The Flask server is
    ``app.server`` (for gunicorn: ``gunicorn --preload 'app:create_app().server'``).

    The page is rendered on the server for the configuration in the link that
    asks for it, so the first paint needs no callback round trip.

    ``freeze`` (for a process that serves until it exits): what was built is moved out of
    the cycle collector's reach (``gc.freeze``), after a synchronous warm-up too.  The
    modules and the app live as long as the process, so later collections need not scan
    them, and workers forked afterwards do not copy the memory a collection would touch.
    """
    import threading

    helper = None
    if warm == "background":  # on a fresh checkout, the update rules compile on the other core meanwhile
        from optimizers import precompile

        helper = precompile.start()
    with _collector_paused(freeze):
        dash_app = _assemble(dash_kwargs)
    first_page = threading.Event()
    dash_app.server.extensions[FIRST_PAGE] = first_page
    #: the background-job launcher's start (single machine), with the other pages' warm-up
    start_jobs = getattr(getattr(dash_app, "_background_manager", None), "start_launcher", None)
    if warm == "background":
        # after the app is assembled: the warm-up's interpreter time would otherwise delay the first answer
        threading.Thread(target=_warm_all, args=(first_page, start_jobs, helper), name="descent-lab-warm",
                         daemon=True).start()  # fmt: skip
    elif warm:
        _warm_all(None, start_jobs)
        if freeze:
            gc.freeze()
    return dash_app


def _assemble(dash_kwargs: dict[str, Any]) -> Any:
    """The Dash app with its layout, callbacks, JSON API and hosting limits (no warm-up)."""
    from app.explorer import basins
    from app.explorer import fastpath as api
    from app.explorer.callbacks import register_callbacks
    from app.explorer.export_bar import register_export_callbacks
    from app.hosting import headers as hosting
    from app.hosting.job_manager import callbacks_for
    from app.hosting.jobs import make_manager
    from app.lab import page as lab_page
    from app.lessons import page as lesson_page
    from app.maps import page as maps_page
    from app.shell import page_shell, plotly_bundle

    options: dict[str, Any] = {
        "title": "Descent Lab",
        "update_title": None,
        "assets_folder": str(ASSETS_DIR),
        "assets_path_ignore": [plotly_bundle.VENDOR_DIR],  # ES modules, loaded by plotly_bundle.install
        "suppress_callback_exceptions": True,
        "background_callback_manager": make_manager(),
    }
    options.update(dash_kwargs)
    dash_app = page_shell.ShellDash("app", **options)
    dash_app.layout = _serve_layout
    plotly_bundle.install(dash_app, Path(dash_app.config.assets_folder))
    page_shell.install(dash_app, Path(dash_app.config.assets_folder))
    with callbacks_for(dash_app._background_manager):  # this app's jobs run this app's callbacks
        register_callbacks(dash_app)
        register_export_callbacks(dash_app)
        maps_page.register_callbacks(dash_app)
        lab_page.register_callbacks(dash_app)
        lesson_page.register_callbacks(dash_app)
    api.register(dash_app.server)
    basins.register(dash_app.server)
    hosting.install(dash_app.server, dash_app.callback_map)
    return dash_app


@contextmanager
def _collector_paused(freeze: bool = False) -> Iterator[None]:
    """Python's cycle collector off for a block that only builds long-lived objects.

    Importing Dash and the engine allocates a few hundred thousand objects, none of them garbage;
    the collector would scan them again and again (0.13–0.16 s of a 0.8–1.0 s start).  Once the
    collector is back on, its next collections still scan them all (about 0.1 s) unless ``freeze``
    moves them out of its reach first.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if freeze:
            gc.freeze()
        if was_enabled:
            gc.enable()


#: the Flask extension slot of the event set once the first page has been rendered
FIRST_PAGE = "descent_lab_first_page"
#: longest the background warm-up waits for the first page before loading the other kernels
FIRST_PAGE_WAIT = 15.0
#: and how long after it, while the browser draws that page (it needs the machine's cores more)
FIRST_PAGE_SETTLE = 2.0
#: longest the warm-up waits for the process compiling the update rules (:mod:`optimizers.precompile`)
HELPER_WAIT = 120.0


def _warm_all(first_page: Any = None, start_jobs: Any = None, helper: Any = None) -> None:
    """Load (or compile) what every page uses before jobs fork: traces, the default view, sweeps, the lab.

    ``start_jobs`` (the background manager's ``start_launcher``, on one machine) starts the job
    launcher, which warms the other pages' jobs in its own process while this thread loads the
    Explorer's other kernels and then the pages' own (their ``warm()``).  With ``first_page`` (an
    event; background warm-up), everything but the default view waits until the first page has
    been served and drawn (:data:`FIRST_PAGE_SETTLE` seconds later; at most
    :data:`FIRST_PAGE_WAIT` seconds for a page): the other optimizers' kernels, the sweeps and the
    lab are not needed for it and would only compete with it for the interpreter and the cores.
    (When the default view comes from the result store, even Numba's own set-up waits.)
    ``helper`` (:func:`optimizers.precompile.start`'s process, on a fresh checkout) compiles the update
    rules meanwhile: this thread first compiles the server's share and the map's contour walk, which the
    default view needs too, and the helper is waited for once that view is out (at most
    :data:`HELPER_WAIT` seconds).
    """
    import time

    import numpy as np

    from app.explorer.compute import warm as warm_kernels
    from app.explorer.layout import page
    from app.lab import page as lab_page
    from app.lessons import page as lesson_page
    from app.maps import page as maps_page
    from app.shell.contours import contour_lines

    grid = np.linspace(-1.0, 1.0, 5)
    if helper is not None:  # while it compiles the update rules (the first trace waits for them)
        helper.compile_server_share()
        contour_lines(grid, grid, grid[None, :] ** 2 + grid[:, None] ** 2, [0.5])
    page()  # first the default view (its race and map go to the result cache; Dash's components warm up)
    if helper is not None:  # it only fills the cache: what it has not compiled is compiled where it is needed
        with contextlib.suppress(subprocess.TimeoutExpired):
            helper.wait(HELPER_WAIT)
    if first_page is not None and first_page.wait(FIRST_PAGE_WAIT):
        time.sleep(FIRST_PAGE_SETTLE)
    if start_jobs is not None:  # on the other core: the job launcher warms the maps and the lab for their jobs
        start_jobs()
    warm_kernels()  # then the kernels, even if that view came from the cache
    contour_lines(grid, grid, grid[None, :] ** 2 + grid[:, None] ** 2, [0.5])  # the map's compiled contour walk
    maps_page.warm()
    lab_page.warm()


#: the app's pages: path → the ``layout(query)`` that draws it; the Explorer is served at every other path
PAGES = {"/maps": "app.maps.page:layout", "/lab": "app.lab.page:layout", "/lessons": "app.lessons.page:index",
         "/room": "app.lessons.page:join"}
#: pages whose path continues with a name: prefix → ``layout(query, rest of the path)``
PREFIX_PAGES = {"/lesson/": "app.lessons.page:player", "/room/": "app.lessons.page:room_page"}
#: the Explorer's page for a link's raw query string
DEFAULT_PAGE = "app:explorer_page"


def explorer_page(query: str) -> Any:
    """The Explorer for a link's query string (the default view for an empty one)."""
    from app.explorer.layout import page
    from app.explorer.state import from_query

    return page(from_query(query) if query else None)


def _serve_layout() -> Any:
    """The page for the link that loads it (see :mod:`app.shell.router`); sets the first-page event."""
    from dash import html
    from flask import current_app, has_request_context, request

    from app.shell.router import LAYOUT_ROUTE, Router

    router = Router(PAGES, DEFAULT_PAGE, PREFIX_PAGES)
    if not has_request_context():
        return router.layout_for(None, "")
    if not request.path.endswith(LAYOUT_ROUTE):
        # Dash validates the layout once on its first request of any kind (the index page, a
        # static file): an empty page passes, where the real one would compute a race first
        return html.Div()
    root = router.layout_for(request.referrer, request.host)
    done = current_app.extensions.get(FIRST_PAGE)
    if done is not None:
        done.set()  # the first page is out: the background warm-up may go on with the other pages
    return root
