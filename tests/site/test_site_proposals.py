"""No path teaches the site a wrong face: what a door adds is a proposal until an admin approves
it, a door never allows anyone, an admin PC's remove removes everywhere, a door reads only the
change rows of people it may see, and a broken site file keeps the door shut. A real PostgreSQL
+ pgvector, real galleries, the real command line."""

from __future__ import annotations

import json
import os
import subprocess
import time
import uuid
from datetime import datetime, timedelta, timezone

import numpy as np
import psycopg
import pytest

from core.cli.main import main
from core.door.verdict import Verdict
from core.gallery.photo_views import VIEW_WIDTHS
from core.site.admin import SiteAdmin, require_extension
from core.site.config import SiteConfig, SiteError, SiteSettings, check_url, connect, read_password_file, site_of
from core.site.local import HEARD_KEY
from core.site.people import plan_removal, remove_person
from core.site.sync import open_door_connection, sync_once
from tests.support.cli import facegate, facegate_command
from tests.support.data import CLIP, IMAGES, ROOT
from tests.support.site import grant_attempt, join_door, samples_of, start_site


def _named(gallery, vec) -> str | None:
    return gallery.identify_descriptor(np.asarray(vec, np.float32)).name


def _door_proposes(conn, person: str, name: str, vecs, allowed: bool = True) -> tuple:
    """What a stolen door PC could run through its own login: door_enroll with any vectors."""
    vectors = np.concatenate([np.asarray(v, np.float32) for v in vecs]).tolist()
    ids = [str(uuid.uuid4()) for _ in vecs]
    with conn.transaction():
        return conn.execute(
            "SELECT * FROM facegate.door_enroll(%s::uuid, %s, %s, %s::uuid[], %s::real[], %s::bytea[], %s::text[], "
            "%s::real[], %s::timestamptz[], %s::text[], %s)",
            (
                person,
                name,
                allowed,
                ids,
                vectors,
                [None] * len(ids),
                ["sql"] * len(ids),
                [None] * len(ids),
                [None] * len(ids),
                ["photo"] * len(ids),
                "mallory",
            ),
        ).fetchone()


def test_a_door_enrolling_another_face_under_a_name_is_held_as_a_proposal(
    tmp_path, site_url, superuser_password_file, describer, faces
):
    """The issue's attack through the CLI: at door B, `facegate enroll P other-person.jpg`, sync B
    then A: A must not name the other person as P. The admin sees how far the face is from P."""
    a, ca = start_site(tmp_path / "a", site_url, superuser_password_file, describer, "front")
    b, cb = join_door(tmp_path / "b", site_url, ca, describer, "back")
    try:
        a.enroll_samples("Barack", samples_of(faces["obama"][:2]))
        sync_once(a, ca)
        sync_once(b, cb)
        assert _named(b, faces["obama"][2]) == "Barack"
        b.close()
        out = facegate("enroll", "Barack", IMAGES / "biden.jpg", "--db", cb_db(tmp_path), check=True)
        assert f"{1 + len(VIEW_WIDTHS)} sample(s) added" in out.stdout  # the photo and its camera views
        synced = facegate("site", "sync", "--db", cb_db(tmp_path), "--json", check=True)
        report = json.loads(synced.stdout)
        assert report["pushed_samples"] == 1 + len(VIEW_WIDTHS) and any("proposed to the site" in n for n in report["notes"])
        sync_once(a, ca)
        biden = faces["biden"][0]
        assert _named(a, biden) is None  # the admin PC does not take the door's word for it
        with SiteAdmin.from_config(ca) as admin:
            (proposal,) = admin.proposals()
            assert proposal.person == "Barack" and proposal.door == "back" and not proposal.new_person
            assert proposal.how == ["photo", "photo view"] and proposal.farthest is not None and proposal.farthest > 0.6
            assert "look before approving" in proposal.text()
            listed = facegate("site", "proposals", "--db", tmp_path / "a" / "gallery.db", check=True).stdout
            assert f"#{proposal.id} samples for 'Barack' from door 'back'" in listed
            rejected = facegate("site", "reject", str(proposal.id), "--db", tmp_path / "a" / "gallery.db", check=True)
            assert "rejected proposal" in rejected.stdout
            assert admin.proposals() == []
        from core.gallery.api import Gallery

        with Gallery(cb_db(tmp_path), describer=describer) as b2:
            sync_once(b2, cb)  # the proposing door drops what was rejected
            assert b2.store.person("Barack").sample_count == 2
            assert _named(b2, biden) is None
    finally:
        a.close()
        b.close()


def cb_db(tmp_path):
    return tmp_path / "b" / "gallery.db"


def test_a_stolen_door_login_can_only_propose_and_approval_reaches_other_doors(
    tmp_path, site_url, superuser_password_file, describer, faces
):
    a, ca = start_site(tmp_path / "a", site_url, superuser_password_file, describer, "front")
    b, cb = join_door(tmp_path / "b", site_url, ca, describer, "back")
    c, cc = join_door(tmp_path / "c", site_url, ca, describer, "side")
    try:
        a.enroll_samples("Barack", samples_of(faces["obama"][:1]))
        sync_once(a, ca)
        with SiteAdmin.from_config(ca) as admin:
            barack = admin.people()[0]["id"]
            admin.add_to_group("enrolled at back", "Barack")  # back's own group: B may see him
        with open_door_connection(cb) as door:
            # samples of anyone the door sees, straight through its login: a proposal, nothing more
            outcome, _, added, proposal = _door_proposes(door, barack, "Barack", faces["kit"])
            assert (outcome, added) == ("added", 2) and proposal is not None
            # a new person, "allowed", for itself: proposed, in its own group only
            mallory = str(uuid.uuid4())
            assert _door_proposes(door, mallory, "Mallory", faces["rose"][:1])[0] == "created"
            # it cannot allow anyone, nor read the proposals
            with SiteAdmin.from_config(ca) as admin:
                admin.set_allowed("Barack", False)
            assert door.execute("SELECT facegate.door_update(%s, 'Barack', true)", (barack,)).fetchone()[0] == "refused"
            assert door.execute("SELECT facegate.door_update(%s, 'Mal', true)", (mallory,)).fetchone()[0] == "applied"
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                door.execute("SELECT * FROM facegate.proposals")
        with SiteAdmin.from_config(ca) as admin:
            people = {p["name"]: p for p in admin.people()}
            assert people["Barack"]["allowed"] is False and people["Mal"]["allowed"] is True
            admin.set_allowed("Barack", True)
            admin.add_to_group("everyone", "Mal")  # even in a group: not until approved
        for g, conf in ((a, ca), (b, cb), (c, cc)):
            sync_once(g, conf)
        kit, rose = faces["kit"][0], faces["rose"][0]
        assert _named(a, kit) is None and _named(c, kit) is None and _named(c, rose) is None
        assert _named(b, rose) == "Mal"  # works at once where it was proposed
        with SiteAdmin.from_config(ca) as admin:
            found = {p.person: p for p in admin.proposals()}
            assert found["Mal"].new_person and found["Barack"].samples == 2
            admin.approve(found["Mal"].id)
            approved = facegate(
                "site", "approve", str(found["Barack"].id), "--db", tmp_path / "a" / "gallery.db", "--json", check=True
            )
            assert json.loads(approved.stdout)["verb"] == "approve"
            decided = admin.conn.execute(
                "SELECT p.decision, p.decided_by FROM facegate.proposals p JOIN facegate.doors d "
                "ON d.id = p.door_id WHERE d.name = 'back' ORDER BY p.id"
            ).fetchall()
            assert decided == [("approved", "facegate_admin at front")] * 2
            rows = admin.conn.execute(
                "SELECT how, added_by, status, approved_by IS NOT NULL FROM facegate.samples s "
                "JOIN facegate.doors d ON d.id = s.door_id WHERE d.name = 'back'"
            ).fetchall()
            assert set(rows) == {("photo", "mallory", "approved", True)}
        for g, conf in ((a, ca), (c, cc)):
            sync_once(g, conf)
        assert _named(a, kit) == "Barack" and _named(c, rose) == "Mal"  # approval makes them reach other doors
    finally:
        for g in (a, b, c):
            g.close()


def test_an_approval_covers_only_the_faces_the_admin_was_shown(tmp_path, site_url, superuser_password_file, describer, faces):
    """The admin lists a door's proposal (one near face) and approves it; a stranger's face the
    door (or whoever holds its login) pushed for the same person in between is a proposal of its
    own, not part of the one approved, and reaches no other door."""
    a, ca = start_site(tmp_path / "a", site_url, superuser_password_file, describer, "front")
    b, cb = join_door(tmp_path / "b", site_url, ca, describer, "back")
    try:
        a.enroll_samples("Barack", samples_of(faces["obama"][:1]))
        sync_once(a, ca)
        with SiteAdmin.from_config(ca) as admin:
            admin.add_to_group("enrolled at back", "Barack")
        sync_once(b, cb)
        b.enroll_samples("Barack", samples_of(faces["obama"][1:2]))  # a genuine new look
        sync_once(b, cb)
        with SiteAdmin.from_config(ca) as admin:
            (seen,) = admin.proposals()
            assert seen.samples == 1 and seen.farthest is not None and seen.farthest < 0.6
        b.enroll_samples("Barack", samples_of(faces["biden"][:1]))  # then a stranger, for the same person
        sync_once(b, cb)
        with SiteAdmin.from_config(ca) as admin:
            (later,) = [p for p in admin.proposals() if p.id != seen.id]
            assert later.person == "Barack" and later.samples == 1 and later.farthest is not None and later.farthest > 0.6
            admin.approve(seen.id)  # the proposal the admin looked at
            assert [p.id for p in admin.proposals()] == [later.id]  # the stranger's is still to be decided
            with pytest.raises(SiteError, match="no open proposal"):
                admin.approve(seen.id)
        sync_once(a, ca)
        assert _named(a, faces["obama"][1]) == "Barack"  # the face approved reached the other door...
        assert _named(a, faces["biden"][0]) is None  # ...the stranger's did not
    finally:
        a.close()
        b.close()


def test_an_admins_block_survives_a_doors_rename(tmp_path, site_url, superuser_password_file, describer, faces):
    a, ca = start_site(tmp_path / "a", site_url, superuser_password_file, describer, "front")
    b, cb = join_door(tmp_path / "b", site_url, ca, describer, "back")
    try:
        b.enroll_samples("Rob", samples_of(faces["kit"][:1]))
        sync_once(b, cb)
        with SiteAdmin.from_config(ca) as admin:
            (proposal,) = admin.proposals()
            admin.approve(proposal.id)
            admin.set_allowed("Rob", False)  # the admin blocks him; door B has not synced yet
        b.rename("Rob", "Robert")  # B's operator renames him on its stale, allowed copy
        assert b.store.person("Robert").allowed
        sync_once(b, cb)
        with SiteAdmin.from_config(ca) as admin:
            assert [(p["name"], p["allowed"]) for p in admin.people() if p["name"].startswith("Rob")] == [("Robert", False)]
        assert not b.store.person("Robert").allowed  # the block came back with the rename
        assert grant_attempt(b, faces["kit"][0])[0] != Verdict.GRANTED
    finally:
        a.close()
        b.close()


def test_remove_at_the_admin_pc_removes_from_every_door_and_a_door_pc_refuses(
    tmp_path, site_url, superuser_password_file, describer, faces
):
    a, ca = start_site(tmp_path / "a", site_url, superuser_password_file, describer, "front")
    b, cb = join_door(tmp_path / "b", site_url, ca, describer, "back")
    try:
        a.enroll_samples("Pat", samples_of(faces["rose"]))
        for g, c in ((a, ca), (b, cb), (a, ca)):
            sync_once(g, c)
        assert _named(b, faces["rose"][0]) == "Pat"
        with pytest.raises(SiteError, match="only the site's admin can remove"):
            plan_removal(b, "Pat")  # refused up front, not undone at the next sync
        a.close()
        b.close()
        refused = facegate("remove", "Pat", "--db", cb_db(tmp_path))
        assert refused.returncode != 0 and "facegate remove 'Pat'" in refused.stderr
        unconfirmed = facegate("remove", "Pat", "--db", tmp_path / "a" / "gallery.db")
        assert unconfirmed.returncode != 0 and "removes them from every door" in unconfirmed.stderr
        done = facegate("remove", "Pat", "--yes", "--db", tmp_path / "a" / "gallery.db", check=True)
        assert "from the site and every door" in done.stdout and "offline does when it next syncs" in done.stdout
        for db in (tmp_path / "a" / "gallery.db", cb_db(tmp_path)):
            facegate("site", "sync", "--db", db, check=True)
        from core.gallery.api import Gallery

        for db in (tmp_path / "a" / "gallery.db", cb_db(tmp_path)):
            with Gallery(db, describer=describer) as g:
                assert g.store.find_person("Pat") is None and _named(g, faces["rose"][0]) is None
    finally:
        a.close()
        b.close()


def test_a_person_not_at_the_site_yet_is_removed_here_only(tmp_path, site_url, superuser_password_file, describer, faces):
    a, ca = start_site(tmp_path / "a", site_url, superuser_password_file, describer, "front")
    b, cb = join_door(tmp_path / "b", site_url, ca, describer, "back")
    try:
        b.enroll_samples("Typo", samples_of(faces["kit"][:1]))  # never synced
        plan = plan_removal(b, "Typo")
        assert not plan.site_wide and plan.warning is None
        assert remove_person(b, "Typo") == 1
        sync_once(b, cb)
        with SiteAdmin.from_config(ca) as admin:
            assert admin.people() == [] and admin.proposals() == []
    finally:
        a.close()
        b.close()


def test_a_door_reads_only_the_change_rows_of_people_it_may_see(tmp_path, site_url, superuser_password_file, describer, faces):
    a, ca = start_site(tmp_path / "a", site_url, superuser_password_file, describer, "front")
    b, cb = join_door(tmp_path / "b", site_url, ca, describer, "back", open_for=None)
    try:
        a.enroll_samples("Joe", samples_of(faces["biden"]))
        a.enroll_samples("Kit", samples_of(faces["kit"][:1]))
        sync_once(a, ca)
        with SiteAdmin.from_config(ca) as admin:
            ids = {p["name"]: p["id"] for p in admin.people()}
            admin.create_group("IT")
            admin.open_door("IT", "back")
            admin.add_to_group("IT", "Kit")
        with open_door_connection(cb) as door:
            assert [r[0] for r in door.execute("SELECT person_id::text FROM facegate.changes")] == [ids["Kit"]]
        sync_once(b, cb)
        assert [p.name for p in b.people()] == ["Kit"]
        with SiteAdmin.from_config(ca) as admin:
            admin.remove_from_group("IT", "Kit")  # a revocation: B must still learn of it
            admin.rename("Joe", "Joseph")
        with open_door_connection(cb) as door:
            assert [r[0] for r in door.execute("SELECT person_id::text FROM facegate.changes")] == [ids["Kit"]]
        assert sync_once(b, cb).removed_people == 1 and b.people() == []
    finally:
        a.close()
        b.close()


def test_a_broken_site_file_keeps_the_door_shut(tmp_path, site_url, superuser_password_file, describer, faces):
    a, ca = start_site(tmp_path / "a", site_url, superuser_password_file, describer, "front")
    db = tmp_path / "a" / "gallery.db"
    path = SiteConfig.path_for(db)
    good = path.read_text()
    a.close()
    breakages = {
        "corrupt": lambda: path.write_text("{not json"),
        "readable by others": lambda: os.chmod(path, 0o644),
        "unreadable": lambda: (path.unlink(), path.mkdir()),
        "missing": lambda: path.unlink(),
    }
    for what, breakage in breakages.items():
        breakage()
        from core.gallery.store import Store

        store = Store(db, readonly=True)
        with pytest.raises(SiteError, match="stays shut"):
            site_of(store)
        store.close()
        status = facegate("status", "--db", db, "--json")
        assert status.returncode == 1, (what, status.stdout)
        assert any(p.startswith("site: ") for p in json.loads(status.stdout)["problems"]), what
        kiosk = subprocess.run(
            facegate_command("--db", db, "--kiosk", "--source", CLIP),
            capture_output=True,
            text=True,
            timeout=120,
            cwd=ROOT,
            env={**os.environ, "QT_QPA_PLATFORM": "offscreen"},
        )
        assert kiosk.returncode == 12 and "stays shut" in kiosk.stderr, (what, kiosk.stderr[-500:])
        if path.is_dir():
            path.rmdir()
        path.unlink(missing_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(good)
    # a door whose file is damaged can still leave the site (that is how it is mended)
    path.write_text("{not json")
    left = facegate("site", "leave", "--db", db, "--json", check=True)
    assert json.loads(left.stdout)["left"] == ca.door_id and "door remove" in json.loads(left.stdout)["note"]
    assert facegate("status", "--db", db, "--json").returncode != 1  # nothing wrong with the site now
    from core.gallery.store import Store

    store = Store(db, readonly=True)
    assert site_of(store) is None
    store.close()


def test_keep_has_a_limit_then_nobody_is_let_in(tmp_path, site_url, superuser_password_file, describer, faces):
    a, ca = start_site(tmp_path / "a", site_url, superuser_password_file, describer)
    try:
        a.enroll_samples("Joe", samples_of(faces["biden"]))
        sync_once(a, ca)
        assert SiteSettings.load(a.store).offline_policy == "keep"
        for days, verdict in ((6.5, Verdict.GRANTED), (7.5, Verdict.DENIED)):
            then = (datetime.now(timezone.utc) - timedelta(days=days)).isoformat()
            with a.store.write() as db:
                db.execute("UPDATE meta SET value = ? WHERE key = ?", (then, HEARD_KEY))
            got, reason = grant_attempt(a, faces["biden"][0])
            assert got == verdict, reason
        assert "more than the 7 days a door keeps its last copy" in reason
        # the clock set back (a wrong RTC corrected) leaves the last stamp ahead of it: how old the
        # copy is cannot be told, so nobody is let in until the site is heard again
        ahead = (datetime.now(timezone.utc) + timedelta(days=365)).isoformat()
        with a.store.write() as db:
            db.execute("UPDATE meta SET value = ? WHERE key = ?", (ahead, HEARD_KEY))
        got, reason = grant_attempt(a, faces["biden"][0])
        assert got == Verdict.DENIED and "ahead of its clock now" in reason, reason
        sync_once(a, ca)  # heard again, on today's clock
        assert grant_attempt(a, faces["biden"][0])[0] == Verdict.GRANTED
    finally:
        a.close()


def test_init_keeps_the_admin_login_only_when_asked(tmp_path, site_url, superuser_password_file):
    db = tmp_path / "a" / "gallery.db"
    refused = facegate("site", "init", site_url, "--door", "front", "--password-file", superuser_password_file, "--db", db)
    assert refused.returncode == 2 and "--admin-password-out" in refused.stderr
    out = tmp_path / "admin.pw"
    facegate(
        "site",
        "init",
        site_url,
        "--door",
        "front",
        "--password-file",
        superuser_password_file,
        "--db",
        db,
        "--admin-password-out",
        out,
        check=True,
    )
    assert oct(out.stat().st_mode & 0o777) == "0o600"
    config = SiteConfig.load(db)
    assert config.admin_login is None
    with connect(site_url.replace("postgres@", "facegate_admin@"), password=read_password_file(out)) as conn:
        assert conn.execute("SELECT name, enroll_group IS NOT NULL FROM facegate.doors").fetchall() == [("front", True)]


def test_clear_messages_for_a_missing_extension_and_an_http_url(site_url, superuser_password_file):
    with connect(site_url, password=read_password_file(superuser_password_file)) as conn:
        require_extension(conn, "vector")
        with pytest.raises(SiteError) as missing:
            require_extension(conn, "no_such_extension")
    assert "install it on the database server" in str(missing.value) and "postgresql-16-pgvector" in str(missing.value)
    with pytest.raises(SiteError) as http:
        check_url("http://db.example/facegate")
    assert "\n" not in str(http.value) and "postgresql://" in str(http.value)
    assert main(["site", "join", "http://db.example/facegate", "--door", "x", "--db", "/nonexistent/g.db"]) == 2


def test_a_headless_door_keeps_in_sync_with_site_sync_watch(tmp_path, site_url, superuser_password_file, describer, faces):
    a, ca = start_site(tmp_path / "a", site_url, superuser_password_file, describer, "front")
    b, cb = join_door(tmp_path / "b", site_url, ca, describer, "back")
    b.close()
    watch = subprocess.Popen(
        facegate_command("site", "sync", "--watch", "--db", cb_db(tmp_path)),
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert watch.stdout.readline().startswith("site online")
        a.enroll_samples("Joe", samples_of(faces["biden"]))
        sync_once(a, ca)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            line = watch.stdout.readline()
            if "pulled 1 people" in line:
                break
        else:
            pytest.fail("the watching door never pulled Joe")
    finally:
        watch.terminate()
        assert watch.wait(30) == 0
        a.close()
    from core.gallery.api import Gallery

    with Gallery(cb_db(tmp_path), describer=describer) as g:
        assert _named(g, faces["biden"][0]) == "Joe"
