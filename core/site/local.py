"""The door's side of a site in its own SQLite gallery: site ids, the outbox, the cursor, and
applying what was pulled.

Everything here goes through the gallery Store's single writer connection. A pulled batch is
applied in ONE transaction together with the new cursor, so a kill -9 leaves either the whole
batch and its cursor or neither (the batch is pulled again: applying a person's central state
twice changes nothing). The 'site:applying' mark, set and cleared inside that transaction,
keeps the outbox triggers (core.gallery.schema, migration 'site-ids') from queueing what came
from the site.
"""

from __future__ import annotations

import contextlib
import json
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from core.gallery.store import Store, inserted_id, now, pack
from core.records import DESCRIPTOR_DIM

if TYPE_CHECKING:
    from collections.abc import Iterator

    from sqlite_utils import Database

DOOR_KEY = "site:door"
CURSOR_KEY = "site:cursor"
HEARD_KEY = "site:heard"
APPLYING_KEY = "site:applying"
TIMELINE_KEY = "site:timeline"
FIRST_KEY = "site:first"  # a first pull under way: "<cursor it ends at>:<last person applied>"
EPOCH_KEY = "site:epoch"  # the site's epoch this door last synced with (core.site.schema _site_epoch)
CLOCK_KEY = "site:clock_offset"  # this door's clock minus the site server's, in seconds, at the last sync
REREAD_KEY = "site:reread"  # the site was rewound: drop what it no longer has, then read it whole


@dataclass
class PulledSample:
    id: str
    descriptor: np.ndarray = field(repr=False)
    thumbnail: bytes | None = field(default=None, repr=False)
    source: str = ""
    quality: float | None = None
    created: str = ""
    how: str = ""  # its provenance at the site (a photo's camera views stay marked: core.gallery.photo_views)


@dataclass
class PulledPerson:
    """A person as the site has them now (only the samples this door lacks are carried)."""

    id: str
    name: str
    allowed: bool
    notes: str
    created: str
    sample_ids: set[str]  # every sample the site has for them
    threshold: float | None = None  # their own stricter threshold (the admin's), None: the door's
    new_samples: list[PulledSample] = field(default_factory=list)
    schedules: list[tuple[int, str, str]] = field(default_factory=list)
    negatives: list[tuple[str, np.ndarray]] = field(default_factory=list)
    access: str = "face"  # how they open a door, and their PIN records (the admin's, core.door.factors)
    pin: str | None = field(default=None, repr=False)
    duress_pin: str | None = field(default=None, repr=False)
    card: str | None = None  # credential number (the admin's to set)
    valid: tuple[str | None, str] | None = None  # a visitor pass: (from or None, until), UTC ISO


@dataclass
class Batch:
    """One pull: the people whose change seq is past the cursor; those missing from ``people``
    were deleted or may no longer open this door."""

    cursor: int
    changed: list[str]
    people: dict[str, PulledPerson]
    first: str | None = None  # a first pull's resume mark, stored with the batch ("": it is done)


@dataclass
class Applied:
    """What one batch did to the local gallery (what the index must follow)."""

    added_people: int = 0
    updated_people: int = 0
    removed_people: int = 0
    removed_samples: list[int] = field(default_factory=list)
    added_samples: list[tuple[int, np.ndarray]] = field(default_factory=list)
    owners: dict[int, int] = field(default_factory=dict)  # sample id -> person id, added or moved
    names: dict[int, str] = field(default_factory=dict)  # person id -> name, added or updated
    gone: list[int] = field(default_factory=list)  # person ids removed
    negatives_changed: bool = False


class LocalSite:
    """Site bookkeeping of one gallery Store."""

    def __init__(self, store: Store) -> None:
        self.store = store

    # -- membership -----------------------------------------------------------------------------
    def _meta(self, key: str) -> str | None:
        rows = self.store.read("SELECT value FROM meta WHERE key = ?", (key,))
        return rows[0][0] if rows else None

    def door_id(self) -> str | None:
        return self._meta(DOOR_KEY)

    def cursor(self) -> int:
        return int(self._meta(CURSOR_KEY) or 0)

    def first_mark(self) -> tuple[int, str] | None:
        """Where an interrupted first pull stopped: (the cursor it ends at, the last person it
        committed, in the site's id order), None when no first pull is under way."""
        mark = self._meta(FIRST_KEY)
        if not mark:
            return None
        cursor, _, after = mark.partition(":")
        return int(cursor), after

    def heard(self) -> str | None:
        """When this door last heard from its site (UTC ISO time), None if never."""
        return self._meta(HEARD_KEY)

    def timeline(self) -> int:
        """The newest server timeline this door has written to (0: none yet)."""
        return int(self._meta(TIMELINE_KEY) or 0)

    def note_timeline(self, timeline: int) -> None:
        with self.store.write("noting the site's timeline") as db:
            _set(db, TIMELINE_KEY, str(timeline))

    def clock_offset(self) -> float | None:
        """This door's clock minus its site server's at the last sync (seconds), None if never measured."""
        value = self._meta(CLOCK_KEY)
        return float(value) if value is not None else None

    def note_clock_offset(self, seconds: float) -> None:
        with self.store.write("noting the clock against the site's") as db:
            _set(db, CLOCK_KEY, f"{seconds:.1f}")

    def epoch(self) -> str | None:
        return self._meta(EPOCH_KEY)

    def note_epoch(self, epoch: str) -> None:
        with self.store.write("noting the site's epoch") as db:
            _set(db, EPOCH_KEY, epoch)

    def rewound(self, epoch: str | None, timeline: int) -> None:
        """The site's history went back under this door (restored from a backup: a new epoch;
        a standby promoted: a new timeline, and asynchronous replication may have lost the last
        commits): its change log's numbers may start again below this door's cursor, so the
        cursor is no longer a place in it. In one transaction: note the new epoch and timeline,
        and start over - cursor 0 (the next pull reads the whole site, as a first pull) with the
        people the site no longer has to be dropped first (``rereading``)."""
        with self.store.write("starting over after the site was rewound") as db:
            if epoch is not None:
                _set(db, EPOCH_KEY, epoch)
            _set(db, TIMELINE_KEY, str(timeline))
            _set(db, CURSOR_KEY, "0")
            db.execute("DELETE FROM meta WHERE key = ?", (FIRST_KEY,))
            _set(db, REREAD_KEY, "1")

    def rereading(self) -> bool:
        """Whether the people the site no longer has are still to be dropped (``rewound``)."""
        return self._meta(REREAD_KEY) is not None

    def reread_dropped(self) -> None:
        with self.store.write("the site's missing people dropped") as db:
            db.execute("DELETE FROM meta WHERE key = ?", (REREAD_KEY,))

    def site_people(self) -> set[str]:
        """The site ids of the people here that came from the site or were pushed to it (not
        those with samples still waiting in the outbox: the site has not seen them yet)."""
        pending = self.pending_samples()
        waiting = {
            pid
            for pid, sid in self.store.read(
                "SELECT p.site_id, s.site_id FROM people p JOIN samples s ON s.person_id = p.id WHERE p.site_id IS NOT NULL"
            )
            if sid in pending
        }
        return {r[0] for r in self.store.read("SELECT site_id FROM people WHERE site_id IS NOT NULL")} - waiting

    def join(self, door_id: str) -> int:
        """Belong to a site as ``door_id``: give everything already here a site id and queue this
        door's people, samples and access log for the site. How many items were queued."""
        with self.store.write("joining the site") as db:
            _set(db, DOOR_KEY, door_id)
            for table in ("people", "samples", "access_events"):
                for (row_id,) in db.execute(f"SELECT id FROM {table} WHERE site_id IS NULL").fetchall():
                    db.execute(f"UPDATE {table} SET site_id = ? WHERE id = ?", (str(uuid.uuid4()), row_id))
            stamp = now()
            db.execute(
                "INSERT INTO site_outbox(kind, ref, created) SELECT 'sample', site_id, ? FROM samples ORDER BY id", (stamp,)
            )
            db.execute(
                "INSERT INTO site_outbox(kind, ref, created) SELECT 'event', site_id, ? FROM access_events ORDER BY id", (stamp,)
            )
            return db.execute("SELECT count(*) FROM site_outbox").fetchone()[0]

    def leave(self) -> None:
        """Stop being a door of the site: the gallery stays as it is, and works on its own."""
        with self.store.write("leaving the site") as db:
            db.execute("DELETE FROM meta WHERE key LIKE 'site:%'")
            db.execute("DELETE FROM site_outbox")

    def mark_heard(self) -> None:
        with self.store.write("noting contact with the site") as db:
            _set(db, HEARD_KEY, now())

    # -- outbox ---------------------------------------------------------------------------------
    def outbox_size(self) -> int:
        return self.store.read("SELECT count(*) FROM site_outbox")[0][0]

    def outbox(self, kind: str, limit: int) -> list[tuple[int, str]]:
        """(outbox id, ref) of the oldest ``limit`` items of one kind."""
        return [
            tuple(r) for r in self.store.read("SELECT id, ref FROM site_outbox WHERE kind = ? ORDER BY id LIMIT ?", (kind, limit))
        ]

    def done(self, outbox_ids: list[int]) -> None:
        """Forget items the site has committed (a kill before this re-sends them: harmless)."""
        if not outbox_ids:
            return
        with self.store.write("clearing the site outbox") as db:
            db.conn.executemany("DELETE FROM site_outbox WHERE id = ?", [(i,) for i in outbox_ids])

    def queue_withdrawal(self, sample_ids: list[str]) -> None:
        """Queue taking back samples this door proposed (core.site.people.remove_sample, the site
        unreachable): the next push sends them first, before any enrollment, so nothing pushed
        later proposes them again."""
        with self.store.write("queueing a withdrawal for the site") as db:
            stamp = now()
            db.conn.executemany(
                "INSERT INTO site_outbox(kind, ref, created) VALUES('withdraw', ?, ?)", [(ref, stamp) for ref in sample_ids]
            )

    def withdrawals_waiting(self) -> int:
        """How many withdrawals wait for the next push (what an undo tells its operator)."""
        return self.store.read("SELECT count(*) FROM site_outbox WHERE kind = 'withdraw'")[0][0]

    def pending_samples(self) -> set[str]:
        """Samples taken here that the site has not got yet (never dropped by a pull)."""
        return {r[0] for r in self.store.read("SELECT ref FROM site_outbox WHERE kind = 'sample'")}

    def local_sample_ids(self, person_ids: list[str]) -> set[str]:
        if not person_ids:
            return set()
        marks = ",".join("?" * len(person_ids))
        return {
            r[0]
            for r in self.store.read(
                f"SELECT s.site_id FROM samples s JOIN people p ON p.id = s.person_id WHERE p.site_id IN ({marks})", person_ids
            )
        }

    # -- applying a pull ------------------------------------------------------------------------
    def apply(self, batch: Batch) -> Applied:
        """Make the local people in ``batch.changed`` what the site says, and move the cursor,
        in one transaction."""
        done = Applied()
        pending = self.pending_samples()
        with self.store.write("applying changes from the site") as db:
            _set(db, APPLYING_KEY, "1")
            fresh = _fresh(db, batch)
            if fresh:
                _insert_fresh(db, [batch.people[pid] for pid in fresh], done)
            for site_id in batch.changed:
                if site_id in fresh:
                    continue
                person = batch.people.get(site_id)
                row = db.execute("SELECT id FROM people WHERE site_id = ?", (site_id,)).fetchone()
                if person is None:
                    if row is not None:
                        done.removed_samples += [
                            r[0] for r in db.execute("SELECT id FROM samples WHERE person_id = ?", (row[0],))
                        ]
                        db.execute("DELETE FROM samples WHERE person_id = ?", (row[0],))
                        db.execute("DELETE FROM people WHERE id = ?", (row[0],))
                        done.removed_people += 1
                        done.gone.append(row[0])
                    continue
                local_id = self._upsert_person(db, row[0] if row else None, person, done)
                if row is None:
                    done.added_people += 1
                else:
                    done.updated_people += 1
                self._samples(db, local_id, person, pending, done)
                db.execute("DELETE FROM schedules WHERE person_id = ?", (local_id,))
                db.conn.executemany(
                    "INSERT INTO schedules(person_id, day, start, end) VALUES(?,?,?,?)",
                    [(local_id, day, start, end) for day, start, end in person.schedules],
                )
                db.execute("DELETE FROM passes WHERE person_id = ?", (local_id,))
                if person.valid is not None:
                    db.execute("INSERT INTO passes(person_id, valid_from, valid_until) VALUES(?,?,?)", (local_id, *person.valid))
                keep = {nid for nid, _ in person.negatives}
                for neg_id, site_neg in db.execute(
                    "SELECT id, site_id FROM negatives WHERE person_id = ? AND site_id IS NOT NULL", (local_id,)
                ).fetchall():
                    if site_neg not in keep:
                        db.execute("DELETE FROM negatives WHERE id = ?", (neg_id,))
                        done.negatives_changed = True
                for nid, vec in person.negatives:
                    done.negatives_changed |= (
                        db.execute(
                            "INSERT OR IGNORE INTO negatives(person_id, descriptor, created, site_id) VALUES(?,?,?,?)",
                            (local_id, pack(vec), now(), nid),
                        ).rowcount
                        > 0
                    )
            _set(db, CURSOR_KEY, str(batch.cursor))
            if batch.first:
                _set(db, FIRST_KEY, batch.first)
            elif batch.first is not None:
                db.execute("DELETE FROM meta WHERE key = ?", (FIRST_KEY,))
            _set(db, HEARD_KEY, now())
            db.execute("DELETE FROM meta WHERE key = ?", (APPLYING_KEY,))
        return done

    def _upsert_person(self, db: Database, local_id: int | None, person: PulledPerson, done: Applied) -> int:
        holder = db.execute(
            "SELECT id FROM people WHERE name = ? AND (site_id IS NOT ? OR site_id IS NULL)", (person.name, person.id)
        ).fetchone()
        if holder is not None and holder[0] != local_id:
            # another local person holds the name for now (a rename still on its way here, or an
            # enrollment of this door the site has named apart): set it aside until its own change comes
            db.execute("UPDATE people SET name = name || ' ~' || substr(coalesce(site_id, id), 1, 8) WHERE id = ?", (holder[0],))
            done.names[holder[0]] = db.execute("SELECT name FROM people WHERE id = ?", (holder[0],)).fetchone()[0]
        if person.card is not None:  # the site's word on who holds a card wins over this door's
            db.execute("UPDATE people SET card = NULL WHERE card = ? AND site_id IS NOT ?", (person.card, person.id))
        if local_id is None:
            cur = db.execute(
                "INSERT INTO people(name, allowed, notes, created, site_id, card, threshold, access, pin, duress_pin) "
                "VALUES(?,?,?,?,?,?,?,?,?,?)",
                (
                    person.name,
                    int(person.allowed),
                    person.notes,
                    person.created,
                    person.id,
                    person.card,
                    person.threshold,
                    person.access,
                    person.pin,
                    person.duress_pin,
                ),
            )
            done.names[inserted_id(cur)] = person.name
            return inserted_id(cur)
        done.names[local_id] = person.name
        values = (
            person.name,
            int(person.allowed),
            person.notes,
            person.card,
            person.threshold,
            person.access,
            person.pin,
            person.duress_pin,
        )
        db.execute(
            "UPDATE people SET name = ?, allowed = ?, notes = ?, card = ?, threshold = ?, access = ?, pin = ?, duress_pin = ? "
            "WHERE id = ? AND (name IS NOT ? OR allowed IS NOT ? OR notes IS NOT ? OR card IS NOT ? OR threshold IS NOT ? "
            "OR access IS NOT ? OR pin IS NOT ? OR duress_pin IS NOT ?)",
            (*values, local_id, *values),
        )
        return local_id

    def _samples(self, db: Database, local_id: int, person: PulledPerson, pending: set[str], done: Applied) -> None:
        for sample_id, site_id in db.execute("SELECT id, site_id FROM samples WHERE person_id = ?", (local_id,)).fetchall():
            if site_id not in person.sample_ids and site_id not in pending:
                db.execute("DELETE FROM samples WHERE id = ?", (sample_id,))
                done.removed_samples.append(sample_id)
        for s in person.new_samples:
            # a sample the site moved from another person (a merge): same vector, new owner
            moved = db.execute("SELECT id FROM samples WHERE site_id = ?", (s.id,)).fetchone()
            if moved is not None:
                db.execute("UPDATE samples SET person_id = ? WHERE id = ?", (local_id, moved[0]))
                done.owners[moved[0]] = local_id
                continue
            cur = db.execute(
                "INSERT OR IGNORE INTO samples(person_id, descriptor, thumbnail, source, quality, created, "
                "site_id, how) VALUES(?,?,?,?,?,?,?,?)",
                (local_id, pack(s.descriptor), s.thumbnail, s.source, s.quality, s.created, s.id, s.how),
            )
            if cur.rowcount:
                done.added_samples.append((inserted_id(cur), np.asarray(s.descriptor, np.float32)))
                done.owners[inserted_id(cur)] = local_id


def _json(values: list) -> str:
    return json.dumps(values)


def _fresh(db: Database, batch: Batch) -> set[str]:
    """The people of ``batch`` this door has nothing of yet: no local row, no local holder of
    their name or card, none of their samples here (nor among the batch's other fresh people).
    They can be inserted in bulk (_insert_fresh); everyone else goes person by person."""
    new = [p for pid in batch.changed if (p := batch.people.get(pid)) is not None]
    if not new:
        return set()
    ids = [p.id for p in new]
    taken = {r[0] for r in db.execute(_IN.format("site_id", "people", "site_id"), (_json(ids),))}
    names = {r[0].casefold() for r in db.execute(_IN.format("name", "people", "name"), (_json([p.name for p in new]),))}
    cards = [p.card for p in new if p.card is not None]
    held = {r[0] for r in db.execute(_IN.format("card", "people", "card"), (_json(cards),))} if cards else set()
    sample_ids = [s.id for p in new for s in p.new_samples]
    here = {r[0] for r in db.execute(_IN.format("site_id", "samples", "site_id"), (_json(sample_ids),))} if sample_ids else set()
    fresh: set[str] = set()
    seen_names: set[str] = set()
    seen_cards: set[str] = set()
    for p in new:
        name = p.name.casefold()
        if (
            p.id in taken
            or name in names
            or name in seen_names
            or p.card in held
            or (p.card is not None and p.card in seen_cards)
            or any(s.id in here for s in p.new_samples)
        ):
            continue
        fresh.add(p.id)
        seen_names.add(name)
        if p.card is not None:
            seen_cards.add(p.card)
    return fresh


#: rows of one table whose column is among a JSON list (one bound parameter, however many values)
_IN = "SELECT {0} FROM {1} WHERE {2} IN (SELECT value FROM json_each(?))"


def _insert_fresh(db: Database, people: list[PulledPerson], done: Applied) -> None:
    """People new to this door, with their samples, schedules, passes and marks, a statement
    per table (executemany): what the person-by-person path would write for them. Descriptors
    are checked as pack() checks one, over the whole batch at once."""
    conn = db.conn
    samples = [(p, s) for p in people for s in p.new_samples]
    vectors = _descriptors([s.descriptor for _, s in samples]) if samples else np.empty((0, DESCRIPTOR_DIM), np.float32)
    with _insert_triggers_off(db, len(people), len(samples)):
        ids = _insert_rows(
            db,
            "people",
            "INSERT INTO people(name, allowed, notes, created, site_id, card, threshold, access, pin, duress_pin) "
            "VALUES(?,?,?,?,?,?,?,?,?,?)",
            [
                (p.name, int(p.allowed), p.notes, p.created, p.id, p.card, p.threshold, p.access, p.pin, p.duress_pin)
                for p in people
            ],
        )
        local = dict(zip([p.id for p in people], ids, strict=True))
        sample_ids = _insert_rows(
            db,
            "samples",
            "INSERT INTO samples(person_id, descriptor, thumbnail, source, quality, created, site_id, how) VALUES(?,?,?,?,?,?,?,?)",
            [
                (local[p.id], vec.tobytes(), s.thumbnail, s.source, s.quality, s.created, s.id, s.how)
                for (p, s), vec in zip(samples, vectors, strict=True)
            ],
        )
    done.names.update(zip(ids, [p.name for p in people], strict=True))
    done.added_people += len(people)
    done.added_samples += list(zip(sample_ids, vectors, strict=True))
    done.owners.update(zip(sample_ids, [local[p.id] for p, _ in samples], strict=True))
    conn.executemany(
        "INSERT INTO schedules(person_id, day, start, end) VALUES(?,?,?,?)",
        [(local[p.id], day, start, end) for p in people for day, start, end in p.schedules],
    )
    conn.executemany(
        "INSERT INTO passes(person_id, valid_from, valid_until) VALUES(?,?,?)",
        [(local[p.id], *p.valid) for p in people if p.valid is not None],
    )
    negatives = [(local[p.id], nid, vec) for p in people for nid, vec in p.negatives]
    if negatives:
        stamp = now()
        marks = _descriptors([vec for _, _, vec in negatives])
        before = conn.total_changes
        conn.executemany(
            "INSERT OR IGNORE INTO negatives(person_id, descriptor, created, site_id) VALUES(?,?,?,?)",
            [(owner, vec.tobytes(), stamp, nid) for (owner, nid, _), vec in zip(negatives, marks, strict=True)],
        )
        done.negatives_changed |= conn.total_changes > before


def _insert_rows(db: Database, table: str, sql: str, rows: list[tuple]) -> list[int]:
    """Insert ``rows`` into an AUTOINCREMENT table with one executemany; their ids, in order.
    Inside one transaction of the only writer the ids are consecutive after the table's
    sequence (checked), so they are not read back by a query over the rows' site ids."""
    before = _sequence(db, table)
    db.conn.executemany(sql, rows)
    after = _sequence(db, table)
    if after - before != len(rows):
        raise RuntimeError(f"{table}: {len(rows)} rows inserted, but the id sequence moved by {after - before}")
    return list(range(before + 1, after + 1))


def _sequence(db: Database, table: str) -> int:
    row = db.conn.execute("SELECT seq FROM sqlite_sequence WHERE name = ?", (table,)).fetchone()
    return int(row[0]) if row else 0


#: The insert triggers of people and samples (core.gallery.schema) and, for a row pulled from the
#: site, all each does: bump a counter by one (the other two set a site id, which a pulled row has).
_INSERT_TRIGGERS = {
    "samples_generation_insert": ("samples", "samples_generation"),
    "gallery_generation_people_insert": ("people", "gallery_generation"),
    "gallery_generation_samples_insert": ("samples", "gallery_generation"),
    "site_person_id": ("people", None),
    "site_sample_id": ("samples", None),
}


@contextlib.contextmanager
def _insert_triggers_off(db: Database, people: int, samples: int) -> Iterator[None]:
    """Pulled people and samples inserted without their per-row insert triggers (about 40 % of
    the inserts' time: bench/site_bench.py, docs/sites.md), and the counters then moved by what
    the triggers would have moved them. The triggers are dropped and created again from their
    own SQL inside the batch's transaction: no other connection ever sees them missing, and a
    failure rolls the drop back with the rest. An insert trigger this does not know (a later
    migration's) leaves every trigger in place."""
    triggers = db.conn.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name IN ('people', 'samples') "
        "AND sql LIKE '% INSERT ON %'"
    ).fetchall()
    if {name for name, _ in triggers} != set(_INSERT_TRIGGERS):
        yield
        return
    for known in _INSERT_TRIGGERS:  # the same names, checked just above
        db.conn.execute(f"DROP TRIGGER {known}")
    yield
    for name, sql in triggers:
        db.conn.execute(sql)
        table, counter = _INSERT_TRIGGERS[name]
        if counter is not None:
            db.conn.execute(
                "UPDATE meta SET value = CAST(value AS INTEGER) + ? WHERE key = ?",
                (people if table == "people" else samples, counter),
            )


def _descriptors(vectors: list[np.ndarray]) -> np.ndarray:
    """The rows pack() would store, checked all at once (a descriptor of the wrong size or with a
    non-finite number refuses the whole batch, as pack() refuses one)."""
    try:
        mat = np.stack([np.asarray(v, np.float32).reshape(-1) for v in vectors])
    except ValueError:
        raise ValueError(f"a descriptor must be {DESCRIPTOR_DIM} finite numbers") from None
    if mat.shape[1] != DESCRIPTOR_DIM or not np.isfinite(mat).all():
        raise ValueError(f"a descriptor must be {DESCRIPTOR_DIM} finite numbers")
    return mat


def _set(db: Database, key: str, value: str) -> None:
    db.execute("INSERT INTO meta(key, value) VALUES(?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value", (key, value))
