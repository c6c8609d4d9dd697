"""The Celery entry point ``celery -A app.worker.celery_app worker``: the worker lives in :mod:`app.hosting.worker`."""

from app.hosting.worker import build, celery_app  # noqa: F401
