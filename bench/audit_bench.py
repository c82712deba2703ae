"""Figures of the audit chain and anti-passback (prints them; never a timed test).

    .venv/bin/python bench/audit_bench.py [--events 10000] [--claims 200] [--races 50]

1. The access log's hash chain: what a chained record() costs per event (median, p95; each is
   one SQLite transaction with its fsync), and how long `access-log --verify` takes over --events rows.
2. Anti-passback on a private PostgreSQL 16 (tests/support/pg.py): a door's claim of a passage
   (core.site.passback, one round trip and one locked row), median and p95 over --claims claims;
   and --races rounds of two entry doors claiming the same person at the same instant from two
   threads: how many rounds had exactly one winner.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from core.door.access_log import AccessEvent, AccessLog  # noqa: E402
from core.door.verdict import Verdict  # noqa: E402
from core.gallery.api import Gallery  # noqa: E402
from core.gallery.store import NewSample  # noqa: E402
from core.site.admin import SiteAdmin, init_site, join_site  # noqa: E402
from core.site.config import SiteSettings  # noqa: E402
from core.site.passback import SitePassback  # noqa: E402
from core.site.sync import sync_once  # noqa: E402
from tests.support.pg import PgServer  # noqa: E402
from tests.support.site import admin_url  # noqa: E402

SUPERUSER_PW = "bench-superuser"


def chain(folder: Path, events: int) -> tuple[list[float], float, int]:
    """(seconds per record(), seconds for one verify, rows verified)."""
    g = Gallery(folder / "log.db")
    log = AccessLog(g.store)
    times = []
    for i in range(events):
        started = time.perf_counter()
        log.record(AccessEvent(Verdict.GRANTED, "Ada", reason=f"visit {i}", distance=0.3, margin=0.1, door="unlocking"))
        times.append(time.perf_counter() - started)
    started = time.perf_counter()
    report = log.verify()
    seconds = time.perf_counter() - started
    g.close()
    assert report.ok, report.text()
    return times, seconds, report.rows


def passback(folder: Path, claims: int, races: int) -> tuple[list[float], int]:
    """(seconds per claim, race rounds with exactly one winner)."""
    server = PgServer(folder / "pg").start()
    try:
        server.sql(f"ALTER ROLE postgres PASSWORD '{SUPERUSER_PW}'")
        server.sql("CREATE DATABASE audit")
        url = server.url("audit")
        a = Gallery(folder / "a.db")
        joined = init_site(a.store.path, a.store, url, SUPERUSER_PW, "front", keep_admin=True)
        b = Gallery(folder / "b.db")
        other = join_site(b.store.path, b.store, admin_url(url), joined.config.admin_login.password, "side")
        with SiteAdmin.from_config(joined.config) as admin:
            admin.open_door("everyone", "side")
        a.enroll_samples("Ada", [NewSample(np.random.default_rng(1).normal(0, 0.06, 128).astype(np.float32))])
        sync_once(a, joined.config)
        with SiteAdmin.from_config(joined.config) as admin:
            for p in admin.proposals():
                admin.approve(p.id)
        sync_once(b, other.config)
        ids = [g.store.person("Ada").id for g in (a, b)]
        front_in = SitePassback(a.store, joined.config, SiteSettings(direction="in", passback="hard"))
        front_out = SitePassback(a.store, joined.config, SiteSettings(direction="out", passback="hard"))
        side_in = SitePassback(b.store, other.config, SiteSettings(direction="in", passback="hard"))
        times = []
        for i in range(claims):
            gate = front_in if i % 2 == 0 else front_out
            started = time.perf_counter()
            allowed, why = gate(ids[0])
            times.append(time.perf_counter() - started)
            assert allowed and not why, why
        one_winner = 0
        for _ in range(races):
            barrier = threading.Barrier(2)
            answers: list = [None, None]

            def claim(i: int, gate: SitePassback, person: int, barrier=barrier, answers=answers) -> None:
                barrier.wait()
                answers[i] = gate(person)[0]

            threads = [
                threading.Thread(target=claim, args=(0, front_in, ids[0])),
                threading.Thread(target=claim, args=(1, side_in, ids[1])),
            ]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            one_winner += sorted(answers) == [False, True]
            front_out(ids[0])
        for gate in (front_in, front_out, side_in):
            gate.close()
        a.close()
        b.close()
        return times, one_winner
    finally:
        server.stop()


def _ms(values: list[float]) -> str:
    ordered = sorted(values)
    return f"median {statistics.median(ordered) * 1000:.2f} ms, p95 {ordered[int(len(ordered) * 0.95)] * 1000:.2f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=10000)
    parser.add_argument("--claims", type=int, default=200)
    parser.add_argument("--races", type=int, default=50)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="facegate-audit-bench-") as tmp:
        folder = Path(tmp)
        times, verify_s, rows = chain(folder, args.events)
        print(f"chained access-log record(): {_ms(times)} over {args.events} events")
        print(f"access-log --verify over {rows} rows: {verify_s:.2f} s ({rows / verify_s:,.0f} rows/s)")
        claims, one = passback(folder, args.claims, args.races)
        print(f"anti-passback claim at the site (local socket): {_ms(claims)} over {args.claims} claims")
        print(f"two entry doors racing for one person: exactly one winner in {one} of {args.races} rounds")


if __name__ == "__main__":
    main()
