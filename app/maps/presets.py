"""The Sweep maps page's lessons: four maps worth looking at, each with a short text on what it shows.

The first lesson is :data:`app.maps.state.DEFAULT_MAP`, the map a bare link opens.  A new lesson
is one more :class:`Preset` in :func:`_presets` (its name becomes its button's pattern id).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from app.maps.state import DEFAULT_MAP, Axis, MapConfig, map_base, map_config, map_entry


@dataclass(frozen=True)
class Preset:
    """A lesson: a map worth looking at, with its button's title and what it shows."""

    name: str
    title: str
    lesson: str
    config: MapConfig


def _presets() -> tuple[Preset, ...]:
    quad = {"kappa": 10.0, "angle": 0.0}
    return (
        Preset(
            "himmelblau_adam",
            "Himmelblau basins (Adam)",
            "Each start is coloured by the minimum Adam reaches from it. A basin is not simply the region "
            "nearest its minimum: Adam's first steps are about η long in each coordinate whatever the slope, "
            "so some starts are carried over a ridge (the tongues of colour at the bottom right). Click a "
            "pixel to watch that run.",
            DEFAULT_MAP,
        ),
        Preset(
            "momentum_quadratic",
            "Momentum stability on the quadratic (η × μ)",
            "Heavy-ball momentum on the κ = 10 quadratic. Black: diverged; the dashed line is the analytic "
            "limit η = 2(1 + μ). Momentum widens the stable range of η, and a well-chosen μ converges in about "
            "a third of the steps plain gradient descent needs (the bottom row, μ = 0).",
            map_config("hyper", map_base("quadratic", (-9.0, 4.0), 1000,
                                         map_entry("momentum", lr=0.1, momentum=0.5), quad), 128, "steps",
                       Axis("lr", 0.01, 10.0, True), Axis("momentum", 0.0, 0.99, False)),
        ),  # fmt: skip
        Preset(
            "adam_beale",
            "Adam η × β1 on Beale",
            "Final loss of Adam on Beale's function from (1, 1.5) after 1000 steps, for each learning rate η "
            "and first-moment decay β₁. With η below about 0.05 the run has not arrived yet; from η ≈ 0.1 it "
            "reaches the minimum. With large η and small β₁ (bottom right) little momentum averages the "
            "nearly sign-sized steps, and the run keeps rattling around the valley without settling.",
            map_config("hyper", map_base("beale", (1.0, 1.5), 1000, map_entry("adam", lr=0.01)), 128, "loss",
                       Axis("lr", 0.001, 1.0, True), Axis("beta1", 0.0, 0.99, False)),
        ),  # fmt: skip
        Preset(
            "gd_quadratic",
            "GD η on the quadratic (η < 2/L)",
            "Gradient descent converges exactly when η < 2/L, with L = 1 the largest curvature; past the "
            "dashed line every run diverges. L2 weight decay λ adds to every curvature, so the limit falls "
            "to η < 2/(1 + λ). It raises the shallow curvature 1/κ as well, which is why the runs near the top "
            "converge in fewer steps.",
            map_config("hyper", map_base("quadratic", (-9.0, 4.0), 1000, map_entry("sgd", lr=0.5), quad), 128,
                       "steps", Axis("lr", 0.05, 3.0, False), Axis("weight_decay", 0.0, 1.0, False)),
        ),  # fmt: skip
    )


PRESETS: tuple[Preset, ...] = _presets()
PRESETS_BY_NAME: Mapping[str, Preset] = MappingProxyType({p.name: p for p in PRESETS})


def lesson_for(cfg: MapConfig) -> str:
    """The lesson text above the map: the lesson's own for a lesson's map, else how to read the map."""
    for p in PRESETS:
        if p.config == cfg:
            return p.lesson
    if cfg.kind == "basin":
        return ("Each pixel is a run started there; its colour says how the run ended. "
                "Click a pixel to watch that run in the Explorer.")  # fmt: skip
    return ("Each pixel is a run from the same start with the two settings of its column and row. "
            "Click a pixel to watch that run in the Explorer.")  # fmt: skip
