"""Two doors in this process over a real PostgreSQL + pgvector: enroll at one, named at the
other after it syncs; central deletion and group removal revoke; what a sync moves; an admin's
personal threshold reaches every door, a door cannot set one."""

from __future__ import annotations

import numpy as np
import psycopg
import pytest

from core.site.admin import SiteAdmin
from core.site.config import SiteError, SiteSettings
from core.site.local import LocalSite
from core.site.people import set_threshold
from core.site.sync import open_door_connection, sync_once
from tests.support.site import join_door, samples_of, start_site


def test_enrolled_at_one_door_is_named_at_the_other_after_it_syncs(tmp_path, site_url, superuser_password_file, describer, faces):
    a, config_a = start_site(tmp_path / "a", site_url, superuser_password_file, describer, "front")
    b, config_b = join_door(tmp_path / "b", site_url, config_a, describer, "back")
    try:
        assert b.identify_descriptor(faces["obama"][1]).name is None
        a.enroll_samples("Barack", samples_of(faces["obama"][:1]))
        assert LocalSite(a.store).outbox_size() == 1
        pushed = sync_once(a, config_a)
        assert (pushed.pushed_people, pushed.pushed_samples) == (1, 1)
        assert LocalSite(a.store).outbox_size() == 0
        pulled = sync_once(b, config_b)
        assert (pulled.pulled_people, pulled.added_samples) == (1, 1)
        match = b.identify_descriptor(faces["obama"][1])
        assert match.name == "Barack" and match.distance < 0.4
        assert b.identify_descriptor(faces["biden"][0]).name is None
        # the same site ids on both doors, and the index holds exactly the database's samples
        ids = lambda g: sorted(r[0] for r in g.store.read("SELECT site_id FROM samples"))  # noqa: E731
        assert ids(a) == ids(b)
        assert b.index.ids() == set(b.store.sample_owners())
        again = sync_once(b, config_b)
        assert not again.moved()
    finally:
        a.close()
        b.close()


def test_central_delete_and_group_removal_take_the_person_off_every_door(
    tmp_path, site_url, superuser_password_file, describer, faces
):
    a, config_a = start_site(tmp_path / "a", site_url, superuser_password_file, describer, "front")
    b, config_b = join_door(tmp_path / "b", site_url, config_a, describer, "server room")
    try:
        a.enroll_samples("Barack", samples_of(faces["obama"][:2]))
        a.enroll_samples("Joe", samples_of(faces["biden"]))
        for g, c in ((a, config_a), (b, config_b), (a, config_a)):
            sync_once(g, c)
        assert {p.name for p in b.people()} == {"Barack", "Joe"}
        with SiteAdmin.from_config(config_a) as admin:
            # IT may open the server room; everyone else no longer may
            admin.create_group("IT")
            admin.add_to_group("IT", "Joe")
            admin.open_door("IT", "server room")
            admin.close_door("everyone", "server room")
            sync_once(b, config_b)
            assert {p.name for p in b.people()} == {"Joe"}
            assert b.identify_descriptor(faces["obama"][2]).name is None
            assert len(b.index) == 1
            admin.delete("Joe")
        for g, c in ((a, config_a), (b, config_b)):
            report = sync_once(g, c)
            assert report.removed_people == 1
            assert g.identify_descriptor(faces["biden"][0]).name is None
            assert g.index.ids() == set(g.store.sample_owners())
        assert [p.name for p in a.people()] == ["Barack"]
        assert b.people() == []
    finally:
        a.close()
        b.close()


def test_the_first_door_brings_its_gallery_and_log_to_the_site(tmp_path, site_url, superuser_password_file, describer, faces):
    from core.door.access_log import AccessEvent, AccessLog
    from core.gallery.api import Gallery

    folder = tmp_path / "a"
    folder.mkdir()
    with Gallery(folder / "gallery.db", describer=describer) as g:  # a single-PC door, for a while
        g.enroll_samples("Barack", samples_of(faces["obama"]))
        AccessLog(g.store).record(AccessEvent("Granted", "Barack", 1, descriptor=faces["obama"][0]))
        assert g.store.read("SELECT count(*) FROM site_outbox")[0][0] == 0  # no site: nothing queued
        assert g.store.read("SELECT site_id FROM people")[0][0] is None
    a, config = start_site(folder, site_url, superuser_password_file, describer)
    try:
        report = sync_once(a, config)
        assert (report.pushed_people, report.pushed_samples, report.pushed_events) == (1, 3, 1)
        assert not sync_once(a, config).moved()
        with SiteAdmin.from_config(config) as admin:
            assert [(p["name"], p["samples"]) for p in admin.people()] == [("Barack", 3)]
            assert admin.conn.execute("SELECT name, verdict FROM facegate.events").fetchall() == [("Barack", "Granted")]
            assert np.allclose(
                admin.conn.execute("SELECT descriptor FROM facegate.events").fetchone()[0].to_numpy(),
                faces["obama"][0],
                atol=1e-6,
            )
    finally:
        a.close()


def test_an_admins_personal_threshold_reaches_every_door_and_a_door_cannot_set_one(
    tmp_path, site_url, superuser_password_file, describer, faces
):
    a, config_a = start_site(tmp_path / "a", site_url, superuser_password_file, describer, "front")
    b, config_b = join_door(tmp_path / "b", site_url, config_a, describer, "back")
    try:
        a.enroll_samples("Barack", samples_of(faces["obama"][:1]))
        for g, c in ((a, config_a), (b, config_b)):
            sync_once(g, c)
        probe = faces["obama"][1]
        seen = b.identify_descriptor(probe)
        assert seen.name == "Barack" and seen.distance is not None and 0.1 < seen.distance < 0.4
        strict = round(seen.distance - 0.02, 2)
        # the door PC is refused up front, saying where to do it; its login cannot write people at all
        with pytest.raises(SiteError, match="only the site's admin"):
            set_threshold(b, "Barack", strict, 0.4)
        with open_door_connection(config_b) as door, pytest.raises(psycopg.errors.InsufficientPrivilege):
            door.execute("UPDATE facegate.people SET threshold = 0.1")
        assert b.store.person("Barack").threshold is None
        # the admin PC sets it at the site (and here); the other door follows at its next sync
        set_threshold(a, "Barack", strict, 0.4)
        with SiteAdmin.from_config(config_a) as admin:
            assert admin.people()[0]["threshold"] == strict  # as set, not as float4 rounds it
        assert a.identify_descriptor(probe).name is None
        sync_once(b, config_b)
        assert b.store.person("Barack").threshold == pytest.approx(strict)
        assert b.identify_descriptor(probe).name is None
        set_threshold(a, "Barack", None, 0.4)
        sync_once(b, config_b)
        assert b.identify_descriptor(probe).name == "Barack"
    finally:
        a.close()
        b.close()


def test_a_first_sync_streams_the_site_in_batches_and_an_interrupted_one_resumes(
    tmp_path, site_url, superuser_password_file, describer, faces
):
    a, config_a = start_site(tmp_path / "a", site_url, superuser_password_file, describer, "front")
    b = None
    try:
        for name, vectors in faces.items():
            a.enroll_samples(name, samples_of(vectors))
        sync_once(a, config_a)
        b, config_b = join_door(tmp_path / "b", site_url, config_a, describer, "back")
        batches = []

        def killed_after_the_first(applied):
            batches.append(applied)
            raise RuntimeError("the door was switched off mid-sync")

        with pytest.raises(RuntimeError):
            sync_once(b, config_b, settings=SiteSettings(batch=2), on_batch=killed_after_the_first)
        assert batches[0].added_people == 2
        assert LocalSite(b.store).cursor() == 0  # the snapshot is not done: the next sync resumes it
        assert LocalSite(b.store).first_mark() is not None
        report = sync_once(b, config_b, settings=SiteSettings(batch=2))
        assert report.pulled_people == len(faces) - 2  # after the two already here
        assert LocalSite(b.store).first_mark() is None
        assert sorted(p.name for p in b.people()) == sorted(faces)
        ids = lambda g: sorted(r[0] for r in g.store.read("SELECT site_id FROM samples"))  # noqa: E731
        assert ids(a) == ids(b)
        assert b.index.ids() == set(b.store.sample_owners())
        with open_door_connection(config_b) as conn:
            newest = conn.execute("SELECT max(seq) FROM facegate.changes").fetchone()[0]
        assert LocalSite(b.store).cursor() == newest
        for name, vectors in faces.items():
            assert b.identify_descriptor(vectors[0]).name == name
        assert not sync_once(b, config_b).moved()
    finally:
        a.close()
        if b is not None:
            b.close()
