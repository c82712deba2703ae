"""The site outlives its server: a streaming standby (pg_basebackup, synchronous replication) is
promoted when the primary is killed with SIGKILL while two doors enroll and log; afterwards every
enrollment and event is on the new primary exactly once, a revocation reaches both doors within
2 s of the promotion, and the old primary, restarted, is never written to. Two real PostgreSQL
servers, doors in processes of their own, the real command line."""

from __future__ import annotations

import contextlib
import os
import pwd
import signal
import time

import numpy as np
import psutil

from core.site.admin import SiteAdmin
from core.site.config import SiteConfig, server_addresses
from core.site.sync import sync_once
from tests.support.cli import facegate
from tests.support.pg import SYSTEM_USER, PgServer, free_port
from tests.support.site import DoorProcess, join_door, samples_of, start_site

GRANTED = "Granted"


def _kill_hard(server: PgServer) -> None:
    """The primary's machine dies: its postmaster and every backend at once."""
    pid = int((server.data / "postmaster.pid").read_text().split()[0])
    procs = [psutil.Process(pid), *psutil.Process(pid).children(recursive=True)]
    for proc in procs:
        proc.send_signal(signal.SIGKILL)
    psutil.wait_procs(procs, timeout=10)


def _count(server: PgServer, query: str) -> int:
    return int(server.sql(query, dbname="site").strip())


def test_a_promoted_standby_takes_over_with_nothing_lost_or_doubled(
    tmp_path, private_root, superuser_password_file, describer, faces
):
    primary = PgServer(private_root / "p1").start()
    standby_root = private_root / "s1"
    standby_root.mkdir()
    account = pwd.getpwnam(SYSTEM_USER)
    os.chown(standby_root, account.pw_uid, account.pw_gid)  # PostgreSQL runs as its own account, never root
    port = free_port()
    doors: list[DoorProcess] = []
    try:
        primary.sql("ALTER ROLE postgres PASSWORD 'site-test-superuser'")
        primary.sql("CREATE DATABASE site")
        url = primary.url("site")
        a, ca = start_site(tmp_path / "a", url, superuser_password_file, describer, "front")
        b, cb = join_door(tmp_path / "b", url, ca, describer, "back", enrolls_into="everyone")
        made = facegate(
            "site",
            "standby",
            "init",
            standby_root / "data",
            url,
            f"127.0.0.1:{port}",
            "--sync",
            "--password-file",
            superuser_password_file,
            "--db",
            a.store.path,
            check=True,
        )
        assert "synchronous" in made.stdout
        a.enroll_samples("Joe", samples_of(faces["biden"]))
        for g, c in ((a, ca), (b, cb)):
            sync_once(g, c)  # both doors learn the standby's address from the site
            assert server_addresses(SiteConfig.load(g.store.path).url) == [f"127.0.0.1:{primary.port}", f"127.0.0.1:{port}"]
        status = facegate("site", "standby", "status", "--db", a.store.path, check=True).stdout
        assert "PRIMARY" in status and "streams to facegate_standby (streaming, sync" in status
        paths = [a.store.path, b.store.path]
        a.close()
        b.close()
        doors = [DoorProcess(p) for p in paths]
        rng = np.random.default_rng(7)
        enrolled: list[str] = []

        def work(rounds: int, tag: str) -> None:
            for i in range(rounds):
                for n, door in enumerate(doors):
                    name = f"{tag}-{n}-{i}"
                    door.ask("enroll", name=name, vecs=[rng.normal(0, 0.1, 128).astype(np.float32)])
                    enrolled.append(name)
                    door.ask("visit", vec=faces["kit"][0])  # an unknown visitor: one event each
                    door.ask("visit", vec=faces["biden"][0])  # Joe: granted, one event each

        for door in doors:
            door.wait_for("status", lambda s: s["online"] and s["outbox"] == 0, timeout=30)
        work(4, "before")
        _kill_hard(primary)  # mid-sync: the doors' outboxes are busy
        work(3, "during")  # the doors keep deciding and logging, offline
        for door in doors:
            door.wait_for("status", lambda s: not s["online"], timeout=30)
        promoted = facegate(
            "site",
            "standby",
            "promote",
            f"postgresql://postgres@127.0.0.1:{port}/site",
            "--password-file",
            superuser_password_file,
            check=True,
        )
        promoted_at = time.monotonic()
        assert "timeline 2" in promoted.stdout
        with SiteAdmin.from_config(SiteConfig.load(paths[0])) as admin:  # the admin PC finds the new primary too
            admin.delete("Joe")
        for door in doors:
            door.wait_for("visit", lambda r: r["verdict"] != GRANTED, timeout=10, vec=faces["biden"][0])
        took = time.monotonic() - promoted_at
        assert took < 2.0, f"both doors refused Joe {took:.2f} s after the promotion"
        work(2, "after")
        for door in doors:
            door.wait_for("status", lambda s: s["online"] and s["outbox"] == 0, timeout=60)
        local_events = [door.ask("status")["events"] for door in doors]

        new = PgServer(standby_root, port)  # the promoted standby, as the site's superuser sees it
        names = new.sql("SELECT name FROM facegate.people ORDER BY name", dbname="site").split()
        assert sorted(enrolled) == names  # every enrollment, exactly once (Joe was revoked)
        per_door = [
            _count(
                new, f"SELECT count(*) FROM facegate.events e JOIN facegate.doors d ON d.id = e.door_id WHERE d.name = '{door}'"
            )
            for door in ("front", "back")
        ]
        assert per_door == local_events, (per_door, local_events)
        status = facegate("site", "status", "--db", paths[1], "--json", check=True).stdout
        assert f'"server": "127.0.0.1:{port}"' in status

        primary.start()  # the old primary comes back, still believing it leads
        old_people = _count(primary, "SELECT count(*) FROM facegate.people")
        work(1, "fenced")
        for door in doors:
            door.wait_for("status", lambda s: s["online"] and s["outbox"] == 0, timeout=60)
        assert _count(primary, "SELECT count(*) FROM facegate.people") == old_people  # never written to
        assert _count(new, "SELECT count(*) FROM facegate.people") == len(enrolled)
    finally:
        for door in doors:
            door.close()
        for folder in (standby_root, private_root / "p1"):
            with contextlib.suppress(Exception):  # it may be dead already
                PgServer(folder).stop()
