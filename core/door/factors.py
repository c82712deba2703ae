"""Second factors: a person whose access mode (core.gallery.store.ACCESS_MODES) is 'face+pin' or
'face+card' is let in only when their face is granted AND, within the same visit and a few
seconds (DecisionSettings.factor_timeout), their PIN is typed on the screen's keypad or their
card is read. The DoorDecider asks for it and carries it out; this module holds the parts:

- the PIN rule (digits only, MIN_PIN..MAX_PIN of them) and the records kept in the gallery
  (salted scrypt, core.gallery.secret): a PIN and an optional *duress PIN*, which opens the door
  exactly as the PIN does but raises a silent alarm (a ``Duress`` access-log event, sent out as
  MQTT and webhook events); the screen never shows the difference;
- the lockout: ``tries`` wrong PINs or cards in a row lock that person out for
  ``lockout_seconds`` (in memory, on the frames' clock: a restart clears it, and the door
  cannot be restarted from in front of it);
- card readers: a small Protocol any source of card numbers meets (the window's USB HID
  reader, read as key input through KeyboardWedge; the OSDP panel later).
"""

from __future__ import annotations

import hmac
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from core.errors import FaceGateError
from core.gallery.secret import hash_secret, matches

MIN_PIN, MAX_PIN = 4, 8
NEEDS = {"face+pin": "pin", "face+card": "card"}  # the second factor each access mode asks for
PROMPTS = {"pin": "Enter PIN", "card": "Present card"}
#: a keyboard-wedge reader types a whole number in well under this between keys; a person cannot
WEDGE_GAP = 0.08


class AccessError(FaceGateError):
    """An access mode, PIN or duress PIN that cannot be set (nothing was changed)."""


def check_pin(pin: str, what: str = "a PIN") -> str:
    """``pin`` if it is usable on the keypad; AccessError says why not (never repeating it)."""
    if not pin.isdigit() or not pin.isascii():
        raise AccessError(f"{what} is digits only (the door's keypad has no letters)")
    if not MIN_PIN <= len(pin) <= MAX_PIN:
        raise AccessError(f"{what} needs {MIN_PIN} to {MAX_PIN} digits")
    return pin


@dataclass(frozen=True)
class AccessChange:
    """What to store for a person's access: the mode and the hash records (None: none)."""

    access: str
    pin: str | None
    duress_pin: str | None


def access_change(
    access: str, pin: str | None, duress: str | None, current_pin: str | None, current_duress: str | None
) -> AccessChange:
    """The records to store when ``access`` is chosen with a new ``pin`` and ``duress`` PIN
    (None: keep the current record, "" : remove it). A PIN mode needs a PIN; a duress PIN only
    means something where a PIN is asked, and must differ from the PIN."""
    if access not in ("face", *NEEDS):
        raise AccessError(f"access mode {access!r}: choose one of face, {', '.join(NEEDS)}")
    pin_record = current_pin if pin is None else (hash_secret(check_pin(pin)) if pin else None)
    duress_record = current_duress if duress is None else (hash_secret(check_pin(duress, "a duress PIN")) if duress else None)
    if access == "face+pin" and pin_record is None:
        raise AccessError("face+pin needs a PIN (give --pin)")
    if duress and access != "face+pin":
        raise AccessError("a duress PIN is typed where a PIN is asked: it needs the face+pin mode")
    if duress and (pin == duress or (pin is None and matches(current_pin, duress))):
        raise AccessError("the duress PIN must differ from the PIN")
    if access != "face+pin":
        pin_record = duress_record = None  # a mode without a PIN keeps none
    return AccessChange(access, pin_record, duress_record)


def pin_answer(pin_record: str | None, duress_record: str | None, answer: str) -> str:
    """'pin', 'duress' or 'wrong': both records are always checked, so the time taken tells
    nothing of which matched (or whether there is a duress PIN at all)."""
    right = matches(pin_record, answer)
    duress = matches(duress_record, answer)
    return "pin" if right else "duress" if duress else "wrong"


def same_card(expected: str | None, read: str) -> bool:
    """A card read is the person's own card (compared in constant time; no card never matches)."""
    return expected is not None and hmac.compare_digest(expected.strip().encode(), read.strip().encode())


class CardReader(Protocol):
    """Anything that reads cards: it calls each listener with the card number it read (from
    any thread). The window's USB HID reader (KeyboardWedge) and the OSDP panel meet it; the
    DoorDecider listens (DoorDecider.listen_to)."""

    def add_listener(self, callback: Callable[[str], object]) -> None: ...


class KeyboardWedge:
    """A USB HID card reader as a keyboard: it types the card's digits then Enter, faster than
    anyone types (WEDGE_GAP between keys). Fed every key the window sees (``key``); a number
    typed that fast and ended by Enter is a card read, sent to the listeners. Slow typing is
    forgotten: a card number typed by hand is not the card."""

    def __init__(self, clock: Callable[[], float] = time.monotonic, gap: float = WEDGE_GAP) -> None:
        self.clock = clock
        self.gap = gap
        self._listeners: list[Callable[[str], object]] = []
        self._digits = ""
        self._last = 0.0

    def add_listener(self, callback: Callable[[str], object]) -> None:
        self._listeners.append(callback)

    def key(self, text: str) -> bool:
        """One key's text ('\\r' or '\\n' for Enter); True when it completed a card read."""
        now = self.clock()
        if now - self._last > self.gap:
            self._digits = ""
        self._last = now
        if text in ("\r", "\n"):
            number, self._digits = self._digits, ""
            if number:
                for listener in list(self._listeners):
                    listener(number)
                return True
            return False
        self._digits = self._digits + text if text.isdigit() and text.isascii() else ""
        return False


@dataclass
class Lockouts:
    """Wrong PINs or cards in a row per person, and who is locked out until when (frame time)."""

    tries: int = 3
    seconds: float = 60.0
    wrong: dict[int, int] = field(default_factory=dict)
    until: dict[int, float] = field(default_factory=dict)

    def locked(self, person_id: int, now: float) -> float:
        """Seconds ``person_id`` is still locked out for (0: not); never more than a whole lockout
        (a new source whose clock starts again at 0 does not make it last longer)."""
        return max(0.0, min(self.until.get(person_id, 0.0) - now, self.seconds))

    def failed(self, person_id: int, now: float) -> int:
        """One more wrong answer; the tries left before a lockout (0: locked out now)."""
        count = self.wrong.get(person_id, 0) + 1
        if count >= self.tries:
            self.wrong.pop(person_id, None)
            self.until[person_id] = now + self.seconds
            return 0
        self.wrong[person_id] = count
        return self.tries - count

    def passed(self, person_id: int) -> None:
        self.wrong.pop(person_id, None)
