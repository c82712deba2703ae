"""Events land in the site's inbox (no vector index) and an admin PC moves them into the indexed
table (core.site.inbox, migration ``events-inbox``): searchable all along, each exactly once
whatever is retried or killed, and a door can write neither the indexed table nor the move."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid

import numpy as np
import psycopg
import pytest

from core.door.access_log import AccessEvent, AccessLog
from core.site import schema
from core.site.admin import SiteAdmin
from core.site.inbox import index_events
from core.site.search import search_site
from core.site.sync import open_door_connection, sync_once
from tests.support.cli import facegate
from tests.support.data import ROOT
from tests.support.site import jitter, join_door, start_site


def _counts(conn) -> tuple[int, int, int, int]:
    """(inbox rows, indexed rows, events as readers see them, distinct ids among those)."""
    return conn.execute(
        "SELECT (SELECT count(*) FROM facegate.events_inbox), (SELECT count(*) FROM facegate.events_indexed), "
        "(SELECT count(*) FROM facegate.events), (SELECT count(DISTINCT id) FROM facegate.events)"
    ).fetchone()


def _retry_push(gallery) -> None:
    """What a door does when the site committed its push but the answer was lost: it sends the
    same events again (their outbox rows were never cleared)."""
    with gallery.store.write() as db:
        db.execute("INSERT INTO site_outbox(kind, ref, created) SELECT 'event', site_id, '' FROM access_events")


def test_an_event_is_found_site_wide_before_and_after_its_move_and_a_retried_push_adds_nothing(
    tmp_path, site_url, superuser_password_file, describer, faces
):
    a, config_a = start_site(tmp_path / "a", site_url, superuser_password_file, describer, "front")
    b, config_b = join_door(tmp_path / "b", site_url, config_a, describer, "back")
    try:
        AccessLog(b.store).record(AccessEvent("Unknown", reason="stranger", descriptor=faces["kit"][0]))
        assert sync_once(b, config_b).pushed_events == 1
        probe = jitter(faces["kit"][0], 1)
        with SiteAdmin.from_config(config_a) as admin:
            assert _counts(admin.conn) == (1, 0, 1, 1)  # just pushed: in the inbox, not indexed yet
            (seen,) = search_site(admin.conn, probe, within=0.6).sightings
            assert (seen.door, seen.verdict) == ("back", "Unknown") and seen.distance < 0.2

            _retry_push(b)  # before the move: the inbox's key takes nothing twice
            sync_once(b, config_b)
            assert _counts(admin.conn) == (1, 0, 1, 1)

            done = index_events(admin.conn)
            assert (done.moved, done.waiting) == (1, 0)
            assert _counts(admin.conn) == (0, 1, 1, 1)
            assert [s.door for s in search_site(admin.conn, probe, within=0.6).sightings] == ["back"]

            _retry_push(b)  # after the move: a second copy lands in the inbox, hidden there
            assert sync_once(b, config_b).pushed_events == 1
            assert _counts(admin.conn) == (1, 1, 1, 1)
            assert [s.door for s in search_site(admin.conn, probe, within=0.6).sightings] == ["back"]
            assert index_events(admin.conn).moved == 1  # and the next move drops it
            assert _counts(admin.conn) == (0, 1, 1, 1)

            # an admin PC's own sync rounds move what doors pushed
            AccessLog(b.store).record(AccessEvent("Unknown", reason="again", descriptor=faces["rose"][0]))
            sync_once(b, config_b)
            assert _counts(admin.conn)[0] == 1
            report = sync_once(a, config_a)
            assert report.indexed_events == 1 and report.events_waiting == 0
            assert _counts(admin.conn) == (0, 2, 2, 2)
            (rose,) = search_site(admin.conn, jitter(faces["rose"][0], 2), within=0.3).sightings
            assert rose.door == "back"
    finally:
        a.close()
        b.close()


MOVER = """
import sys
from core.site.admin import SiteAdmin
from core.site.config import SiteConfig
from core.site.inbox import index_events

with SiteAdmin.from_config(SiteConfig.load(sys.argv[1])) as admin:
    index_events(admin.conn, batch=1_000_000)   # one transaction for everything
"""


def test_a_mover_killed_mid_move_loses_and_doubles_nothing(tmp_path, site_url, superuser, superuser_password_file, describer):
    a, config = start_site(tmp_path / "a", site_url, superuser_password_file, describer, "front")
    a.close()
    events = 3000
    superuser.execute(
        "INSERT INTO facegate.events_inbox(id, door_id, time, verdict, descriptor) "
        "SELECT gen_random_uuid(), %s, now(), 'Unknown', "
        "(SELECT array_agg(random() * 0.1 + x * 0) FROM generate_series(1, 128) x WHERE g > 0)::vector "
        "FROM generate_series(1, %s) g",
        (config.door_id, events),
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    mover = subprocess.Popen([sys.executable, "-c", MOVER, str(a.store.path)], cwd=ROOT, env=env)
    try:
        deadline = time.monotonic() + 60
        while not superuser.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE state = 'active' AND query LIKE '%%index_events%%' AND pid <> pg_backend_pid()"
        ).fetchone()[0]:
            assert mover.poll() is None and time.monotonic() < deadline, "the move never started"
            time.sleep(0.05)
        time.sleep(0.5)  # well into the move: some rows are in the indexed table, uncommitted
        assert _counts(superuser) == (events, 0, events, events)  # readers see each event once meanwhile
        os.kill(mover.pid, signal.SIGKILL)
        mover.wait()
        deadline = time.monotonic() + 120  # the server ends the orphaned transaction (rolled back)
        while superuser.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE query LIKE '%%index_events%%' AND pid <> pg_backend_pid()"
        ).fetchone()[0]:
            assert time.monotonic() < deadline, "the killed mover's transaction never ended"
            time.sleep(0.1)
    finally:
        if mover.poll() is None:
            mover.kill()
            mover.wait()
    assert _counts(superuser) == (events, 0, events, events)
    with SiteAdmin.from_config(config) as admin:
        assert index_events(admin.conn).moved == events
    assert _counts(superuser) == (0, events, events, events)


def test_a_door_appends_its_own_events_to_the_inbox_and_nothing_else(tmp_path, site_url, superuser_password_file, describer):
    a, config_a = start_site(tmp_path / "a", site_url, superuser_password_file, describer, "front")
    b, config_b = join_door(tmp_path / "b", site_url, config_a, describer, "back")
    vector = "[" + ",".join(["0.05"] * 128) + "]"
    try:
        with open_door_connection(config_b) as door:
            door.execute(
                "INSERT INTO facegate.events_inbox(id, door_id, time, verdict, descriptor) VALUES (%s, %s, now(), 'Unknown', %s)",
                (uuid.uuid4(), config_b.door_id, vector),
            )
            for statement, params in (
                ("INSERT INTO facegate.events_indexed(id, door_id, time, verdict) VALUES (%s, %s, now(), 'Granted')", True),
                ("INSERT INTO facegate.events_inbox(id, door_id, time, verdict) VALUES (%s, %s, now(), 'Granted')", False),
                ("SELECT count(*) FROM facegate.events_indexed", None),
                ("SELECT * FROM facegate.events_inbox", None),
                ("SELECT count(*) FROM facegate.events", None),
                ("UPDATE facegate.events_inbox SET verdict = 'Granted'", None),
                ("DELETE FROM facegate.events_inbox", None),
                ("SELECT facegate.index_events(10)", None),
            ):
                args = () if params is None else (uuid.uuid4(), config_b.door_id if params else config_a.door_id)
                with pytest.raises(psycopg.errors.InsufficientPrivilege):  # its own name only, in the inbox only
                    door.execute(statement, args)
        with SiteAdmin.from_config(config_a) as admin:
            for statement in (  # the admin moves events, and may not write one itself
                "INSERT INTO facegate.events_inbox(id, door_id, time, verdict) VALUES (gen_random_uuid(), %s, now(), 'Granted')",
                "INSERT INTO facegate.events_indexed(id, door_id, time, verdict) VALUES (gen_random_uuid(), %s, now(), 'Granted')",
            ):
                with pytest.raises(psycopg.errors.InsufficientPrivilege), admin.conn.transaction():
                    admin.conn.execute(statement, (config_b.door_id,))
            assert index_events(admin.conn).moved == 1
            assert admin.conn.execute(
                "SELECT d.name FROM facegate.events e JOIN facegate.doors d ON d.id = e.door_id"
            ).fetchall() == [("back",)]
    finally:
        a.close()
        b.close()


def test_an_existing_site_upgrades_with_its_events_and_samples(
    tmp_path, site_url, superuser, superuser_password_file, describer, faces, monkeypatch
):
    """A site made before the inbox: its events stay, searchable, pushes go to the inbox, and its
    samples' index is rebuilt with the measured parameters."""
    names = [name for name, _ in schema.MIGRATIONS]
    monkeypatch.setattr(schema, "MIGRATIONS", schema.MIGRATIONS[: names.index("events-inbox")])
    a, config = start_site(tmp_path / "a", site_url, superuser_password_file, describer, "front")
    try:
        superuser.execute(
            "INSERT INTO facegate.events(id, door_id, time, verdict, descriptor) VALUES (gen_random_uuid(), %s, now(), 'Unknown', %s)",
            (config.door_id, faces["kit"][0].tolist()),
        )
        superuser.execute(
            "WITH p AS (INSERT INTO facegate.people(id, name) VALUES (gen_random_uuid(), 'Rose') RETURNING id) "
            "INSERT INTO facegate.samples(id, person_id, descriptor) SELECT gen_random_uuid(), p.id, %s FROM p",
            (faces["rose"][0].tolist(),),
        )
        monkeypatch.undo()
        out = facegate("site", "upgrade", site_url, "--password-file", superuser_password_file, "--json", check=True)
        assert json.loads(out.stdout)["migrations"] == [
            "events-inbox",
            "samples-index",
            "door-withdraw",
            "proposal-per-push",
            "samples-index-256",
            "site-epoch",
        ]
        assert (
            json.loads(facegate("site", "upgrade", site_url, "--password-file", superuser_password_file, "--json").stdout)[
                "migrations"
            ]
            == []
        )
        (options,) = superuser.execute("SELECT reloptions FROM pg_class WHERE relname = 'samples_hnsw'").fetchone()
        assert sorted(options) == ["ef_construction=256", "m=24"]  # the measured default, rebuilt over the samples
        AccessLog(a.store).record(AccessEvent("Unknown", descriptor=faces["kit"][1]))
        sync_once(a, config)
        with SiteAdmin.from_config(config) as admin:
            assert _counts(admin.conn) == (0, 2, 2, 2)  # the admin PC's round moved the new one too
            found = search_site(admin.conn, faces["kit"][0], within=0.6)
            assert len(found.sightings) == 2
            assert [h.person for h in search_site(admin.conn, faces["rose"][0], within=0.1).hits] == ["Rose"]
            assert "events_hnsw" in " ".join(
                r[0] for r in admin.conn.execute("SELECT indexname FROM pg_indexes WHERE tablename = 'events_indexed'")
            )
    finally:
        a.close()


def test_events_purged_at_the_door_before_their_push_are_skipped(
    tmp_path, site_url, superuser_password_file, describer, monkeypatch
):
    from datetime import datetime, timedelta, timezone

    from core.door.retention import Retention
    from core.door.visitors import Visitors
    from core.site import sync

    a, config = start_site(tmp_path / "a", site_url, superuser_password_file, describer, "front")
    try:
        old = (datetime.now(timezone.utc) - timedelta(days=40)).isoformat(timespec="milliseconds")
        log = AccessLog(a.store)
        for i in range(3):
            log.record(AccessEvent("Unknown", reason=f"old {i}", time=old))
        visitors = Visitors(a.store)
        visitors.settings.access_log_days = 30
        assert Retention(a, visitors).purge().log_rows == 3  # gone before they were sent; a Purged row is logged
        monkeypatch.setattr(sync, "PUSH_BATCH", 2)  # a first batch with nothing left to send
        assert sync_once(a, config).pushed_events == 1
        with SiteAdmin.from_config(config) as admin:
            assert admin.conn.execute("SELECT verdict FROM facegate.events").fetchall() == [("Purged",)]
    finally:
        a.close()


def test_a_push_cut_off_mid_batch_resumes_without_losing_or_doubling_an_event(
    tmp_path, site_url, superuser, superuser_password_file, describer
):
    """A door back online with 1,200 events pushes them 500 to a statement, one transaction each;
    its connection is cut while the second batch waits on a lock (the server kills the backend):
    the first batch is at the site once, the second not at all, and the next round sends exactly
    the 700 the door still holds, so every event is at the site once."""
    from core.site import sync

    a, config_a = start_site(tmp_path / "a", site_url, superuser_password_file, describer, "front")
    b, config_b = join_door(tmp_path / "b", site_url, config_a, describer, "back")
    blocker = psycopg.connect(superuser.info.dsn)  # a transaction of its own, left open
    try:
        log = AccessLog(b.store)
        with b.store.write():
            for i in range(1200):
                log.record(AccessEvent("Unknown", reason=f"visit {i}", descriptor=jitter(np.zeros(128, np.float32), i)))
        refs = [r[0] for r in b.store.read("SELECT ref FROM site_outbox WHERE kind = 'event' ORDER BY id")]
        assert len(refs) == 1200 and sync.PUSH_BATCH == 500
        # the site holds an uncommitted row with the id of an event of the second batch: that
        # batch's INSERT ... ON CONFLICT waits for it, and is cut off there
        blocker.execute(
            "INSERT INTO facegate.events_inbox(id, door_id, time, verdict) VALUES (%s, %s, now(), 'blocker')",
            (refs[700], config_b.door_id),
        )
        failed: list[Exception] = []

        def push() -> None:
            report = sync.SyncReport()
            try:
                with open_door_connection(config_b) as conn:
                    sync.push_events(b, conn, config_b, report)
            except psycopg.Error as exc:
                failed.append(exc)

        pusher = threading.Thread(target=push)
        pusher.start()
        deadline = time.monotonic() + 60
        while not (
            waiting := superuser.execute(
                "SELECT pid FROM pg_stat_activity WHERE application_name = 'facegate door back' AND wait_event_type = 'Lock'"
            ).fetchall()
        ):
            assert pusher.is_alive() and time.monotonic() < deadline, "the second batch never waited"
            time.sleep(0.05)
        superuser.execute("SELECT pg_terminate_backend(%s)", (waiting[0][0],))
        pusher.join(60)
        blocker.rollback()
        assert failed and not pusher.is_alive()
        assert _counts(superuser) == (500, 0, 500, 500)  # the first batch, once; nothing of the second
        assert len(b.store.read("SELECT id FROM site_outbox WHERE kind = 'event'")) == 700

        assert sync_once(b, config_b).pushed_events == 700  # the next round: the rest, nothing again
        assert _counts(superuser) == (1200, 0, 1200, 1200)
        at_site = {r[0] for r in superuser.execute("SELECT id::text FROM facegate.events_inbox")}
        assert at_site == set(refs) and not b.store.read("SELECT id FROM site_outbox")
    finally:
        blocker.close()
        a.close()
        b.close()
