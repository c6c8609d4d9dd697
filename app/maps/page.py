"""The Sweep maps page's entry (``/maps``): what the router, the app and the job worker call.

``app.PAGES`` maps ``/maps`` to this module and calls :func:`layout` with a URL's query;
``create_app`` and the Celery worker (``app.hosting.worker``) call :func:`register_callbacks`;
the server calls :func:`warm`, the job launcher and the worker run :data:`JOB_WARM_UP`.
Everything else lives in the modules of :mod:`app.maps`; this one only names the page's public
face.
"""

from __future__ import annotations

from app.maps.callbacks import register_callbacks
from app.maps.compute import JOB_WARM_UP, warm
from app.maps.layout import PATH, TITLE, layout

__all__ = ["JOB_WARM_UP", "PATH", "TITLE", "layout", "register_callbacks", "warm"]
