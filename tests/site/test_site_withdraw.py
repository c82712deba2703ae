"""A door takes back what it proposed and no admin approved yet (facegate.door_withdraw): the
review queue's undo (a learned or clicked face that was not theirs) and the People page's remove
withdraw the proposal at the site, so no admin can approve it later and no door ever gets it; a
door cannot withdraw another door's proposal or an approved sample; offline, the withdrawal waits
in the outbox and goes before anything else. Over a real PostgreSQL + pgvector, the real CLI."""

from __future__ import annotations

import threading
import time

import numpy as np
import psycopg
import pytest

from core.door.review import LEARNED
from core.gallery.api import Gallery
from core.gallery.store import NewSample
from core.site.admin import SiteAdmin
from core.site.config import SiteError
from core.site.local import LocalSite
from core.site.people import remove_sample
from core.site.sync import open_door_connection, sync_once
from tests.support.cli import facegate
from tests.support.site import CuttableProxy, approve_all, join_door, start_site


def _learn(gallery, name: str, vec) -> tuple[int, str]:
    """Learning mode's mistake: a stranger's face added to ``name`` as a learned sample."""
    _, (sample_id,) = gallery.enroll_samples(name, [NewSample(np.asarray(vec, np.float32), None, f"{LEARNED} (face #7)")])
    ((site_id,),) = gallery.store.read("SELECT site_id FROM samples WHERE id = ?", (sample_id,))
    return sample_id, site_id


def _named(gallery, vec) -> str | None:
    return gallery.identify_descriptor(np.asarray(vec, np.float32)).name


def _site_samples(config) -> dict[str, int]:
    with SiteAdmin.from_config(config) as admin:
        return {p["name"]: p["samples"] for p in admin.people()}


def _proposals(config) -> list:
    with SiteAdmin.from_config(config) as admin:
        return admin.proposals()


def _withdraw(config, ids: list[str]) -> int:
    """What the door's own login can run: the site's door_withdraw."""
    with open_door_connection(config) as conn, conn.transaction():
        return conn.execute("SELECT facegate.door_withdraw(%s::uuid[])", (ids,)).fetchone()[0]


def _two_doors(tmp_path, url: str, superuser_pw, describer, vecs) -> tuple:
    """Admin PC A (door "front") enrolls Barack from ``vecs`` and door B ("back") has him too:
    (a, its config, b, its config)."""
    a, ca = start_site(tmp_path / "a", url, superuser_pw, describer, "front")
    b, cb = join_door(tmp_path / "b", url, ca, describer, "back")
    a.enroll_samples("Barack", [NewSample(np.asarray(v, np.float32), None, "test") for v in vecs])
    sync_once(a, ca)
    sync_once(b, cb)
    return a, ca, b, cb


def test_an_undone_learned_sample_is_withdrawn_and_no_door_ever_gets_it(
    tmp_path, site_url, superuser_password_file, describer, faces
):
    """The issue's scenario: door B learns Biden's face as Barack, pushes it, the operator undoes
    it (`facegate recent undo --sample`); then the admin approves whatever is open and every PC
    syncs: nobody names Biden as Barack, and no proposal is left."""
    a, ca, b, cb = _two_doors(tmp_path, site_url, superuser_password_file, describer, faces["obama"][:2])
    try:
        sample, _ = _learn(b, "Barack", faces["biden"][0])
        assert sync_once(b, cb).pushed_samples == 1
        assert [p.samples for p in _proposals(ca)] == [1]
        b.close()
        out = facegate("recent", "undo", str(sample), "--sample", "--db", tmp_path / "b" / "gallery.db", check=True)
        assert f"sample {sample} removed" in out.stdout
        b = Gallery(tmp_path / "b" / "gallery.db", describer=describer)
        assert LocalSite(b.store).outbox_size() == 0  # withdrawn at the site there and then
        assert _proposals(ca) == [] and _site_samples(ca) == {"Barack": 2}
        assert approve_all(ca) == 0
        sync_once(a, ca)
        sync_once(b, cb)
        assert _named(a, faces["biden"][0]) is None and _named(b, faces["biden"][0]) is None
        assert b.store.person("Barack").sample_count == 2 and _named(b, faces["obama"][2]) == "Barack"
        out = facegate("site", "proposals", "--db", tmp_path / "a" / "gallery.db", check=True)
        assert "Barack" not in out.stdout
    finally:
        a.close()
        b.close()


def test_a_door_withdraws_only_its_own_unapproved_proposals(tmp_path, site_url, superuser_password_file, describer, faces):
    """Through the doors' own logins: another door's proposal and an approved sample are refused,
    the whole call (nothing deleted); the People page's remove at a door PC withdraws a person the
    door proposed, who leaves the site with their last sample."""
    a, ca, b, cb = _two_doors(tmp_path, site_url, superuser_password_file, describer, faces["obama"][:1])
    try:
        _, approved = _learn(b, "Barack", faces["obama"][1])
        sync_once(b, cb)
        assert approve_all(ca) == 1
        _, mine = _learn(b, "Barack", faces["biden"][0])
        sync_once(b, cb)
        ((admins,),) = a.store.read("SELECT site_id FROM samples")

        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="was not proposed by this door"):
            _withdraw(ca, [mine])  # door A's login: door B's proposal
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="was not proposed by this door"):
            _withdraw(cb, [admins])
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="approved by an admin"):
            _withdraw(cb, [mine, approved])  # all or nothing: its own proposal stays too
        assert _site_samples(ca) == {"Barack": 3} and [p.samples for p in _proposals(ca)] == [1]
        with (
            pytest.raises(psycopg.errors.InsufficientPrivilege),  # the admin deletes as it is; the function is the doors'
            SiteAdmin.from_config(ca) as admin,
            admin.conn.transaction(),
        ):
            admin.conn.execute("SELECT facegate.door_withdraw(%s::uuid[])", ([mine],))

        # the People page at door B: the approved sample is refused, nothing changed anywhere
        ((approved_here,),) = b.store.read("SELECT id FROM samples WHERE site_id = ?", (approved,))
        with pytest.raises(SiteError, match="only the site's admin can remove their samples"):
            remove_sample(b, approved_here)
        assert b.store.person("Barack").sample_count == 3 and _site_samples(ca) == {"Barack": 3}
        b.close()  # the review queue's undo of it, from the command line: refused the same way
        out = facegate("recent", "undo", str(approved_here), "--sample", "--db", tmp_path / "b" / "gallery.db")
        assert out.returncode != 0 and "only the site's admin can remove their samples" in out.stderr
        b = Gallery(tmp_path / "b" / "gallery.db", describer=describer)
        assert b.store.person("Barack").sample_count == 3

        # a new person door B proposed: removing their only sample takes them off the site
        b.enroll_samples("Kit", [NewSample(np.asarray(faces["kit"][0], np.float32), None, "click")])
        sync_once(b, cb)
        assert sorted(p.person for p in _proposals(ca)) == ["Barack", "Kit"]
        ((kit,),) = b.store.read("SELECT s.id FROM samples s JOIN people p ON p.id = s.person_id WHERE p.name = 'Kit'")
        remove_sample(b, kit)
        assert [p.person for p in _proposals(ca)] == ["Barack"] and "Kit" not in _site_samples(ca)
        assert _withdraw(cb, [mine]) == 1 and _withdraw(cb, [mine]) == 0  # a retry changes nothing
        assert _proposals(ca) == [] and _site_samples(ca) == {"Barack": 2}
        with SiteAdmin.from_config(ca) as admin:
            decided = admin.conn.execute(
                "SELECT decision, decided_by FROM facegate.proposals WHERE decided IS NOT NULL"
            ).fetchall()
        assert [row for row in decided if row[0] == "withdrawn"] == [("withdrawn", "door back")] * 2  # Kit's, then Barack's
    finally:
        a.close()
        b.close()


def test_offline_the_withdrawal_waits_and_goes_before_anything_else(
    tmp_path, pg, site_url, superuser_password_file, describer, faces
):
    """Site unreachable: the undo is queued (the door drops the face at once); at the next sync
    it reaches the site before the door's newer enrollments. One an admin approved meanwhile is
    refused by the site and comes back to the door, saying so."""
    proxy = CuttableProxy(pg.port)
    url = proxy.url(site_url.rsplit("/", 1)[1])
    a, ca, b, cb = _two_doors(tmp_path, url, superuser_password_file, describer, faces["obama"][:1])
    try:
        stranger, _ = _learn(b, "Barack", faces["biden"][0])
        sync_once(b, cb)
        assert [p.samples for p in _proposals(ca)] == [1]

        proxy.cut()
        b.close()  # the review queue's undo, from the command line
        out = facegate("recent", "undo", str(stranger), "--sample", "--db", tmp_path / "b" / "gallery.db", check=True)
        assert "its withdrawal at the site waits for the next sync (1 waiting)" in out.stdout
        b = Gallery(tmp_path / "b" / "gallery.db", describer=describer)
        _learn(b, "Barack", faces["obama"][1])  # taken after the undo, offline too
        assert _named(b, faces["biden"][0]) is None
        assert [kind for (kind,) in b.store.read("SELECT kind FROM site_outbox ORDER BY id")] == ["withdraw", "sample"]
        proxy.restore()
        report = sync_once(b, cb)
        assert report.pushed_samples == 1 and not report.notes[:-1] and LocalSite(b.store).outbox_size() == 0
        assert _site_samples(ca) == {"Barack": 2} and [p.samples for p in _proposals(ca)] == [1]  # Biden's face is gone

        late, _ = _learn(b, "Barack", faces["lin"][0])
        sync_once(b, cb)
        proxy.cut()
        remove_sample(b, late)
        proxy.restore()
        assert (
            approve_all(ca) == 2
        )  # the admin approves before the door is back (two pushes: two proposals): the face is the site's
        report = sync_once(b, cb)
        assert any("withdrawal was refused" in n and "approved by an admin" in n for n in report.notes)
        assert LocalSite(b.store).outbox_size() == 0
        assert _named(b, faces["lin"][0]) == "Barack"  # back here, saying so: only an admin removes it now
        sync_once(a, ca)
        assert _named(a, faces["biden"][0]) is None and _named(a, faces["obama"][1]) == "Barack"
    finally:
        a.close()
        b.close()
        proxy.close()


def test_an_approval_racing_a_withdrawal_waits_and_finds_nothing(
    tmp_path, site_url, superuser, superuser_password_file, describer, faces
):
    """The admin approves while the door's withdrawal is under way: the approval waits on the
    samples the withdrawal locked, then approves nothing and says the proposal was decided
    meanwhile; the proposal stays withdrawn."""
    a, ca, b, cb = _two_doors(tmp_path, site_url, superuser_password_file, describer, faces["obama"][:1])
    try:
        _, mine = _learn(b, "Barack", faces["biden"][0])
        sync_once(b, cb)
        approving, outcome = None, []

        def approve() -> None:
            try:
                outcome.append(approve_all(ca))
            except SiteError as exc:
                outcome.append(str(exc))

        with open_door_connection(cb) as conn, conn.transaction():
            assert conn.execute("SELECT facegate.door_withdraw(%s::uuid[])", ([mine],)).fetchone()[0] == 1
            approving = threading.Thread(target=approve)
            approving.start()
            for _ in range(200):  # until the admin's session waits on the door's lock
                waiting = superuser.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND usename = 'facegate_admin'"
                ).fetchone()[0]
                if waiting:
                    break
                time.sleep(0.05)
            assert waiting == 1
        approving.join(30)
        assert not approving.is_alive()
        assert len(outcome) == 1 and "was decided meanwhile" in str(outcome[0]), outcome
        assert _site_samples(ca) == {"Barack": 1} and _proposals(ca) == []
        decision = superuser.execute("SELECT decision FROM facegate.proposals ORDER BY id DESC LIMIT 1").fetchone()[0]
        assert decision == "withdrawn"
        sync_once(a, ca)
        assert _named(a, faces["biden"][0]) is None
    finally:
        a.close()
        b.close()
