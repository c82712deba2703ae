"""Visitor passes: a person who may come in only from one moment until another (a contractor for
the week, a guest for the afternoon), then never again.

A pass is checked where the door decides (core.door.decide reads it with the person's standing at
the moment the identifications agree), not only when the gallery syncs: a pass that ends at 17:00
refuses at 17:00 at every door, online or not. After the retention period (the visitors'
``retention_days``) the expired person is deleted with their faces by the retention purge
(core.door.retention), which writes that to the access log. At a site the pass is the admin's
(facegate.passes, pulled like schedules): a door at a site gives no pass of its own (its pull
would replace it, and its enrollment reaches the other doors without it).

    >>> Passes(store).set(person_id, until=stored_time("2026-12-05T17:00"))
    >>> Passes(store).set(person_id, until, schedule=parse_windows("Mon-Fri 08:00-12:00"))  # per schedule
    >>> Passes(store).refusal(person_id, datetime.now(timezone.utc))  # None, or why not in words
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING

from core.door.schedule import Window, write_windows

if TYPE_CHECKING:
    from core.gallery.store import Store


@dataclass(frozen=True)
class Pass:
    """When a person may come in: from ``valid_from`` (None: already) until ``valid_until`` (UTC ISO)."""

    person_id: int
    valid_until: str
    valid_from: str | None = None

    def refusal(self, at: datetime) -> str | None:
        """Why the pass keeps its holder out at ``at`` (an aware time), None when it lets them in."""
        if at >= _moment(self.valid_until):
            return f"visitor pass expired at {_shown(self.valid_until)}"
        if self.valid_from is not None and at < _moment(self.valid_from):
            return f"visitor pass starts at {_shown(self.valid_from)}"
        return None

    def text(self) -> str:
        start = f"from {_shown(self.valid_from)} " if self.valid_from else ""
        return f"visitor pass {start}until {_shown(self.valid_until)}"


def validate(until: str, since: str | None = None, schedule: list[Window] | None = None) -> None:
    """ValueError when a pass from ``since`` until ``until`` (stored times), on ``schedule``'s
    weekly windows if given, would let nobody in."""
    if schedule is not None and not schedule:
        raise ValueError("a per-schedule visitor pass needs at least one weekly window")
    if since is not None and _moment(since) >= _moment(until):
        raise ValueError(f"a visitor pass must end after it starts ({_shown(since)})")
    if _moment(until) <= datetime.now(timezone.utc):
        raise ValueError(f"the visitor pass would end in the past ({_shown(until)})")


def at_site(store: Store) -> bool:
    """The gallery belongs to a site: its passes are the site admin's (core.site.local writes the key)."""
    return bool(store.read("SELECT 1 FROM meta WHERE key = 'site:door'"))


def _moment(stored: str) -> datetime:
    return datetime.fromisoformat(stored)


def _shown(stored: str) -> str:
    """A stored time on the door PC's clock (what the guard reads on the screen)."""
    return datetime.fromisoformat(stored).astimezone().strftime("%Y-%m-%d %H:%M")


class Passes:
    """The passes table of a gallery Store (one pass per person; writes through its single connection)."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def of(self, person_id: int) -> Pass | None:
        rows = self.store.read("SELECT valid_until, valid_from FROM passes WHERE person_id = ?", (person_id,))
        return Pass(person_id, rows[0][0], rows[0][1]) if rows else None

    def set(self, person_id: int, until: str, since: str | None = None, schedule: list[Window] | None = None) -> Pass:
        """Give the person a pass (stored times: core.door.access_log.stored_time); ValueError
        when it would let nobody in (validate()). ``schedule``: a per-schedule pass, valid only
        inside these weekly windows between its from and until; saved as the person's schedule
        (core.door.schedule, which the door checks beside the pass) in the pass's transaction."""
        validate(until, since, schedule)
        with self.store.write("saving the visitor pass") as db:
            db.execute(
                "INSERT OR REPLACE INTO passes(person_id, valid_from, valid_until) VALUES(?,?,?)", (person_id, since, until)
            )
            if schedule is not None:
                write_windows(db, person_id, schedule)
        return Pass(person_id, until, since)

    def clear(self, person_id: int) -> None:
        """No pass any more: the person is a regular one again."""
        with self.store.write("removing the visitor pass") as db:
            db.execute("DELETE FROM passes WHERE person_id = ?", (person_id,))

    def refusal(self, person_id: int, at: datetime | None = None) -> str | None:
        """Why the person's pass keeps them out now (None: no pass, or a valid one)."""
        held = self.of(person_id)
        return held.refusal(at or datetime.now(timezone.utc)) if held else None

    def ended_before(self, cutoff: str) -> list[Pass]:
        """The passes that ended before ``cutoff`` (stored form): their holders are due for the purge."""
        rows = self.store.read("SELECT person_id, valid_until, valid_from FROM passes WHERE valid_until < ?", (cutoff,))
        return [Pass(*r) for r in rows]
