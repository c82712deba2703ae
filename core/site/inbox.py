"""Events into the site's search index, apart from the doors' pushes (schema migration
``events-inbox``).

A door appends its events to ``facegate.events_inbox``, which has no vector index, so a door back
online sends thousands a second; inserting each into the HNSW index as it arrives held pushes to
about 200 a second. The index is filled here instead, by whoever holds the admin login (an admin
PC's sync rounds, ``facegate site sync`` there, the benchmark): ``facegate.index_events`` moves
the oldest inbox rows into ``facegate.events_indexed`` in one transaction per batch, so a kill
mid-batch rolls the batch back whole. Site-wide search reads both (HNSW on the indexed table,
exact on the inbox, in one statement: core.site.search), so an event is findable from the
moment its push commits, before and after its move.

    >>> with SiteAdmin.from_config(config) as admin:
    ...     moved = index_events(admin.conn, seconds=1.0)
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import psycopg

#: Events moved per transaction: each is one HNSW insert (a few ms), so a batch holds its rows'
#: locks for a second or two at most, and a kill loses the work of one batch.
MOVE_BATCH = 500


@dataclass
class Indexed:
    moved: int  # events that left the inbox (a retried push's second copy leaves without a row)
    waiting: int  # events still in the inbox


def index_events(conn: psycopg.Connection, seconds: float | None = None, batch: int = MOVE_BATCH) -> Indexed:
    """Move inbox events into the indexed table a batch per transaction, until the inbox is empty
    or ``seconds`` have passed (None: until empty). Needs the admin login (or the superuser)."""
    started = time.monotonic()
    moved = 0
    while True:
        with conn.transaction():
            (count,) = conn.execute("SELECT facegate.index_events(%s)", (batch,)).fetchone() or (0,)
        moved += count
        if count < batch or (seconds is not None and time.monotonic() - started >= seconds):
            break
    (waiting,) = conn.execute("SELECT count(*) FROM facegate.events_inbox").fetchone() or (0,)
    return Indexed(moved, waiting)
