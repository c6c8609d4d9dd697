"""A data surface's edited points in the Explorer: their canonical form, their link, their identity.

A data surface (``linreg``, ``logreg``, ``tiny_net``) draws its points from its parameters; once the
user drags, adds, deletes or uploads points, the configuration carries them explicitly
(``ExplorerConfig.points``).  Here:

* :func:`canonical`: points as the configuration keeps them, validated by
  :func:`surfaces.data.check_points` and rounded to :data:`DIGITS` significant digits, so that what
  the link carries is exactly what was computed;
* :func:`encode` / :func:`decode`: the link's compact form (``pts=u,v_u,v_…``), carried only for at
  most :data:`MAX_LINK_POINTS` points; beyond that the link holds the generator's parameters and the
  page says the edits are not in it;
* :func:`generator_key`: which generated data set an edit started from (the surface and the
  parameters that draw the points); an edit applies only while that key is unchanged, so moving
  ``n``, the seed or the noise discards it;
* :func:`digest`: a short fingerprint of the points, for cache keys when the link cannot carry them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

import numpy as np

from surfaces.catalog import DATA_SURFACES
from surfaces.data import COLUMNS, KIND_OF_SURFACE, MAX_POINTS, check_points

from app.shell.validation import parse_number

Points = tuple[tuple[float, ...], ...]

#: significant digits a point's coordinate keeps (the link writes them with as many)
DIGITS = 5
#: the most edited points a link carries
MAX_LINK_POINTS = 256
#: longest encoded ``pts`` value a link carries and reads (the whole query stays under its 8000 characters)
MAX_LINK_CHARS = 5500
#: parameters of a data surface that do not draw the points (an edit survives their change)
MODEL_PARAMS = frozenset({"bias", "l2", "center"})
POINT_SEP = "_"


def is_data_surface(name: str) -> bool:
    return name in DATA_SURFACES


def width(surface: str) -> int:
    return len(COLUMNS[KIND_OF_SURFACE[surface]])


def _round(v: float) -> float:
    r = float(f"{float(v):.{DIGITS}g}")
    return 0.0 if r == 0.0 else r  # no −0.0: it would print differently


def canonical(surface: str, points: Any) -> Points:
    """``points`` validated and rounded as the configuration keeps them; ValueError with a one-line reason.

    Anything but a short list of short rows is refused before numpy sees it (an untrusted store)."""
    if isinstance(points, np.ndarray):
        points = points.tolist()
    if not isinstance(points, Sequence) or isinstance(points, str) or len(points) > MAX_POINTS:
        raise ValueError(f"{surface} takes a list of at most {MAX_POINTS} points")
    if not all(isinstance(r, Sequence) and not isinstance(r, str) and len(r) <= 4 for r in points):
        raise ValueError(f"{surface} points must be rows of {width(surface)} numbers")
    if any(isinstance(v, str) for r in points for v in r):
        points = [[parse_number(v) if isinstance(v, str) else v for v in r] for r in points]
    if any(v is None or isinstance(v, bool) for r in points for v in r):
        raise ValueError(f"{surface} points must be plain numbers")
    arr = check_points(surface, points)
    return tuple(tuple(_round(v) for v in row) for row in arr.tolist())


def in_link(points: Points | None) -> bool:
    """Whether a link carries these points: at most :data:`MAX_LINK_POINTS`, encoded in at most
    :data:`MAX_LINK_CHARS` characters (so that every link the page writes reads back)."""
    return points is not None and len(points) <= MAX_LINK_POINTS and len(encode(points)) <= MAX_LINK_CHARS


def _text(v: float) -> str:
    return f"{v:.{DIGITS}g}".replace("e+", "e")


def encode(points: Points) -> str:
    """The link's form of ``points``: coordinates joined by commas, points by underscores."""
    return POINT_SEP.join(",".join(_text(v) for v in row) for row in points)


def decode(text: Any) -> list[list[str]] | None:
    """The rows of an encoded ``pts`` value, as untrusted strings (:func:`canonical` checks them); None if unreadable."""
    if not isinstance(text, str) or not text or len(text) > MAX_LINK_CHARS:
        return None
    rows = text.split(POINT_SEP)
    if len(rows) > MAX_LINK_POINTS:
        return None
    return [row.split(",")[:4] for row in rows]


def generator_key(surface: str, params: Sequence[tuple[str, float]]) -> str:
    """The generated data set an edit belongs to: the surface and its point-drawing parameters."""
    drawn = [(k, float(v)) for k, v in params if k not in MODEL_PARAMS]
    return repr((surface, drawn))


def digest(points: Points | None) -> str:
    """A short fingerprint of ``points`` ('' for none)."""
    if points is None:
        return ""
    arr = np.asarray(points, dtype="<f8")
    return hashlib.blake2b(arr.tobytes() + str(arr.shape).encode(), digest_size=8).hexdigest()
