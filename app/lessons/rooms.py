"""Class rooms: a teacher drives a lesson, students follow it and send their predictions.

A room lives in the deployment's shared key-value store (:mod:`app.hosting.kv`: the job store's
directory on one machine, Redis with ``REDIS_URL``), so every worker and machine serves it:

- ``room:<code>``: the room's state as JSON (lesson, step, the view's step ``k`` and play state,
  whether the step's prediction is revealed, a revision counter), written by the teacher only;
- ``room:<code>:student:<i>``: student slot i (claimed atomically with ``add``; a hash of the
  student's secret), and ``room:<code>:answer:<step>:<i>``: that student's answer to a step;
- ``room-slot:<j>``: one of :data:`MAX_ROOMS` slots a live room holds, which bounds their number.

The code is 8 characters from a 32-letter alphabet (2⁴⁰ codes, drawn with ``secrets``); the teacher
and every student hold a 256-bit secret whose SHA-256 the room keeps, compared in constant time.
Everything expires :data:`ROOM_TTL` after the teacher's last action.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import math
import re
import secrets
import time
from dataclasses import asdict, dataclass, replace
from typing import Any

CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud and typed from a projector
CODE_LENGTH = 8
CODE_PATTERN = re.compile(rf"^[{CODE_ALPHABET}]{{{CODE_LENGTH}}}$")
ROOM_TTL = 4 * 3600.0
MAX_ROOMS = 200
MAX_STUDENTS = 300
MAX_VIEW_STEP = 100_000
ANSWER_INTERVAL = 1.0  # a student's answer to one step changes at most once a second
MAX_ANSWER_BYTES = 200
LESSON_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,47}$")


class RoomError(ValueError):
    """A room request that cannot be served: ``str()`` says why in one line."""


@dataclass(frozen=True)
class Room:
    code: str
    lesson: str
    step: int
    k: int = 0  # the view's step (the scrubber)
    playing: bool = False
    revealed: bool = False
    rev: int = 0
    teacher: str = ""  # SHA-256 (hex) of the teacher's secret
    slot: int = -1  # the room-slot it holds

    def public(self) -> dict[str, Any]:
        """What students may see (no hash, no slot)."""
        return {"code": self.code, "lesson": self.lesson, "step": self.step, "k": self.k,
                "playing": self.playing, "revealed": self.revealed, "rev": self.rev}  # fmt: skip


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8", "replace")).hexdigest()


def _key(code: str) -> str:
    return f"room:{code}"


def valid_code(code: Any) -> str | None:
    """``code`` upper-cased when it is a well-formed room code, else None."""
    if not isinstance(code, str) or len(code) > 16:
        return None
    c = code.strip().upper()
    return c if CODE_PATTERN.match(c) else None


def create_room(kv: Any, lesson: str, step: int) -> tuple[Room, str]:
    """A new room on ``lesson`` at ``step`` and the teacher's secret; RoomError when all rooms are taken."""
    code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
    slot = next((j for j in range(MAX_ROOMS) if kv.add(f"room-slot:{j}", code.encode(), ROOM_TTL)), None)
    if slot is None:
        raise RoomError(f"all {MAX_ROOMS} class rooms are in use; try again later")
    token = secrets.token_urlsafe(32)
    room = Room(code, lesson, int(step), teacher=_digest(token), slot=slot)
    if not kv.add(_key(code), json.dumps(asdict(room)).encode(), ROOM_TTL):  # a code drawn twice (2⁻⁴⁰)
        kv.delete(f"room-slot:{slot}")
        raise RoomError("could not open a room; try again")
    return room, token


def load_room(kv: Any, code: Any) -> Room | None:
    """The room ``code`` names, or None (no such room, or expired)."""
    c = valid_code(code)
    raw = kv.get(_key(c)) if c else None
    if raw is None:
        return None
    try:
        d = json.loads(raw)
        return Room(**{k: d[k] for k in Room.__dataclass_fields__})
    except (ValueError, KeyError, TypeError):
        return None


def is_teacher(room: Room, token: Any) -> bool:
    """Whether ``token`` is the room's teacher secret (constant-time comparison)."""
    return isinstance(token, str) and len(token) <= 100 and hmac.compare_digest(_digest(token), room.teacher)


def drive(kv: Any, code: Any, token: Any, n_steps: int, **changes: Any) -> Room:
    """The room after its teacher's ``changes`` (lesson, step, k, playing, revealed); RoomError for anyone else.

    A new lesson or step starts unrevealed at the view's step 0.  Values are clamped (``step`` to the
    lesson's ``n_steps``); unknown keys are refused."""
    room = load_room(kv, code)
    if room is None:
        raise RoomError("this class room has ended")
    if not is_teacher(room, token):
        raise RoomError("only the teacher's browser can drive this room")
    unknown = set(changes) - {"lesson", "step", "k", "playing", "revealed"}
    if unknown:
        raise RoomError(f"unknown room change {min(unknown)!r}")
    new = room
    if "lesson" in changes:
        lesson = changes["lesson"]
        if not isinstance(lesson, str) or not LESSON_NAME.match(lesson):
            raise RoomError("a room's lesson must be a lesson's name")
        if lesson != room.lesson:
            new = replace(new, lesson=lesson, step=0, k=0, playing=False, revealed=False)
    if "step" in changes:
        step = _whole(changes["step"], 1, max(1, n_steps))
        if step != new.step:
            new = replace(new, step=step, k=0, playing=False, revealed=False)
    if "k" in changes:
        new = replace(new, k=_whole(changes["k"], 0, MAX_VIEW_STEP))
    if "playing" in changes:
        new = replace(new, playing=bool(changes["playing"] is True))
    if "revealed" in changes:
        new = replace(new, revealed=bool(changes["revealed"] is True))
    new = replace(new, rev=room.rev + 1)
    kv.set(_key(room.code), json.dumps(asdict(new)).encode(), ROOM_TTL)
    kv.set(f"room-slot:{room.slot}", room.code.encode(), ROOM_TTL)
    return new


def _whole(v: Any, lo: int, hi: int) -> int:
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
        raise RoomError("a room's step must be a number")
    return int(min(max(int(v), lo), hi))


# --------------------------------------------------------------------------- students


def join(kv: Any, code: Any) -> tuple[int, str]:
    """A student's slot in room ``code`` and their secret; RoomError when the room is gone or full."""
    room = load_room(kv, code)
    if room is None:
        raise RoomError("there is no class room with this code (it may have ended)")
    token = secrets.token_urlsafe(32)
    value = json.dumps({"h": _digest(token)}).encode()
    for i in range(MAX_STUDENTS):
        if kv.add(f"{_key(room.code)}:student:{i}", value, ROOM_TTL):
            return i, token
    raise RoomError(f"this class room is full ({MAX_STUDENTS} students)")


def _student_ok(kv: Any, code: str, slot: Any, token: Any) -> bool:
    if isinstance(slot, bool) or not isinstance(slot, int) or not 0 <= slot < MAX_STUDENTS:
        return False
    raw = kv.get(f"{_key(code)}:student:{slot}")
    if raw is None or not isinstance(token, str) or len(token) > 100:
        return False
    try:
        return hmac.compare_digest(json.loads(raw)["h"], _digest(token))
    except (ValueError, KeyError, TypeError):
        return False


def send_answer(kv: Any, code: Any, slot: Any, token: Any, step: int, answer: Any, now: float | None = None) -> None:
    """Keep a student's (already validated) answer to the room's current step; RoomError when it cannot be."""
    room = load_room(kv, code)
    if room is None:
        raise RoomError("this class room has ended")
    if not _student_ok(kv, room.code, slot, token):
        raise RoomError("this browser has not joined the room; reload the page")
    if step != room.step:
        raise RoomError("the class has moved to another step")
    if room.revealed:
        raise RoomError("the run is already revealed")
    body = json.dumps({"a": answer, "t": time.time() if now is None else now})
    if len(body) > MAX_ANSWER_BYTES:
        raise RoomError("the answer is too long")
    key = f"{_key(room.code)}:answer:{room.step}:{slot}"
    old = kv.get(key)
    if old is not None:
        try:
            elapsed = (time.time() if now is None else now) - float(json.loads(old)["t"])
        except (ValueError, KeyError, TypeError):
            elapsed = ANSWER_INTERVAL
        if elapsed < ANSWER_INTERVAL:
            raise RoomError("one answer a second, please")
    kv.set(key, body.encode(), ROOM_TTL)


def my_answer(kv: Any, room: Room, slot: Any) -> Any:
    """The answer student ``slot`` sent to the room's current step (None if none)."""
    if isinstance(slot, bool) or not isinstance(slot, int) or not 0 <= slot < MAX_STUDENTS:
        return None
    raw = kv.get(f"{_key(room.code)}:answer:{room.step}:{slot}")
    try:
        return json.loads(raw)["a"] if raw is not None else None
    except (ValueError, KeyError, TypeError):
        return None


def answers(kv: Any, room: Room) -> tuple[int, list[Any]]:
    """(students joined, the answers to the current step): reads the slots in order until the first free one."""
    found = []
    joined = 0
    for i in range(MAX_STUDENTS):
        if kv.get(f"{_key(room.code)}:student:{i}") is None:
            break
        joined += 1
        a = my_answer(kv, room, i)
        if a is not None:
            found.append(a)
    return joined, found
