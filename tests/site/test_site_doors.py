"""Doors in processes of their own, each with its sync thread (LISTEN/NOTIFY), its decider and
its SQLite + hnswlib copy: propagation within 2 s while online, revocation, and a network cut
(a proxy between the doors and the server drops every connection and refuses new ones)."""

from __future__ import annotations

from core.site.admin import SiteAdmin
from core.site.config import SiteConfig
from tests.support.site import CuttableProxy, DoorProcess, join_door, start_site

GRANTED = "Granted"


def _site_of_three(tmp_path, url, superuser_password_file, describer):
    """Three doors joined through ``url``, then closed so their processes can own them."""
    a, ca = start_site(tmp_path / "a", url, superuser_password_file, describer, "front")
    b, _ = join_door(tmp_path / "b", url, ca, describer, "back", admin=True, enrolls_into="everyone")  # an admin PC
    c, _ = join_door(tmp_path / "c", url, ca, describer, "server room")
    paths = [g.store.path for g in (a, b, c)]
    for g in (a, b, c):
        g.close()
    return ca, paths


def test_online_doors_get_enrollments_and_revocations_within_two_seconds(
    tmp_path, site_url, superuser_password_file, describer, faces
):
    config, paths = _site_of_three(tmp_path, site_url, superuser_password_file, describer)
    doors = [DoorProcess(p) for p in paths]
    try:
        a, b, c = doors
        for door in doors:
            door.wait_for("status", lambda s: s["online"])
        a.ask("enroll", name="Barack", vecs=faces["obama"][:2])
        for door in (b, c):
            answer, seconds = door.wait_for("identify", lambda r: r["name"] == "Barack", vec=faces["obama"][2])
            assert seconds < 2.0, f"named after {seconds:.2f} s"
            assert door.ask("visit", vec=faces["obama"][2])["verdict"] == GRANTED
        with SiteAdmin.from_config(config) as admin:
            admin.delete("Barack")
        for door in doors:
            # refused at once; named by nobody once the deletion is in the store and the index both
            answer, seconds = door.wait_for(
                "visit", lambda r: r["verdict"] != GRANTED and r["name"] is None, vec=faces["obama"][2]
            )
            assert seconds < 2.0, answer
        # and removal from the door's group: Joe may no longer open the server room
        b.ask("enroll", name="Joe", vecs=faces["biden"])
        c.wait_for("visit", lambda r: r["verdict"] == GRANTED, vec=faces["biden"][0])
        with SiteAdmin.from_config(config) as admin:
            admin.remove_from_group("everyone", "Joe")
        answer, seconds = c.wait_for("visit", lambda r: r["verdict"] != GRANTED, vec=faces["biden"][0])
        assert seconds < 2.0
    finally:
        for door in doors:
            door.close()


def test_a_network_cut_loses_no_event_and_sends_none_twice(tmp_path, pg, site_url, superuser_password_file, describer, faces):
    proxy = CuttableProxy(pg.port)
    config, paths = _site_of_three(tmp_path, proxy.url(site_url.rsplit("/", 1)[1]), superuser_password_file, describer)
    doors = [DoorProcess(p) for p in paths[:2]]
    try:
        a, b = doors
        a.ask("enroll", name="Barack", vecs=faces["obama"][:2])
        b.wait_for("identify", lambda r: r["name"] == "Barack", vec=faces["obama"][2])
        proxy.cut()
        for door in doors:
            door.wait_for("status", lambda s: not s["online"])
        for _round in range(5):  # both keep recognising and logging, offline
            for door in doors:
                assert door.ask("visit", vec=faces["obama"][2])["verdict"] == GRANTED
                assert door.ask("visit", vec=faces["kit"][0])["verdict"] == "Unknown"
        for door in doors:
            status = door.ask("status")
            assert not status["online"] and status["outbox"] >= 10
        logged = sum(door.ask("status")["events"] for door in doors)
        proxy.restore()
        for door in doors:
            door.wait_for("status", lambda s: s["online"] and s["outbox"] == 0, timeout=20)
        with SiteAdmin.from_config(SiteConfig.load(paths[0])) as admin:
            total, distinct = admin.conn.execute("SELECT count(*), count(DISTINCT id) FROM facegate.events").fetchone()
            verdicts = dict(admin.conn.execute("SELECT verdict, count(*) FROM facegate.events GROUP BY 1").fetchall())
        assert total == distinct == logged
        assert verdicts == {GRANTED: 10, "Unknown": 10}
    finally:
        for door in doors:
            door.close()
        proxy.close()
