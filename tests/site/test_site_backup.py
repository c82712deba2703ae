"""The whole site backed up to one file and restored into a new server: the doors follow it
there without re-joining (same logins, same cursors) and nothing is missing. Two real PostgreSQL
servers, real doors, the real command line."""

from __future__ import annotations

import io
import json
import tarfile

from core.door.access_log import AccessEvent, AccessLog
from core.site.admin import SiteAdmin
from core.site.sync import sync_once
from tests.support.cli import facegate
from tests.support.pg import PgServer
from tests.support.site import approve_all, join_door, samples_of, start_site


def test_a_site_restored_into_a_new_server_is_followed_by_its_doors(
    tmp_path, private_root, site_url, superuser_password_file, describer, faces
):
    a, ca = start_site(tmp_path / "a", site_url, superuser_password_file, describer, "front")
    b, cb = join_door(tmp_path / "b", site_url, ca, describer, "back", enrolls_into="everyone")
    other = PgServer(private_root / "restored").start()  # a short path: the socket's must fit 107 bytes
    try:
        a.enroll_samples("Barack", samples_of(faces["obama"][:2]))
        b.enroll_samples("Joe", samples_of(faces["biden"]))
        for g, c in ((a, ca), (b, cb)):
            AccessLog(g.store).record(AccessEvent("Unknown", descriptor=faces["kit"][0]))
            sync_once(g, c)
        approve_all(ca)
        for g, c in ((a, ca), (b, cb)):
            sync_once(g, c)
        with SiteAdmin.from_config(ca) as admin:
            before = {
                t: admin.conn.execute(f"SELECT count(*) FROM facegate.{t}").fetchone()[0]
                for t in ("people", "samples", "events", "doors", "proposals")
            }
        assert before["people"] == 2 and before["events"] == 2
        file = tmp_path / "site.fgsite"
        out = facegate(
            "site",
            "backup",
            file,
            site_url,
            "--password-file",
            superuser_password_file,
            "--db",
            tmp_path / "a" / "gallery.db",
            "--json",
            check=True,
        )
        assert json.loads(out.stdout)["counts"]["samples"] == 3 and oct(file.stat().st_mode & 0o777) == "0o600"

        damaged = tmp_path / "damaged.fgsite"
        with tarfile.open(file) as tar, tarfile.open(damaged, "w") as bad:
            for member in tar.getmembers():
                data = bytearray(tar.extractfile(member).read())
                if member.name == "site.dump":
                    data[len(data) // 2] ^= 0xFF
                bad.addfile(member, io.BytesIO(bytes(data)))
        other.sql("ALTER ROLE postgres PASSWORD 'site-test-superuser'")
        other.sql("CREATE DATABASE restored")
        new_url = other.url("restored")
        refused = facegate(
            "site", "restore", damaged, new_url, "--password-file", superuser_password_file, "--db", tmp_path / "a" / "gallery.db"
        )
        assert refused.returncode == 2 and "damaged" in refused.stderr

        facegate(
            "site",
            "restore",
            file,
            new_url,
            "--password-file",
            superuser_password_file,
            "--db",
            tmp_path / "a" / "gallery.db",
            check=True,
        )
        a.close()
        b.close()
        for door in ("a", "b"):
            moved = facegate("site", "move", new_url, "--db", tmp_path / door / "gallery.db", check=True)
            assert "now follows its site" in moved.stdout
        from core.gallery.api import Gallery
        from core.site.config import SiteConfig

        a = Gallery(tmp_path / "a" / "gallery.db", describer=describer)
        b = Gallery(tmp_path / "b" / "gallery.db", describer=describer)
        ca, cb = SiteConfig.load(a.store.path), SiteConfig.load(b.store.path)
        with SiteAdmin.from_config(ca) as admin:  # the admin's login came along too
            after = {t: admin.conn.execute(f"SELECT count(*) FROM facegate.{t}").fetchone()[0] for t in before}
            assert after == before
        a.enroll_samples("Kit", samples_of(faces["kit"][:1]))  # life goes on at the new server
        AccessLog(b.store).record(AccessEvent("Unknown", descriptor=faces["rose"][0]))
        for g, c in ((a, ca), (b, cb)):
            report = sync_once(g, c)
            assert not report.notes, report.notes
        sync_once(b, cb)
        assert b.identify_descriptor(faces["kit"][1]).name == "Kit"
        with SiteAdmin.from_config(ca) as admin:
            admin.delete("Joe")
            assert admin.conn.execute("SELECT count(*) FROM facegate.events").fetchone()[0] == 3
        sync_once(b, cb)
        assert b.identify_descriptor(faces["biden"][0]).name is None
        a.close()
        b.close()
    finally:
        other.remove()
        for g in (a, b):
            g.close()


def test_doors_ahead_of_an_older_backup_read_the_restored_site_whole_and_follow_its_revocations(
    tmp_path, private_root, site_url, superuser_password_file, describer, faces
):
    """A backup, then more work the doors pull (their cursors move past the backup's change
    log); the server lost, the backup restored. The restored log numbers its changes from the
    backup's on, below the doors' cursors: a door pulling on from its cursor would skip them
    (a deletion at the restored site never arrived, and a person the backup never had kept
    opening the door). A restore gives the site a new epoch, and each door reads it whole again."""
    from core.gallery.api import Gallery
    from core.site.config import SiteConfig
    from core.site.local import LocalSite
    from tests.support.site import grant_attempt

    a, ca = start_site(tmp_path / "a", site_url, superuser_password_file, describer, "front")
    b, cb = join_door(tmp_path / "b", site_url, ca, describer, "back", enrolls_into="everyone")
    other = PgServer(private_root / "older").start()
    try:
        a.enroll_samples("Joe", samples_of(faces["biden"]))
        a.enroll_samples("Barack", samples_of(faces["obama"][:2]))
        sync_once(a, ca)
        approve_all(ca)
        sync_once(a, ca)
        sync_once(b, cb)
        file = tmp_path / "site.fgsite"
        facegate("site", "backup", file, site_url, "--password-file", superuser_password_file, "--db", a.store.path, check=True)
        with SiteAdmin.from_config(ca) as admin:  # the day goes on after the nightly backup
            for i in range(5):
                admin.rename("Barack" if i == 0 else f"Barack {i - 1}", f"Barack {i}")
        a.enroll_samples("Kit", samples_of(faces["kit"][:1]))
        sync_once(a, ca)
        approve_all(ca)
        sync_once(a, ca)
        sync_once(b, cb)
        assert b.identify_descriptor(faces["kit"][1]).name == "Kit"
        ahead = LocalSite(b.store).cursor()

        other.sql("ALTER ROLE postgres PASSWORD 'site-test-superuser'")
        other.sql("CREATE DATABASE restored")
        new_url = other.url("restored")
        facegate("site", "restore", file, new_url, "--password-file", superuser_password_file, "--db", a.store.path, check=True)
        a.close()
        b.close()
        for door in ("a", "b"):
            facegate("site", "move", new_url, "--db", tmp_path / door / "gallery.db", check=True)
        a = Gallery(tmp_path / "a" / "gallery.db", describer=describer)
        b = Gallery(tmp_path / "b" / "gallery.db", describer=describer)
        ca, cb = SiteConfig.load(a.store.path), SiteConfig.load(b.store.path)
        with SiteAdmin.from_config(ca) as admin:
            admin.delete("Joe")  # the admin's first act on the restored site
            newest = admin.conn.execute("SELECT max(seq) FROM facegate.changes").fetchone()[0]
        assert newest <= ahead  # the restored log is behind the door: the case this test is about
        report = sync_once(b, cb)
        assert any("2 person(s) it no longer has were dropped" in n for n in report.notes), report.notes  # Joe, Kit
        assert grant_attempt(b, faces["biden"][0])[0] != "Granted"  # Joe, deleted at the restored site
        assert b.identify_descriptor(faces["kit"][1]).name is None  # Kit, whom the backup never had
        assert b.identify_descriptor(faces["obama"][0]).name == "Barack"  # the backup's name, as the site has it
        assert LocalSite(b.store).cursor() == newest
        assert not sync_once(b, cb).notes  # once: the next round pulls on from the new cursor
        with SiteAdmin.from_config(ca) as admin:
            admin.set_allowed("Barack", False)
        sync_once(b, cb)
        assert grant_attempt(b, faces["obama"][0])[0] != "Granted"
    finally:
        other.remove()
        a.close()
        b.close()
