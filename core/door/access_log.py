"""The access log: every door decision with who, how far, why, and a face snapshot.

Events live in the gallery's SQLite file (table access_events) and are written through the
gallery Store's single connection. The name is stored as it was at the time, so deleting a
person keeps their history. An event also keeps the face's descriptor, which is what
"not this person" needs: it marks that face as NOT the person it was matched to, and matching
then skips that person for faces nearer the mark than to the person's own samples
(core.gallery.match.drop_rejected).

Times are stored in UTC (ISO text, which sorts as time does). People think in the door PC's
clock: stored_time() is the one rule that turns a day or a time they give into the stored form
("since 2026-03-01" means from that day's local midnight), used alike by the Access log page and
``facegate access-log --since``; local_time() shows a stored time on that clock.

The CSV export has one row per event, a fixed set of columns (CSV_COLUMNS) and round-trips:
read_csv() gives back the same events (without the snapshot and descriptor blobs). An unknown
face carries the id of the visitor it was grouped into (core.door.visitors), in the CSV too. Text cells
that a spreadsheet would run as a formula (=, +, -, @) are written with a leading apostrophe,
which read_csv() removes again.
"""

from __future__ import annotations

import csv
import io
import logging
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from core.door.verdict import Verdict
from core.errors import StoreError
from core.gallery.chain import GENESIS, HEAD_KEY, ROW_SQL, ROWS_SQL, ChainReport, ChainRow, cut_note, verify
from core.gallery.store import inserted_id, now, pack, unpack

if TYPE_CHECKING:
    from _typeshed import SupportsWrite

    from core.gallery.api import Gallery
    from core.gallery.store import Store

CSV_COLUMNS = (
    "id",
    "time",
    "track",
    "person",
    "visitor",
    "verdict",
    "reason",
    "distance",
    "margin",
    "runner_up",
    "runner_up_distance",
    "door",
    "not_this_person",
    "snapshot",
)
_FIELDS = (
    "id",
    "time",
    "track",
    "person_id",
    "name",
    "verdict",
    "reason",
    "distance",
    "margin",
    "runner_up",
    "runner_up_distance",
    "door",
    "not_this_person",
    "visitor_id",
)
log = logging.getLogger("facegate.door")  # every decision also goes to the log file (core.logs)
_CSV_BEFORE_VISITORS = tuple(c for c in CSV_COLUMNS if c != "visitor")  # exports made before visitors were grouped
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "'")


def stored_time(when: date | datetime | str) -> str:
    """The stored form (UTC, ISO, milliseconds) of a moment on the door PC's clock.

    A date means that day's local midnight; a time without a UTC offset is local time; a time
    with one (``...+01:00``, ``...Z``) is that moment. Text is read as ISO 8601; ValueError
    says what could not be read."""
    if isinstance(when, str):
        text = when.strip()
        try:
            when = datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith(("Z", "z")) else text)
        except ValueError:
            raise ValueError(f"{text!r} is not a date or time (like 2026-03-01 or 2026-03-01T08:00)") from None
    if not isinstance(when, datetime):
        when = datetime(when.year, when.month, when.day)
    return when.astimezone(timezone.utc).isoformat(timespec="milliseconds")


def local_time(stored: str) -> str:
    """A stored time as the door PC's clock shows it: 'YYYY-MM-DD HH:MM:SS'."""
    return datetime.fromisoformat(stored).astimezone().strftime("%Y-%m-%d %H:%M:%S")


@dataclass
class AccessEvent:
    """One decision at the door. ``name`` None means an unknown visitor."""

    verdict: str
    name: str | None = None
    person_id: int | None = None
    reason: str = ""
    distance: float | None = None
    margin: float | None = None
    runner_up: str | None = None
    runner_up_distance: float | None = None
    door: str = ""
    track: int | None = None
    time: str = field(default_factory=now)
    id: int | None = None
    not_this_person: bool = False
    has_snapshot: bool = False
    visitor_id: int | None = None  # the unknown visitor this face was grouped into (core.door.visitors)
    descriptor: np.ndarray | None = field(default=None, repr=False, compare=False)
    snapshot: bytes | None = field(default=None, repr=False, compare=False)

    @property
    def who(self) -> str:
        """Whom the event is about, in words: the person, the unknown visitor, or nobody at all
        for the app's own rows (started, stopped, a test unlock), which come from no face."""
        if self.name:
            return self.name
        if self.visitor_id:
            return f"unknown visitor #{self.visitor_id}"
        face = self.track is not None or self.distance is not None or self.has_snapshot or self.snapshot is not None
        return "unknown visitor" if face else ""


class EventRecorder(Protocol):
    """Where a DoorDecider writes its decisions: the AccessLog, or a replay's log kept in memory."""

    def record(self, event: AccessEvent) -> int: ...


class AccessLog:
    """Record, query, export and correct access events of one gallery Store."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def record(self, event: AccessEvent) -> int:
        """Store the event (one transaction, chained to the row before it: core.gallery.chain);
        returns its id and sets ``event.id``. A person removed between the decision and its writing
        (a site's deletion arriving) is logged by name with no person id, as their older rows are."""
        descriptor = pack(event.descriptor) if event.descriptor is not None else None
        with self.store.write("logging an access event") as db:
            cur = db.execute(
                "INSERT INTO access_events(time, track, person_id, name, verdict, reason, distance, margin, "
                "runner_up, runner_up_distance, door, not_this_person, descriptor, snapshot, visitor_id) "
                "VALUES(?,?,(SELECT id FROM people WHERE id = ?),?,?,?,?,?,?,?,?,?,?,?,?)",
                (
                    event.time,
                    event.track,
                    event.person_id,
                    event.name,
                    event.verdict,
                    event.reason,
                    event.distance,
                    event.margin,
                    event.runner_up,
                    event.runner_up_distance,
                    event.door,
                    int(event.not_this_person),
                    descriptor,
                    event.snapshot,
                    event.visitor_id,
                ),
            )
            event.id = inserted_id(cur)
            head = db.execute("SELECT value FROM meta WHERE key = ?", (HEAD_KEY,)).fetchone()
            prev = head[0] if head else GENESIS
            stored = db.execute(ROW_SQL, (event.id,)).fetchone()
            digest = ChainRow(*stored).content_hash(prev)  # from the row as stored: what a verify reads back
            db.execute("UPDATE access_events SET prev_hash = ?, hash = ? WHERE id = ?", (prev, digest, event.id))
            db.execute("INSERT OR REPLACE INTO meta(key, value) VALUES(?, ?)", (HEAD_KEY, digest))
        event.has_snapshot = event.snapshot is not None
        log.info(
            "event %d: %s%s (%s)%s%s",
            event.id,
            event.verdict,
            f" {event.who}" if event.who else "",
            event.reason,
            "" if event.distance is None else f", distance {event.distance:.3f}",
            f", door {event.door}" if event.door else "",
        )
        return event.id

    def verify(self) -> ChainReport:
        """Walk the hash chain from the oldest row kept: the first row edited, inserted or deleted
        behind FaceGate's back (core.gallery.chain)."""
        rows = self.store.read(ROWS_SQL)
        head = self.store.read("SELECT value FROM meta WHERE key = ?", (HEAD_KEY,))
        return verify((ChainRow(*r) for r in rows), head[0][0] if head else GENESIS)

    def purge_before(self, cutoff: str | None, why: str) -> int:
        """Delete the rows older than ``cutoff`` (stored form; None deletes none) from the front
        of the log and log the purge itself - ``why`` (what else the retention removed) and the
        hash the chain was cut at - in one transaction; how many rows went. A kept row never
        precedes a deleted one: the cut is at the first row not older than ``cutoff``."""
        gone = 0
        with self.store.write("deleting old access-log rows") as db:
            if cutoff is not None:
                first_kept = db.execute("SELECT min(id) FROM access_events WHERE time >= ?", (cutoff,)).fetchone()[0]
                if first_kept is None:
                    first_kept = 1 + (db.execute("SELECT max(id) FROM access_events").fetchone()[0] or 0)
                gone, last = db.execute("SELECT count(*), max(id) FROM access_events WHERE id < ?", (first_kept,)).fetchone()
            if gone:
                (cut,) = db.execute("SELECT hash FROM access_events WHERE id = ?", (last,)).fetchone()
                db.execute("DELETE FROM access_events WHERE id < ?", (first_kept,))
                why = f"{why}{'; ' if why else ''}{gone} access-log rows up to #{last} ({cut_note(cut or GENESIS)})"
            if why:
                self.record(AccessEvent(Verdict.PURGED, reason=f"retention: removed {why}"))
        return gone

    def events(
        self,
        since: str | None = None,
        until: str | None = None,
        person: str | None = None,
        verdict: str | None = None,
        unknown: bool = False,
        limit: int | None = 1000,
    ) -> list[AccessEvent]:
        """Events newest first. ``since``/``until``: times in the stored form (stored_time() makes
        one from a local day or time; a UTC date works as is);
        ``person``: name, case-insensitive; ``verdict``: exact; ``unknown``: only unknown visitors."""
        where, params = [], []  # written out, so tests/core/test_private_data.py can see every piece is constant
        if since:
            where.append("time >= ?")
            params.append(since)
        if until:
            where.append("time < ?")
            params.append(until)
        if person:
            where.append("name = ? COLLATE NOCASE")
            params.append(person)
        if verdict:
            where.append("verdict = ?")
            params.append(verdict)
        if unknown:
            where.append("name IS NULL")
        sql = (
            f"SELECT {', '.join(_FIELDS)}, snapshot IS NOT NULL FROM access_events"
            f"{' WHERE ' + ' AND '.join(where) if where else ''} ORDER BY time DESC, id DESC"
        )
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        return [_event(row) for row in self.store.read(sql, params)]

    def event(self, event_id: int, with_blobs: bool = True) -> AccessEvent:
        rows = self.store.read(
            f"SELECT {', '.join(_FIELDS)}, snapshot IS NOT NULL, descriptor, snapshot FROM access_events WHERE id = ?",
            (event_id,),
        )
        if not rows:
            raise StoreError(f"no access event {event_id}")
        event = _event(rows[0][:-2])
        if with_blobs:
            event.descriptor = unpack(rows[0][-2]) if rows[0][-2] is not None else None
            event.snapshot = rows[0][-1]
        return event

    def snapshot(self, event_id: int) -> bytes | None:
        """The event's face snapshot (JPEG bytes), None if it has none."""
        rows = self.store.read("SELECT snapshot FROM access_events WHERE id = ?", (event_id,))
        return rows[0][0] if rows else None

    def export_csv(self, target: str | Path | io.TextIOBase, **filters: Any) -> int:
        """Write the events matching ``filters`` (see events(); all of them by default) as CSV."""
        filters.setdefault("limit", None)
        events = self.events(**filters)
        if isinstance(target, (str, Path)):
            with open(target, "w", newline="", encoding="utf-8") as f:
                _write_csv(f, events)
        else:
            _write_csv(target, events)
        return len(events)

    def not_this_person(self, event_id: int, gallery: Gallery) -> AccessEvent:
        """Mark the event's face as NOT the person it was matched to, so it is never matched to
        them again; the gallery picks the mark up at once. Returns the updated event."""
        event = self.event(event_id)
        if event.person_id is None:
            raise StoreError(f"event {event_id} names no person (an unknown visitor); nothing to undo")
        if event.descriptor is None:
            raise StoreError(f"event {event_id} kept no face descriptor; it cannot be marked")
        with self.store.write(f"marking event {event_id} as not {event.name}") as db:
            db.execute(
                "INSERT INTO negatives(person_id, descriptor, event_id, created) VALUES(?,?,?,?)",
                (event.person_id, pack(event.descriptor), event_id, now()),
            )
            db.execute("UPDATE access_events SET not_this_person = 1 WHERE id = ?", (event_id,))
        gallery.reload_negatives()
        event.not_this_person = True
        return event


def _event(row: tuple) -> AccessEvent:
    (
        id_,
        time,
        track,
        person_id,
        name,
        verdict,
        reason,
        distance,
        margin,
        runner_up,
        runner_up_distance,
        door,
        not_this,
        visitor_id,
        has_snapshot,
    ) = row
    return AccessEvent(
        verdict,
        name,
        person_id,
        reason,
        distance,
        margin,
        runner_up,
        runner_up_distance,
        door,
        track,
        time,
        id_,
        bool(not_this),
        bool(has_snapshot),
        visitor_id,
    )


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float):
        return repr(value)  # the shortest text that reads back as the same float
    text = str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def _write_csv(f: SupportsWrite[str], events: list[AccessEvent]) -> None:
    writer = csv.writer(f)
    writer.writerow(CSV_COLUMNS)
    for e in events:
        writer.writerow(
            [
                _cell(v)
                for v in (
                    e.id,
                    e.time,
                    e.track,
                    e.name,
                    e.visitor_id,
                    e.verdict,
                    e.reason,
                    e.distance,
                    e.margin,
                    e.runner_up,
                    e.runner_up_distance,
                    e.door,
                    e.not_this_person,
                    e.has_snapshot,
                )
            ]
        )


def read_csv(source: str | Path | io.TextIOBase) -> list[AccessEvent]:
    """Events from an export_csv() file (person ids and blobs are not in the CSV)."""
    if isinstance(source, (str, Path)):
        with open(source, newline="", encoding="utf-8") as f:
            return read_csv(f)
    reader = csv.DictReader(source)
    if tuple(reader.fieldnames or ()) not in (CSV_COLUMNS, _CSV_BEFORE_VISITORS):
        raise ValueError(f"not a FaceGate access log export: columns {reader.fieldnames}, expected {list(CSV_COLUMNS)}")

    def text(v: str) -> str | None:
        return None if v == "" else (v[1:] if v.startswith("'") else v)

    def number(v: str) -> float | None:
        return None if v == "" else float(v)

    def whole(v: str) -> int | None:
        return None if v == "" else int(v)

    return [
        AccessEvent(
            verdict=text(r["verdict"]) or "",
            name=text(r["person"]),
            reason=text(r["reason"]) or "",
            distance=number(r["distance"]),
            margin=number(r["margin"]),
            runner_up=text(r["runner_up"]),
            runner_up_distance=number(r["runner_up_distance"]),
            door=text(r["door"]) or "",
            track=whole(r["track"]),
            time=r["time"],
            id=int(r["id"]),
            not_this_person=r["not_this_person"] == "1",
            has_snapshot=r["snapshot"] == "1",
            visitor_id=whole(r.get("visitor", "")),
        )
        for r in reader
    ]
