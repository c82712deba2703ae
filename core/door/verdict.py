"""What the door made of a face, in the words the access log, the events and the window use.

A StrEnum, so each member *is* its text ("Granted"): the access log's column, the events' JSON
and every filter that compares strings read the same words as before, while the code names a
verdict instead of retyping it (a misspelt string is a check that silently never matches).
"""

from __future__ import annotations

from enum import StrEnum


class Verdict(StrEnum):
    GRANTED = "Granted"
    DENIED = "Denied"
    DENIED_SCHEDULE = "Denied (schedule)"
    UNKNOWN = "Unknown"
    UNSURE = "Unsure"
    IDENTIFYING = "Identifying"
    CHECKING_LIVENESS = "Checking liveness"
    NO_LIVENESS = "No liveness"
    DOOR_ERROR = "Door error"
    PURGED = "Purged"  # the retention purge: what it removed (core.door.retention)
    MANUAL_UNLOCK = "Manual unlock"
    # a second factor (core.door.factors): asked for, refused, never given, too many wrong
    AWAITING_PIN = "Awaiting PIN"
    AWAITING_CARD = "Awaiting card"
    WRONG_PIN = "Wrong PIN"
    WRONG_CARD = "Wrong card"
    NO_PIN = "No PIN"
    NO_CARD = "No card"
    LOCKED_OUT = "Locked out"
    DURESS = "Duress"  # the silent alarm beside a grant made with the duress PIN: never on the screen
    PANEL_GRANTED = "Panel granted"  # the access panel's own answer to FaceGate's card read (core.door.osdp)
    PANEL_DENIED = "Panel denied"
    VIEW_CHANGED = "View changed"  # the camera's empty view is not its room: covered or moved (core.vision.room)

    @property
    def final(self) -> bool:
        """The visit's verdict will not change: the door let the person in or refused them."""
        return self in (
            Verdict.GRANTED,
            Verdict.DENIED,
            Verdict.DENIED_SCHEDULE,
            Verdict.NO_PIN,
            Verdict.NO_CARD,
            Verdict.LOCKED_OUT,
        )

    def when_left(self) -> Verdict:
        """What a visit that leaves in this state is logged as: still checking liveness means it
        never showed itself alive, still identifying means it was never sure who it was, still
        awaiting a PIN or card means it never gave one."""
        if self is Verdict.AWAITING_PIN:
            return Verdict.NO_PIN
        if self is Verdict.AWAITING_CARD:
            return Verdict.NO_CARD
        if self is Verdict.CHECKING_LIVENESS:
            return Verdict.NO_LIVENESS
        if self is Verdict.IDENTIFYING:
            return Verdict.UNSURE
        return self
