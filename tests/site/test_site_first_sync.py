"""A new door's first sync in bulk (core.site.sync first_pull, core.site.local _insert_fresh) over a
real PostgreSQL + pgvector: it gives the very gallery the person-by-person apply gives (people,
samples, thumbnails, schedules, passes, marks, personal thresholds, cards; revoked and deleted
people absent), and one cut off mid-way resumes after its last committed batch, with nobody
doubled or lost and what changed meanwhile applied, also when killed with SIGKILL."""

from __future__ import annotations

import gc
import os
import signal
import subprocess
import sys
import uuid

import numpy as np
import pytest

import core.site.local as local_module
import core.site.sync as sync_module
from core.gallery.api import Gallery
from core.site.config import SiteSettings
from core.site.local import LocalSite
from core.site.sync import apply_batch, open_door_connection, pull_batch, sync_once
from tests.support.data import ROOT
from tests.support.site import join_door, start_site

PEOPLE = 300


def fill_site(superuser, rng: np.random.Generator) -> list[str]:
    """PEOPLE people x 3 samples written at the site (as an admin's tools would), with the rules
    a door must carry over; some deleted or taken out of the door's group. Their ids."""
    from pgvector.psycopg import register_vector

    register_vector(superuser)
    ids = [str(uuid.uuid4()) for _ in range(PEOPLE)]
    with superuser.transaction(), superuser.cursor() as cur:
        cur.executemany(
            "INSERT INTO facegate.people(id, name, notes, card, threshold, access) VALUES (%s, %s, %s, %s, %s, %s)",
            [
                (
                    pid,
                    f"Person {i:03d}",
                    f"note {i}" if i % 7 == 0 else "",
                    str(100000 + i) if i % 11 == 0 else None,
                    0.45 if i % 13 == 0 else None,
                    "face+card" if i % 11 == 0 else "face",
                )
                for i, pid in enumerate(ids)
            ],
        )
        cur.executemany(
            "INSERT INTO facegate.samples(id, person_id, descriptor, thumbnail, source, quality) VALUES (%s, %s, %s, %s, %s, %s)",
            [
                (
                    str(uuid.uuid4()),
                    pid,
                    rng.normal(0, 0.06, 128).astype(np.float32),
                    b"\xff\xd8 thumb %d" % i if (i + k) % 5 == 0 else None,
                    f"photo {i}.jpg" if k == 1 else "",
                    0.5 + 0.001 * i if k != 2 else None,
                )
                for i, pid in enumerate(ids)
                for k in range(3)
            ],
        )
        cur.executemany(
            "INSERT INTO facegate.schedules(person_id, day, start_time, end_time) VALUES (%s, %s, '08:00', '17:30')",
            [(pid, i % 7) for i, pid in enumerate(ids) if i % 4 == 0],
        )
        cur.executemany(
            "INSERT INTO facegate.passes(person_id, valid_from, valid_until) VALUES (%s, now(), now() + interval '3 days')",
            [(pid,) for i, pid in enumerate(ids) if i % 9 == 0],
        )
        cur.executemany(
            "INSERT INTO facegate.negatives(person_id, descriptor) VALUES (%s, %s)",
            [(pid, rng.normal(0, 0.06, 128).astype(np.float32)) for i, pid in enumerate(ids) if i % 17 == 0],
        )
        cur.execute(
            "INSERT INTO facegate.group_members SELECT g.id, p FROM facegate.access_groups g, unnest(%s::uuid[]) p "
            "WHERE g.name = 'everyone'",
            (ids,),
        )
    with superuser.transaction():  # revoked: deleted, or no longer in the group that opens the door
        superuser.execute("DELETE FROM facegate.people WHERE id = ANY(%s::uuid[])", (ids[5:15],))
        superuser.execute("DELETE FROM facegate.group_members WHERE person_id = ANY(%s::uuid[])", (ids[20:30],))
    return ids


def gallery_state(g) -> dict:
    """Everything a door holds of its people, keyed by the site's ids (local ids differ)."""
    read = g.store.read
    return {
        "people": sorted(
            read("SELECT site_id, name, allowed, notes, created, card, threshold, access, pin, duress_pin FROM people")
        ),
        "samples": sorted(
            read(
                "SELECT s.site_id, p.site_id, s.descriptor, s.thumbnail, s.source, s.quality, s.created "
                "FROM samples s JOIN people p ON p.id = s.person_id"
            )
        ),
        "schedules": sorted(read("SELECT p.site_id, day, start, end FROM schedules JOIN people p ON p.id = person_id")),
        "passes": sorted(read("SELECT p.site_id, valid_from, valid_until FROM passes JOIN people p ON p.id = person_id")),
        "negatives": sorted(read("SELECT n.site_id, p.site_id, n.descriptor FROM negatives n JOIN people p ON p.id = person_id")),
    }


def test_a_bulk_first_sync_gives_the_gallery_the_person_by_person_apply_gives(
    tmp_path, site_url, superuser_password_file, superuser, describer, monkeypatch
):
    a, config_a = start_site(tmp_path / "a", site_url, superuser_password_file, describer, "front")
    ids = fill_site(superuser, np.random.default_rng(1))
    bulk, config_bulk = join_door(tmp_path / "bulk", site_url, config_a, describer, "bulk")
    rows, config_rows = join_door(tmp_path / "rows", site_url, config_a, describer, "rows")
    try:
        monkeypatch.setattr(sync_module, "COPY_PEOPLE", 100)  # several COPYs, each of whole batches
        collecting = []  # the cyclic GC is off while the first pull holds its people (its pauses stop the door)
        report = sync_once(
            bulk, config_bulk, settings=SiteSettings(batch=64), on_batch=lambda applied: collecting.append(gc.isenabled())
        )
        assert report.pulled_people == PEOPLE - 20
        assert collecting and not any(collecting) and gc.isenabled()
        # the same people through the person-by-person apply (no bulk insert), the revoked asked for too
        monkeypatch.setattr(local_module, "_fresh", lambda db, batch: set())
        with open_door_connection(config_rows) as conn:
            local = LocalSite(rows.store)
            for start in range(0, PEOPLE, 64):
                batch = pull_batch(conn, local, 0, 64, only=ids[start : start + 64])
                assert batch is not None
                apply_batch(rows, batch)
        expected, got = gallery_state(rows), gallery_state(bulk)
        assert len(expected["people"]) == PEOPLE - 20 and len(expected["samples"]) == 3 * (PEOPLE - 20)
        assert expected["passes"] and expected["negatives"] and expected["schedules"]
        assert {r[0] for r in got["people"]}.isdisjoint(ids[5:15] + ids[20:30])  # revoked: absent
        for table in expected:
            assert got[table] == expected[table], table
        # the bulk insert's triggers, dropped while it ran, are back as they were; its counters moved as theirs
        triggers = "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' ORDER BY name"
        assert bulk.store.read(triggers) == rows.store.read(triggers) and len(rows.store.read(triggers)) >= 18
        assert bulk.store.samples_generation() == rows.store.samples_generation() >= 3 * (PEOPLE - 20)
        # the index and the door's answers follow: each sample finds its person, thresholds too
        assert bulk.index.ids() == set(bulk.store.sample_owners())
        people = {p.name: p for p in bulk.people()}
        assert people["Person 039"].threshold == pytest.approx(0.45) and people["Person 040"].threshold is None
        vector = np.frombuffer(got["samples"][0][2], np.float32)
        owner = next(r[1] for r in got["people"] if r[0] == got["samples"][0][1])
        assert bulk.identify_descriptor(vector).name == owner
    finally:
        for g in (a, bulk, rows):
            g.close()


def test_a_first_sync_cut_off_mid_way_resumes_after_its_last_batch_and_catches_up(
    tmp_path, site_url, superuser_password_file, superuser, describer
):
    a, config_a = start_site(tmp_path / "a", site_url, superuser_password_file, describer, "front")
    ids = fill_site(superuser, np.random.default_rng(2))
    b, config_b = join_door(tmp_path / "b", site_url, config_a, describer, "back")
    try:
        batches = []

        def switched_off_after_three(applied):
            batches.append(applied)
            if len(batches) == 3:
                raise RuntimeError("the door was switched off mid-sync")

        with pytest.raises(RuntimeError):
            sync_once(b, config_b, settings=SiteSettings(batch=40), on_batch=switched_off_after_three)
        local = LocalSite(b.store)
        assert local.cursor() == 0 and local.first_mark() is not None
        here = {r[0] for r in b.store.read("SELECT site_id FROM people")}
        assert len(here) == 120
        # meanwhile at the site: one already here is deleted, one already here gets a threshold
        # of their own, one not yet here is revoked, one new person comes
        gone, stricter = sorted(here)[0], sorted(here)[1]
        later = sorted(set(ids) - here - set(ids[5:30]))[0]
        with superuser.transaction():
            superuser.execute("DELETE FROM facegate.people WHERE id = %s", (gone,))
            superuser.execute("UPDATE facegate.people SET threshold = 0.4 WHERE id = %s", (stricter,))
            superuser.execute("DELETE FROM facegate.group_members WHERE person_id = %s", (later,))
            superuser.execute("INSERT INTO facegate.people(id, name) VALUES (gen_random_uuid(), 'Newcomer')")
            superuser.execute(
                "INSERT INTO facegate.group_members SELECT g.id, p.id FROM facegate.access_groups g, facegate.people p "
                "WHERE g.name = 'everyone' AND p.name = 'Newcomer'"
            )
        report = sync_once(b, config_b, settings=SiteSettings(batch=40))
        assert report.pulled_people >= PEOPLE - 20 - 120  # the rest, and the changes of those already here
        assert local.first_mark() is None
        with open_door_connection(config_b) as conn:
            site_people = {r[0] for r in conn.execute("SELECT id::text FROM facegate.people")}
            site_samples = {r[0] for r in conn.execute("SELECT id::text FROM facegate.samples")}
            newest = conn.execute("SELECT max(seq) FROM facegate.changes").fetchone()[0]
        people = b.store.read("SELECT site_id FROM people")
        samples = b.store.read("SELECT site_id FROM samples")
        assert len(people) == len(site_people) and {r[0] for r in people} == site_people  # nobody doubled or lost
        assert len(samples) == len(site_samples) and {r[0] for r in samples} == site_samples
        assert gone not in site_people and later not in site_people and "Newcomer" in {p.name for p in b.people()}
        assert b.store.read("SELECT threshold FROM people WHERE site_id = ?", (stricter,))[0][0] == pytest.approx(0.4)
        assert b.index.ids() == set(b.store.sample_owners())
        assert local.cursor() == newest
        assert not sync_once(b, config_b).moved()
    finally:
        a.close()
        b.close()


CHILD = """
import sys
from core.gallery.api import Gallery
from core.site.config import SiteConfig, SiteSettings
from core.site.sync import sync_once

db = sys.argv[1]
g = Gallery(db)
print("started", flush=True)
sync_once(g, SiteConfig.load(db), settings=SiteSettings(batch=20), on_batch=lambda applied: print("batch", flush=True))
print("synced", flush=True)
"""


def test_kill_9_mid_first_sync_resumes_without_losing_or_doubling(
    tmp_path, site_url, superuser_password_file, superuser, describer
):
    a, config_a = start_site(tmp_path / "a", site_url, superuser_password_file, describer, "front")
    a.close()
    fill_site(superuser, np.random.default_rng(3))
    b, config_b = join_door(tmp_path / "b", site_url, config_a, describer, "back")
    db = b.store.path
    b.close()
    counts = []
    for _ in range(3):  # killed after its third batch each time: every run starts where the last one stopped
        child = subprocess.Popen(
            [sys.executable, "-c", CHILD, str(db)],
            stdout=subprocess.PIPE,
            text=True,
            cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "started"
        for _ in range(3):
            assert child.stdout.readline().strip() == "batch"
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
        child.stdout.close()
        with Gallery(db, describer=describer) as g:
            local = LocalSite(g.store)
            assert local.cursor() == 0 and local.first_mark() is not None
            counts.append(len(g.people()))
    assert counts[0] >= 60 and counts[1] >= counts[0] + 60 and counts[2] >= counts[1] + 60  # resumed, not restarted
    with Gallery(db, describer=describer) as g:
        sync_once(g, config_b)
        assert LocalSite(g.store).first_mark() is None
        people = [r[0] for r in g.store.read("SELECT site_id FROM people")]
        samples = [r[0] for r in g.store.read("SELECT site_id FROM samples")]
        assert g.index.ids() == set(g.store.sample_owners())
        ids, _, vectors = g.store.vectors()
        assert np.array_equal(np.asarray(g.index.vectors(ids.tolist()), np.float32), vectors)
    with open_door_connection(config_b) as conn:
        site_people = {r[0] for r in conn.execute("SELECT id::text FROM facegate.people")}
        site_samples = {r[0] for r in conn.execute("SELECT id::text FROM facegate.samples")}
    assert len(people) == len(site_people) == PEOPLE - 20 and set(people) == site_people
    assert len(samples) == len(site_samples) and set(samples) == site_samples
