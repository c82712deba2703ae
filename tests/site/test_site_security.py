"""Least privilege, enforced by PostgreSQL: a door's role cannot change anyone; credentials only
from 0600 files, never on the command line or in the log; TLS with verify-full; the offline
policy at the point where the door decides."""

from __future__ import annotations

import json
import os
import uuid
from datetime import datetime, timedelta, timezone

import psycopg
import pytest

from core.door.verdict import Verdict
from core.site.config import NOBODY, SiteConfig, SiteError, SiteSettings, check_url, connect, read_password_file
from core.site.local import HEARD_KEY
from core.site.sync import open_door_connection, sync_once
from tests.support.site import TlsProxy, grant_attempt, join_door, make_ca_and_cert, password_file, samples_of, start_site


def test_a_door_role_cannot_change_or_delete_people_nor_log_for_another_door(
    tmp_path, site_url, superuser_password_file, describer, faces
):
    a, ca = start_site(tmp_path / "a", site_url, superuser_password_file, describer, "front")
    b, cb = join_door(tmp_path / "b", site_url, ca, describer, "back")
    try:
        a.enroll_samples("Joe", samples_of(faces["biden"]))
        sync_once(a, ca)
        with open_door_connection(cb) as door:
            (person,) = door.execute("SELECT id FROM facegate.people").fetchone()  # it may read its groups' people
            for statement in (
                "UPDATE facegate.people SET name = 'Mallory'",
                "DELETE FROM facegate.people",
                "DELETE FROM facegate.samples",
                "UPDATE facegate.samples SET descriptor = descriptor",
                "INSERT INTO facegate.group_members SELECT id, id FROM facegate.people",
                "DELETE FROM facegate.changes",
                "SELECT * FROM facegate.events",
                "UPDATE facegate.site_settings SET value = 'true'",
            ):
                with pytest.raises(psycopg.errors.InsufficientPrivilege):
                    door.execute(statement)
            with pytest.raises(psycopg.errors.InsufficientPrivilege):  # the admin's function
                door.execute("SELECT facegate.add_door('evil', 'SCRAM-SHA-256$x')")
            assert door.execute("SELECT facegate.door_update(%s, 'Mallory', true)", (person,)).fetchone()[0] == "refused"
            with pytest.raises(psycopg.errors.InsufficientPrivilege):  # events only in its own name
                door.execute(
                    "INSERT INTO facegate.events_inbox(id, door_id, time, verdict) VALUES (%s, %s, now(), 'Granted')",
                    (uuid.uuid4(), ca.door_id),
                )
        with open_door_connection(ca) as door:
            assert door.execute("SELECT name FROM facegate.people").fetchall() == [("Joe",)]
    finally:
        a.close()
        b.close()


def test_snapshots_reach_the_site_only_if_it_keeps_them(tmp_path, site_url, superuser_password_file, describer, faces):
    from core.door.access_log import AccessEvent, AccessLog
    from core.site.admin import SiteAdmin

    a, ca = start_site(tmp_path / "a", site_url, superuser_password_file, describer)
    try:
        log = AccessLog(a.store)
        log.record(AccessEvent("Unknown", descriptor=faces["kit"][0], snapshot=b"\xff\xd8jpeg"))
        sync_once(a, ca)
        with SiteAdmin.from_config(ca) as admin:
            admin.keep_snapshots(True)
            log.record(AccessEvent("Unknown", descriptor=faces["rose"][0], snapshot=b"\xff\xd8jpeg"))
            sync_once(a, ca)
            rows = admin.conn.execute("SELECT snapshot IS NOT NULL FROM facegate.events ORDER BY time").fetchall()
            assert rows == [(False,), (True,)]
            admin.keep_snapshots(False)
            with open_door_connection(ca) as door:  # a door that ignores the setting still cannot store one
                door.execute(
                    "INSERT INTO facegate.events_inbox(id, door_id, time, verdict, snapshot) "
                    "VALUES (%s, %s, now(), 'Unknown', 'jpeg')",
                    (uuid.uuid4(), ca.door_id),
                )
            assert admin.conn.execute("SELECT count(*) FROM facegate.events WHERE snapshot IS NOT NULL").fetchone() == (1,)
    finally:
        a.close()


def test_credentials_live_in_0600_files_never_in_urls_or_the_log(tmp_path, site_url, superuser_password_file, describer, faces):
    from core import logs

    logs.setup(tmp_path / "a")
    with pytest.raises(SiteError, match="holds a password"):
        check_url(site_url.replace("postgres@", "postgres:secret@"))
    loose = password_file(tmp_path, "pw", "loose.pw")
    os.chmod(loose, 0o644)
    with pytest.raises(SiteError, match="others may read"):
        read_password_file(loose)
    a, ca = start_site(tmp_path / "a", site_url, superuser_password_file, describer)
    try:
        path = SiteConfig.path_for(a.store.path)
        assert oct(path.stat().st_mode & 0o777) == "0o600"
        saved = json.loads(path.read_text())
        assert saved["door_login"]["password"] == ca.door_login.password and "password" not in saved["url"]
        a.enroll_samples("Joe", samples_of(faces["biden"]))
        sync_once(a, ca)
        with pytest.raises(SiteError, match="cannot reach the site"):  # a wrong password is refused by the server
            connect(site_url, ca.door_login.__class__(ca.door_login.role, "wrong"))
        log_text = (tmp_path / "a" / "facegate.log").read_text() if (tmp_path / "a" / "facegate.log").exists() else ""
        for secret in (ca.door_login.password, ca.admin_login.password, "site-test-superuser"):
            assert secret not in log_text
        assert ca.door_login.password not in a.store.read("SELECT group_concat(value) FROM meta")[0][0]
        os.chmod(path, 0o644)
        with pytest.raises(SiteError, match="others may read"):
            SiteConfig.load(a.store.path)
    finally:
        a.close()


def test_tls_verify_full_checks_the_servers_certificate(tmp_path, pg, site_url, superuser_password_file):
    ca, cert, key = make_ca_and_cert(tmp_path / "tls", "localhost")
    other_ca, _, _ = make_ca_and_cert(tmp_path / "other", "localhost")
    proxy = TlsProxy(pg.port, cert, key)
    password = read_password_file(superuser_password_file)
    dbname = site_url.rsplit("/", 1)[1]
    try:
        good = f"postgresql://postgres@localhost:{proxy.port}/{dbname}?sslmode=verify-full&sslrootcert={ca}"
        with connect(good, password=password) as conn:
            assert conn.pgconn.ssl_in_use
            assert conn.execute("SELECT 1").fetchone() == (1,)
        with pytest.raises(SiteError, match="certificate verify failed"):  # signed by someone else
            connect(good.replace(str(ca), str(other_ca)), password=password)
        with pytest.raises(SiteError, match="does not match host name"):  # the certificate names another host
            connect(good.replace("localhost", "127.0.0.1"), password=password)
    finally:
        proxy.close()


def test_a_door_that_has_not_heard_from_its_site_follows_the_offline_policy(
    tmp_path, site_url, superuser_password_file, describer, faces
):
    a, ca = start_site(tmp_path / "a", site_url, superuser_password_file, describer)
    try:
        a.enroll_samples("Joe", samples_of(faces["biden"]))
        sync_once(a, ca)
        assert grant_attempt(a, faces["biden"][0])[0] == Verdict.GRANTED
        long_ago = (datetime.now(timezone.utc) - timedelta(hours=25)).isoformat()
        with a.store.write() as db:
            db.execute("UPDATE meta SET value = ? WHERE key = ?", (long_ago, HEARD_KEY))
        assert grant_attempt(a, faces["biden"][0])[0] == Verdict.GRANTED  # default policy: keep the last copy
        SiteSettings(offline_policy=NOBODY).save(a.store)
        verdict, reason = grant_attempt(a, faces["biden"][0])
        assert verdict == Verdict.DENIED and "has not heard from its site for 25.0 h" in reason
        sync_once(a, ca)  # back in touch: the door opens again
        assert grant_attempt(a, faces["biden"][0])[0] == Verdict.GRANTED
    finally:
        a.close()


def test_a_door_whose_clock_is_off_its_sites_lets_nobody_in_until_it_is_set_right(
    tmp_path, site_url, superuser_password_file, describer, faces, monkeypatch
):
    """A clock set back two days made an ended visitor pass valid again once the next sync had
    stamped "heard" on it: each sync now measures the door's clock against the server's."""
    import core.site.sync as sync

    a, ca = start_site(tmp_path / "a", site_url, superuser_password_file, describer)
    try:
        a.enroll_samples("Joe", samples_of(faces["biden"]))
        sync_once(a, ca)
        assert grant_attempt(a, faces["biden"][0])[0] == Verdict.GRANTED
        real = sync.door_clock
        for off, said in ((-2 * 86400, "2880 min behind"), (600, "10 min ahead of")):
            monkeypatch.setattr(sync, "door_clock", lambda off=off: real() + timedelta(seconds=off))
            report = sync_once(a, ca)  # the sync itself goes on: revocations still arrive
            assert report.cursor > 0
            verdict, reason = grant_attempt(a, faces["biden"][0])
            assert verdict == Verdict.DENIED and f"clock was {said} its site's" in reason, reason
        monkeypatch.setattr(sync, "door_clock", lambda: real() + timedelta(seconds=60))  # within the slack
        sync_once(a, ca)
        assert grant_attempt(a, faces["biden"][0])[0] == Verdict.GRANTED
    finally:
        a.close()
