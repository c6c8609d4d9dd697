"""Component ids of the Explorer, in one place.

Plain ids are members of :class:`Ids` (a ``StrEnum``, so a member *is* its
string).  The controls that come and go with the configuration (optimizer
cards, surface and schedule parameters, presets) use pattern-matching ids built
by the helpers below; their ``type`` values are members of :class:`Kind`.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any


class Ids(StrEnum):
    URL = "url"
    CONFIG = "config-store"  # the current, validated configuration (dict)
    PAYLOAD = "payload-store"  # trajectories for the animation engine
    PAYLOAD_FIRST = "payload-first-store"  # the same, for the server-rendered page (no callback writes it)
    MAP_META = "map-meta-store"  # key of the surface drawn on the map
    ENGINE_SINK = "engine-sink"  # output of clientside callbacks that only act
    ENGINE_SINK_FIRST = "engine-sink-first"
    CLICK = "click-store"  # the last point clicked on the map (set by assets/explorer.js)
    TEX_READY = "tex-ready-store"  # set by assets/explorer.js once the first map is on screen: MathJax may run
    SLIDER_COMMIT = "slider-commit-store"  # {id, n}: a slider settled on a new position (set by assets/explorer.js)
    RENDERED = "rendered-store"
    BOOT = "boot-store"  # set once the first callback has compared the page with its URL  # bumped whenever the controls are re-rendered from a configuration
    NOTICE = "notice"
    LESSON = "lesson"
    PRESETS = "presets"

    SURFACE = "surface"
    SURFACE_PARAMS = "surface-params"
    SURFACE_INFO = "surface-info"
    SURFACE_TEX = "surface-tex"
    FORMULA_BOX = "formula-box"
    FORMULA = "formula"
    FORMULA_ERROR = "formula-error"
    XMIN = "formula-xmin"
    XMAX = "formula-xmax"
    YMIN = "formula-ymin"
    YMAX = "formula-ymax"

    START_X = "start-x"
    START_Y = "start-y"
    STEPS = "steps"

    SCHEDULE = "schedule"
    SCHEDULE_PARAMS = "schedule-params"
    CLIP = "clip"
    CLIP_VALUE = "clip-value"
    NOISE = "noise"
    SEED = "seed"

    ADD_CHOICE = "add-optimizer-choice"
    ADD = "add-optimizer"
    CARDS = "optimizer-cards"

    VIEW = "view"
    ARROWS = "arrows"
    MAP = "map"
    MAP_WRAP = "map-wrap"
    LEGEND = "legend"
    DIAGNOSTICS = "diagnostics"

    # the player: wired in assets/explorer.js, not through Dash callbacks
    PLAYER = "player"
    PLAY = "play"
    TO_START = "to-start"
    STEP_BACK = "step-back"
    STEP_FORWARD = "step-forward"
    SPEED = "speed"
    SCRUBBER = "scrubber"
    STEP_LABEL = "step-label"


class Kind(StrEnum):
    """``type`` of the pattern-matching ids."""

    NUM = "num"  # the exact number input of a numeric parameter (source of truth)
    SLIDER = "slider"  # its slider (log10 of the value when scale == "log")
    FLAG = "flag"  # a bool (checklist) or choice (radio) hyperparameter
    CARD_META = "card-meta"  # dcc.Store with the optimizer name and colour of a card
    RULE = "rule"  # the card's update rule (MathJax), filled after the first paint
    REMOVE = "remove"
    DUPLICATE = "duplicate"
    PRESET = "preset"


class Group(StrEnum):
    """Which family a numeric parameter belongs to."""

    HYPER = "hp"  # optimizer hyperparameter; slot = card position
    SURFACE = "sp"  # surface parameter; slot = 0
    SCHEDULE = "sch"  # schedule parameter; slot = 0


def num_id(group: str, slot: int, key: str, scale: str) -> dict[str, Any]:
    return {"type": Kind.NUM.value, "group": group, "slot": slot, "key": key, "scale": scale}


def slider_id(group: str, slot: int, key: str, scale: str) -> dict[str, Any]:
    return {"type": Kind.SLIDER.value, "group": group, "slot": slot, "key": key, "scale": scale}


def flag_id(slot: int, key: str) -> dict[str, Any]:
    return {"type": Kind.FLAG.value, "slot": slot, "key": key}


def card_id(kind: Kind, slot: int) -> dict[str, Any]:
    return {"type": kind.value, "slot": slot}


def preset_id(name: str) -> dict[str, Any]:
    return {"type": Kind.PRESET.value, "name": name}
