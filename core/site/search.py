"""Site-wide search: a face against every enrolled sample of the site, and where it was seen.

Both run in PostgreSQL over pgvector's HNSW indexes (``samples_hnsw``, ``events_hnsw``; events
not indexed yet exactly, SIGHTINGS) with the L2 threshold as a filter (``descriptor <-> q < d``),
so the admin searches the whole site's gallery and every door's access log without copying them. Needs the admin login (a door's role
sees only its own groups' people and no events).

    >>> with SiteAdmin.from_config(config) as admin:
    ...     found = search_site(admin.conn, descriptor, top=10, within=0.6)
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import psycopg

#: HNSW candidates per query of the samples (bench/site_bench.py, the schema's m=24,
#: ef_construction=256): over 1,000,000 samples with shared_buffers holding the index, recall@10
#: 0.97 against exact search in 9.5-9.8 ms (two runs), the right person first on every query;
#: 150 gave 0.94 in 7.6 ms. With the earlier ef_construction=128 the same 200 gave 0.90-0.91 in
#: 7.6-9.4 ms, and 0.95 needed 400 (15-19 ms).
EF_SEARCH = 200
#: ...and for the events, a bigger table (a year of a busy door's visits): over 1,000,000 of them
#: (bench/site_bench.py --sightings) ef_search 100 found 0.78 of a face's sightings within 0.6,
#: 400 found 0.95 in 18 ms, for an admin's search, not a door's decision.
SIGHTINGS_EF_SEARCH = 400

#: Where a face was seen: the nearest events of the indexed table (its HNSW index) and of the
#: inbox of events not yet moved there (exact: it stays small while an admin PC moves them;
#: a second copy of a retried push is left out), in one statement, so one snapshot: an event
#: being moved is found once, on one side or the other (core.site.inbox).
SIGHTINGS = """
    SELECT e.time, dr.name, e.name, e.verdict, e.d FROM (
        (SELECT time, door_id, name, verdict, descriptor <-> %(q)s AS d FROM facegate.events_indexed
         ORDER BY descriptor <-> %(q)s LIMIT %(k)s)
        UNION ALL
        (SELECT n.time, n.door_id, n.name, n.verdict, n.descriptor <-> %(q)s AS d FROM facegate.events_inbox n
         WHERE n.descriptor IS NOT NULL
           AND NOT EXISTS (SELECT 1 FROM facegate.events_indexed i WHERE i.id = n.id)
         ORDER BY 5 LIMIT %(k)s)
    ) e JOIN facegate.doors dr ON dr.id = e.door_id
    WHERE e.d < %(d)s ORDER BY e.d LIMIT %(k)s
"""


@dataclass(frozen=True)
class SearchMemory:
    """The site's HNSW indexes against the server's ``shared_buffers``. pgvector walks its graph
    page by page, and a page not in shared_buffers is copied in from the OS's cache on each
    visit: over 1,000,000 samples (a 0.9 GB index), top-10 at ef_search 200 took 17 ms with
    256 MB of shared_buffers (PostgreSQL's default is 128 MB) and 9 ms with 2 GB, the same
    answers (bench/site_bench.py --shared-buffers, docs/sites.md)."""

    index_bytes: int  # samples_hnsw + events_hnsw
    buffers_bytes: int  # the server's shared_buffers

    def advice(self) -> str | None:
        """What to set when the indexes do not fit, or None."""
        if self.index_bytes <= self.buffers_bytes:
            return None
        mb = 1 << 20
        wanted = -(-self.index_bytes * 5 // 4 // (256 * mb)) * 256  # a quarter more, in 256 MB steps
        return (
            f"the site's search indexes ({self.index_bytes // mb} MB) do not fit the server's shared_buffers "
            f"({self.buffers_bytes // mb} MB): site-wide search runs about half as fast; set shared_buffers = "
            f"{wanted}MB or more in the server's postgresql.conf and restart it"
        )


def search_memory(conn: psycopg.Connection) -> SearchMemory:
    """How big the site's search indexes are and how much of them the server can keep (any
    login: sizes and settings only)."""
    from core.site.config import one_row

    index_bytes, buffers_bytes = one_row(
        conn,
        "SELECT coalesce(sum(pg_relation_size(c.oid)), 0)::bigint, pg_size_bytes(current_setting('shared_buffers')) "
        "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = 'facegate' AND c.relname IN ('samples_hnsw', 'events_hnsw')",
    )
    return SearchMemory(int(index_bytes), int(buffers_bytes))


@dataclass
class SiteHit:
    person: str
    distance: float
    sample_id: str
    enrolled_at: str | None
    thumbnail: bytes | None = field(default=None, repr=False)


@dataclass
class Sighting:
    time: str
    door: str
    name: str | None
    verdict: str
    distance: float


@dataclass
class SiteSearch:
    hits: list[SiteHit]
    sightings: list[Sighting]
    search_ms: float  # both queries, at the server and back


def search_site(conn: psycopg.Connection, descriptor: np.ndarray, top: int = 10, within: float | None = None) -> SiteSearch:
    """The ``top`` nearest samples and events (each within ``within`` if given), nearest first."""
    vec = np.asarray(descriptor, np.float32).reshape(-1)
    limit = float(within) if within is not None else float("inf")
    started = time.perf_counter()
    with conn.transaction():
        conn.execute(f"SET LOCAL hnsw.ef_search = {max(EF_SEARCH, int(top))}")
        rows = conn.execute(
            "SELECT p.name, s.descriptor <-> %(q)s AS d, s.id::text, dr.name, s.thumbnail FROM facegate.samples s "
            "JOIN facegate.people p ON p.id = s.person_id LEFT JOIN facegate.doors dr ON dr.id = s.door_id "
            "WHERE s.descriptor <-> %(q)s < %(d)s ORDER BY s.descriptor <-> %(q)s LIMIT %(k)s",
            {"q": vec, "d": limit, "k": top},
        ).fetchall()
        conn.execute(f"SET LOCAL hnsw.ef_search = {max(SIGHTINGS_EF_SEARCH, int(top))}")
        seen = conn.execute(SIGHTINGS, {"q": vec, "d": limit, "k": top}).fetchall()
    ms = (time.perf_counter() - started) * 1000
    return SiteSearch(
        [SiteHit(r[0], float(r[1]), r[2], r[3], r[4]) for r in rows],
        [Sighting(r[0].isoformat(), r[1], r[2], r[3], float(r[4])) for r in seen],
        ms,
    )


def search_json(found: SiteSearch) -> dict:
    return {
        "search_ms": round(found.search_ms, 3),
        "hits": [
            {"name": h.person, "distance": round(h.distance, 4), "sample": h.sample_id, "enrolled_at": h.enrolled_at}
            for h in found.hits
        ],
        "seen": [
            {"time": s.time, "door": s.door, "name": s.name, "verdict": s.verdict, "distance": round(s.distance, 4)}
            for s in found.sightings
        ],
    }
