"""The admin's verbs on the command line (`facegate site group|member|person|merge|door|snapshots`),
end to end with a real server: who may open a door follows the groups after the door syncs; bad
names and bad grammar get a clear message; a door's login is refused."""

from __future__ import annotations

import json
from dataclasses import replace

from core.cli.main import main
from core.door.verdict import Verdict
from core.gallery.api import Gallery
from core.gallery.photo_views import VIEW_WIDTHS
from core.site.config import SiteConfig
from tests.support.data import IMAGES
from tests.support.site import grant_attempt, password_file


def _run(capsys, *argv) -> dict | list:
    code = main([*argv, "--json"])
    out = capsys.readouterr().out
    assert code == 0, out
    return json.loads(out)


def _refused(capsys, *argv) -> str:
    """The command fails with exit 2 and says why (as JSON, so nothing else is printed)."""
    code = main([*argv, "--json"])
    out = capsys.readouterr().out
    assert code == 2, out
    return json.loads(out)["error"]


def _verdict(db: str, vec, describer) -> str:
    with Gallery(db, describer=describer) as g:
        return grant_attempt(g, vec)[0]


def test_groups_doors_and_members_from_the_command_line(tmp_path, site_url, superuser_password_file, describer, faces, capsys):
    a, b = str(tmp_path / "a" / "gallery.db"), str(tmp_path / "b" / "gallery.db")
    for name, photo in (("Joe", "biden.jpg"), ("Barack", "obama.jpg"), ("Barry", "obama2.jpg")):
        assert main(["enroll", name, str(IMAGES / photo), "--db", a]) == 0
    capsys.readouterr()
    _run(
        capsys, "site", "init", site_url, "--door", "front", "--password-file", str(superuser_password_file), "--db", a, "--admin"
    )
    admin_pw = password_file(tmp_path, SiteConfig.load(a).admin_login.password)
    _run(
        capsys,
        "site",
        "join",
        site_url.replace("postgres@", "facegate_admin@"),
        "--door",
        "server room",
        "--password-file",
        str(admin_pw),
        "--db",
        b,
    )
    joe = faces["biden"][0]
    assert _verdict(b, joe, describer) != Verdict.GRANTED  # no group opens a new door until the admin says so
    opened = _run(capsys, "site", "group", "open", "everyone", "server room", "--db", a)
    assert opened["said"] == "group 'everyone' may now open door 'server room'"
    _run(capsys, "site", "sync", "--db", b)
    assert _verdict(b, joe, describer) == Verdict.GRANTED

    closed = _run(capsys, "site", "group", "close", "everyone", "server room", "--db", a)
    assert closed["changed"] and closed["said"] == "group 'everyone' may no longer open door 'server room'"
    _run(capsys, "site", "sync", "--db", b)
    assert _verdict(b, joe, describer) != Verdict.GRANTED

    _run(capsys, "site", "group", "add", "IT", "--db", a)
    _run(capsys, "site", "group", "open", "IT", "server room", "--db", a)
    assert _run(capsys, "site", "member", "add", "IT", "joe", "--db", a)["changed"]  # names match in any case
    assert _run(capsys, "site", "groups", "--db", a) == [
        {"name": "IT", "people": 1, "doors": ["server room"]},
        {"name": "enrolled at server room", "people": 0, "doors": ["server room"]},
        {"name": "everyone", "people": 3, "doors": ["front"]},
    ]
    assert _run(capsys, "site", "sync", "--db", b)["pulled_people"] == 1
    assert _verdict(b, joe, describer) == Verdict.GRANTED

    _run(capsys, "site", "member", "remove", "IT", "Joe", "--db", a)
    assert _run(capsys, "site", "sync", "--db", b)["removed_people"] == 1
    assert _verdict(b, joe, describer) != Verdict.GRANTED
    again = _run(capsys, "site", "member", "remove", "IT", "Joe", "--db", a)
    assert not again["changed"] and again["said"] == "'Joe' was not in group 'IT'"

    # the people: rename, merge a duplicate, remove everywhere
    _run(capsys, "site", "person", "rename", "Joe", "Joe Biden", "--db", a)
    merged = _run(capsys, "site", "merge", "Barack", "Barry", "--db", a)
    assert merged["result"] == 1 + len(VIEW_WIDTHS) and merged["verb"] == "merge"  # samples moved: a photo and its views
    views = len(VIEW_WIDTHS)
    people = {p["name"]: (p["samples"], p["views"]) for p in _run(capsys, "site", "people", "--db", a)}
    assert people == {"Barack": (2 * (1 + views), 2 * views), "Joe Biden": (1 + views, views)}  # photos with their views
    assert main(["site", "people", "--db", a]) == 0
    listed = capsys.readouterr().out.splitlines()  # the views counted apart, as the People page and `facegate people` do
    assert [line.split("  enrolled at")[0].split() for line in listed] == [
        ["Barack", str(2 * (1 + views)), "samples", f"({2 * views}", "photo", "views)"],
        ["Joe", "Biden", str(1 + views), "samples", f"({views}", "photo", "views)"],
    ]
    _run(capsys, "site", "person", "remove", "Joe Biden", "--db", a)
    _run(capsys, "site", "sync", "--db", a)
    assert _verdict(a, joe, describer) != Verdict.GRANTED
    assert _run(capsys, "site", "snapshots", "on", "--db", a)["changed"]

    # bad names and bad grammar: a clear message, nothing changed
    assert _refused(capsys, "site", "member", "add", "IT", "Nobody", "--db", a) == "the site has no person called 'Nobody'"
    assert _refused(capsys, "site", "group", "open", "Cleaners", "front", "--db", a) == "the site has no group called 'Cleaners'"
    assert _refused(capsys, "site", "group", "open", "IT", "garage", "--db", a) == "the site has no door called 'garage'"
    assert _refused(capsys, "site", "group", "add", "IT", "--db", a) == "the site already has a group called 'IT'"
    assert _refused(capsys, "site", "group", "open", "IT", "--db", a) == "usage: facegate site group open GROUP DOOR"
    assert "site snapshots on | site snapshots off" in _refused(capsys, "site", "snapshots", "maybe", "--db", a)
    assert _run(capsys, "site", "groups", "--db", a)[0] == {"name": "IT", "people": 0, "doors": ["server room"]}

    # a door's PC holds no admin login; a door's login put in the admin's place is refused too
    assert "only its door's login" in _refused(capsys, "site", "group", "add", "Mallory", "--db", b)
    door = SiteConfig.load(b)
    replace(door, admin_login=door.door_login).save(b)
    refused = _refused(capsys, "site", "person", "remove", "Barack", "--db", b)
    assert refused.endswith("is not the site's admin (facegate_admin): it may not change people, groups or doors")
    assert "Barack" in {p["name"] for p in _run(capsys, "site", "people", "--db", a)}
