"""Background jobs for long work (sweep maps, autoencoder training).

Dash background callbacks run outside the request thread and report progress.
One manager serves the whole app:

* ``REDIS_URL`` set → ``CeleryManager`` on that Redis: jobs run on Celery
  workers (``celery -A app.worker worker``), possibly on other machines, and
  results come back through Redis to whichever web worker serves the browser.
* otherwise → ``DiskcacheJobManager`` (:mod:`app.hosting.job_manager`, a Dash
  ``DiskcacheManager``) on one cache directory (``$DESCENT_LAB_JOBS_DIR`` or
  ``~/.cache/descent-lab/jobs``), shared by every process on the machine, so
  several gunicorn workers see the same jobs.  Each job is a process of its
  own, forked not by the threaded web server (the child would inherit, held
  forever, every lock another thread held at that instant) but by a
  single-threaded launcher (:mod:`app.hosting.launcher`).  Do not use Dash's
  own ``DiskcacheManager``, which forks from the server.

Progress in Dash is last-value-wins: a job should send its whole
(downsampled) history with each update, never a delta.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

#: seconds a finished job's result is kept
RESULT_EXPIRY = 3600


def jobs_dir() -> Path:
    """The shared directory of the disk-backed job store."""
    base = os.environ.get("DESCENT_LAB_JOBS_DIR") or str(Path.home() / ".cache" / "descent-lab" / "jobs")
    path = Path(base)
    path.mkdir(parents=True, exist_ok=True)
    return path


def redis_url() -> str | None:
    url = os.environ.get("REDIS_URL", "").strip()
    return url or None


def celery_app(url: str | None = None) -> Any:
    """The Celery application used for background callbacks (broker and backend: Redis)."""
    from celery import Celery

    url = url or redis_url()
    if url is None:
        raise RuntimeError("REDIS_URL is not set")
    app = Celery("descent_lab", broker=url, backend=url)
    app.conf.update(
        # acknowledged after it ran, so a task whose whole worker dies is redelivered (and the lab's job, seeing
        # its race already began once, ends at once); a pool process killed mid-task is reported as failed
        # (WorkerLostError), not put back in the queue to kill the next process too
        task_acks_late=True,
        task_reject_on_worker_lost=False,
        task_track_started=True,
        worker_prefetch_multiplier=1,
        result_expires=RESULT_EXPIRY,
        # longer than any job's own bound (the lab's: slot wait + training limit + measurements, 29 min)
        task_time_limit=30 * 60,
        # Redis hands an unacknowledged task to another worker after this long: it must exceed the time limit
        broker_transport_options={"visibility_timeout": 2 * 3600},
    )
    return app


def __getattr__(name: str) -> Any:
    # the manager class needs Dash, which ``import app.hosting.jobs`` does not load
    if name == "DiskcacheJobManager":
        from app.hosting.job_manager import DiskcacheJobManager

        return DiskcacheJobManager
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def make_manager() -> Any:
    """The background callback manager for this process (Celery when REDIS_URL is set)."""
    url = redis_url()
    if url is not None:
        from dash import CeleryManager

        return CeleryManager(celery_app(url), expire=RESULT_EXPIRY)
    import diskcache

    from app.hosting.job_manager import DiskcacheJobManager

    return DiskcacheJobManager(diskcache.Cache(str(jobs_dir())), expire=RESULT_EXPIRY)
