"""Visitor passes: the clip's Lin-Manuel, holding a pass, is let in before it ends and refused
after it (the door reads the pass when it decides, by its own clock); `facegate visitors --enroll
ID NAME --until` makes a pass holder from a visitor's faces (a bad time enrolls nobody); after the
retention period the purge deletes the holder with their faces and writes that to the access log;
a per-schedule pass (`--schedule`) lets the holder in only inside its weekly windows, and not
after it ends even inside them."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

from core.door.access_log import AccessLog, stored_time
from core.door.decide import DoorDecider
from core.door.drivers import SimulatedDoor
from core.door.passes import Passes
from core.door.policy import DecisionSettings
from core.door.retention import Retention
from core.door.schedule import Schedules, format_windows, parse_windows
from core.door.verdict import Verdict
from core.door.visitors import Visitors
from core.gallery.api import Gallery
from core.live.loop import LiveRecognizer
from core.live.worker import InlineWorker
from tests.support.cli import facegate
from tests.support.data import IMAGES

NAME = "Lin-Manuel"


def _lin_verdicts(gallery, clip, at: datetime) -> tuple[set[Verdict], list, int]:
    """The clip's Lin-Manuel before a door whose clock says ``at`` (local time): his verdicts,
    the access-log entries naming him, and the door's pulses."""
    door = SimulatedDoor(pulse_seconds=0.05, cooldown_seconds=0.1)
    decider = DoorDecider(gallery, door, DecisionSettings(liveness=False), clock=lambda: at)
    rec = LiveRecognizer(gallery, descriptor_worker=InlineWorker(gallery.describer), decider=decider)
    try:
        views = [v for i, rgb in enumerate(clip[80:160]) for v in rec.process(rgb, (80 + i) / 30).tracks if v.decision]
    finally:
        rec.close()
        decider.close()
        pulses = door.pulses
        door.close()
    verdicts = {v.decision.verdict for v in views if v.decision.person == NAME}
    return verdicts, [e for e in AccessLog(gallery.store).events() if e.name == NAME], pulses


def test_the_clips_visitor_is_let_in_until_the_pass_ends_and_refused_after(lin_gallery, clip):
    now = datetime.now()
    person = lin_gallery.store.person(NAME)
    held = Passes(lin_gallery.store).set(person.id, stored_time(now + timedelta(hours=2)))
    verdicts, events, pulses = _lin_verdicts(lin_gallery, clip, now)
    assert Verdict.GRANTED in verdicts and pulses == 1
    # three hours later, same copy of the gallery, nothing synced or changed: the door's own clock refuses him
    verdicts, events, pulses = _lin_verdicts(lin_gallery, clip, now + timedelta(hours=3))
    assert Verdict.GRANTED not in verdicts and Verdict.DENIED_SCHEDULE in verdicts and pulses == 0
    assert events[0].verdict == Verdict.DENIED_SCHEDULE and "visitor pass expired" in events[0].reason
    # a pass that has not started yet refuses too
    Passes(lin_gallery.store).set(person.id, stored_time(now + timedelta(days=2)), stored_time(now + timedelta(days=1)))
    verdicts, events, _ = _lin_verdicts(lin_gallery, clip, now)
    assert Verdict.GRANTED not in verdicts and "visitor pass starts" in events[0].reason
    assert held.refusal(datetime.now(timezone.utc)) is None


def _visitor(gallery: Gallery) -> int:
    descriptors = [gallery.faces(str(IMAGES / name))[0].descriptor for name in ("obama.jpg", "obama2.jpg")]
    visitor_id, _new = Visitors(gallery.store).assign(descriptors)
    return visitor_id


def test_a_pass_made_from_a_visitor_on_the_command_line_is_purged_with_its_faces_after_retention(gallery, db_path):
    visitor_id = _visitor(gallery)
    gallery.close()
    past = facegate("visitors", "--enroll", visitor_id, "Plumber", "--until", "2020-01-01T17:00", "--db", db_path)
    assert past.returncode != 0 and "past" in past.stderr and "nobody enrolled" in past.stderr
    backwards = facegate(
        "visitors", "--enroll", visitor_id, "Plumber", "--until", "2099-01-01", "--from", "2099-02-01", "--db", db_path
    )
    assert backwards.returncode != 0 and "after it starts" in backwards.stderr
    until = (datetime.now() + timedelta(hours=8)).replace(microsecond=0)
    out = facegate(
        "visitors", "--enroll", visitor_id, "Plumber", "--until", until.isoformat(), "--db", db_path, "--json", check=True
    )
    assert json.loads(out.stdout)["pass"].startswith("visitor pass until")

    g = Gallery(db_path, describer=gallery.describer)
    try:
        plumber = g.store.person("Plumber")
        assert plumber.allowed and Passes(g.store).of(plumber.id).valid_until == stored_time(until)
        assert [p.name for p in g.people()] == ["Plumber"]
        visitors = Visitors(g.store)
        retention = Retention(g, visitors)
        end = datetime.fromisoformat(stored_time(until))
        assert retention.purge(end + timedelta(days=visitors.settings.retention_days - 1)).passes == 0  # not yet
        purged = retention.purge(end + timedelta(days=visitors.settings.retention_days + 1))
        assert purged.passes == 1
        assert g.people() == [] and len(g.index) == 0 and g.store.read("SELECT count(*) FROM visitor_faces")[0][0] == 0
        (row,) = AccessLog(g.store).events(verdict=Verdict.PURGED)
        assert "1 visitor passes ended" in row.reason and "Plumber" in row.reason
        assert AccessLog(g.store).verify().ok
    finally:
        g.close()


def test_a_per_schedule_pass_lets_in_only_inside_its_windows_until_it_ends(lin_gallery, clip):
    now = datetime.now()
    monday = (now + timedelta(days=7 - now.weekday())).replace(hour=10, minute=0, second=0, microsecond=0)  # next Monday
    person = lin_gallery.store.person(NAME)
    windows = parse_windows("Mon-Fri 08:00-18:00")
    Passes(lin_gallery.store).set(person.id, stored_time(now + timedelta(days=14)), schedule=windows)
    assert Schedules(lin_gallery.store).windows(person.id) == windows

    verdicts, _, pulses = _lin_verdicts(lin_gallery, clip, monday)  # inside a window, inside the pass
    assert Verdict.GRANTED in verdicts and pulses == 1
    verdicts, events, pulses = _lin_verdicts(lin_gallery, clip, monday.replace(hour=20))  # outside the windows
    assert Verdict.GRANTED not in verdicts and pulses == 0
    assert events[0].verdict == Verdict.DENIED_SCHEDULE and "Mon 20:00 is outside Mon 08:00-18:00" in events[0].reason
    verdicts, events, pulses = _lin_verdicts(lin_gallery, clip, monday + timedelta(days=14))  # a window, after the pass
    assert Verdict.GRANTED not in verdicts and pulses == 0 and "visitor pass expired" in events[0].reason


def test_a_per_schedule_pass_from_the_command_line(gallery, db_path):
    visitor_id = _visitor(gallery)
    gallery.close()
    until = (datetime.now() + timedelta(days=30)).replace(microsecond=0).isoformat()
    for schedule, said in (("Mon-Fri 25:00-26:00", "not a time of day"), ("", "at least one weekly window")):
        bad = facegate("visitors", "--enroll", visitor_id, "Cleaner", "--until", until, "--schedule", schedule, "--db", db_path)
        assert bad.returncode != 0 and said in bad.stderr and "nobody enrolled" in bad.stderr, bad.stderr
    alone = facegate("visitors", "--enroll", visitor_id, "Cleaner", "--schedule", "Mon 08:00-09:00", "--db", db_path)
    assert alone.returncode != 0 and "--schedule needs --until" in alone.stderr
    out = facegate(
        "visitors",
        "--enroll",
        visitor_id,
        "Cleaner",
        "--until",
        until,
        "--schedule",
        "Sat-Sun 18:00-21:00",
        "--db",
        db_path,
        "--json",
    )
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["pass"].endswith("Sat 18:00-21:00, Sun 18:00-21:00")

    g = Gallery(db_path, describer=gallery.describer)
    try:
        assert [p.name for p in g.people()] == ["Cleaner"]  # the refused attempts enrolled nobody
        cleaner = g.store.person("Cleaner")
        assert cleaner.allowed and Passes(g.store).of(cleaner.id).valid_until == stored_time(until)
        assert format_windows(Schedules(g.store).windows(cleaner.id)) == "Sat 18:00-21:00, Sun 18:00-21:00"
    finally:
        g.close()
