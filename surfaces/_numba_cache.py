"""Point Numba's on-disk cache at a directory keyed by the kernel sources.

Numba invalidates a cached function only when its own file changes, not when
a function it calls (in another file) does; a stale caller would keep running
old code.  Keying the cache directory by a digest of every kernel source file
makes any change start a fresh cache.  The base directory is
``$NUMBA_CACHE_DIR`` (it must be writable; several processes may share it) or
``~/.cache/descent-lab/numba``.  Must run before any kernel is defined.
It also imports Numba's array functions without their SciPy probe
(:mod:`surfaces._numba_target`), which saves the server 0.2 s at start-up, and
lets the kernels use the CPU's full vector width.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import numba

from surfaces._numba_target import import_arraymath, use_full_vector_width

_ROOT = Path(__file__).resolve().parent.parent
_KERNEL_PACKAGES = ("surfaces", "optimizers", "autoencoder")
_configured = False


def source_digest() -> str:
    """Short digest of the kernel modules (the private ``_*.py`` files) of the kernel packages."""
    h = hashlib.sha256()
    for pkg in _KERNEL_PACKAGES:
        for path in sorted((_ROOT / pkg).glob("_*.py")):
            if path.name == "__init__.py":
                continue
            h.update(path.name.encode())
            h.update(path.read_bytes())
    return h.hexdigest()[:16]


def configure() -> Path:
    """Set numba.config.CACHE_DIR once per process; returns the directory."""
    global _configured
    base = Path(os.environ.get("NUMBA_CACHE_DIR") or Path.home() / ".cache" / "descent-lab" / "numba")
    target = base / source_digest()
    if not _configured:
        numba.config.CACHE_DIR = str(target)
        _configured = True
    return target


configure()
import_arraymath()  # before Numba's CPU target is first set up
use_full_vector_width()  # likewise
