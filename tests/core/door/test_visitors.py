"""Unknown visitors grouped by face: the clip replayed with nobody enrolled gives the same visitors
again with growing visit counts; the access log and its CSV carry the visitor id; `facegate
visitors` lists them and enrolls one from all of their faces; photos of one person join, of two
people do not; old never-enrolled visitors are deleted with their snapshots, enrolled ones kept."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import numpy as np

from core.door.access_log import AccessEvent, AccessLog, read_csv
from core.door.decide import DoorDecider
from core.door.review import RecentFaces
from core.door.verdict import Verdict
from core.door.visitors import Visitors, VisitorSettings
from core.gallery.api import Gallery
from core.live.loop import LiveRecognizer
from core.live.worker import InlineWorker
from core.records import Quality
from tests.support.cli import facegate
from tests.support.data import IMAGES, KNN


def play_loops(gallery, clip, loops: int):
    """Play the clip ``loops`` times as one looping camera; the visitors after each loop."""
    decider = DoorDecider(gallery, None)
    rec = LiveRecognizer(gallery, descriptor_worker=InlineWorker(gallery.describer), decider=decider)
    after, t = [], 0.0
    try:
        for _ in range(loops):
            for rgb in clip:
                rec.process(rgb, t)
                t += 1 / 30
            decider.flush()
            after.append({v.id: v for v in decider.visitors.all()})
    finally:
        rec.close()
        decider.close()
    return after


def test_the_looping_clip_gives_the_same_visitors_again_with_growing_visits(clip, describer, tmp_path):
    db = tmp_path / "gallery.db"
    with Gallery(db, describer=describer) as gallery:
        after = play_loops(gallery, clip, 3)
        log = AccessLog(gallery.store)
        events = log.events(limit=None)[::-1]  # oldest first
        assert log.export_csv(tmp_path / "log.csv") == len(events)
    first = after[0]
    assert len(first) >= 2 and all(v.visits >= 1 and v.faces >= 1 for v in first.values())
    for loop in (1, 2):
        assert set(after[loop]) == set(first), f"loop {loop + 1} made new visitors"
        assert all(v.visits > after[loop - 1][v.id].visits for v in after[loop].values())  # everyone came back
        assert all(
            v.first_seen == first[v.id].first_seen and v.last_seen > after[loop - 1][v.id].last_seen for v in after[loop].values()
        )
    unknown = [e for e in events if e.verdict == Verdict.UNKNOWN]
    assert sum(v.visits for v in after[2].values()) == len(unknown) and {e.visitor_id for e in unknown} == set(first)
    assert [e.visitor_id for e in read_csv(tmp_path / "log.csv")] == [e.visitor_id for e in events[::-1]]

    # each loop's first and last unknown faces (two different people) are always the same two visitors
    starts, ends = [], []
    for loop_events in _by_loop(unknown, after):
        starts.append(loop_events[0].visitor_id)
        ends.append(loop_events[-1].visitor_id)
    assert len(set(starts)) == 1 and len(set(ends)) == 1 and starts[0] != ends[0]
    his_id = ends[0]

    out = facegate("visitors", "--db", db, "--json", check=True)
    listed = json.loads(out.stdout)
    assert sorted(v["id"] for v in listed) == sorted(first)
    assert all({"id", "first_seen", "last_seen", "visits"} <= set(v) and v["visits"] == after[2][v["id"]].visits for v in listed)

    out = facegate("visitors", "--db", db, "--enroll", str(his_id), "Visitor", "--json", check=True)
    enrolled = json.loads(out.stdout)
    assert enrolled["name"] == "Visitor" and enrolled["added"] == after[2][his_id].faces >= 1
    with Gallery(db, describer=describer) as gallery:
        his_faces = [AccessLog(gallery.store).event(e.id).descriptor for e in unknown if e.visitor_id == his_id]
        assert [gallery.identify_descriptor(d).name for d in his_faces] == ["Visitor"] * len(his_faces)
        assert Visitors(gallery.store).visitor(his_id).enrolled_as == "Visitor"
    assert facegate("visitors", "--db", db, "--enroll", "999", "X").returncode == 2


def _by_loop(unknown: list, after: list[dict]) -> list[list]:
    """The Unknown events (oldest first) cut into loops, by how many visits each loop added."""
    totals = [sum(v.visits for v in visitors.values()) for visitors in after]
    return [unknown[start:end] for start, end in zip([0, *totals[:-1]], totals, strict=True)]


def _descriptor(gallery, path) -> np.ndarray:
    (face,) = gallery.faces(str(path))
    return face.descriptor


def test_photos_of_one_person_join_and_old_strangers_are_deleted(gallery):
    visitors = Visitors(gallery.store, VisitorSettings())
    log = AccessLog(gallery.store)
    long_ago = (datetime.now(timezone.utc) - timedelta(days=40)).isoformat(timespec="milliseconds")
    obama = [_descriptor(gallery, IMAGES / name) for name in ("obama.jpg", "obama2.jpg", "obama3.jpg")]
    biden = _descriptor(gallery, IMAGES / "biden.jpg")
    kit = _descriptor(gallery, KNN / "test" / "johnsnow_test1.jpg")

    first, new = visitors.assign([obama[0]], long_ago, b"\xff\xd8small", quality=10)
    assert new
    assert visitors.assign([obama[1]], long_ago, b"\xff\xd8sharp", quality=50) == (first, False)
    assert visitors.assign([obama[2]], long_ago) == (first, False)
    old_biden, new = visitors.assign([biden], long_ago, b"\xff\xd8biden", quality=5)
    assert new and old_biden != first
    recent_kit, new = visitors.assign([kit])
    assert new and recent_kit not in (first, old_biden)
    assert visitors.best_snapshot(first) == b"\xff\xd8sharp"  # the sharpest face, not the first
    assert visitors.visitor(first).visits == 3
    biden_event = log.record(
        AccessEvent(Verdict.UNKNOWN, reason="nobody near", visitor_id=old_biden, descriptor=biden, snapshot=b"\xff\xd8biden")
    )
    visitors.enroll(first, gallery, "Barack")  # enrolled: kept however old
    queued = RecentFaces(gallery).record(log.event(biden_event), biden, Quality(50, 100, 0.0), [])

    assert visitors.purge() == 1
    assert {v.id for v in visitors.all()} == {first, recent_kit}
    assert log.snapshot(biden_event) is None and log.event(biden_event).descriptor is None
    assert log.event(biden_event).verdict == Verdict.UNKNOWN  # the entry itself stays
    assert queued not in {f.id for f in RecentFaces(gallery).recent()}  # nor in the review queue
    assert visitors.assign([biden])[1]  # a stranger again: a new visitor
    assert gallery.identify_descriptor(obama[2]).name == "Barack"
