"""kill -9 of a door in the middle of syncing, 50 times at random moments, while the site keeps
changing and the door keeps logging and enrolling: nothing lost, nothing twice, and the door's
hnswlib index holds exactly its database's samples."""

from __future__ import annotations

import os
import random
import select
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from core.gallery.api import Gallery
from core.site.admin import SiteAdmin
from core.site.config import SiteSettings
from core.site.sync import sync_once
from tests.support.data import ROOT
from tests.support.site import start_site

KILLS = int(os.environ.get("FACEGATE_SITE_KILLS", "50"))

CHILD = """
import sys
import numpy as np
from core.door.access_log import AccessEvent, AccessLog
from core.gallery.api import Gallery
from core.gallery.store import NewSample
from core.site.config import SiteConfig
from core.site.sync import sync_once

db, seed = sys.argv[1], int(sys.argv[2])
g = Gallery(db)
config = SiteConfig.load(db)
rng = np.random.default_rng(seed)
log = AccessLog(g.store)
print("started", flush=True)
for round_ in range(1000):
    for _ in range(5):
        log.record(AccessEvent("Unknown", reason="kill test", descriptor=rng.normal(0, 0.1, 128)))
    g.enroll_samples(f"door-{seed}-{round_}", [NewSample(rng.normal(0, 0.1, 128).astype(np.float32))
                                              for _ in range(3)])
    print("syncing", flush=True)
    sync_once(g, config)
    print("synced", flush=True)
"""


def _central_changes(admin: SiteAdmin, rng: np.random.Generator, round_: int) -> None:
    """The admin adds 12 people of 5 samples, deletes 4 and renames 2 (one transaction)."""
    conn = admin.conn
    with conn.transaction():
        for i in range(12):
            (pid,) = conn.execute(
                "INSERT INTO facegate.people(id, name) VALUES (gen_random_uuid(), %s) RETURNING id", (f"site-{round_}-{i}",)
            ).fetchone()
            conn.execute(
                "INSERT INTO facegate.group_members SELECT id, %s FROM facegate.access_groups WHERE name = 'everyone'", (pid,)
            )
            for _ in range(5):
                conn.execute(
                    "INSERT INTO facegate.samples(id, person_id, descriptor) VALUES (gen_random_uuid(), %s, %s)",
                    (pid, rng.normal(0, 0.1, 128).astype(np.float32)),
                )
        conn.execute(
            "DELETE FROM facegate.people WHERE id IN (SELECT id FROM facegate.people WHERE name LIKE 'site-%%' "
            "ORDER BY random() LIMIT 4)"
        )
        conn.execute(
            "UPDATE facegate.people SET name = name || '+' WHERE id IN (SELECT id FROM facegate.people "
            "WHERE name LIKE 'site-%%' ORDER BY random() LIMIT 2)"
        )


@pytest.mark.slow
def test_kill_9_mid_sync_loses_nothing_and_duplicates_nothing(tmp_path, site_url, superuser_password_file, describer):
    g, config = start_site(tmp_path / "door", site_url, superuser_password_file, describer)
    SiteSettings(batch=7).save(g.store)  # several batches per sync: kills land between them too
    db = g.store.path
    g.close()
    rng = np.random.default_rng(7)
    chooser = random.Random(7)
    mid_sync = 0
    with SiteAdmin.from_config(config) as admin:
        for round_ in range(KILLS):
            _central_changes(admin, rng, round_)
            child = subprocess.Popen(
                [sys.executable, "-c", CHILD, str(db), str(round_)],
                stdout=subprocess.PIPE,
                text=True,
                cwd=ROOT,
                env={**os.environ, "PYTHONPATH": str(ROOT)},
            )
            assert child.stdout.readline().strip() == "started", f"round {round_}: the door did not start"
            time.sleep(chooser.uniform(0.0, 0.6))
            os.kill(child.pid, signal.SIGKILL)
            child.wait()
            lines = []
            while select.select([child.stdout], [], [], 0)[0]:
                line = child.stdout.readline()
                if not line:
                    break
                lines.append(line.strip())
            child.stdout.close()
            if lines and lines[-1] == "syncing":
                mid_sync += 1
    assert mid_sync >= KILLS // 2, f"only {mid_sync} of {KILLS} kills landed mid-sync"

    with Gallery(db, describer=describer) as g:
        assert g.index.last_sync in ("loaded", "repaired")
        sync_once(g, config)
        local_people = {r[0] for r in g.store.read("SELECT site_id FROM people")}
        local_samples = [r[0] for r in g.store.read("SELECT site_id FROM samples")]
        local_events = [r[0] for r in g.store.read("SELECT site_id FROM access_events")]
        assert g.store.read("SELECT count(*) FROM site_outbox")[0][0] == 0
        assert g.index.ids() == set(g.store.sample_owners())
        ids, _, vectors = g.store.vectors()
        assert np.array_equal(np.asarray(g.index.vectors(ids.tolist()), np.float32), vectors)
    with SiteAdmin.from_config(config) as admin:
        central_people = {str(r[0]) for r in admin.conn.execute("SELECT id FROM facegate.people")}
        central_samples = [str(r[0]) for r in admin.conn.execute("SELECT id FROM facegate.samples")]
        central_events = [str(r[0]) for r in admin.conn.execute("SELECT id FROM facegate.events")]
        door_people = admin.conn.execute("SELECT count(*) FROM facegate.people WHERE name LIKE 'door-%%'").fetchone()[0]
    assert local_people == central_people
    assert sorted(local_samples) == sorted(central_samples) and len(set(local_samples)) == len(local_samples)
    assert sorted(local_events) == sorted(central_events) and len(set(central_events)) == len(central_events)
    assert len(local_events) >= 5 * KILLS // 2 and door_people >= KILLS // 2  # the children got work done
    print(
        f"{KILLS} kills, {mid_sync} mid-sync; {len(central_people)} people, {len(central_samples)} samples, "
        f"{len(central_events)} events, all at both ends exactly once"
    )
