"""Serve a whole class: the app under gunicorn, with everything shared that must be.

    descent-lab serve --host 0.0.0.0 --port 8050 --workers 3

* The app is built once in the master process (``preload_app``): the Numba
  kernels, the lab's data and the sweep kernels are loaded (or compiled into the
  shared writable Numba cache) before the workers fork, so no worker and no job
  process compiles anything.
* Workers are threaded (``gthread``): a request waiting on the job store does
  not hold a whole process.
* Every worker uses the same job store (:mod:`app.hosting.jobs`) and result cache
  (:mod:`app.hosting.result_cache`): a directory on this machine, or Redis when
  ``REDIS_URL`` is set (then background jobs run on Celery workers).

``make run`` stays the single-process server (``python -m app``).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

MAX_WORKERS = 32
MAX_THREADS = 64


@dataclass(frozen=True)
class ServeOptions:
    """Validated settings of a hosted server."""

    host: str = "127.0.0.1"
    port: int = 8050
    workers: int = 2
    threads: int = 4
    timeout: int = 120
    access_log: bool = False

    def __post_init__(self) -> None:
        if not 0 < self.port < 65536:
            raise ValueError(f"--port must be in 1..65535, got {self.port}")
        if not 1 <= self.workers <= MAX_WORKERS:
            raise ValueError(f"--workers must be in 1..{MAX_WORKERS}, got {self.workers}")
        if not 1 <= self.threads <= MAX_THREADS:
            raise ValueError(f"--threads must be in 1..{MAX_THREADS}, got {self.threads}")
        if not 10 <= self.timeout <= 3600:
            raise ValueError(f"--timeout must be in 10..3600 seconds, got {self.timeout}")
        if not self.host or any(c.isspace() for c in self.host):
            raise ValueError(f"--host must be an interface name or address, got {self.host!r}")

    def gunicorn_settings(self) -> dict[str, Any]:
        """The gunicorn configuration these options stand for."""
        host = f"[{self.host}]" if ":" in self.host and not self.host.startswith("[") else self.host
        return {
            "bind": f"{host}:{self.port}",
            "workers": self.workers,
            "worker_class": "gthread",
            "threads": self.threads,
            "preload_app": True,  # kernels and data loaded once, before the fork
            "timeout": self.timeout,
            "graceful_timeout": 30,
            "keepalive": 5,
            "max_requests": 5000,  # recycle workers now and then (forked again from the warm master)
            "max_requests_jitter": 500,
            "accesslog": "-" if self.access_log else None,
            "errorlog": "-",
            "proc_name": "descent-lab",
            "limit_request_line": 8190,
            "control_socket_disable": True,  # (newer gunicorn) no control socket: nothing manages it here
        }


def default_workers() -> int:
    """One worker per core (at least 2, so one slow request never blocks the class)."""
    return max(2, min(os.cpu_count() or 2, 8))


def build_app() -> Any:
    """The WSGI application a worker serves (built in the master, before the fork)."""
    from app import create_app

    return create_app(warm=True, freeze=True).server


def serve(options: ServeOptions, factory: Callable[[], Any] = build_app) -> None:
    """Run gunicorn in this process until it is stopped (SIGINT/SIGTERM)."""
    from gunicorn.app.base import BaseApplication

    settings = options.gunicorn_settings()

    class _Server(BaseApplication):  # type: ignore[misc]
        def load_config(self) -> None:
            for key, value in settings.items():
                if key in self.cfg.settings:  # settings an older gunicorn lacks are optional ones
                    self.cfg.set(key, value)

        def load(self) -> Any:
            return factory()

    _Server().run()
