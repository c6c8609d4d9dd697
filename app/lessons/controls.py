"""What the control names of a lesson file (``hide``/``lock``) cover on each page: CSS selectors.

The player hands these selectors to ``assets/lesson.js``, which hides every element they match (or
makes it inert) and, when one sits in a collapsible section of the sidebar, the whole section with it.
The Explorer's controls are named by their ids, shared with its scripts.
"""

from __future__ import annotations

from app.explorer.ids import Ids as ExplorerIds
from app.maps.ids import Ids as MapsIds


def _id(i: object) -> str:
    return f"#{i}"


#: page → control name → selectors
SELECTORS: dict[str, dict[str, tuple[str, ...]]] = {
    "/": {
        "surface": (_id(ExplorerIds.SURFACE),),
        "start": (_id(ExplorerIds.START_X),),
        "modifiers": (_id(ExplorerIds.SCHEDULE),),
        "optimizers": (_id(ExplorerIds.CARDS),),
        "lessons": (_id(ExplorerIds.PRESETS),),
        "export": (".export-bar",),
        "view_options": (_id(ExplorerIds.VIEW),),
        "sidebar": ("aside.sidebar",),
    },
    "/maps": {"form": (".maps-sidebar",), "lessons": (_id(MapsIds.PRESETS),), "export": (_id(MapsIds.EXPORT_BOX),)},
    "/lab": {"form": ("aside.lab-form",)},
}


def selectors(page: str, names: tuple[str, ...]) -> list[str]:
    """The selectors the control ``names`` of ``page`` cover (the names were checked by the lesson loader)."""
    table = SELECTORS[page]
    return [sel for name in names for sel in table[name]]


#: page → the buttons that take the view's run back to its start (clicked in turn when a prediction is revealed)
REPLAY: dict[str, tuple[str, ...]] = {"/": (_id(ExplorerIds.TO_START),)}
#: page → the buttons that then play it, unless the student's system asks for reduced motion (the student
#: presses Play)
AUTOPLAY: dict[str, tuple[str, ...]] = {"/": (_id(ExplorerIds.PLAY),)}
