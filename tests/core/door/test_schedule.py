"""Weekly time windows: parsing with clear errors, overnight windows, storage, and the CLI."""

from __future__ import annotations

import json
from datetime import datetime

import pytest

from core.cli.main import main as cli
from core.door.schedule import Schedules, format_windows, parse_windows
from tests.support.data import IMAGES

MONDAY = datetime(2026, 11, 23)  # a Monday


def test_parse_ranges_overnight_and_end_of_day():
    windows = parse_windows("Mon-Fri 08:00-18:00; Fri 22:00-02:00, sat-mon 10:00-24:00")
    assert format_windows(windows) == (
        "Mon 08:00-18:00, Tue 08:00-18:00, Wed 08:00-18:00, Thu 08:00-18:00, "
        "Fri 08:00-18:00, Fri 22:00-02:00, Sat 10:00-24:00, Sun 10:00-24:00, "
        "Mon 10:00-24:00"
    )
    overnight = windows[5]
    assert overnight.covers(MONDAY.replace(day=27, hour=23))  # Friday 23:00
    assert overnight.covers(MONDAY.replace(day=28, hour=1, minute=59))  # Saturday 01:59
    assert not overnight.covers(MONDAY.replace(day=28, hour=2))  # Saturday 02:00
    assert windows[6].covers(MONDAY.replace(day=28, hour=23, minute=59))
    assert not windows[0].covers(MONDAY.replace(hour=18))  # the end is exclusive


@pytest.mark.parametrize(
    "text, words",
    [
        ("Mon 8-9", "Mon-Fri 08:00-18:00"),
        ("Xyz 08:00-09:00", "weekday"),
        ("Mon 25:00-26:00", "time of day"),
        ("Mon 08:00-08:00", "empty"),
    ],
)
def test_bad_windows_are_refused_with_the_piece_named(text, words):
    with pytest.raises(ValueError, match=words):
        parse_windows(text)


def test_schedules_in_the_gallery(gallery):
    person = gallery.enroll("Ada", [str(IMAGES / "obama.jpg")]).person
    schedules = Schedules(gallery.store)
    assert schedules.allows(person.id, MONDAY) == (True, "no time limits")
    schedules.set(person.id, parse_windows("Mon 08:00-12:00"))
    assert schedules.allows(person.id, MONDAY.replace(hour=9)) == (True, "within Mon 08:00-12:00")
    allowed, why = schedules.allows(person.id, MONDAY.replace(hour=13))
    assert not allowed and why == "Mon 13:00 is outside Mon 08:00-12:00"
    gallery.remove("Ada")
    assert gallery.store.read("SELECT COUNT(*) FROM schedules") == [(0,)]  # deleted with the person


def test_cli_sets_shows_and_clears(gallery, capsys):
    gallery.enroll("Ada", [str(IMAGES / "obama.jpg")])
    db = str(gallery.store.path)
    gallery.close()
    assert cli(["schedule", "--db", db, "Ada", "Mon-Fri 08:00-18:00"]) == 0
    assert cli(["schedule", "--db", db, "Ada", "--json"]) == 0
    out = capsys.readouterr().out.strip().splitlines()
    assert json.loads(out[-1])["windows"][0] == "Mon 08:00-18:00" and len(json.loads(out[-1])["windows"]) == 5
    assert cli(["schedule", "--db", db, "Ada", "Mon 8-9"]) == 2
    assert "schedule not changed" in capsys.readouterr().err
    assert cli(["schedule", "--db", db, "Ada", "--clear"]) == 0
    assert capsys.readouterr().out.strip() == "Ada: no time limits"
