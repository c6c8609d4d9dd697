"""Contour lines of a sampled surface (marching squares, with the polyline walk compiled) and the
levels a map draws.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numba import njit

from app.shell.surface_grid import ZScale


N_LEVELS = 22
#: marching squares: case (bit0 bottom-left, bit1 bottom-right, bit2 top-right, bit3 top-left above the level)
#: → pairs of cell edges (0 bottom, 1 right, 2 top, 3 left); saddles 5 and 10 are resolved by the cell mean
_CASES = {1: ((3, 0),), 2: ((0, 1),), 3: ((3, 1),), 4: ((1, 2),), 6: ((0, 2),), 7: ((3, 2),), 8: ((3, 2),),
          9: ((0, 2),), 11: ((1, 2),), 12: ((3, 1),), 13: ((0, 1),), 14: ((3, 0),)}  # fmt: skip
_SADDLE = {(5, True): ((0, 1), (3, 2)), (5, False): ((3, 0), (1, 2)),
           (10, True): ((3, 0), (1, 2)), (10, False): ((0, 1), (3, 2))}  # fmt: skip


def contour_lines(xs: np.ndarray, ys: np.ndarray, z: np.ndarray, levels: Any) -> tuple[np.ndarray, np.ndarray]:
    """The iso-lines z = level of a grid (rows are y), joined into polylines separated by NaN."""
    z = np.asarray(z, dtype=np.float64)
    ny, nx = z.shape
    n_h = ny * (nx - 1)
    out_x: list[np.ndarray] = []
    out_y: list[np.ndarray] = []
    finite = np.isfinite(z)
    ok_cell = finite[:-1, :-1] & finite[:-1, 1:] & finite[1:, 1:] & finite[1:, :-1]
    ii, jj = np.meshgrid(np.arange(ny - 1), np.arange(nx - 1), indexing="ij")
    # edge ids of every cell: bottom, right, top, left
    cell_edges = np.stack([ii * (nx - 1) + jj, n_h + ii * nx + jj + 1, (ii + 1) * (nx - 1) + jj, n_h + ii * nx + jj])
    with np.errstate(invalid="ignore", divide="ignore"):
        for level in levels:
            above = np.where(finite, z > level, False)
            case = (above[:-1, :-1] * 1 + above[:-1, 1:] * 2 + above[1:, 1:] * 4 + above[1:, :-1] * 8) * ok_cell
            centre = (z[:-1, :-1] + z[:-1, 1:] + z[1:, 1:] + z[1:, :-1]) / 4 > level
            pairs = []
            for c, segs in _CASES.items():
                m = case == c
                if m.any():
                    for e1, e2 in segs:
                        pairs.append(np.stack([cell_edges[e1][m], cell_edges[e2][m]], axis=1))
            for (c, high), segs in _SADDLE.items():
                m = (case == c) & (centre == high)
                if m.any():
                    for e1, e2 in segs:
                        pairs.append(np.stack([cell_edges[e1][m], cell_edges[e2][m]], axis=1))
            if not pairs:
                continue
            seg = np.concatenate(pairs)
            edges, compact = np.unique(seg, return_inverse=True)
            compact = compact.reshape(seg.shape).astype(np.int64)
            px, py = _edge_points(xs, ys, z, level, nx, n_h, edges)
            order = _chain_order(compact[:, 0].copy(), compact[:, 1].copy(), edges.size)
            gap = order < 0
            take = np.where(gap, 0, order)
            out_x.append(np.where(gap, np.nan, px[take]))
            out_y.append(np.where(gap, np.nan, py[take]))
    if not out_x:
        return np.zeros(0), np.zeros(0)
    return np.concatenate(out_x), np.concatenate(out_y)


def _edge_points(xs, ys, z, level, nx, n_h, edges):  # type: ignore[no-untyped-def]
    """Where ``level`` crosses each listed grid edge (linear interpolation): x and y aligned with ``edges``."""
    px = np.empty(edges.size)
    py = np.empty(edges.size)
    horiz = edges < n_h
    i, j = np.divmod(edges[horiz], nx - 1)
    t = (level - z[i, j]) / (z[i, j + 1] - z[i, j])
    px[horiz] = xs[j] + t * (xs[j + 1] - xs[j])
    py[horiz] = ys[i]
    vi, vj = np.divmod(edges[~horiz] - n_h, nx)
    tv = (level - z[vi, vj]) / (z[vi + 1, vj] - z[vi, vj])
    px[~horiz] = xs[vj]
    py[~horiz] = ys[vi] + tv * (ys[vi + 1] - ys[vi])
    return px, py


@njit(cache=True)
def _chain_order(a: np.ndarray, b: np.ndarray, n_edges: int) -> np.ndarray:  # pragma: no cover - compiled
    """Segments (a[k], b[k]) of edge ids 0..n_edges-1 joined into polylines: the edge ids in walking
    order, -1 after each polyline.  Open polylines (from an edge used once) come first, then loops.
    A grid edge borders two cells, so at most two segments meet at an edge."""
    m = a.size
    slots = np.full((n_edges, 2), -1, np.int64)
    deg = np.zeros(n_edges, np.int64)
    for k in range(m):
        for e in (a[k], b[k]):
            if deg[e] < 2:
                slots[e, deg[e]] = k
            deg[e] += 1
    used = np.zeros(m, np.bool_)
    out = np.empty(3 * m + 1, np.int64)
    pos = 0
    for phase in range(2):
        for e0 in range(n_edges):
            if phase == 0 and deg[e0] != 1:
                continue
            for s in range(2):
                k = slots[e0, s]
                if k < 0 or used[k]:
                    continue
                out[pos] = e0
                pos += 1
                e = e0
                while k >= 0:
                    used[k] = True
                    e = b[k] if a[k] == e else a[k]
                    out[pos] = e
                    pos += 1
                    nxt = -1
                    for t in range(2):
                        kk = slots[e, t]
                        if kk >= 0 and not used[kk]:
                            nxt = kk
                            break
                    k = nxt
                out[pos] = -1
                pos += 1
    return out[:pos]


def levels_for(scale: ZScale, n: int = N_LEVELS) -> np.ndarray:
    high = scale.cap if scale.cap > scale.low else scale.low + 1.0
    step = (high - scale.low) / n
    return scale.low + step * (np.arange(n) + 0.5)
