"""The access log's hash chain: each row carries the sha256 of its own content and the hash of the
row before it, so a row edited, inserted or deleted behind FaceGate's back (raw sqlite3, a psql
session) breaks the chain at that row.

What is hashed is the decision as it was made, in a form both stores read back exactly: the row's
number (the door's own id, ``door_seq`` at the site), its UTC time to the microsecond, name,
verdict, reason, distances (full float precision), runner-up and the door's answer. What FaceGate
itself changes later is left out on purpose: links to a person or visitor (cleared when they are
deleted), "not this person", the site id, and the snapshot and descriptor blobs (the retention
purge clears them).

The retention purge deletes old rows from the front of the log; the purge's own row records the
hash it cut at (``chain cut at <hash>``), so a verify starts from there: a first row following a
hash no purge recorded means rows were deleted. The last row's hash is also kept apart
(``meta 'access_log:head'`` on a door) so deleting the newest rows shows too.

A hash chain without a key proves nothing against someone who rewrites the whole chain; at a
site each door's rows are also pushed with their hashes to the central PostgreSQL, where the door
PC cannot change them, and ``facegate site access-log --verify`` walks each door's chain there.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timezone

GENESIS = "0" * 64
#: a door's access_events rows as ChainRows (its columns in ChainRow's order): all of them, and one by id
ROWS_SQL = (
    "SELECT id, time, name, verdict, reason, distance, margin, runner_up, runner_up_distance, door, prev_hash, hash "
    "FROM access_events ORDER BY id"
)
ROW_SQL = ROWS_SQL.replace("ORDER BY id", "WHERE id = ?")
HEAD_KEY = "access_log:head"
_CUT = re.compile(r"chain cut at ([0-9a-f]{64})")


def cut_note(hash_: str) -> str:
    """The words a purge row carries so that a verify may start after the rows it deleted."""
    return f"chain cut at {hash_}"


def canonical_time(when: str | datetime) -> str:
    """A time as both stores give it back: UTC, ISO, microseconds."""
    moment = when if isinstance(when, datetime) else datetime.fromisoformat(when)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).isoformat(timespec="microseconds")


@dataclass(frozen=True)
class ChainRow:
    """One access-log row as the chain sees it (from the door's SQLite or the site's PostgreSQL)."""

    seq: int
    time: str | datetime
    name: str | None
    verdict: str
    reason: str
    distance: float | None
    margin: float | None
    runner_up: str | None
    runner_up_distance: float | None
    door: str
    prev_hash: str | None = None
    hash: str | None = None

    def content_hash(self, prev: str) -> str:
        """sha256 over the canonical encoding of this row and the previous row's hash."""
        numbers = [None if x is None else float(x).hex() for x in (self.distance, self.margin, self.runner_up_distance)]
        body = [
            int(self.seq),
            canonical_time(self.time),
            self.name,
            self.verdict,
            self.reason,
            numbers[0],
            numbers[1],
            self.runner_up,
            numbers[2],
            self.door,
            prev,
        ]
        text = json.dumps(body, ensure_ascii=False, separators=(",", ":"))
        return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class ChainReport:
    """What a walk of the chain found: ``bad`` the first row at fault (None when it holds)."""

    rows: int
    bad: int | None = None
    problem: str = ""
    started_after_cut: bool = False

    @property
    def ok(self) -> bool:
        return self.bad is None

    def text(self) -> str:
        if self.ok:
            start = " (from a retention purge's cut)" if self.started_after_cut else ""
            return f"the access log's chain holds: {self.rows} rows{start}"
        return f"the access log's chain is broken at row #{self.bad}: {self.problem}"


def verify(rows: Iterable[ChainRow], head: str | None = None) -> ChainReport:
    """Walk ``rows`` (in seq order) and report the first one edited, inserted or deleted around.

    ``head``: the hash the newest row must have (a door keeps it apart), None to skip that check."""
    chain = list(rows)
    cuts = {m.group(1) for r in chain for m in _CUT.finditer(r.reason)}
    count = 0
    for i, row in enumerate(chain):
        if row.hash is None or row.prev_hash is None:
            return ChainReport(count, row.seq, "it carries no hash: it was written around the access log")
        if row.content_hash(row.prev_hash) != row.hash:
            return ChainReport(
                count, row.seq, "its content does not match its hash: it was edited, or inserted behind the log's back"
            )
        if i == 0:
            if row.prev_hash != GENESIS and row.prev_hash not in cuts:
                return ChainReport(count, row.seq, "it follows a row no retention purge removed: rows before it were deleted")
        elif row.prev_hash != chain[i - 1].hash:
            following = chain[i + 1] if i + 1 < len(chain) else None
            if following is not None and following.prev_hash == chain[i - 1].hash:
                return ChainReport(count, row.seq, f"it was inserted between rows #{chain[i - 1].seq} and #{following.seq}")
            return ChainReport(count, row.seq, f"the row before it (after #{chain[i - 1].seq}) was deleted")
        count += 1
    if head is not None and (chain[-1].hash if chain else GENESIS) != head:
        last = chain[-1].seq if chain else 0
        return ChainReport(count, last, "the newest rows after it were deleted, or it was added behind the log's back")
    return ChainReport(count, started_after_cut=bool(chain) and chain[0].prev_hash != GENESIS)
