"""The admin lock: a PIN or password, set at first start, that enrolling, deleting, changing
settings and door drivers, and exporting the log ask for. The live view and door decisions never
ask (the door keeps working while the screen is locked).

The secret is kept in the gallery database (it belongs to the door the gallery serves, and a
backup carries it) as a salted scrypt hash (core.gallery.secret): slow and memory-hard, so a copied database does not
give the PIN away by brute force in seconds. Verification compares in constant time. After
FREE_TRIES wrong answers each further one doubles a wait (up to MAX_WAIT) during which every
answer, right or wrong, is refused; the count and the end of the wait are stored in the
database, so restarting FaceGate does not reset them. A right answer clears them.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from core.errors import FaceGateError
from core.gallery.secret import hash_secret, matches

if TYPE_CHECKING:
    from core.gallery.store import Store

SECRET_KEY = "admin.secret"
FAILURES_KEY = "admin.failures"
MIN_LENGTH = 4
FREE_TRIES = 3
FIRST_WAIT = 5.0  # seconds after the first wrong answer beyond the free ones
MAX_WAIT = 15 * 60.0
SESSION_SECONDS = 5 * 60.0


class AdminError(FaceGateError):
    """The admin secret is missing, wrong, too short, or answers are paused."""


class WrongSecret(AdminError):
    pass


class TooManyTries(AdminError):
    """Answers are refused for ``wait`` more seconds."""

    def __init__(self, wait: float) -> None:
        self.wait = wait
        super().__init__(f"too many wrong tries: wait {_duration(wait)} before trying again")


@dataclass
class Failures:
    count: int = 0
    until: float = 0.0  # wall-clock time (time.time) before which answers are refused


class AdminLock:
    """The admin secret of one gallery Store. ``clock`` is wall-clock time (persisted waits
    must survive a restart, which a monotonic clock does not)."""

    def __init__(self, store: Store, clock: Callable[[], float] = time.time) -> None:
        self.store = store
        self.clock = clock

    # -- the secret -----------------------------------------------------------------------------
    def is_set(self) -> bool:
        return bool(self.store.get_setting(SECRET_KEY))

    def set_secret(self, new: str, current: str | None = None) -> None:
        """Set the secret; changing an existing one needs the current one."""
        if self.is_set():
            self.verify(current or "")
        self._write_secret(new)

    def _write_secret(self, new: str) -> None:
        if len(new or "") < MIN_LENGTH:
            raise AdminError(f"the admin PIN or password needs at least {MIN_LENGTH} characters")
        self.store.set_setting(SECRET_KEY, hash_secret(new))

    def verify(self, answer: str) -> None:
        """Return if ``answer`` is right; WrongSecret or TooManyTries otherwise."""
        wait = self.wait_seconds()
        if wait > 0:
            raise TooManyTries(wait)
        record = self.store.get_setting(SECRET_KEY)
        if not record:
            raise AdminError("no admin PIN is set yet")
        if matches(record, answer):
            if self.failures().count:
                self._save(Failures())
            return
        failures = self.failures()
        failures.count += 1
        wait = wait_after(failures.count)
        failures.until = self.clock() + wait
        self._save(failures)
        if wait:
            raise WrongSecret(f"wrong admin PIN; {failures.count} wrong tries: wait {_duration(wait)}")
        left = FREE_TRIES - failures.count
        raise WrongSecret(f"wrong admin PIN ({left} more {'try' if left == 1 else 'tries'} before a wait)")

    # -- waiting after wrong answers --------------------------------------------------------------
    def failures(self) -> Failures:
        try:
            data = json.loads(self.store.get_setting(FAILURES_KEY) or "{}")
            return Failures(int(data.get("count", 0)), float(data.get("until", 0.0)))
        except (ValueError, TypeError, AttributeError):
            return Failures(FREE_TRIES, self.clock() + MAX_WAIT)  # tampered with: assume the worst

    def wait_seconds(self) -> float:
        """Seconds before another answer is heard (0: now). A wait longer than MAX_WAIT means the
        clock was turned back; it is cut to MAX_WAIT rather than locking the operator out."""
        remaining = self.failures().until - self.clock()
        return max(0.0, min(remaining, MAX_WAIT))

    def _save(self, failures: Failures) -> None:
        self.store.set_setting(FAILURES_KEY, json.dumps({"count": failures.count, "until": failures.until}))


class AdminSession:
    """Unlocked for SESSION_SECONDS after a right answer (monotonic clock; a restart locks)."""

    def __init__(self, lock: AdminLock, seconds: float = SESSION_SECONDS, clock: Callable[[], float] = time.monotonic) -> None:
        self.lock = lock
        self.seconds = seconds
        self.clock = clock
        self._until = 0.0

    def unlocked(self) -> bool:
        return self.clock() < self._until

    def unlock(self, answer: str) -> None:
        self.lock.verify(answer)
        self._until = self.clock() + self.seconds

    def choose_secret(self, new: str) -> None:
        """Set the secret: on first start, or to change it while unlocked; stays unlocked."""
        if self.lock.is_set() and not self.unlocked():
            raise AdminError("give the current admin PIN first")
        self.lock._write_secret(new)
        self._until = self.clock() + self.seconds

    def relock(self) -> None:
        self._until = 0.0


def wait_after(count: int) -> float:
    """The wait after ``count`` wrong answers: none for the free tries, then doubling."""
    if count < FREE_TRIES:
        return 0.0
    return min(FIRST_WAIT * 2 ** (count - FREE_TRIES), MAX_WAIT)


def _duration(seconds: float) -> str:
    seconds = int(seconds + 0.999)
    return f"{seconds} s" if seconds < 120 else f"{seconds // 60} min {seconds % 60} s"
