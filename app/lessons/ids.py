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
    # class rooms
    ROOM_PANEL = "room-panel"  # the teacher's room box (start button, or code, QR and answers)
    ROOM_START = "room-start"
    ROOM_TEACHER = "room-teacher-store"  # session storage: {"code", "token"} of the room this browser drives
    ROOM_CODE = "room-code"  # the room's code as shown (assets/room.js: a teacher page has one)
    ROOM_COUNT = "room-count"
    ROOM_TALLY = "room-tally"
    TALLY_KEY = "room-tally-key"  # which answers the tally figure on screen shows
    ROOM_REVEAL = "room-reveal"  # reveal the step's run to the whole class
    ROOM_END = "room-end"
    ROOM_VIEW = "room-view-store"  # {"k", "playing"} of the teacher's view (set by assets/room.js)
    ROOM_TICK = "room-tick"  # the teacher's timer (answers)
    STUDENT_TICK = "room-student-tick"  # a student's timer (following)
    ROOM_STUDENT = "room-student-store"  # session storage: {"code", "slot", "token"} of a student
    ROOM_STATE = "room-state-store"  # the room as a student last saw it (read by assets/room.js)
    ROOM_SEND = "room-send"  # a student's "Send my answer"
    ROOM_STATUS = "room-status"
    ROOM_FOLLOW = "room-follow"  # a student's "Explore on my own" / "Follow again"
    JOIN_CODE = "room-join-code"
    JOIN_GO = "room-join-go"


#: attributes of the view's frame that assets/lesson.js reads
HIDE_ATTR = "data-hide"  # JSON list of element ids to hide inside the view
LOCK_ATTR = "data-lock"  # JSON list of element ids to make inert
VIEW_ATTR = "data-view"  # the step's view link (to tell when the student has changed it)
REPLAY_ATTR = "data-replay"  # JSON list of buttons inside the view clicked in turn when the run is revealed
AUTOPLAY_ATTR = "data-autoplay"  # JSON list of buttons clicked after those, unless motion is to be reduced

#: the player root's attribute holding the ids the script looks up
NAMES_ATTRIBUTE = "data-lesson-names"
#: the player root's attribute naming the lesson and step it shows ("<id>:<k>"; read by assets/room.js)
AT_ATTRIBUTE = "data-lesson-at"
#: every name ``assets/lesson.js`` looks up, under the key it uses
BROWSER_NAMES: dict[str, str] = {
    "frame": Ids.FRAME, "cover": Ids.COVER, "changed": Ids.CHANGED, "reset": Ids.RESET,
    "back": Ids.BACK, "next": Ids.NEXT,
    "roomCode": Ids.ROOM_CODE, "roomView": Ids.ROOM_VIEW, "roomState": Ids.ROOM_STATE, "roomFollow": Ids.ROOM_FOLLOW,
    "hideAttr": HIDE_ATTR, "lockAttr": LOCK_ATTR, "viewAttr": VIEW_ATTR, "replayAttr": REPLAY_ATTR,
    "autoplayAttr": AUTOPLAY_ATTR,
}  # fmt: skip


def names_json() -> str:
    return json.dumps({k: str(v) for k, v in BROWSER_NAMES.items()}, separators=(",", ":"))
