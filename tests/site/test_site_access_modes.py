"""Access modes and PINs at a site (a real PostgreSQL): the admin PC sets them and every door
gets them (the hashes, never the PINs); a door PC is refused up front, its login cannot write
them, and a door that changes its own copy anyway gets the site's version back at its next sync."""

from __future__ import annotations

import psycopg
import pytest

from core.door.factors import access_change
from core.gallery.secret import matches
from core.site import people as site_people
from core.site.config import SiteError
from core.site.sync import open_door_connection, sync_once
from tests.support.site import join_door, samples_of, start_site

PIN, DURESS = "48213579", "91357246"


def test_modes_come_from_the_admin_and_no_door_can_change_them(tmp_path, site_url, superuser_password_file, describer, faces):
    a, ca = start_site(tmp_path / "a", site_url, superuser_password_file, describer, "front")  # the admin's PC
    b, cb = join_door(tmp_path / "b", site_url, ca, describer, "back")
    try:
        a.enroll_samples("Joe", samples_of(faces["biden"]))
        sync_once(a, ca)
        sync_once(b, cb)
        assert b.store.person("Joe").access == "face"

        change = access_change("face+pin", PIN, DURESS, None, None)
        plan = site_people.set_access(a, "Joe", change.access, change.pin, change.duress_pin)
        assert plan.site_wide
        sync_once(b, cb)
        joe = b.store.person("Joe")
        pin, duress = b.store.pins(joe.id)
        assert joe.access == "face+pin" and matches(pin, PIN) and matches(duress, DURESS)  # the door checks offline

        with pytest.raises(SiteError, match="only the site's admin can change how people open the doors"):
            site_people.set_access(b, "Joe", "face", None, None)
        assert b.store.person("Joe").access == "face+pin"  # refused up front: nothing changed

        with open_door_connection(cb) as door:
            for statement in (
                "UPDATE facegate.people SET access = 'face'",
                "UPDATE facegate.people SET pin = NULL, duress_pin = NULL",
            ):
                with pytest.raises(psycopg.errors.InsufficientPrivilege):
                    door.execute(statement)

        b.store.set_access("Joe", "face", None, None)  # a door PC's own copy changed behind FaceGate's back
        report = sync_once(b, cb)
        assert any("not taken by the site" in note for note in report.notes)
        joe = b.store.person("Joe")
        assert joe.access == "face+pin" and b.store.pins(joe.id) == (pin, duress)  # the site's version is back
        sync_once(a, ca)
        assert a.store.person("Joe").access == "face+pin"
    finally:
        a.close()
        b.close()
