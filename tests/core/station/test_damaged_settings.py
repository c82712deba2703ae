"""A saved setting that cannot be used: the value takes its default alone, every other saved value
is kept, and when it is one that decides who gets in (the threshold, the screen check, the offline
policy...) the door stays shut until the group is saved again: its default could be weaker than
what the admin chose. On the real clip, through the door `facegate replay` assembles."""

from __future__ import annotations

import json
from dataclasses import replace

from core.door.policy import DecisionSettings
from core.live.worker import InlineWorker
from core.station import Station
from core.station.replay import replay
from core.station.settings import damaged_door_settings
from tests.support.cli import facegate
from tests.support.data import CLIP


def _unlocks(gallery) -> tuple[int, list[str]]:
    report = replay(CLIP, gallery, worker=InlineWorker(gallery.describer))
    return report.unlocks, [v.reason for v in report.visits]


def test_a_damaged_door_setting_keeps_the_door_shut_until_saved_again(lin_gallery):
    opened, _ = _unlocks(lin_gallery)
    assert opened >= 1  # he is let in with the stored defaults
    store = lin_gallery.store
    store.set_setting("decision", json.dumps({"strict_turn": False, "threshold": 0.45, "agree": 0, "version": 1}))
    store.set_setting("site", json.dumps({"offline_policy": "nobody", "passback": "hard", "batch": "500", "version": 1}))

    station = Station(lin_gallery)
    try:
        decision, site = station.settings.decision, station.settings.site
        assert (decision.threshold, decision.agree) == (0.45, 3)  # the bad value alone took its default
        assert (site.offline_policy, site.passback, site.batch) == ("nobody", "hard", 500)
        said = (
            "the door stays shut: its saved decision settings could not be used (agree: at least one identification must agree)"
        )
        assert any(p.startswith(said) for p in station.problems)
        assert any("could not use batch (site.batch is int, not '500')" in p for p in station.problems)
        assert [why for why in (gate() for gate in station.decider.gates) if why] == [station.problems[-1]]
    finally:
        station.close()

    opened, reasons = _unlocks(lin_gallery)
    assert opened == 0 and any(said in r for r in reasons), reasons
    status = facegate("status", "--db", lin_gallery.store.path, "--json")
    assert status.returncode != 0 and any(said in p for p in json.loads(status.stdout)["problems"])

    station = Station(lin_gallery)  # the Door page saves the group whole again: the door works at once
    try:
        station.apply(replace(station.settings, decision=replace(station.settings.decision, threshold=0.4)))
        assert not [why for why in (gate() for gate in station.decider.gates) if why]
    finally:
        station.close()
    assert damaged_door_settings(store) is None
    opened, _ = _unlocks(lin_gallery)
    assert opened >= 1


def test_a_damaged_setting_that_does_not_decide_who_gets_in_leaves_the_door_working(gallery):
    store = gallery.store
    store.set_setting("site", json.dumps({"batch": -1, "version": 1}))
    store.set_setting("decision", json.dumps({"snapshot_size": "big", "screen_check": "required", "version": 1}))
    assert damaged_door_settings(store) is None
    decision, lost = DecisionSettings.load_salvaged(store)
    assert decision.screen_check == "required" and set(lost) == {"snapshot_size"}
    store.set_setting("decision", "{not json")  # nothing of it can be read: what the admin chose is unknown
    assert "its saved decision settings could not be used" in (damaged_door_settings(store) or "")
