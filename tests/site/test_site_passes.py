"""Visitor passes across a site, on a real PostgreSQL: the admin's pass reaches two doors, each
door refuses the holder once it ends by its own clock (no sync in between), a door cannot set or
lift a pass (nor give one of its own), and the site's purge after the retention period takes the holder off every door:
by hand, and on its own from the admin PC's running sync with its retention setting, logged in
its access log."""

from __future__ import annotations

import time
from datetime import datetime, timedelta

import psycopg
import pytest

from core.door.access_log import AccessLog, stored_time
from core.door.verdict import Verdict
from core.door.visitors import Visitors, VisitorSettings
from core.errors import StoreError
from core.live.worker import InlineWorker
from core.site.admin import SiteAdmin
from core.site.sync import open_door_connection, sync_once
from core.station import Station
from tests.support.cli import facegate
from tests.support.site import approve_all, grant_attempt, join_door, samples_of, start_site

GRANTED = "Granted"


def test_a_pass_set_by_the_admin_ends_at_both_doors_and_is_purged_from_both(
    tmp_path, site_url, superuser, superuser_password_file, describer, faces
):
    a, ca = start_site(tmp_path / "a", site_url, superuser_password_file, describer, "front")
    b, cb = join_door(tmp_path / "b", site_url, ca, describer, "back")
    doors = ((a, ca), (b, cb))
    try:
        # a door's own pass would be lost at its next pull and never reach the other doors: refused, nobody enrolled
        visitor, _ = Visitors(b.store).assign([faces["obama"][0]])
        with pytest.raises(StoreError, match="site admin's"):
            Visitors(b.store).enroll(visitor, b, "Plumber", until=stored_time(datetime.now() + timedelta(hours=2)))
        assert b.people() == []
        a.enroll_samples("Plumber", samples_of(faces["obama"][:2]))
        sync_once(a, ca)
        approve_all(ca)
        now = datetime.now()
        until = (now + timedelta(hours=2)).replace(second=0, microsecond=0)
        out = facegate("site", "pass", "set", "Plumber", until.isoformat(), "--db", a.store.path, check=True)
        assert "visitor pass until" in out.stdout
        for g, c in doors:
            sync_once(g, c)
        face = faces["obama"][2]
        for g, _ in doors:
            assert grant_attempt(g, face, clock=lambda: now)[0] == GRANTED
            verdict, reason = grant_attempt(g, face, clock=lambda: now + timedelta(hours=3))
            assert verdict != GRANTED and "visitor pass expired" in reason, (verdict, reason)

        with open_door_connection(cb) as door:  # the pass is the admin's: a door can neither lift nor change it
            for statement in ("DELETE FROM facegate.passes", "UPDATE facegate.passes SET valid_until = 'infinity'"):
                with pytest.raises(psycopg.errors.InsufficientPrivilege):
                    door.execute(statement)

        with SiteAdmin.from_config(ca) as admin:
            assert admin.purge_passes(1) == []  # not over yet
            superuser.execute("UPDATE facegate.passes SET valid_until = now() - interval '31 days'")
            assert admin.purge_passes(30) == ["Plumber"]
        for g, c in doors:
            sync_once(g, c)
            assert g.people() == [] and len(g.index) == 0
    finally:
        a.close()
        b.close()


def test_the_admin_pcs_sync_purges_expired_passes_on_its_own_and_the_doors_drop_the_holders(
    tmp_path, site_url, superuser, superuser_password_file, describer, faces
):
    a, ca = start_site(tmp_path / "a", site_url, superuser_password_file, describer, "front")  # the admin PC
    b, cb = join_door(tmp_path / "b", site_url, ca, describer, "back")
    station = None
    try:
        a.enroll_samples("Plumber", samples_of(faces["obama"][:2]))
        a.enroll_samples("Guest", samples_of(faces["kit"]))
        a.enroll_samples("Staff", samples_of(faces["rose"]))
        sync_once(a, ca)
        approve_all(ca)
        later = (datetime.now() + timedelta(hours=2)).isoformat()
        with SiteAdmin.from_config(ca) as admin:
            admin.set_pass("Plumber", later)
            admin.set_pass("Guest", later)
        # the site's retention setting: the admin PC's visitors' (10 days here, 30 by default)
        settings = VisitorSettings.load(a.store)
        settings.retention_days = 10
        settings.save(a.store)
        superuser.execute(
            "UPDATE facegate.passes SET valid_until = now() - CASE WHEN person_id = "
            "(SELECT id FROM facegate.people WHERE name = 'Plumber') THEN interval '11 days' ELSE interval '9 days' END"
        )
        for g, c in ((a, ca), (b, cb)):
            sync_once(g, c)
            assert sorted(p.name for p in g.people()) == ["Guest", "Plumber", "Staff"]

        station = Station(a, descriptor_worker=InlineWorker(describer))  # the admin PC's app, as it runs
        assert station.site is not None and station.site.after_round is not None
        station.start()
        deadline = time.monotonic() + 30
        while "Plumber" in {p.name for p in a.people()}:
            assert time.monotonic() < deadline, "the admin PC's sync never purged the expired pass"
            time.sleep(0.1)
        purged = AccessLog(a.store).events(verdict=Verdict.PURGED)
        assert len(purged) == 1 and "(Plumber)" in purged[0].reason and "over 10 days ago" in purged[0].reason
        assert AccessLog(a.store).verify().ok

        sync_once(b, cb)  # the other door's next pull
        assert sorted(p.name for p in b.people()) == ["Guest", "Staff"]  # Guest's pass ended 9 days ago: kept
        assert sorted(p.name for p in a.people()) == ["Guest", "Staff"]
    finally:
        if station is not None:
            station.close()
        a.close()
        b.close()
