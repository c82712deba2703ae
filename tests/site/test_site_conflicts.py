"""The written conflict rules (README, "Sites"), each with doors that were offline: the same new
name at two doors, a deletion at the site while a door added samples, a rename at two doors."""

from __future__ import annotations

from core.site.admin import SiteAdmin
from core.site.sync import sync_once
from tests.support.site import approve_all, jitter, join_door, samples_of, start_site


def _doors(tmp_path, site_url, superuser_password_file, describer):
    a, config_a = start_site(tmp_path / "a", site_url, superuser_password_file, describer, "front")
    b, config_b = join_door(tmp_path / "b", site_url, config_a, describer, "back", enrolls_into="everyone")
    return (a, config_a), (b, config_b)


def test_same_new_name_at_two_offline_doors_stays_two_people_flagged_as_likely_duplicates(
    tmp_path, site_url, superuser_password_file, describer, faces
):
    (a, ca), (b, cb) = _doors(tmp_path, site_url, superuser_password_file, describer)
    try:
        a.enroll_samples("Sam", samples_of(faces["obama"][:1]))  # both offline: the same face, the same name
        b.enroll_samples("Sam", samples_of(faces["obama"][1:2]))
        b.enroll_samples("Kit", samples_of(faces["kit"][:1]))  # and a namesake-free stranger
        sync_once(a, ca)
        report = sync_once(b, cb)
        assert any("kept apart as 'Sam (back)'" in note for note in report.notes)
        assert approve_all(ca) == 2  # a door's new people reach other doors once an admin approves them
        sync_once(a, ca)
        for g in (a, b):
            assert sorted(p.name for p in g.people()) == ["Kit", "Sam", "Sam (back)"]
        with SiteAdmin.from_config(ca) as admin:
            flagged = admin.duplicates()
            assert [(d["a"], d["b"]) for d in flagged] in ([("Sam", "Sam (back)")], [("Sam (back)", "Sam")])
            assert flagged[0]["distance"] < 0.4
            assert admin.merge("Sam", "Sam (back)") == 1
            assert admin.duplicates() == []
        for g, c in ((a, ca), (b, cb)):
            sync_once(g, c)
            assert sorted((p.name, p.sample_count) for p in g.people()) == [("Kit", 1), ("Sam", 2)]
            assert g.index.ids() == set(g.store.sample_owners())
    finally:
        a.close()
        b.close()


def test_a_person_deleted_at_the_site_stays_deleted_and_an_offline_doors_new_samples_are_dropped(
    tmp_path, site_url, superuser_password_file, describer, faces
):
    (a, ca), (b, cb) = _doors(tmp_path, site_url, superuser_password_file, describer)
    try:
        a.enroll_samples("Joe", samples_of(faces["biden"]))
        sync_once(a, ca)
        sync_once(b, cb)
        b.enroll_samples("Joe", samples_of([jitter(faces["biden"][0], s) for s in (1, 2, 3)]))  # b offline
        assert b.store.person("Joe").sample_count == 4
        with SiteAdmin.from_config(ca) as admin:
            admin.delete("Joe")
            report = sync_once(b, cb)
            assert any("3 sample(s) of 'Joe' taken at this door were dropped" in note for note in report.notes)
            assert b.people() == [] and len(b.index) == 0
            assert admin.people() == []
            assert admin.conn.execute("SELECT count(*) FROM facegate.samples").fetchone()[0] == 0
        sync_once(a, ca)
        assert a.identify_descriptor(faces["biden"][0]).name is None
    finally:
        a.close()
        b.close()


def test_renames_at_two_doors_central_order_wins(tmp_path, site_url, superuser_password_file, describer, faces):
    (a, ca), (b, cb) = _doors(tmp_path, site_url, superuser_password_file, describer)
    try:
        a.enroll_samples("Jon", samples_of(faces["kit"][:1]))
        sync_once(a, ca)
        sync_once(b, cb)
        a.rename("Jon", "Jonathan")  # both offline; a enrolled him, b did not
        b.rename("Jon", "Johnny")
        report = sync_once(b, cb)  # b's rename reaches the site first: a door may not rename others
        assert any("was not taken by the site" in note for note in report.notes)
        assert [p.name for p in b.people()] == ["Jon"]
        sync_once(a, ca)  # a's arrives second and is applied
        sync_once(b, cb)
        assert [p.name for p in a.people()] == [p.name for p in b.people()] == ["Jonathan"]
        with SiteAdmin.from_config(ca) as admin:
            admin.rename("Jonathan", "Jon Snow")  # the admin renames at the site...
            a.rename("Jonathan", "J. Snow")  # ...while a, offline, renames too, later in site order
            sync_once(a, ca)
            sync_once(b, cb)
            assert [p["name"] for p in admin.people()] == ["J. Snow"]
        assert [p.name for p in a.people()] == [p.name for p in b.people()] == ["J. Snow"]
        b.remove("J. Snow")  # a door cannot delete anyone at the site: he comes back
        report = sync_once(b, cb)
        assert [p.name for p in b.people()] == ["J. Snow"]
        assert b.index.ids() == set(b.store.sample_owners()) and len(b.index) == 1
    finally:
        a.close()
        b.close()
