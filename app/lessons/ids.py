"""Component ids of the lesson pages, shared with ``assets/lesson.js``.

The player's root carries :data:`BROWSER_NAMES` as JSON in :data:`NAMES_ATTRIBUTE`; the script reads
every id from there (it has no id literal of its own).
"""

from __future__ import annotations

import json
from enum import StrEnum


class Ids(StrEnum):
    LESSON = "lesson-id-store"  # {"id", "step"}: what the player shows
    POINT = "lesson-point-store"  # [x, y]: the student's click prediction
    PRED_MAP = "lesson-prediction-map"
    PRED_POINT = "lesson-prediction-point"  # says where the student clicked
    CHOICE = "lesson-choice"
    NUMBER = "lesson-number"
    REVEAL = "lesson-reveal"
    VERDICT = "lesson-verdict"
    COVER = "lesson-view-cover"  # covers the view until the prediction is revealed
    FRAME = "lesson-view-frame"
    CHANGED = "lesson-view-changed"  # shown by assets/lesson.js once the view differs from the step's
    RESET = "lesson-view-reset"
    BACK = "lesson-back"
    NEXT = "lesson-next"
    TEXT = "lesson-text"


#: attributes of the view's frame that assets/lesson.js reads
HIDE_ATTR = "data-hide"  # JSON list of element ids to hide inside the view
LOCK_ATTR = "data-lock"  # JSON list of element ids to make inert
VIEW_ATTR = "data-view"  # the step's view link (to tell when the student has changed it)
REPLAY_ATTR = "data-replay"  # JSON list of buttons inside the view clicked in turn when the run is revealed

#: the player root's attribute holding the ids the script looks up
NAMES_ATTRIBUTE = "data-lesson-names"
#: every name ``assets/lesson.js`` looks up, under the key it uses
BROWSER_NAMES: dict[str, str] = {
    "frame": Ids.FRAME, "cover": Ids.COVER, "changed": Ids.CHANGED, "reset": Ids.RESET,
    "back": Ids.BACK, "next": Ids.NEXT,
    "hideAttr": HIDE_ATTR, "lockAttr": LOCK_ATTR, "viewAttr": VIEW_ATTR, "replayAttr": REPLAY_ATTR,
}  # fmt: skip


def names_json() -> str:
    return json.dumps({k: str(v) for k, v in BROWSER_NAMES.items()}, separators=(",", ":"))
