"""The site's figures (prints them; never a timed test), on a private PostgreSQL 16 + pgvector
(the pgserver wheel's binaries, tests/support/pg.py) on this machine.

    .venv/bin/python bench/site_bench.py [--people 10000 100000] [--latency 100] [--events 5000]
    .venv/bin/python bench/site_bench.py --people 100000 --no-sync     # search, propagation, events only
    .venv/bin/python bench/site_bench.py --people 10000 --search-samples 1000000 --latency 0  # search at 1M

1. First sync of a new door with N people x 5 samples (face-like vectors), in seconds, and how
   the door answers meanwhile: identify() latency on another thread during the sync.
2. Site-wide top-10 search over the site's samples (5 x the largest N, or --search-samples: more
   people are loaded, with no first sync): pgvector HNSW (--m, --ef-construction) latency over a
   socket at several ef_search and recall@10 against exact search (a sequential scan), next to a
   door's hnswlib index (FaceGate's IndexParams) over the same vectors (its build rate is what
   bounds a first sync).
3. Propagation: enroll at door A -> named at door B (both online, each its own process with its
   sync thread), median and p95 over --latency enrollments.
4. Access events pushed per second (a door back online with --events queued) into the site's
   inbox, the rate an admin PC moves them into the HNSW-indexed table, and "where was this face
   seen" over them before (exact) and after the move (core.site.inbox).
5. "Where was this face seen" at scale (--sightings 1000000): that many events copied into the
   indexed table and the schema's HNSW built after, latency and recall at several ef_search.
"""

from __future__ import annotations

import argparse
import gc
import shutil
import statistics
import sys
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from core.door.access_log import AccessEvent, AccessLog  # noqa: E402
from core.gallery.api import Gallery  # noqa: E402
from core.site.admin import SiteAdmin, init_site, join_site  # noqa: E402
from core.site.config import Login, SiteSettings, connect  # noqa: E402
from core.site.inbox import index_events  # noqa: E402
from core.site.search import SIGHTINGS, search_memory, search_site  # noqa: E402
from core.site.sync import SyncReport, open_door_connection, push_events, sync_once  # noqa: E402
from tests.support.pg import PgServer  # noqa: E402
from tests.support.site import DoorProcess, admin_url  # noqa: E402

SUPERUSER_PW = "bench-superuser"
EF_SEARCH = (40, 100, 150, 200, 400)


def face_like(people: int, per: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(person index per sample, vectors): people ~0.95 apart, their samples ~0.24 apart."""
    rng = np.random.default_rng(seed)
    centers = rng.normal(0, 0.06, (people, 128)).astype(np.float32)
    owner = np.repeat(np.arange(people), per)
    return owner, (centers[owner] + rng.normal(0, 0.015, (len(owner), 128))).astype(np.float32)


def load_people(server: PgServer, dbname: str, start: int, count: int, seed: int) -> tuple[np.ndarray, float]:
    """COPY ``count`` people x 5 samples into the site as the superuser; (vectors, seconds)."""
    import psycopg
    from pgvector.psycopg import register_vector

    owner, vectors = face_like(count, 5, seed)
    ids = [uuid.uuid4() for _ in range(count)]
    started = time.perf_counter()
    with psycopg.connect(server.superuser_dsn(dbname)) as conn:
        register_vector(conn)
        with conn.cursor() as cur:
            with cur.copy("COPY facegate.people (id, name) FROM STDIN") as copy:
                for i, pid in enumerate(ids):
                    copy.write_row((pid, f"person {start + i:07d}"))
            with cur.copy("COPY facegate.samples (id, person_id, descriptor) FROM STDIN WITH (FORMAT BINARY)") as copy:
                copy.set_types(["uuid", "uuid", "vector"])
                for o, vec in zip(owner, vectors, strict=True):
                    copy.write_row((uuid.uuid4(), ids[o], vec))
            cur.execute(
                "INSERT INTO facegate.group_members SELECT g.id, p FROM facegate.access_groups g, "
                "unnest(%s::uuid[]) p WHERE g.name = 'everyone'",
                (ids,),
            )
        conn.commit()
    return vectors, time.perf_counter() - started


def open_everyone(url: str, admin_password: str, door: str) -> None:
    """What the admin says after a door joins: the group "everyone" may open it."""
    with connect(url, Login("facegate_admin", admin_password)) as conn:
        SiteAdmin(conn).open_door("everyone", door)


def first_sync(
    folder: Path, url: str, admin_password: str, name: str, probe: np.ndarray, catch_up: bool, catch_up_seconds: float | None
) -> dict:
    """A new door joins and pulls everything, while a thread keeps identifying at it; then (if
    ``catch_up``) the door keeps identifying until its HNSW graph has folded in the whole tail
    (or for ``catch_up_seconds`` of it)."""
    g = Gallery(folder / f"{name}.db")
    joined = join_site(g.store.path, g.store, admin_url(url), admin_password, name)
    open_everyone(url, admin_password, name)
    waits, stop = [], threading.Event()

    def door_at_work():
        while not stop.is_set():
            t0 = time.perf_counter()
            g.identify_descriptor(probe)
            waits.append(time.perf_counter() - t0)
            time.sleep(0.01)

    pauses, began = [], [0.0]  # the cyclic GC's collections during the sync (each holds the GIL)

    def collecting(phase: str, info: dict) -> None:
        if phase == "start":
            began[0] = time.perf_counter()
        else:
            pauses.append(time.perf_counter() - began[0])

    worker = threading.Thread(target=door_at_work)
    started = time.perf_counter()
    worker.start()
    cpu = time.thread_time()
    gc.callbacks.append(collecting)
    report = sync_once(g, joined.config, settings=SiteSettings())
    gc.callbacks.remove(collecting)
    seconds = time.perf_counter() - started
    cpu = time.thread_time() - cpu  # the sync's own CPU time: its rate on a core of its own
    during = len(waits)
    pending = g.index.pending()
    hold_during = g.index.longest_hold
    caught_up = None
    if catch_up:
        g.index.settle(catch_up_seconds)
        caught_up = time.perf_counter() - started
    left = g.index.pending()
    stop.set()
    worker.join()
    people = len(g.people())
    samples = len(g.index)
    hold_after = g.index.longest_hold
    aside = g.index.longest_aside
    g.close()
    return {
        "seconds": seconds,
        "cpu": cpu,
        "people": people,
        "samples": samples,
        "pending": pending,
        "caught_up": caught_up,
        "left": left,
        "identifies": during,
        "identify_median_ms": 1000 * statistics.median(waits[:during]),
        "identify_max_ms": 1000 * max(waits[:during]),
        "after_max_ms": 1000 * max(waits[during:]) if len(waits) > during else None,
        "gc_pauses": len(pauses),
        "longest_gc_ms": 1000 * max(pauses, default=0),
        "longest_hold_ms": 1000 * hold_during,  # the graph's write lock held by one fold, during the sync
        "longest_hold_after_ms": 1000 * hold_after,  # and until the graph caught up
        "aside_s": aside,  # the longest graph built aside (core.gallery.index build_aside), swap included
        "report": report,
    }


def knn_during(index, probe: np.ndarray, work) -> tuple[float, float]:
    """Run ``work()`` while another thread searches ``index`` without pause: (seconds the work
    took, the longest a search took meanwhile)."""
    waits, stop = [], threading.Event()

    def searching() -> None:
        while not stop.is_set():
            t = time.perf_counter()
            index.knn(probe, 10)
            waits.append(time.perf_counter() - t)

    searcher = threading.Thread(target=searching)
    searcher.start()
    time.sleep(0.2)
    t0 = time.perf_counter()
    work()
    took = time.perf_counter() - t0
    time.sleep(0.2)
    stop.set()
    searcher.join()
    return took, max(waits)


def save_after_enrollment(folder: Path, samples: int) -> None:
    """A door gallery of ``samples`` samples (5 a person) with its graph file saved; then one
    enrollment: what it costs (the row write and the index's tail) and whether the graph file
    is rewritten for it, against what one full write of that file takes (which every change
    cost before the index saved incrementally). The graph is built with ef_construction 8 to
    keep the bench short: its file is as big as a real one's (the same M, the same samples), but
    its recall is poor, so no answers are checked here (tests/core/gallery/test_index_tail.py does)."""
    from core.gallery.index import IndexParams, SampleIndex
    from core.gallery.store import NewSample, Store, now

    params = IndexParams(ef_construction=8)
    db = folder / "save" / "gallery.db"
    owner, vectors = face_like(samples // 5, 5, 11)
    t0 = time.perf_counter()
    with Store(db) as store, store.write("bench gallery") as conn:
        stamp = now()
        conn.conn.executemany(
            "INSERT INTO people(id, name, created) VALUES(?,?,?)", ((i + 1, f"p{i:07d}", stamp) for i in range(samples // 5))
        )
        conn.conn.executemany(
            "INSERT INTO samples(person_id, descriptor, created) VALUES(?,?,?)",
            ((int(o) + 1, v.tobytes(), stamp) for o, v in zip(owner, vectors, strict=True)),
        )
    index = SampleIndex(db.with_name("gallery.db.hnsw"), params)
    index.build(np.arange(1, len(vectors) + 1), vectors)
    built = time.perf_counter() - t0
    (full_write, in_child), (_, in_process) = (
        knn_during(index, vectors[0], index.save),
        knn_during(index, vectors[0], lambda: index._index.save_index(str(folder / "save" / "in-process.hnsw"))),
    )
    size = db.with_name("gallery.db.hnsw").stat().st_size
    print(
        f"a door gallery of {len(vectors):,} samples (rows and graph made in {built:.0f} s): one full write of "
        f"its {size / 1e6:.0f} MB graph file takes {full_write:.2f} s; a search on another thread meanwhile waited "
        f"{1000 * in_child:.0f} ms at most (the file written by a forked child: core.gallery.index.write_graph), "
        f"against {1000 * in_process:.0f} ms for the same write in this process (hnswlib holds the GIL while it writes)",
        flush=True,
    )
    t0 = time.perf_counter()
    g = Gallery(db, index_params=params)
    opened = time.perf_counter() - t0
    graph = db.with_name("gallery.db.hnsw")
    before = graph.stat().st_mtime_ns
    waits, stop = [], threading.Event()

    def door_at_work() -> None:
        while not stop.is_set():
            t = time.perf_counter()
            g.identify_descriptor(vectors[0])
            waits.append(time.perf_counter() - t)
            time.sleep(0.005)

    worker = threading.Thread(target=door_at_work)
    worker.start()
    time.sleep(0.5)
    new = face_like(1, 5, 12)[1]
    t0 = time.perf_counter()
    g.enroll_samples("newcomer", [NewSample(v) for v in new])
    enrolled = time.perf_counter() - t0
    g.index.settle()
    folded = time.perf_counter() - t0
    time.sleep(0.5)
    stop.set()
    worker.join()
    rewritten = graph.stat().st_mtime_ns != before
    g.close()
    print(
        f"one enrollment (5 samples) at {len(vectors):,} samples (the gallery opened in {opened:.1f} s, index "
        f"{g.index.last_sync}): committed and searchable in {1000 * enrolled:.1f} ms, in the "
        f"HNSW graph {1000 * folded:.0f} ms after; graph file rewritten for it: {'yes' if rewritten else 'no'}; "
        f"identify meanwhile median {1000 * statistics.median(waits):.2f} ms, longest {1000 * max(waits):.0f} ms",
        flush=True,
    )


def overlap(found: list, exact: list, k: int) -> float:
    """recall@k of ``found`` against ``exact`` (rows of (sample id, person id), nearest first)."""
    return len({r[0] for r in found[:k]} & {r[0] for r in exact[:k]}) / k


def at_ef(conn, probes: np.ndarray, ef: int, timed: str, rows: str | None = None) -> tuple[list[float], list[list]]:
    """Each probe in its own transaction at hnsw.ef_search ``ef``: the seconds ``timed`` took
    (parameters ``q``, the probe; ``d`` no limit; ``k`` 10) and the rows ``rows`` gives (default:
    ``timed``'s own)."""
    times, found = [], []
    for q in probes:
        params = {"q": q, "d": float("inf"), "k": 10}
        with conn.transaction():
            conn.execute(f"SET LOCAL hnsw.ef_search = {ef}")
            t0 = time.perf_counter()
            got = conn.execute(timed, params).fetchall()
            times.append(time.perf_counter() - t0)
            found.append(got if rows is None else conn.execute(rows, params).fetchall())
    return times, found


def search_figures(conn, vectors: np.ndarray, queries: int, exact_queries: int, door_samples: int) -> dict:
    from core.gallery.index import SampleIndex

    rng = np.random.default_rng(99)
    picks = rng.choice(len(vectors), queries, replace=False)
    probes = (vectors[picks] + rng.normal(0, 0.01, (queries, 128))).astype(np.float32)
    out = {}
    top10 = "SELECT id, person_id FROM facegate.samples ORDER BY descriptor <-> %(q)s LIMIT 10"
    t0 = time.perf_counter()
    at_ef(conn, probes, max(EF_SEARCH), top10)  # a warm-up pass: the index's pages into the server's memory
    warm_up_s = time.perf_counter() - t0
    for ef in EF_SEARCH:
        out[f"pg_ef{ef}"] = at_ef(conn, probes, ef, top10)
    exact, exact_times = [], []
    for q in probes[:exact_queries]:
        with conn.transaction():
            conn.execute("SET LOCAL enable_indexscan = off")
            t0 = time.perf_counter()  # "+ 0": an ordering no index can give, so every distance is computed
            exact.append(
                conn.execute(
                    "SELECT id, person_id FROM facegate.samples ORDER BY (descriptor <-> %s) + 0 LIMIT 10", (q,)
                ).fetchall()
            )
            exact_times.append(time.perf_counter() - t0)
    plan = "\n".join(
        r[0] for r in conn.execute("EXPLAIN SELECT id FROM facegate.samples ORDER BY descriptor <-> %s LIMIT 10", (probes[0],))
    )
    figures = {"exact_ms": 1000 * statistics.median(exact_times), "uses_hnsw": "samples_hnsw" in plan, "warm_up_s": warm_up_s}
    for key, (times, found) in out.items():
        pairs = list(zip(found, exact, strict=False))
        figures[key] = (
            1000 * statistics.median(times),
            np.mean([overlap(f, e, 10) for f, e in pairs]),
            np.mean([overlap(f, e, 5) for f, e in pairs]),  # a person's own 5 samples, no near-ties among them
            np.mean([bool(f) and f[0][1] == e[0][1] for f, e in pairs]),  # the nearest person first
        )
    if door_samples:
        # a door's own hnswlib index over the same vectors (exact answers from numpy)
        index = SampleIndex()
        door_side = vectors[:door_samples]  # a door's index at a huge site would take too long to build here
        t0 = time.perf_counter()
        index.build(np.arange(len(door_side)), door_side)
        figures["hnswlib_build_s"] = time.perf_counter() - t0
        figures["hnswlib_samples"] = len(door_side)
        times, recalls = [], []
        for q in probes[:exact_queries]:
            t0 = time.perf_counter()
            got, _ = index.knn(q, 10)
            times.append(time.perf_counter() - t0)
            truth = set(np.argsort(np.linalg.norm(door_side - q, axis=1))[:10].tolist())
            recalls.append(len(set(got.tolist()) & truth) / 10)
        figures["hnswlib"] = (1000 * statistics.median(times), float(np.mean(recalls)))
    return figures


def propagation(folder: Path, server: PgServer, runs: int) -> list[float]:
    dbname = "propagation"
    server.sql(f"CREATE DATABASE {dbname}")
    url = server.url(dbname)
    a = Gallery(folder / "pa.db")
    joined = init_site(a.store.path, a.store, url, SUPERUSER_PW, "A", keep_admin=True)
    b = Gallery(folder / "pb.db")
    join_site(b.store.path, b.store, admin_url(url), joined.config.admin_login.password, "B")
    open_everyone(url, joined.config.admin_login.password, "B")
    paths = [a.store.path, b.store.path]
    a.close()
    b.close()
    door_a, door_b = DoorProcess(paths[0]), DoorProcess(paths[1])
    _, vectors = face_like(runs, 1, 5)
    took = []
    try:
        for door in (door_a, door_b):
            door.wait_for("status", lambda s: s["online"])
        for i, vec in enumerate(vectors):
            door_a.ask("enroll", name=f"visitor {i}", vecs=[vec])
            t0 = time.monotonic()
            door_b.wait_for("identify", lambda r, i=i: r["name"] == f"visitor {i}", vec=vec, timeout=30)
            took.append(time.monotonic() - t0)
    finally:
        door_a.close()
        door_b.close()
    return took


def events_figures(folder: Path, server: PgServer, events: int, queries: int = 50) -> dict:
    """A door back online with ``events`` queued pushes them (into the site's inbox, no vector
    index); "where was this face seen" over them while all wait in the inbox (exact) and after an
    admin PC moved them into the HNSW-indexed table (core.site.inbox), and the move's rate."""
    dbname = "events"
    server.sql(f"CREATE DATABASE {dbname}")
    g = Gallery(folder / f"{dbname}.db")
    joined = init_site(g.store.path, g.store, server.url(dbname), SUPERUSER_PW, "E", keep_admin=True)
    rng = np.random.default_rng(3)
    seen = rng.normal(0, 0.06, (events, 128)).astype(np.float32)
    log = AccessLog(g.store)
    with g.store.write():  # one transaction: the door's own logging speed is not what is measured
        for vec in seen:
            log.record(AccessEvent("Unknown", reason="bench", descriptor=vec))
    probes = seen[:queries] + rng.normal(0, 0.01, (queries, 128)).astype(np.float32)
    report = SyncReport()
    with open_door_connection(joined.config) as conn:
        t0 = time.perf_counter()
        push_events(g, conn, joined.config, report)
        push_s = time.perf_counter() - t0
    g.close()
    with SiteAdmin.from_config(joined.config) as admin:

        def where_seen() -> float:
            return statistics.median(search_site(admin.conn, q, top=10).search_ms for q in probes)

        inbox_ms = where_seen()
        t0 = time.perf_counter()
        done = index_events(admin.conn)
        move_s = time.perf_counter() - t0
        indexed_ms = where_seen()
        plan = admin.conn.execute("EXPLAIN " + SIGHTINGS, {"q": probes[0], "d": float("inf"), "k": 10}).fetchall()
    return {
        "pushed": report.pushed_events,
        "push_rate": report.pushed_events / push_s,
        "move_rate": done.moved / move_s,
        "inbox_ms": inbox_ms,
        "indexed_ms": indexed_ms,
        "uses_hnsw": "events_hnsw" in "\n".join(r[0] for r in plan),
    }


def sightings_figures(server: PgServer, args: argparse.Namespace) -> None:
    """ "Where was this face seen" over ``--sightings`` events already in the indexed table
    (copied in as the superuser, the schema's HNSW index built after the copy, as a site that has
    moved them would have it): the statement the admin's search runs (core.site.search
    SIGHTINGS) at several ef_search, recall@10 against exact search, and the recall of what
    lies within 0.6 (a threshold's answer: the face's own sightings, not near-ties among
    strangers). Events are face_like: people seen 5 times each."""
    import psycopg
    from pgvector.psycopg import register_vector

    dbname, n = "sightings", args.sightings
    server.sql(f"CREATE DATABASE {dbname}")
    g = Gallery(Path(tempfile.mkdtemp(prefix="facegate-sightings-")) / "s.db")
    init_site(g.store.path, g.store, server.url(dbname), SUPERUSER_PW, "S", keep_admin=True)
    g.close()
    _, vectors = face_like(n // 5, 5, seed=n + 1)
    server.sql("DROP INDEX facegate.events_hnsw", dbname)
    t0 = time.perf_counter()
    with psycopg.connect(server.superuser_dsn(dbname)) as conn:
        register_vector(conn)
        (door,) = conn.execute("SELECT id FROM facegate.doors LIMIT 1").fetchone() or (None,)
        with conn.cursor() as cur:
            copy_sql = "COPY facegate.events_indexed (id, door_id, time, verdict, descriptor) FROM STDIN WITH (FORMAT BINARY)"
            with cur.copy(copy_sql) as copy:
                copy.set_types(["uuid", "uuid", "timestamptz", "text", "vector"])
                start = time.time()
                for i, vec in enumerate(vectors):
                    copy.write_row((uuid.uuid4(), door, datetime.fromtimestamp(start - i, UTC), "Unknown", vec))
        conn.commit()
    copied = time.perf_counter() - t0
    server.sql("VACUUM ANALYZE facegate.events_indexed", dbname, timeout=3600)
    t0 = time.perf_counter()
    server.sql(
        f"SET maintenance_work_mem = '{args.build_memory}'; SET max_parallel_maintenance_workers = {args.build_workers}; "
        "CREATE INDEX events_hnsw ON facegate.events_indexed USING hnsw (descriptor vector_l2_ops) "
        "WITH (m = 16, ef_construction = 64)",
        dbname,
        timeout=7200,
    )
    built = time.perf_counter() - t0
    rng = np.random.default_rng(7)
    probes = (vectors[rng.choice(len(vectors), args.queries, replace=False)] + rng.normal(0, 0.01, (args.queries, 128))).astype(
        np.float32
    )
    nearest = "SELECT id, descriptor <-> %(q)s FROM facegate.events_indexed ORDER BY descriptor <-> %(q)s LIMIT 10"
    with psycopg.connect(server.superuser_dsn(dbname)) as conn:
        register_vector(conn)
        exact = []
        for q in probes[: args.exact]:
            with conn.transaction():
                conn.execute("SET LOCAL enable_indexscan = off")
                exact.append(
                    conn.execute(
                        nearest.replace("ORDER BY descriptor <-> %(q)s", "ORDER BY (descriptor <-> %(q)s) + 0"), {"q": q}
                    ).fetchall()
                )
        said = []
        for ef in EF_SEARCH:
            times, found = at_ef(conn, probes, ef, SIGHTINGS, nearest)
            pairs = list(zip(found, exact, strict=False))
            within = [
                len({r[0] for r in f if r[1] < 0.6} & {r[0] for r in e if r[1] < 0.6}) / max(1, sum(r[1] < 0.6 for r in e))
                for f, e in pairs
            ]
            said.append(
                f"ef_search {ef}: {1000 * statistics.median(times):.1f} ms, recall@10 "
                f"{np.mean([overlap(f, e, 10) for f, e in pairs]):.3f}, within 0.6 {np.mean(within):.3f}"
            )
    print(
        f"where was this face seen over {n:,} events in the indexed table (COPY {copied:.0f} s; the schema's HNSW, "
        f"m=16 ef_construction=64, built after it in {built:.0f} s with {args.build_workers} worker(s)); the admin's "
        f"statement, median of {args.queries}, recall against exact search over {args.exact}: " + "; ".join(said),
        flush=True,
    )


def search_part(
    args: argparse.Namespace, server: PgServer, url: str, admin_password: str, loaded: int, all_vectors: list
) -> None:
    """Site-wide search figures: more people up to --search-samples, the HNSW index built after
    the COPY, latency and recall at several ef_search (and a door's hnswlib beside it)."""
    if args.search_samples > 5 * loaded:
        more = args.search_samples // 5 - loaded
        vectors, seconds = load_people(server, "site", loaded, more, seed=args.search_samples)
        all_vectors.append(vectors)
        loaded += more
        print(f"site loaded to {loaded:,} people x 5 samples for the search ({seconds:.1f} s for the COPY)", flush=True)
    vectors = np.concatenate(all_vectors)
    server.sql("VACUUM ANALYZE facegate.samples", "site", timeout=3600)
    t0 = time.perf_counter()
    server.sql(
        f"SET maintenance_work_mem = '{args.build_memory}'; SET max_parallel_maintenance_workers = {args.build_workers}; "
        "CREATE INDEX samples_hnsw ON facegate.samples USING hnsw (descriptor vector_l2_ops) "
        f"WITH (m = {args.m}, ef_construction = {args.ef_construction})",
        "site",
        timeout=3600,
    )
    print(
        f"pgvector HNSW (m={args.m}, ef_construction={args.ef_construction}) over {len(vectors):,} samples "
        f"built after the COPY in {time.perf_counter() - t0:.0f} s ({args.build_workers} parallel worker(s), "
        f"maintenance_work_mem {args.build_memory})",
        flush=True,
    )
    with connect(url, Login("facegate_admin", admin_password)) as conn:
        fig = search_figures(conn, vectors, args.queries, args.exact, args.door_samples)
        fig["index_mb"] = search_memory(conn).index_bytes >> 20
    pg = "; ".join(
        f"ef_search {ef}: {fig[f'pg_ef{ef}'][0]:.2f} ms, recall@10 {fig[f'pg_ef{ef}'][1]:.3f}, recall@5 "
        f"{fig[f'pg_ef{ef}'][2]:.3f}, nearest person first {fig[f'pg_ef{ef}'][3]:.2f}"
        for ef in EF_SEARCH
    )
    print(
        f"site-wide top-10 over {len(vectors):,} samples (median of {args.queries}, recall@10 against exact "
        f"search over {args.exact}; shared_buffers {args.shared_buffers}, index {fig['index_mb']} MB, after a warm-up pass "
        f"of {fig['warm_up_s']:.1f} s): pgvector HNSW {pg}; exact (sequential scan) {fig['exact_ms']:.1f} ms; "
        f"plan uses the HNSW index: {fig['uses_hnsw']}",
        flush=True,
    )
    if "hnswlib" in fig:
        print(
            f"a door's hnswlib over {fig['hnswlib_samples']:,} of them: built in {fig['hnswlib_build_s']:.0f} s "
            f"({fig['hnswlib_samples'] / fig['hnswlib_build_s']:,.0f} samples/s, the ceiling of a first sync), "
            f"top-10 {fig['hnswlib'][0]:.3f} ms, recall {fig['hnswlib'][1]:.3f}",
            flush=True,
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--latency", type=int, default=100, help="enrollments for the propagation figure")
    parser.add_argument("--events", type=int, default=5000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--exact", type=int, default=50, help="queries also answered exactly (recall)")
    parser.add_argument("--no-sync", action="store_true", help="load the people but measure no first sync")
    parser.add_argument("--no-search", action="store_true", help="measure no site-wide search")
    parser.add_argument("--search-samples", type=int, default=0, help="samples in the site for the search figures")
    parser.add_argument("--m", type=int, default=24, help="pgvector HNSW m (the schema's: 24)")
    parser.add_argument("--ef-construction", type=int, default=128, help="pgvector HNSW ef_construction (the schema's: 128)")
    parser.add_argument("--door-samples", type=int, default=100_000, help="samples in the door-side hnswlib comparison (0: none)")
    parser.add_argument("--build-workers", type=int, default=1, help="parallel workers for the HNSW build (pgvector >= 0.6)")
    parser.add_argument("--build-memory", default="4GB", help="maintenance_work_mem for the HNSW build (the graph must fit)")
    parser.add_argument(
        "--sightings", type=int, default=0, help="events in the indexed table for 'where was this face seen' at scale (0: skip)"
    )
    parser.add_argument(
        "--shared-buffers",
        default="256MB",
        help="the server's shared_buffers (the tests' server: 256MB; PostgreSQL's default 128MB)",
    )
    parser.add_argument("--no-site", action="store_true", help="only the door's save figure (no PostgreSQL)")
    parser.add_argument("--no-catch-up", action="store_true", help="do not wait for a synced door's HNSW graph")
    parser.add_argument(
        "--catch-up-seconds",
        type=float,
        default=None,
        help="watch the door this long after a first sync (default: until caught up)",
    )
    parser.add_argument(
        "--save-samples", type=int, default=500_000, help="gallery size for the save-after-one-enrollment figure (0: skip)"
    )
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="facegate-site-bench-"))
    if args.save_samples:
        try:
            save_after_enrollment(folder, args.save_samples)
        finally:
            shutil.rmtree(folder / "save", ignore_errors=True)
    if args.no_site:
        shutil.rmtree(folder, ignore_errors=True)
        return
    server = PgServer(folder / "pg", shared_buffers=args.shared_buffers).start()
    try:
        server.sql(f"ALTER ROLE postgres PASSWORD '{SUPERUSER_PW}'")
        server.sql("CREATE DATABASE site")
        url = server.url("site")
        first = Gallery(folder / "first.db")
        joined = init_site(first.store.path, first.store, url, SUPERUSER_PW, "first", keep_admin=True)
        admin_password = joined.config.admin_login.password
        first.close()
        server.sql("DROP INDEX facegate.samples_hnsw", "site")  # bulk loading first, the index after
        loaded, all_vectors = 0, []
        for n in sorted(args.people):
            vectors, seconds = load_people(server, "site", loaded, n - loaded, seed=n)
            all_vectors.append(vectors)
            loaded = n
            print(f"site loaded to {n:,} people x 5 samples ({seconds:.1f} s for the COPY)", flush=True)
            if args.no_sync:
                continue
            fig = first_sync(
                folder, url, admin_password, f"door{n}", all_vectors[0][0], not args.no_catch_up, args.catch_up_seconds
            )
            print(
                f"first sync of a new door, {fig['people']:,} people / {fig['samples']:,} samples: "
                f"{fig['seconds']:.1f} s ({fig['people'] / fig['seconds']:.0f} people/s, searchable throughout; "
                f"{fig['pending']:,} samples still in the index's exact tail at the end; the sync's thread "
                f"used {fig['cpu']:.1f} s of CPU, {fig['people'] / fig['cpu']:.0f} people per CPU-second); meanwhile the door "
                f"identified {fig['identifies']} times, median {fig['identify_median_ms']:.2f} ms, "
                f"longest {fig['identify_max_ms']:.0f} ms; the longest hold of the graph's lock by a fold "
                f"{fig['longest_hold_ms']:.0f} ms; {fig['gc_pauses']} cyclic GC collections, the longest "
                f"{fig['longest_gc_ms']:.0f} ms",
                flush=True,
            )
            if fig["caught_up"] is not None:
                held = (
                    "held every sample"
                    if not fig["left"]
                    else f"still lacked {fig['left']:,} samples (in the exact tail; --catch-up-seconds)"
                )
                print(
                    f"  the door's HNSW graph {held} {fig['caught_up']:.1f} s after the sync began; "
                    f"longest identify wait while it caught up {fig['after_max_ms'] or 0:.0f} ms, longest hold of the "
                    f"graph's lock by a fold or a swap {fig['longest_hold_after_ms']:.0f} ms; the graph built aside in "
                    f"{fig['aside_s']:.1f} s",
                    flush=True,
                )
        if not args.no_search:
            search_part(args, server, url, admin_password, loaded, all_vectors)
        if args.latency:
            took = propagation(folder, server, args.latency)
            print(
                f"enroll at A -> named at B over {len(took)} enrollments: median {statistics.median(took) * 1000:.0f} ms, "
                f"p95 {np.percentile(took, 95) * 1000:.0f} ms, worst {max(took) * 1000:.0f} ms",
                flush=True,
            )
        if args.sightings:
            sightings_figures(server, args)
        if args.events:
            ev = events_figures(folder, server, args.events)
            print(
                f"access events pushed by a door back online: {ev['pushed']:,} at {ev['push_rate']:,.0f} events/s "
                f"(into the site's inbox, no vector index); moved into the HNSW-indexed table by an admin PC at "
                f"{ev['move_rate']:,.0f} events/s; where was this face seen (top-10 over them): {ev['inbox_ms']:.1f} ms "
                f"while all wait in the inbox (exact), {ev['indexed_ms']:.1f} ms once indexed (plan uses the HNSW "
                f"index: {ev['uses_hnsw']})",
                flush=True,
            )
    finally:
        server.stop()
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
