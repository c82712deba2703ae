"""Two-way sync between a door's gallery and its site.

    >>> report = sync_once(gallery, SiteConfig.load(db))      # once (facegate site sync)
    >>> syncer = SiteSync(gallery, config); syncer.start()    # the window: a thread, for good

One round: push this door's own enrollments and edits, pull the people whose change seq is past
the cursor (revocations arrive before a long access log is sent), then push the access events.
Pulls come in batches, each applied locally in one
transaction with its cursor (core.site.local) and then to the hnswlib index. Every step is
idempotent: pushed rows carry UUIDs the site ignores when it has them already, and an outbox
item is forgotten only after the site committed it; a pulled batch is the site's current state
of those people, so applying it twice changes nothing. A kill -9 or a dropped connection
anywhere loses nothing and duplicates nothing.

SiteSync runs rounds on its own thread: at once when the site NOTIFYs a change (LISTEN), when
the outbox has something, and every ``catch_up_seconds`` anyway. The door never waits for it:
recognition reads the local gallery, and the only shared step is the short local transaction.
"""

from __future__ import annotations

import contextlib
import gc
import json
import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING

import numpy as np

from core.gallery.api import Gallery
from core.gallery.store import unpack
from core.records import DESCRIPTOR_DIM
from core.site.config import (
    SiteConfig,
    SiteError,
    SiteSettings,
    connect,
    first_line,
    one_row,
    server_addresses,
    timeline_of,
    with_servers,
)
from core.site.inbox import index_events
from core.site.local import Applied, Batch, LocalSite, PulledPerson, PulledSample
from core.site.schema import CHANNEL

if TYPE_CHECKING:
    from collections.abc import Iterator

    import psycopg

log = logging.getLogger("facegate.site")
PUSH_BATCH = 500
#: People whose samples a first pull fetches in one COPY (applied ``batch`` at a time): each COPY
#: costs the server a pass through this door's rows (RLS), so few large ones, not one a batch.
COPY_PEOPLE = 10_000
INDEX_SECONDS = 1.0  # an admin PC's round moves doors' events into the search index this long at most
_PERSON_COLUMNS = (
    "id::text, name, allowed, notes, created::text, round(threshold::numeric, 4)::float8, card, access, pin, duress_pin"
)


@dataclass
class SyncReport:
    """What one round moved, for `facegate site sync` and the Site page."""

    pushed_people: int = 0
    pushed_samples: int = 0
    pushed_events: int = 0
    pulled_people: int = 0
    removed_people: int = 0
    added_samples: int = 0
    removed_samples: int = 0
    cursor: int = 0
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)  # refused or dropped items, in words
    proposals: set[int] = field(default_factory=set)  # the site's proposals this round added to
    indexed_events: int = 0  # an admin PC's: doors' events moved into the site's search index
    events_waiting: int = 0  # and those still waiting for it (searchable meanwhile)

    def moved(self) -> bool:
        return any(
            (
                self.pushed_people,
                self.pushed_samples,
                self.pushed_events,
                self.pulled_people,
                self.removed_people,
                self.added_samples,
                self.removed_samples,
                self.notes,
            )
        )

    def add(self, applied: Applied) -> None:
        self.pulled_people += applied.added_people + applied.updated_people
        self.removed_people += applied.removed_people
        self.added_samples += len(applied.added_samples)
        self.removed_samples += len(applied.removed_samples)

    def text(self) -> str:
        parts = [
            f"pushed {self.pushed_people} new people, {self.pushed_samples} samples, {self.pushed_events} events",
            f"pulled {self.pulled_people} people ({self.added_samples} samples in, {self.removed_samples} out), "
            f"removed {self.removed_people}",
            f"cursor {self.cursor}",
            *([f"indexed {self.indexed_events} events ({self.events_waiting} waiting)"] if self.indexed_events else []),
            f"{self.seconds:.2f} s",
        ]
        return "; ".join(parts) + "".join(f"\n  {note}" for note in self.notes)


def open_door_connection(config: SiteConfig) -> psycopg.Connection:
    """This door's login, in autocommit mode: every unit of work is an explicit transaction."""
    return connect(config.url, config.door_login, autocommit=True, application=f"facegate door {config.door}")


# -- pushing ------------------------------------------------------------------------------------
def push_people(gallery: Gallery, conn: psycopg.Connection, config: SiteConfig, report: SyncReport) -> list[str]:
    """Send this door's enrollments and edits; the people the site refused a change of (to be
    pulled back as the site has them)."""
    local = LocalSite(gallery.store)
    refused = _push_withdrawals(conn, local, report)  # first: a withdrawn sample is never proposed again
    _push_samples(gallery, conn, local, config, report)
    return refused + _push_updates(gallery, conn, local, report) + _push_removals(conn, local, report)


def push_events(gallery: Gallery, conn: psycopg.Connection, config: SiteConfig, report: SyncReport) -> None:
    _push_events(gallery, conn, LocalSite(gallery.store), config, report)


def _outbox_batches(gallery: Gallery, local: LocalSite, kind: str, query: str) -> Iterator[tuple[list[int], list[tuple]]]:
    """(outbox ids, rows) of one kind, a batch at a time; ``query`` reads the referenced rows
    ({marks}: the placeholders). The caller calls local.done(ids) once the site has them."""
    while True:
        items = local.outbox(kind, PUSH_BATCH)
        if not items:
            return
        refs = [ref for _, ref in items]
        yield [i for i, _ in items], gallery.store.read(query.format(marks=",".join("?" * len(refs))), refs)


def _push_withdrawals(conn: psycopg.Connection, local: LocalSite, report: SyncReport) -> list[str]:
    """Take back the proposals this door withdrew while the site was unreachable (the site's
    door_withdraw, a sample at a time); the people to pull back: a sample an admin approved
    meanwhile is the site's now, the site refuses, and it comes back here (only an admin can
    remove it)."""
    import psycopg

    refetch = []
    while items := local.outbox("withdraw", PUSH_BATCH):
        for outbox_id, ref in items:
            try:
                with conn.transaction():
                    conn.execute("SELECT facegate.door_withdraw(%s::uuid[])", ([ref],))
            except psycopg.errors.InsufficientPrivilege as exc:
                owner = conn.execute("SELECT person_id::text FROM facegate.samples WHERE id = %s", (ref,)).fetchone()
                refetch += [owner[0]] if owner else []
                report.notes.append(f"a withdrawal was refused ({first_line(exc)}); the sample is back at this door")
            local.done([outbox_id])
    return refetch


def _push_samples(gallery: Gallery, conn: psycopg.Connection, local: LocalSite, config: SiteConfig, report: SyncReport) -> None:
    """This door's new samples, as proposals (the site's door_enroll): they reach other doors
    once an admin approves them."""
    for done, rows in _outbox_batches(
        gallery,
        local,
        "sample",
        "SELECT p.site_id, p.name, p.allowed, s.site_id, s.descriptor, s.thumbnail, s.source, s.quality, s.created, "
        "s.how, s.added_by FROM samples s JOIN people p ON p.id = s.person_id WHERE s.site_id IN ({marks}) ORDER BY s.id",
    ):
        people: dict[str, list] = {}
        for row in rows:
            people.setdefault(row[0], []).append(row)
        with conn.transaction():
            for person_id, samples in people.items():
                vectors = np.concatenate([unpack(s[4]) for s in samples]).astype(np.float32)
                outcome, name, added, proposal = one_row(
                    conn,
                    "SELECT * FROM facegate.door_enroll(%s::uuid, %s::text, %s::boolean, %s::uuid[], %s::real[], %s::bytea[], "
                    "%s::text[], %s::real[], %s::timestamptz[], %s::text[], %s::text)",
                    (
                        person_id,
                        samples[0][1],
                        bool(samples[0][2]),
                        [s[3] for s in samples],
                        vectors.tolist(),
                        [s[5] for s in samples],
                        [s[6] for s in samples],
                        [s[7] for s in samples],
                        [s[8] for s in samples],
                        [s[9] for s in samples],
                        samples[-1][10],
                    ),
                )
                if outcome == "created":
                    report.pushed_people += 1
                    if name != samples[0][1]:
                        report.notes.append(
                            f"{samples[0][1]!r} is already a different person at the site: "
                            f"this door's enrollment is kept apart as {name!r} (an admin can merge them)"
                        )
                if outcome in ("created", "added"):
                    report.pushed_samples += added
                    if proposal is not None:
                        report.proposals.add(proposal)
                elif outcome == "deleted":
                    report.notes.append(
                        f"{len(samples)} sample(s) of {samples[0][1]!r} taken at this door were dropped: "
                        "that person was deleted at the site"
                    )
                else:
                    report.notes.append(
                        f"{len(samples)} sample(s) of {samples[0][1]!r} refused by the site: this door may not add to that person"
                    )
        local.done(done)
    if report.proposals and config.admin_login is None:
        report.notes.append(
            f"proposed to the site: {len(report.proposals)} enrollment(s) from this door; they work "
            "here now and reach other doors once an admin approves them (facegate site proposals)"
        )


def _index_events(config: SiteConfig, report: SyncReport) -> None:
    """On an admin PC: move what doors pushed into the site's search index (core.site.inbox), for
    at most INDEX_SECONDS a round; the sync thread comes back at once while some are waiting."""
    from core.site.admin import SiteAdmin

    if config.admin_login is None:
        return
    with SiteAdmin.from_config(config) as admin:
        done = index_events(admin.conn, seconds=INDEX_SECONDS)
    report.indexed_events, report.events_waiting = done.moved, done.waiting


def _approve_own(config: SiteConfig, report: SyncReport) -> None:
    """On an admin PC its operator is the admin: what it enrolled is approved as it arrives."""
    from core.site.admin import SiteAdmin

    if config.admin_login is None or not report.proposals:
        return
    with SiteAdmin.from_config(config) as admin:
        admin.approve_door(config.door_id)
    report.proposals.clear()


def _push_updates(gallery: Gallery, conn: psycopg.Connection, local: LocalSite, report: SyncReport) -> list[str]:
    """Renames of people this door enrolled (a door never allows or blocks anyone at the site, nor
    changes how anyone opens a door: every edited person is pulled back as the site has them, so
    an admin's block, access mode and PINs win here too)."""
    items = local.outbox("update", PUSH_BATCH)
    refetch = []
    with conn.transaction():
        for _, ref in items:
            rows = gallery.store.read("SELECT name, allowed FROM people WHERE site_id = ?", (ref,))
            if not rows:
                continue
            refetch.append(ref)
            outcome = one_row(
                conn, "SELECT facegate.door_update(%s::uuid, %s::text, %s::boolean)", (ref, rows[0][0], bool(rows[0][1]))
            )[0]
            if outcome != "applied":
                report.notes.append(
                    f"the change of {rows[0][0]!r} was not taken by the site ({outcome}): "
                    "a door may only rename people it enrolled; the site's version is back"
                )
    local.done([i for i, _ in items])
    return refetch


def _push_removals(conn: psycopg.Connection, local: LocalSite, report: SyncReport) -> list[str]:
    """A door never deletes anyone at the site (its role cannot; an admin PC removes people at
    the site itself, core.site.people): whoever the site still has comes back from it."""
    items = local.outbox("remove", PUSH_BATCH)
    local.done([i for i, _ in items])
    return [ref for _, ref in items]


#: A batch of a door's events into the site's inbox as one statement over column arrays, the
#: descriptors as a binary vector[] (%b): a row per statement, even pipelined, ran at about a third
#: of the rate (bench/site_bench.py). The door's hash-chain columns (core.gallery.chain) last; a
#: retried push adds nothing (ON CONFLICT).
EVENTS_INSERT = """
    INSERT INTO facegate.events_inbox(door_id, id, time, person_id, name, verdict, reason, distance, margin, runner_up,
                                      runner_up_distance, answer, descriptor, snapshot, door_seq, prev_hash, hash)
    SELECT %s::uuid, * FROM unnest(%s::uuid[], %s::timestamptz[], %s::uuid[], %s::text[], %s::text[], %s::text[],
                                   %s::float8[], %s::float8[], %s::text[], %s::float8[], %s::text[], %b::vector[],
                                   %s::bytea[], %s::int8[], %s::text[], %s::text[])
    ON CONFLICT (id) DO NOTHING
"""


def _push_events(gallery: Gallery, conn: psycopg.Connection, local: LocalSite, config: SiteConfig, report: SyncReport) -> None:
    keep = conn.execute("SELECT value FROM facegate.site_settings WHERE key = 'keep_snapshots'").fetchone()
    keep_snapshots = bool(keep and keep[0] == "true")
    for done, rows in _outbox_batches(
        gallery,
        local,
        "event",
        "SELECT e.site_id, e.time, p.site_id, e.name, e.verdict, e.reason, e.distance, e.margin, e.runner_up, "
        "e.runner_up_distance, e.door, e.descriptor, e.snapshot, e.id, e.prev_hash, e.hash FROM access_events e "
        "LEFT JOIN people p ON p.id = e.person_id WHERE e.site_id IN ({marks})",
    ):
        if not rows:  # their events were purged here before they were sent
            local.done(done)
            continue
        columns = [list(c) for c in zip(*rows, strict=True)]  # one array per column, one statement per batch
        descriptors = [unpack(d) if d is not None else None for d in columns[11]]
        snapshots = columns[12] if keep_snapshots else [None] * len(rows)
        with conn.transaction():
            conn.execute(EVENTS_INSERT, [config.door_id, *columns[:11], descriptors, snapshots, *columns[13:16]])
        report.pushed_events += len(rows)
        local.done(done)


# -- pulling ------------------------------------------------------------------------------------
def pull_batch(
    conn: psycopg.Connection, local: LocalSite, cursor: int, limit: int, only: list[str] | None = None
) -> Batch | None:
    """The next batch of changed people past ``cursor`` (or exactly ``only``), read in one
    consistent snapshot; None when there is nothing new."""
    with conn.transaction():
        conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        if only is None:
            rows = conn.execute(
                "SELECT seq, person_id::text FROM facegate.changes WHERE seq > %s ORDER BY seq LIMIT %s", (cursor, limit)
            ).fetchall()
            if not rows:
                return None
            cursor, changed = rows[-1][0], [r[1] for r in rows]
        else:
            changed = list(only)
        people = {
            r[0]: _person(r)
            for r in conn.execute(f"SELECT {_PERSON_COLUMNS} FROM facegate.people WHERE id = ANY(%s::uuid[])", (changed,))
        }
        visible = list(people)
        for sample_id, person_id in conn.execute(
            "SELECT id::text, person_id::text FROM facegate.samples WHERE person_id = ANY(%s::uuid[])", (visible,)
        ):
            people[person_id].sample_ids.add(sample_id)
        have = local.local_sample_ids(visible)
        missing = [s for p in people.values() for s in p.sample_ids if s not in have]
        with conn.cursor(binary=True) as cur:
            cur.execute(
                "SELECT id::text, person_id::text, descriptor, thumbnail, source, quality, created, how "
                "FROM facegate.samples WHERE id = ANY(%s::uuid[])",
                (missing,),
            )
            for sid, pid, vec, thumb, source, quality, created, how in cur:
                people[pid].new_samples.append(PulledSample(sid, _vector(vec), thumb, source, quality, _stored(created), how))
        _rules(conn, people, visible)
    return Batch(cursor, changed, people)


def _person(r: tuple) -> PulledPerson:
    return PulledPerson(r[0], r[1], r[2], r[3], r[4], set(), r[5], card=r[6], access=r[7], pin=r[8], duress_pin=r[9])


def _vector(vec: object) -> np.ndarray:
    return np.asarray(vec.to_numpy() if hasattr(vec, "to_numpy") else vec, np.float32)


def _rules(conn: psycopg.Connection, people: dict[str, PulledPerson], ids: list[str] | None) -> None:
    """Schedules, visitor passes and "not this person" marks of ``people``: of the people ``ids``
    only, or (None) of everyone this door may see."""
    where = "WHERE person_id = ANY(%s::uuid[])" if ids is not None else ""
    params: tuple = (ids,) if ids is not None else ()
    for pid, day, start, end in conn.execute(
        f"SELECT person_id::text, day, start_time, end_time FROM facegate.schedules {where} ORDER BY day, start_time", params
    ):
        if pid in people:
            people[pid].schedules.append((day, start, end))
    for pid, since, until in conn.execute(
        f"SELECT person_id::text, valid_from, valid_until FROM facegate.passes {where}", params
    ):
        if pid in people:
            people[pid].valid = (_stored(since) if since else None, _stored(until))
    with conn.cursor(binary=True) as cur:
        cur.execute(f"SELECT id::text, person_id::text, descriptor FROM facegate.negatives {where}", params)
        for nid, pid, vec in cur:
            if pid in people:
                people[pid].negatives.append((nid, _vector(vec)))


@contextlib.contextmanager
def cyclic_gc_off() -> Iterator[None]:
    """Python's cyclic garbage collector off meanwhile (as it was after). A first pull holds a
    person object, a set and lists for each of 100,000s of people: a full collection walks every
    one holding the GIL, and the door's identify on another thread stands still for it (with it
    off, a 100k first sync's longest identify wait fell from 1,035 to 217 ms: bench/site_bench.py).
    What the pull makes is freed by reference counting; it makes no cycles."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def first_pull(
    gallery: Gallery,
    conn: psycopg.Connection,
    report: SyncReport,
    batch: int,
    on_batch: Callable[[Applied], None] | None = None,
) -> None:
    """A new door's first pull: the site's current state in one snapshot, streamed with COPY
    (binary) rather than the change log replayed person by person, ``batch`` people to a local
    transaction (the gallery's lock is held for one batch: an enrollment here waits at most
    that; identification never waits on it: the index's folder is held still meanwhile, and the
    samples are searched exactly in its tail until it folds them in afterwards). RLS decides what the COPYs see, as for any SELECT
    of this door.

    Each batch commits with a resume mark (core.site.local FIRST_KEY): the newest change of the
    snapshot and the last person applied, in the site's id order. A kill -9 mid-way resumes
    after that person in a new snapshot and ends at the first snapshot's cursor, so the usual
    pull then brings what changed meanwhile for the people already here (a revocation too);
    applying a person twice changes nothing, so nobody is lost or doubled (a power cut may undo
    the last few local commits, Store.bulk_writes: they are pulled again the same way). The
    cyclic garbage collector is off meanwhile (cyclic_gc_off)."""
    local = LocalSite(gallery.store)
    mark = local.first_mark()
    # the graph takes the samples up afterwards; the local commits do not wait for the disk meanwhile
    with cyclic_gc_off(), gallery.index.held(), gallery.store.bulk_writes(), conn.transaction():
        conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        newest = one_row(conn, "SELECT coalesce(max(seq), 0) FROM facegate.changes")[0]
        end, after = mark if mark is not None else (newest, "")
        past, past_samples, params = ("WHERE id > %s::uuid", "WHERE person_id > %s::uuid", (after,)) if after else ("", "", ())
        samples = one_row(conn, f"SELECT count(*) FROM facegate.samples {past_samples}", params)[0]
        gallery.index.reserve(samples)  # one resize now, while the index is small, not mid-sync
        everyone = f"COPY (SELECT {_PERSON_COLUMNS} FROM facegate.people {past} ORDER BY id) TO STDOUT (FORMAT BINARY)"
        with conn.cursor() as cur, cur.copy(everyone, params) as copy:
            copy.set_types(["text", "text", "bool", "text", "text", "float8", "text", "text", "text", "text"])
            people = {r[0]: _person(r) for r in copy.rows()}
        order = list(people)  # the site's uuid order
        if mark is None and local.rereading():  # the site was rewound (hello): what it lost goes first
            _drop_missing(gallery, local, set(order), report)
        _rules(conn, people, None)
        have = {r[0] for r in gallery.store.read("SELECT site_id FROM samples WHERE site_id IS NOT NULL")}
        fetched = 0  # the people whose samples are in hand
        for start in range(0, max(len(order), 1), batch):
            ids = order[start : start + batch]
            if ids and start >= fetched:
                chunk = order[start : start + -(-COPY_PEOPLE // batch) * batch]  # whole batches
                _bulk_samples(conn, people, chunk[0], chunk[-1], have)
                fetched = start + len(chunk)
            last = start + batch >= len(order)
            pulled = Batch(end if last else 0, ids, {pid: people.pop(pid) for pid in ids}, "" if last else f"{end}:{ids[-1]}")
            applied = apply_batch(gallery, pulled)
            report.add(applied)
            if on_batch is not None:
                on_batch(applied)


def _drop_missing(gallery: Gallery, local: LocalSite, site: set[str], report: SyncReport) -> None:
    """Drop the people this door has from its site that the site (as this snapshot shows it to
    this door) no longer has: after a restore from an older backup, or a failover that lost
    the last commits, no change-log row will ever say they are gone."""
    gone = sorted(local.site_people() - site)
    if gone:
        report.add(apply_batch(gallery, Batch(0, gone, {})))
        report.notes.append(
            f"the site's server went back in time (restored from a backup, or a standby promoted): {len(gone)} "
            "person(s) it no longer has were dropped here (enrolled or approved after that backup? enroll them "
            "again); everyone else is read from it again"
        )
    local.reread_dropped()


#: A first pull's samples as fixed-width binary COPY rows (every column NOT NULL, ids as their
#: 36-character text), parsed in bulk with numpy rather than row by row; the rare sample with a
#: thumbnail or a source is fetched apart (_extras).
_SAMPLES_COPY = (
    "COPY (SELECT person_id::text, id::text, descriptor, quality IS NULL, coalesce(quality, 0), created, "
    "thumbnail IS NOT NULL OR source <> '' FROM facegate.samples WHERE person_id BETWEEN %s::uuid AND %s::uuid "
    "ORDER BY person_id, id) TO STDOUT (FORMAT BINARY)"
)
_SAMPLE_ROW = np.dtype(
    [
        ("fields", ">i2"),
        ("person_len", ">i4"), ("person", "S36"),
        ("id_len", ">i4"), ("id", "S36"),
        ("vector_len", ">i4"), ("dim", ">i2"), ("unused", ">i2"), ("vector", ">f4", (DESCRIPTOR_DIM,)),
        ("no_quality_len", ">i4"), ("no_quality", "u1"),
        ("quality_len", ">i4"), ("quality", ">f4"),
        ("created_len", ">i4"), ("created", ">i8"),
        ("extra_len", ">i4"), ("extra", "u1"),
    ]
)  # fmt: skip
_COPY_HEADER = b"PGCOPY\n\xff\r\n\x00"
_EXPECTED = {
    "fields": 7,
    "person_len": 36,
    "id_len": 36,
    "vector_len": 4 + 4 * DESCRIPTOR_DIM,
    "dim": DESCRIPTOR_DIM,
    "no_quality_len": 1,
    "quality_len": 4,
    "created_len": 8,
    "extra_len": 1,
}
_POSTGRES_EPOCH = np.datetime64("2000-01-01T00:00:00", "us")


def _bulk_samples(conn: psycopg.Connection, people: dict[str, PulledPerson], first: str, last: str, have: set[str]) -> None:
    """The samples of the people ``first``..``last`` (the site's id order) into their
    PulledPersons: one COPY, parsed in bulk; samples already here are only noted as theirs."""
    with conn.cursor() as cur, cur.copy(_SAMPLES_COPY, (first, last)) as copy:
        data = b"".join(copy)
    rows = _parse_samples(data)
    if not len(rows):
        return
    owners = rows["person"].astype("U36").tolist()
    ids = rows["id"].astype("U36").tolist()
    vectors = rows["vector"].astype(np.float32)
    quality = rows["quality"].astype(np.float64).tolist()
    no_quality = rows["no_quality"].astype(bool).tolist()
    created = np.char.add(
        np.datetime_as_string((_POSTGRES_EPOCH + rows["created"].astype("timedelta64[us]")), unit="ms"), "+00:00"
    )
    created_text = created.tolist()
    extras = _extras(conn, [ids[i] for i in np.flatnonzero(rows["extra"]).tolist()])
    for i, (pid, sid) in enumerate(zip(owners, ids, strict=True)):
        person = people.get(pid)
        if person is None:  # a person this door may not see (RLS hides their samples too)
            continue
        person.sample_ids.add(sid)
        if sid not in have:
            thumb, source, how = extras.get(sid, (None, "", ""))
            person.new_samples.append(
                PulledSample(sid, vectors[i], thumb, source, None if no_quality[i] else quality[i], created_text[i], how)
            )


def _parse_samples(data: bytes) -> np.ndarray:
    """The rows of a binary COPY of _SAMPLES_COPY; anything else (a NULL, another dimension, a
    changed format) is refused with a clear error rather than misread."""
    body = data[len(_COPY_HEADER) + 8 :]
    if not data.startswith(_COPY_HEADER) or data[len(_COPY_HEADER) + 4 : len(_COPY_HEADER) + 8] != b"\0\0\0\0":
        raise SiteError("the site's samples came in an unexpected COPY format (header); nothing of this batch was applied")
    if body[-2:] != b"\xff\xff" or (len(body) - 2) % _SAMPLE_ROW.itemsize:
        raise SiteError("the site's samples came in an unexpected COPY format (row size); nothing of this batch was applied")
    rows = np.frombuffer(body, _SAMPLE_ROW, count=(len(body) - 2) // _SAMPLE_ROW.itemsize)
    for name, value in _EXPECTED.items():
        if not (rows[name] == value).all():
            raise SiteError(f"the site's samples came in an unexpected COPY format ({name}); nothing of this batch was applied")
    return rows


def _extras(conn: psycopg.Connection, ids: list[str]) -> dict[str, tuple[bytes | None, str, str]]:
    """Thumbnails, sources and provenance of the samples ``ids`` (those that have a thumbnail or
    a source: a photo's camera view always has its source, so it stays marked as one)."""
    if not ids:
        return {}
    with conn.cursor(binary=True) as cur:
        cur.execute("SELECT id::text, thumbnail, source, how FROM facegate.samples WHERE id = ANY(%s::uuid[])", (ids,))
        return {sid: (thumb, source, how) for sid, thumb, source, how in cur}


def _stored(moment: datetime) -> str:
    """A site time in the door's stored form (UTC ISO, milliseconds: sorts as text does)."""
    return moment.astimezone(timezone.utc).isoformat(timespec="milliseconds")


def apply_batch(gallery: Gallery, batch: Batch) -> Applied:
    """Apply one batch to the store (one transaction), then to the index and the names. The index
    takes the samples into its flat tail (searchable at once; its folder thread puts them in the
    HNSW graph later) and writes no file: the store is the journal."""
    with gallery._lock:
        applied = LocalSite(gallery.store).apply(batch)
        gallery.index.remove(applied.removed_samples)
        if applied.added_samples:
            gallery.index.add([i for i, _ in applied.added_samples], np.stack([v for _, v in applied.added_samples]))
        gallery.note_changes(applied.owners, applied.removed_samples, applied.names, applied.gone)
        if applied.negatives_changed:
            gallery.reload_negatives()
    return applied


def pull(
    gallery: Gallery,
    conn: psycopg.Connection,
    report: SyncReport,
    settings: SiteSettings,
    refetch: list[str] | None = None,
    on_batch: Callable[[Applied], None] | None = None,
) -> None:
    local = LocalSite(gallery.store)
    again = pull_batch(conn, local, local.cursor(), settings.batch, only=refetch) if refetch else None
    if again is not None:
        applied = apply_batch(gallery, again)
        report.add(applied)
        if applied.added_people:
            report.notes.append(
                f"{applied.added_people} person(s) removed at this door came back from the site: "
                "only the site's admin removes people (on an admin PC: facegate remove NAME)"
            )
    if local.cursor() == 0:
        first_pull(gallery, conn, report, settings.batch, on_batch)
    while True:
        batch = pull_batch(conn, local, local.cursor(), settings.batch)
        if batch is None:
            local.mark_heard()
            report.cursor = local.cursor()
            return
        applied = apply_batch(gallery, batch)
        report.add(applied)
        report.cursor = batch.cursor
        if on_batch is not None:
            on_batch(applied)


def door_clock() -> datetime:
    """This PC's clock (UTC), as the door judges passes and time windows by it."""
    return datetime.now(timezone.utc)


def hello(conn: psycopg.Connection, gallery: Gallery, config: SiteConfig | None = None) -> None:
    """Tell the site this door is alive, with its decision and door settings (for the admin);
    refuse a server on an older timeline than one this door has written to (an old primary that
    came back after its standby was promoted), and learn the site's servers (its standbys)."""
    keys = ("setting:decision", "setting:door")
    settings = {
        k.split(":", 1)[1]: json.loads(v) for k, v in gallery.store.read("SELECT key, value FROM meta WHERE key IN (?, ?)", keys)
    }
    local = LocalSite(gallery.store)
    timeline = timeline_of(conn)
    if timeline < local.timeline():
        raise SiteError(
            f"the writable server is on timeline {timeline}, older than the {local.timeline()} this door "
            "has seen: an old primary back after a failover; refused (it must be rebuilt as a standby)"
        )
    with conn.transaction():
        if one_row(conn, "SELECT facegate.door_hello(%s::jsonb)", (json.dumps(settings),))[0] is None:
            raise SiteError("the site no longer knows this door (it was removed); join it again")
        found: dict[str, str] = dict(
            conn.execute("SELECT key, value FROM facegate.site_settings WHERE key IN ('servers', 'epoch')").fetchall()
        )
        site_now = one_row(conn, "SELECT clock_timestamp()")[0]
    local.note_clock_offset((door_clock() - site_now).total_seconds())  # the offline gate refuses when far off
    epoch, known = found.get("epoch"), local.epoch()
    if (epoch and known and epoch != known) or (local.timeline() and timeline > local.timeline()):
        # restored from a backup, or a standby promoted: the cursor is no longer a place in its change log
        local.rewound(epoch, timeline)
        log.warning("site: its server went back in time (a restore or a failover): this door reads it whole again")
    else:
        if timeline > local.timeline():
            local.note_timeline(timeline)
        if epoch and epoch != known:
            local.note_epoch(epoch)
    servers = [a for a in found.get("servers", "").split(",") if a]
    if config is not None and servers and servers != server_addresses(config.url):
        config.url = with_servers(config.url, servers)
        config.save(gallery.store.path)
        log.info("site: this door now knows the site's servers %s", ", ".join(servers))


def sync_once(
    gallery: Gallery,
    config: SiteConfig,
    conn: psycopg.Connection | None = None,
    settings: SiteSettings | None = None,
    on_batch: Callable[[Applied], None] | None = None,
) -> SyncReport:
    """One full round: hello, push the outbox, pull every change. Raises SiteError when offline."""
    import psycopg

    settings = settings or SiteSettings.load(gallery.store)
    report = SyncReport()
    started = time.perf_counter()
    own = conn is None
    try:
        if own:
            conn = open_door_connection(config)
        assert conn is not None
        hello(conn, gallery, config)
        # enrollments first (a deletion at the site must find them to report them dropped), then
        # the site's changes (revocations before anything long), then the access log, however long
        refetch = push_people(gallery, conn, config, report)
        _approve_own(config, report)
        pull(gallery, conn, report, settings, refetch, on_batch)
        push_events(gallery, conn, config, report)
        _index_events(config, report)
    except psycopg.Error as exc:
        raise SiteError(
            f"the site stopped answering mid-sync ({first_line(exc)}); nothing was lost, the next sync goes on from here"
        ) from None
    finally:
        if own and conn is not None:
            conn.close()
    report.seconds = time.perf_counter() - started
    for note in report.notes:
        log.warning("site sync: %s", note)
    return report


# -- the sync thread ----------------------------------------------------------------------------
@dataclass
class SyncStatus:
    """What the window shows: online or not, the copy's age, the outbox, the last round."""

    online: bool = False
    cursor: int = 0
    outbox: int = 0
    heard: str | None = None
    error: str | None = None
    last: SyncReport | None = None

    def copy_age(self, now: datetime | None = None) -> float | None:
        """Seconds since this door last heard from the site (None: never)."""
        return copy_age(self.heard, now)


def age_text(seconds: float | None) -> str:
    """How old a door's copy is, in words (the CLI's status and the window's status bar)."""
    if seconds is None:
        return "never synced"
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def copy_age(heard: str | None, now: datetime | None = None) -> float | None:
    if not heard:
        return None
    then = datetime.fromisoformat(heard)
    return max(0.0, ((now or datetime.now(timezone.utc)) - then).total_seconds())


class SiteSync:
    """Keeps one gallery in sync with its site on a thread of its own; start(), kick(), stop().

    ``on_change(report)`` is called from the sync thread after a round that moved something,
    ``after_round()`` after every round;
    ``status()`` is safe from any thread. Commands reach the thread through a small bounded
    queue: a full queue means a round is already due, so kick() never blocks.
    """

    def __init__(
        self,
        gallery: Gallery,
        config: SiteConfig,
        settings: SiteSettings | None = None,
        on_change: Callable[[SyncReport], None] | None = None,
        after_round: Callable[[], bool] | None = None,
    ) -> None:
        self.gallery = gallery
        self.config = config
        self.settings = settings or SiteSettings.load(gallery.store)
        self.on_change = on_change
        self.after_round = after_round  # an admin PC's chores (core.station.pass_expiry); True: sync again now
        self._commands: queue.Queue = queue.Queue(maxsize=4)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._status = SyncStatus()
        self._status_lock = threading.Lock()
        self._refresh_status()

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="site-sync", daemon=True)
            self._thread.start()

    def kick(self) -> None:
        """Sync now (the Site page's button, a new access event); never blocks."""
        with contextlib.suppress(queue.Full):
            self._commands.put_nowait("sync")

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self.kick()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def status(self) -> SyncStatus:
        with self._status_lock:
            return SyncStatus(**vars(self._status))

    def _refresh_status(self, **changes: object) -> None:
        local = LocalSite(self.gallery.store)
        try:
            base = {"cursor": local.cursor(), "outbox": local.outbox_size(), "heard": local.heard()}
        except Exception:  # a busy store: keep the last figures
            base = {}
        with self._status_lock:
            for key, value in {**base, **changes}.items():
                setattr(self._status, key, value)

    def _run(self) -> None:
        backoff = 0.5
        while not self._stop.is_set():
            listener = conn = None
            try:
                listener = open_door_connection(self.config)
                listener.execute(f"LISTEN {CHANNEL}")
                conn = open_door_connection(self.config)
                backoff = 0.5
                self._round(conn)
                last = time.monotonic()
                while not self._stop.is_set():
                    due = self._wait(listener, last)
                    if self._stop.is_set():
                        break
                    if due:
                        self._round(conn)
                        last = time.monotonic()
            except SiteError as exc:
                self._offline(str(exc))
            except Exception as exc:  # psycopg errors from the listener, a dropped connection
                self._offline(f"the site stopped answering ({first_line(exc)})")
            finally:
                for c in (listener, conn):
                    if c is not None:
                        with contextlib.suppress(Exception):
                            c.close()
            self._stop.wait(backoff)
            backoff = min(backoff * 2, 1.0)  # a promoted standby is found within a second

    def _offline(self, why: str) -> None:
        was = self._status.online
        self._refresh_status(online=False, error=why)
        if was:
            log.warning("site offline: %s; this door keeps working on its own copy", why)

    def _wait(self, listener: psycopg.Connection, last: float) -> bool:
        """Wait up to ~0.25 s; True when a round is due (a notification, a kick, something to
        push, or the catch-up time)."""
        notified = False
        for _ in listener.notifies(timeout=0.25, stop_after=1):
            notified = True
        try:
            while True:
                self._commands.get_nowait()
                notified = True
        except queue.Empty:
            pass
        if notified or time.monotonic() - last >= self.settings.catch_up_seconds:
            return True
        try:
            return LocalSite(self.gallery.store).outbox_size() > 0
        except Exception:
            return False

    def _round(self, conn: psycopg.Connection) -> None:
        report = sync_once(self.gallery, self.config, conn, self.settings)
        if not self._status.online:
            log.info("site online: %s", self.config.door)
        self._refresh_status(online=True, error=None, last=report)
        if report.moved() and self.on_change is not None:
            self.on_change(report)
        again = self.after_round is not None and self.after_round()
        if again or report.events_waiting:
            self.kick()
