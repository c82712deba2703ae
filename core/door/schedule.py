"""Weekly time windows per person: when an allowed person may be let in.

A person without windows has no time limit (the usual case at a home door); a person with
windows is let in only inside one of them, by the door PC's local clock. A window whose end is
before its start runs overnight into the next day ("Fri 22:00-02:00" covers Saturday 01:00).

    >>> windows = parse_windows("Mon-Fri 08:00-18:00, Sat 10:00-14:00")
    >>> Schedules(store).set(person_id, windows)
    >>> Schedules(store).allows(person_id, datetime.now())   # (False, 'outside Mon-Fri 08:00-18:00, ...')
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlite_utils import Database

    from core.gallery.store import Store

DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
END_OF_DAY = time(23, 59, 59, 999999)

_WINDOW = re.compile(r"^\s*([A-Za-z]{3})(?:\s*-\s*([A-Za-z]{3}))?\s+(\d{1,2}:\d{2})\s*-\s*(\d{1,2}:\d{2})\s*$")


@dataclass(frozen=True)
class Window:
    """One weekly window: a weekday (0 = Monday) and a start and end time of day."""

    day: int
    start: time
    end: time

    def covers(self, when: datetime) -> bool:
        t, day = when.time(), when.weekday()
        if self.start < self.end:
            return day == self.day and self.start <= t < self.end
        # overnight: from start to midnight on `day`, then midnight to end on the next day
        return (day == self.day and t >= self.start) or (day == (self.day + 1) % 7 and t < self.end)

    def __str__(self) -> str:
        return f"{DAYS[self.day]} {_hhmm(self.start)}-{_hhmm(self.end)}"


def _hhmm(t: time) -> str:
    return "24:00" if t == END_OF_DAY else t.strftime("%H:%M")


def _parse_time(text: str, piece: str) -> time:
    hours, minutes = (int(x) for x in text.split(":"))
    if (hours, minutes) == (24, 0):
        return END_OF_DAY
    if not (0 <= hours < 24 and 0 <= minutes < 60):
        raise ValueError(f"{piece!r}: {text} is not a time of day (00:00-24:00)")
    return time(hours, minutes)


def _parse_day(text: str, piece: str) -> int:
    try:
        return [d.lower() for d in DAYS].index(text.lower())
    except ValueError:
        raise ValueError(f"{piece!r}: {text!r} is not a weekday ({', '.join(DAYS)})") from None


def parse_windows(text: str) -> list[Window]:
    """'Mon-Fri 08:00-18:00, Sat 10:00-14:00' -> windows; ValueError names the piece at fault."""
    windows: list[Window] = []
    for piece in (p.strip() for p in re.split(r"[,;\n]", text)):
        if not piece:
            continue
        m = _WINDOW.match(piece)
        if not m:
            raise ValueError(f"{piece!r} is not a time window; write it like 'Mon-Fri 08:00-18:00'")
        first = _parse_day(m.group(1), piece)
        last = _parse_day(m.group(2), piece) if m.group(2) else first
        start, end = _parse_time(m.group(3), piece), _parse_time(m.group(4), piece)
        if start == end:
            raise ValueError(f"{piece!r}: the window is empty (start equals end)")
        day = first
        while True:  # a range may wrap around the week: Sat-Mon
            windows.append(Window(day, start, end))
            if day == last:
                break
            day = (day + 1) % 7
    return windows


def format_windows(windows: list[Window]) -> str:
    return ", ".join(str(w) for w in windows)


def write_windows(db: Database, person_id: int, windows: list[Window]) -> None:
    """Replace the person's windows inside the caller's transaction (a visitor pass saves its
    schedule with it: core.door.passes)."""
    db.execute("DELETE FROM schedules WHERE person_id = ?", (person_id,))
    for w in windows:
        db.execute(
            "INSERT INTO schedules(person_id, day, start, end) VALUES(?,?,?,?)", (person_id, w.day, _hhmm(w.start), _hhmm(w.end))
        )


class Schedules:
    """The schedules table of a gallery Store (writes go through its single connection)."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def windows(self, person_id: int) -> list[Window]:
        rows = self.store.read("SELECT day, start, end FROM schedules WHERE person_id = ? ORDER BY day, start", (person_id,))
        return [Window(day, _parse_time(start, start), _parse_time(end, end)) for day, start, end in rows]

    def set(self, person_id: int, windows: list[Window]) -> None:
        """Replace the person's windows (an empty list removes every time limit)."""
        with self.store.write("saving the schedule") as db:
            write_windows(db, person_id, windows)

    def allows(self, person_id: int, when: datetime | None = None) -> tuple[bool, str]:
        """Whether the person may come in at ``when`` (local time, default now), and why in words."""
        windows = self.windows(person_id)
        if not windows:
            return True, "no time limits"
        when = when or datetime.now()
        for w in windows:
            if w.covers(when):
                return True, f"within {w}"
        return False, f"{DAYS[when.weekday()]} {when:%H:%M} is outside {format_windows(windows)}"
