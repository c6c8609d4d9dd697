"""The animated export (GIF, MP4): the race drawn with Pillow, frame by frame, with no text on other text.

Every frame shows the surface raster, contour lines and minima (:func:`background`), each run's
trail so far and its ball, and its text: the title, the axes' ranges, a legend whose rows wrap
inside the picture, a "step k" counter, and for a run that diverged or stalled a cross where it
left the box with a "diverged at step N" label.  Where every piece of text goes is decided once
per export (:func:`scene`) from boxes measured with the font it is drawn in
(``ImageDraw.textbbox``) and placed by :mod:`app.export.labels` (the same rule as the static
exports' labels): a label takes the first position around its cross that overlaps no other text,
no cross and not the legend, and lies inside the picture.  The labels of runs that end later never
move the ones already shown, so nothing jumps from one frame to the next.
:func:`frame_labels` gives the text of a frame with its box (what tests check).

All functions are pure (configuration in, images or bytes out); MP4 needs ffmpeg.
"""

from __future__ import annotations

import functools
import io
import shutil
import subprocess
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from app.explorer.compute import Result, end_marker
from app.explorer.figures import background_grid
from app.export.errors import ExportError
from app.export.imaging import hex_rgb
from app.export.labels import POSITIONS, Box, first_free, flow, shift_inside
from app.shell.contours import contour_lines, levels_for
from app.shell.raster import colorize
from app.shell.style import color

RGB = tuple[int, int, int]
MARGIN_L, MARGIN_R, MARGIN_T = 50, 20, 44
EDGE = 4  # no text closer than this to the picture's edge
TITLE_SIZE, STEP_SIZE, AXIS_SIZE, LEGEND_SIZE, LABEL_SIZE = 20, 20, 13, 15, 15
SWATCH, SWATCH_GAP, ENTRY_GAP, ROW_GAP = 10, 4, 12, 4
AXIS_GAP = 6  # between the plot's lower edge and the axes' ranges, and between those and the legend
LEGEND_SHARE = 0.35  # of the picture's height the legend may take at most (the rest is "+N more")
BALL, MARKER = 7, 6  # radii in pixels
LABEL_PAD = MARKER + 3
LABEL_RINGS = 8  # distances around a cross a label is tried at
INK: RGB = (20, 20, 20)
_FONT_FILES = ("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", "DejaVuSans.ttf")


def _rgb(run: Any) -> RGB:
    return hex_rgb(color(run.entry.color))


class AnimationOptions(Protocol):
    """What the animation needs of the export options: pixel size, frame count and rate."""

    width: int
    height: int
    frames: int
    fps: float


@dataclass(frozen=True)
class _Canvas:
    """Pixel geometry of the plot area: data box → pixels with equal aspect."""

    width: int
    height: int
    left: int
    top: int
    plot_w: int
    plot_h: int
    x0: float
    x1: float
    y0: float
    y1: float

    @classmethod
    def fit(cls, width: int, height: int, bounds, margin_b: int = 64) -> _Canvas:
        (x0, x1), (y0, y1) = bounds
        aw, ah = max(width - MARGIN_L - MARGIN_R, 1), max(height - MARGIN_T - margin_b, 1)
        ratio = (x1 - x0) / (y1 - y0)
        pw, ph = (aw, int(aw / ratio)) if aw / ah < ratio else (int(ah * ratio), ah)
        left = MARGIN_L + (aw - pw) // 2
        top = MARGIN_T + (ah - ph) // 2
        return cls(width, height, left, top, max(pw, 1), max(ph, 1), x0, x1, y0, y1)

    def px(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        u = self.left + (np.asarray(x) - self.x0) / (self.x1 - self.x0) * self.plot_w
        v = self.top + (self.y1 - np.asarray(y)) / (self.y1 - self.y0) * self.plot_h
        return u, v


def _polyline(u: np.ndarray, v: np.ndarray, lo: float = -1e4, hi: float = 1e4) -> list[tuple[float, float]]:
    return [(float(a), float(b)) for a, b in zip(np.clip(u, lo, hi), np.clip(v, lo, hi))]


@functools.lru_cache(maxsize=16)
def _font(size: int):
    """DejaVu Sans when installed (it has η, β, ·, −), else Pillow's built-in font."""
    from PIL import ImageFont

    for name in _FONT_FILES:
        try:
            return ImageFont.truetype(name, size)
        except OSError:
            continue
    return ImageFont.load_default(size=size)


@functools.lru_cache(maxsize=1)
def _scratch():
    from PIL import Image, ImageDraw

    return ImageDraw.Draw(Image.new("RGB", (1, 1)))


def _ink(text: str, size: int, stroke: int = 0) -> Box:
    """The box Pillow inks for ``text`` drawn at the origin (0, 0), stroke included."""
    return tuple(float(c) for c in _scratch().textbbox((0, 0), text, font=_font(size), stroke_width=stroke))


def _shortened(text: str, size: int, max_w: float, stroke: int = 0) -> str:
    """``text``, cut and ended with "…" until its measured width is at most ``max_w`` ("" if even "…" is wider)."""
    cut = text
    while cut:
        shown = cut if cut == text else cut.rstrip() + "…"
        l, _, r, _ = _ink(shown, size, stroke)
        if r - l <= max_w:
            return shown
        cut = cut[:-1]
    return ""


@dataclass(frozen=True)
class Text:
    """One piece of text of a frame: ``box`` is the pixels Pillow inks when drawing it at ``origin``."""

    text: str
    box: Box
    origin: tuple[float, float]
    size: int
    fill: RGB = INK
    stroke: int = 0  # a white halo of this width (labels over the raster)

    @classmethod
    def at(cls, text: str, left: float, top: float, size: int, fill: RGB = INK, stroke: int = 0) -> Text:
        """``text`` with its inked box's top-left corner at (left, top)."""
        l, t, r, b = _ink(text, size, stroke)
        return cls(text, (left, top, left + r - l, top + b - t), (left - l, top - t), size, fill, stroke)


@dataclass(frozen=True)
class Scene:
    """Where everything of the animation goes, decided once for all frames."""

    canvas: _Canvas
    steps: tuple[int, ...]  # the step each frame shows
    fixed: tuple[Text, ...]  # title, axes' ranges and the legend's entries (every frame)
    swatches: tuple[tuple[Box, RGB], ...]  # the legend's colour squares
    legend_box: Box | None  # the whole legend (swatches and entries)
    step_slot: Box | None  # the step counter is drawn right-aligned inside it (None: no room)
    ends: tuple[tuple[int, Text | None], ...]  # per ended run: from which step its label shows, the label
    markers: tuple[tuple[int, float, float, RGB], ...]  # crosses: from which step, pixel position, colour
    paths: tuple[tuple[np.ndarray, np.ndarray, int, RGB], ...]  # per run: pixel path (u, v), last step, colour


def frame_steps(result: Result, n_frames: int) -> np.ndarray:
    """The steps the frames show: ``n_frames`` evenly from 0 to the longest run (repeats dropped)."""
    longest = max((r.trajectory.steps for r in result.runs if r.ok), default=0)
    return np.unique(np.round(np.linspace(0, longest, n_frames)).astype(int))


def _legend(result: Result, width: int, height: int) -> tuple[list[tuple[str, RGB | None, float, int]], float]:
    """The legend's entries as (text, swatch colour, x, row) and its row pitch.

    Rows wrap inside the picture's width; when they would take more than :data:`LEGEND_SHARE` of
    its height, the last entries give way to a "+N more" entry (which has no swatch).
    """
    runs = [r for r in result.runs if r.ok]
    left, right = float(MARGIN_L if width >= 4 * MARGIN_L else EDGE), float(width - EDGE)
    room = right - left - SWATCH - SWATCH_GAP
    texts = [_shortened(r.entry.label(), LEGEND_SIZE, room) for r in runs]
    colours: list[RGB | None] = [_rgb(r) for r in runs]
    _, top, _, bottom = _ink("Ag|η" + "".join(texts), LEGEND_SIZE)
    pitch = bottom - top + ROW_GAP
    max_rows = max(1, int(LEGEND_SHARE * height // pitch))

    def width_of(text: str) -> float:
        l, _, r, _ = _ink(text, LEGEND_SIZE)
        return SWATCH + SWATCH_GAP + (r - l)

    kept = len(texts)
    while True:
        shown = texts[:kept] + ([f"+{len(texts) - kept} more"] if kept < len(texts) else [])
        places = flow([width_of(t) for t in shown], left, right, ENTRY_GAP)
        if kept == 0 or all(row < max_rows for _, row in places):
            break
        kept -= 1
    fills = colours[:kept] + [None] * (len(shown) - kept)
    return [(t, c, x, row) for t, c, (x, row) in zip(shown, fills, places)], pitch


def scene(result: Result, width: int, height: int, n_frames: int) -> Scene:
    """The layout of every frame of the race of ``result`` at ``width × height`` pixels."""
    steps = tuple(int(k) for k in frame_steps(result, n_frames))
    bounds: Box = (EDGE, EDGE, width - EDGE, height - EDGE)
    entries, pitch = _legend(result, width, height)
    rows = 1 + max((row for *_, row in entries), default=-1)
    legend_h = rows * pitch - ROW_GAP if rows else 0.0
    _, at, _, ab = _ink("x from 0 to 9", AXIS_SIZE)
    margin_b = int(np.ceil(AXIS_GAP + (ab - at) + AXIS_GAP + legend_h + EDGE + 2))
    cv = _Canvas.fit(width, height, result.config.bounds, margin_b)
    fixed: list[Text] = []
    swatches: list[tuple[Box, RGB]] = []
    legend_top = height - EDGE - 1 - legend_h
    for text, fill, x, row in entries:
        ink_top = legend_top + row * pitch
        if fill is not None:
            mid = ink_top + (pitch - ROW_GAP) / 2
            swatches.append(((x, mid - SWATCH / 2, x + SWATCH, mid + SWATCH / 2), fill))
        fixed.append(Text.at(text, x + SWATCH + SWATCH_GAP, ink_top, LEGEND_SIZE))
    legend_box = None
    if entries:
        legend_box = (min(x for *_, x, _ in entries), legend_top, max(t.box[2] for t in fixed), legend_top + legend_h)
    axis = _shortened(f"x from {cv.x0:g} to {cv.x1:g},  y from {cv.y0:g} to {cv.y1:g}", AXIS_SIZE, width - 2 * EDGE)
    if axis:
        t = Text.at(axis, cv.left, cv.top + cv.plot_h + AXIS_GAP, AXIS_SIZE, (60, 60, 60))
        box = shift_inside(t.box, bounds)
        fixed.append(Text.at(axis, box[0], box[1], AXIS_SIZE, (60, 60, 60)) if box else t)
    sl, st, sr, sb = _ink(f"step {max(steps, default=0)}", STEP_SIZE)
    _, dt, _, db = _ink("step 0123456789", STEP_SIZE)
    step_w, step_h = sr - sl, max(sb - st, db - dt)
    title_room = width - EDGE - cv.left - step_w - 12
    title = _shortened(result.surface.display_name, TITLE_SIZE, title_room)
    if title:
        fixed.insert(0, Text.at(title, cv.left, 10, TITLE_SIZE))
    slot = first_free(width - EDGE - 6, 10, step_w, step_h, ("bottom left",), [t.box for t in fixed], bounds, pad=0,
                      rings=4)  # fmt: skip
    step_slot = slot[1] if slot else None
    taken = [t.box for t in fixed] + ([legend_box] if legend_box else []) + ([step_slot] if step_slot else [])
    markers, ends = _ends(result, cv)
    taken += [(u - MARKER - 2, v - MARKER - 2, u + MARKER + 2, v + MARKER + 2) for _, u, v, _ in markers]
    labels: list[tuple[int, Text | None]] = []
    for shows, u, v, where, text, fill in ends:
        l, t, r, b = _ink(text, LABEL_SIZE, 2)
        w, h = r - l, b - t
        order = (where, *(p for p in POSITIONS if p != where))
        free = first_free(u, v, w, h, order, taken, bounds, pad=LABEL_PAD, rings=LABEL_RINGS)
        label = Text.at(text, free[1][0], free[1][1], LABEL_SIZE, fill, stroke=2) if free else None
        if label is not None:
            taken.append(label.box)
        labels.append((shows, label))
    paths = []
    for r in (r for r in result.runs if r.ok):
        u, v = cv.px(r.trajectory.positions[:, 0], r.trajectory.positions[:, 1])
        paths.append((u, v, r.trajectory.steps, _rgb(r)))
    return Scene(cv, steps, tuple(fixed), tuple(swatches), legend_box, step_slot, tuple(labels), tuple(markers),
                 tuple(paths))  # fmt: skip


def _ends(result: Result, cv: _Canvas) -> tuple[list[tuple[int, float, float, RGB]], list[tuple[Any, ...]]]:
    """The crosses of runs that diverged or stalled, and their labels' (step, u, v, side, text, colour), by end step."""
    markers, ends = [], []
    runs = [r for r in result.runs if r.ok]
    for r in sorted(runs, key=lambda r: r.trajectory.steps):  # stable: ties keep the runs' order
        pt = end_marker(r, result.config)
        if pt is None:
            continue
        t = r.trajectory
        u, v = (float(c) for c in cv.px(pt[0], pt[1]))
        rgb = _rgb(r)
        markers.append((t.steps, u, v, rgb))
        ends.append((t.steps, u, v, pt[3], f"{t.status} at step {t.stop_step}", rgb))
    return markers, ends


def _step_text(sc: Scene, k: int) -> Text | None:
    if sc.step_slot is None:
        return None
    l, _, r, _ = _ink(f"step {k}", STEP_SIZE)
    return Text.at(f"step {k}", sc.step_slot[2] - (r - l), sc.step_slot[1], STEP_SIZE)


def frame_texts(sc: Scene, k: int) -> list[Text]:
    """Every piece of text of the frame showing step ``k``: fixed text, the step counter and ended runs' labels."""
    step = _step_text(sc, k)
    return [*sc.fixed, *([step] if step else []), *(t for shows, t in sc.ends if t is not None and k >= shows)]


def frame_labels(sc: Scene, k: int) -> list[tuple[str, Box]]:
    """The text of the frame showing step ``k`` with its measured box: no two overlap, all inside the picture."""
    return [(t.text, t.box) for t in frame_texts(sc, k)]


def background(result: Result, cv: _Canvas):
    """The surface raster, contour lines, frame and minima (a PIL image, no text)."""
    from PIL import Image, ImageDraw

    grid = background_grid(result.surface, "2d")
    sc = grid.scale
    high = sc.cap if sc.cap > sc.low else sc.low + 1.0
    raster = Image.fromarray(np.ascontiguousarray(colorize(grid.z, sc.low, high)[::-1]), "RGB")
    img = Image.new("RGB", (cv.width, cv.height), "white")
    img.paste(raster.resize((cv.plot_w, cv.plot_h), Image.BILINEAR), (cv.left, cv.top))
    draw = ImageDraw.Draw(img)
    lx, ly = contour_lines(grid.xs, grid.ys, grid.z, levels_for(sc))
    lx = np.asarray(lx, dtype=float)
    ly = np.asarray(ly, dtype=float)
    breaks = np.flatnonzero(~np.isfinite(lx))
    start = 0
    for end in list(breaks) + [lx.size]:
        if end - start >= 2:
            u, v = cv.px(lx[start:end], ly[start:end])
            draw.line(_polyline(u, v), fill=(120, 130, 146), width=1)
        start = end + 1
    draw.rectangle([cv.left, cv.top, cv.left + cv.plot_w, cv.top + cv.plot_h], outline=(80, 80, 80))
    for m in result.surface.minima:
        u, v = (float(c) for c in cv.px(m.x, m.y))
        draw.line([(u - 6, v - 6), (u + 6, v + 6)], fill=(20, 20, 20), width=2)
        draw.line([(u - 6, v + 6), (u + 6, v - 6)], fill=(20, 20, 20), width=2)
    return img


def draw_frame(sc: Scene, base: Any, k: int, texts: bool = True) -> Any:
    """The frame showing step ``k`` on a copy of ``base`` (see :func:`background`); ``texts=False`` leaves out
    every piece of text (to tell which pixels the text inks).  Paths and balls are drawn inside the plot's
    frame only; crosses, swatches and text over them."""
    from PIL import ImageDraw

    img = base.copy()
    draw = ImageDraw.Draw(img)
    for u, v, last, rgb in sc.paths:
        n = min(int(k), last)
        if n >= 1:
            draw.line(_polyline(u[: n + 1], v[: n + 1]), fill=rgb, width=3)
        cu, cvv = float(np.clip(u[n], -50, 1e4)), float(np.clip(v[n], -50, 1e4))
        draw.ellipse([cu - BALL, cvv - BALL, cu + BALL, cvv + BALL], fill=rgb, outline="white", width=2)
    cv = sc.canvas  # paths and balls stop at the plot's frame: the margins around it are the base's again
    for box in ((0, 0, cv.width, cv.top), (0, cv.top + cv.plot_h + 1, cv.width, cv.height),
                (0, 0, cv.left, cv.height), (cv.left + cv.plot_w + 1, 0, cv.width, cv.height)):  # fmt: skip
        if box[2] > box[0] and box[3] > box[1]:
            img.paste(base.crop(box), box[:2])
    for shows, u, v, rgb in sc.markers:
        if k >= shows:
            draw.line([(u - MARKER, v - MARKER), (u + MARKER, v + MARKER)], fill=rgb, width=3)
            draw.line([(u - MARKER, v + MARKER), (u + MARKER, v - MARKER)], fill=rgb, width=3)
    for box, rgb in sc.swatches:
        draw.rectangle(box, fill=rgb)
    if texts:
        for t in frame_texts(sc, k):
            draw.text(t.origin, t.text, fill=t.fill, font=_font(t.size), stroke_width=t.stroke,
                      stroke_fill=(255, 255, 255))  # fmt: skip
    return img


def animation_frames(result: Result, options: AnimationOptions) -> list:
    """RGB PIL images of the race, one per frame: trails so far, balls, end crosses, labels, a legend and the step."""
    sc = scene(result, options.width, options.height, options.frames)
    base = background(result, sc.canvas)
    return [draw_frame(sc, base, k) for k in sc.steps]


def gif_bytes(result: Result, options: AnimationOptions, comment: str = "") -> bytes:
    """An animated GIF of the race (loops forever), with ``comment`` in its comment extension."""
    frames = animation_frames(result, options)
    buf = io.BytesIO()
    paletted = [f.quantize(colors=255, method=2, dither=0) for f in frames]  # median cut, no dither: crisp lines
    duration = round(1000.0 / options.fps)
    paletted[0].save(buf, format="GIF", save_all=True, append_images=paletted[1:], duration=duration, loop=0,
                     comment=comment.encode("ascii"))  # fmt: skip
    return buf.getvalue()


def mp4_bytes(result: Result, options: AnimationOptions) -> bytes:
    """An MP4 of the race through ffmpeg (when installed); ExportError without it or when it fails."""
    exe = shutil.which("ffmpeg")
    if exe is None:
        raise ExportError("MP4 export needs ffmpeg: install it with 'sudo apt-get install ffmpeg' (GIF works without it)")
    frames = animation_frames(result, options)
    w, h = frames[0].size
    w2, h2 = w - w % 2, h - h % 2
    raw = b"".join(f.crop((0, 0, w2, h2)).tobytes() for f in frames)
    cmd = [exe, "-loglevel", "error", "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{w2}x{h2}",
           "-r", f"{options.fps:g}", "-i", "-", "-pix_fmt", "yuv420p", "-movflags", "frag_keyframe+empty_moov",
           "-f", "mp4", "-"]  # fmt: skip
    proc = subprocess.run(cmd, input=raw, capture_output=True, timeout=120, check=False)
    if proc.returncode != 0:
        raise ExportError(f"ffmpeg failed: {proc.stderr.decode(errors='replace').strip().splitlines()[-1:]}")
    return proc.stdout
