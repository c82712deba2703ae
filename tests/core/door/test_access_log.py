"""The access log: events in the gallery's SQLite file, filters, a CSV export that round-trips,
and "not this person" stopping a real wrong match while the real person is still recognised."""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import time as clock
from datetime import date, datetime

import pytest

from core.door.access_log import CSV_COLUMNS, AccessEvent, AccessLog, local_time, read_csv, stored_time
from core.errors import StoreError
from core.gallery.api import Gallery
from core.vision.images import crop, encode_jpeg, load_image
from tests.support.data import IMAGES, KNN


def _events(gallery) -> list[AccessEvent]:
    rgb = load_image(IMAGES / "obama.jpg")
    face = gallery.faces(rgb)[0]
    snapshot = encode_jpeg(crop(rgb, face.box))
    obama = gallery.store.person("obama")
    return [
        AccessEvent(
            "Granted",
            "obama",
            obama.id,
            "obama at 0.351 on 3 frames; blinked",
            0.351,
            0.442,
            "biden",
            0.793,
            "unlocking",
            track=4,
            descriptor=face.descriptor,
            snapshot=snapshot,
        ),
        AccessEvent(
            "Unknown",
            None,
            None,
            "nearest is obama at 0.729, over the threshold 0.40",
            0.729,
            0.09,
            "biden",
            0.819,
            "",
            track=5,
            snapshot=snapshot,
        ),
        AccessEvent(
            "Denied", '=HYPERLINK("x")', None, 'not allowed, "quoted", with\na newline', 0.2, None, None, None, "", track=None
        ),
        AccessEvent(
            "Denied (schedule)",
            "'quote",
            None,
            "-Sun 23:10 is outside Mon 08:00-18:00",
            0.31,
            0.3,
            "@rose",
            1e-7,
            "cooldown (2.0 s left)",
            track=7,
        ),
    ]


def test_csv_export_round_trips_every_event(knn_gallery, tmp_path):
    log = AccessLog(knn_gallery.store)
    for event in _events(knn_gallery):
        log.record(event)
    logged = log.events(limit=None)
    assert len(logged) == 4 and logged[0].id > logged[-1].id  # newest first
    path = tmp_path / "access.csv"
    assert log.export_csv(path) == 4

    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    assert tuple(rows[0]) == CSV_COLUMNS and len(rows) == 5
    assert not any(cell.startswith(("=", "+", "-", "@")) for row in rows for cell in row)  # no formulas
    back = read_csv(path)
    assert back == [dataclasses.replace(e, person_id=None) for e in logged]
    assert [e.has_snapshot for e in back] == [False, False, True, True]


def test_filters_and_snapshots(knn_gallery):
    log = AccessLog(knn_gallery.store)
    ids = [log.record(e) for e in _events(knn_gallery)]
    assert [e.verdict for e in log.events(person="OBAMA")] == ["Granted"]
    assert [e.id for e in log.events(unknown=True)] == [ids[1]]
    assert [e.id for e in log.events(verdict="Denied (schedule)")] == [ids[3]]
    assert log.events(since="2999-01-01") == [] and len(log.events(until="2999-01-01")) == 4
    assert log.snapshot(ids[1])[:2] == b"\xff\xd8" and log.snapshot(ids[2]) is None
    buffer = io.StringIO()
    assert log.export_csv(buffer, verdict="Granted") == 1
    assert [e.name for e in read_csv(io.StringIO(buffer.getvalue()))] == ["obama"]


def test_read_csv_refuses_other_files():
    with pytest.raises(ValueError, match="not a FaceGate access log"):
        read_csv(io.StringIO("name,age\nx,1\n"))


def test_not_this_person_stops_a_real_wrong_match(knn_gallery):
    """At a loose threshold (0.75) Lin-Manuel's photo is matched to obama (0.705): the operator
    says "not this person"; he is not matched to obama again, and Obama still is."""
    g = knn_gallery
    g.threshold = 0.75
    lin = g.faces(load_image(IMAGES / "lin-manuel-miranda.png"))[0]
    wrong = g.identify_descriptor(lin.descriptor)
    assert wrong.name == "obama" and 0.6 < wrong.distance < 0.75
    log = AccessLog(g.store)
    event_id = log.record(
        AccessEvent("Granted", wrong.name, wrong.person_id, wrong.reason, wrong.distance, wrong.margin, descriptor=lin.descriptor)
    )

    marked = log.not_this_person(event_id, g)
    assert marked.not_this_person and log.event(event_id).not_this_person
    again = g.identify_descriptor(lin.descriptor)
    assert again.name != "obama" and all(c.name != "obama" for c in again.candidates)
    for photo in ("obama3.jpg", "two_people.jpg"):
        assert g.identify(IMAGES / photo)[0][1].name == "obama", photo
    assert g.identify(KNN / "test" / "obama1.jpg")[0][1].name == "obama"

    path = g.store.path
    g.close()
    with Gallery(path, describer=g.describer, threshold=0.75) as reopened:  # the mark is in the database
        assert reopened.identify_descriptor(lin.descriptor).name != "obama"
        unknown = AccessLog(reopened.store).record(AccessEvent("Unknown", descriptor=lin.descriptor))
        with pytest.raises(StoreError, match="unknown visitor"):
            AccessLog(reopened.store).not_this_person(unknown, reopened)


def test_cli_lists_exports_and_marks(knn_gallery, tmp_path, capsys):
    from core.cli.main import main as cli

    g = knn_gallery
    lin = g.faces(load_image(IMAGES / "lin-manuel-miranda.png"))[0]
    obama = g.store.person("obama")
    log = AccessLog(g.store)
    marked = log.record(AccessEvent("Granted", "obama", obama.id, "wrong", 0.705, descriptor=lin.descriptor))
    log.record(AccessEvent("Unknown", reason="nobody", distance=0.9))
    db = str(g.store.path)
    g.close()
    assert cli(["access-log", "--db", db, "--json", "--unknown"]) == 0
    assert [r["verdict"] for r in json.loads(capsys.readouterr().out)] == ["Unknown"]
    assert cli(["access-log", "--db", db, "--csv", str(tmp_path / "all.csv")]) == 0
    assert len(read_csv(tmp_path / "all.csv")) == 2
    assert cli(["access-log", "--db", db, "--not-this-person", str(marked)]) == 0
    assert cli(["access-log", "--db", db, "--not-this-person", "999"]) == 2
    assert "no access event 999" in capsys.readouterr().err
    with Gallery(db, describer=g.describer, threshold=0.75) as reopened:
        assert reopened.identify_descriptor(lin.descriptor).name != "obama"


@pytest.fixture
def five_hours_behind_utc(monkeypatch):
    """The door PC's clock on UTC-5 (no daylight saving) for the test."""
    monkeypatch.setenv("TZ", "EST+5")
    clock.tzset()
    yield
    monkeypatch.undo()
    clock.tzset()


def test_one_rule_turns_a_local_day_or_time_into_the_stored_form(five_hours_behind_utc):
    assert stored_time(date(2026, 3, 2)) == "2026-03-02T05:00:00.000+00:00"  # local midnight
    assert stored_time("2026-03-02") == stored_time(date(2026, 3, 2))
    assert stored_time(" 2026-03-02T08:30 ") == "2026-03-02T13:30:00.000+00:00"  # no offset: local
    assert stored_time(datetime(2026, 3, 2, 8, 30)) == "2026-03-02T13:30:00.000+00:00"
    assert stored_time("2026-03-02T08:30Z") == "2026-03-02T08:30:00.000+00:00"
    assert stored_time("2026-03-02T08:30+01:00") == "2026-03-02T07:30:00.000+00:00"
    assert local_time("2026-03-02T03:00:00.000+00:00") == "2026-03-01 22:00:00"
    with pytest.raises(ValueError, match="'yesterday' is not a date or time"):
        stored_time("yesterday")


def test_cli_since_means_local_midnight_like_the_log_page(gallery, five_hours_behind_utc, capsys):
    from core.cli.main import main as cli

    log = AccessLog(gallery.store)
    log.record(AccessEvent("Unknown", reason="late on the 1st", time="2026-03-02T03:00:00.000+00:00"))
    log.record(AccessEvent("Unknown", reason="morning of the 2nd", time="2026-03-02T14:30:00.000+00:00"))
    db = str(gallery.store.path)
    gallery.close()
    assert cli(["access-log", "--db", db, "--json", "--since", "2026-03-02"]) == 0
    assert [r["reason"] for r in json.loads(capsys.readouterr().out)] == ["morning of the 2nd"]
    assert cli(["access-log", "--db", db, "--json", "--since", "2026-03-01"]) == 0
    assert len(json.loads(capsys.readouterr().out)) == 2
    assert cli(["access-log", "--db", db, "--since", "2026-13-01"]) == 2
    assert "--since: '2026-13-01' is not a date or time" in capsys.readouterr().err


def test_the_apps_own_rows_are_about_nobody(gallery, caplog):
    """Lifecycle rows read "FaceGate started unknown visitor": only a face is an unknown visitor."""
    import logging

    log = AccessLog(gallery.store)
    with caplog.at_level(logging.INFO, logger="facegate.door"):
        log.record(AccessEvent("FaceGate started", reason="it was stopped cleanly"))
        log.record(AccessEvent("Unknown", track=4, reason="nearest is ann at 0.61"))
    started, unknown = log.events()[::-1]
    assert (started.who, unknown.who) == ("", "unknown visitor")
    assert AccessEvent("Unknown", track=5, visitor_id=3).who == "unknown visitor #3"
    assert "FaceGate started (it was stopped cleanly)" in caplog.text and "unknown visitor" not in caplog.text.split("\n")[0]
