"""`facegate replay` decides what the window decides: the clip played in the real window (offscreen)
and replayed from the command line give the same visits, verdicts and unlocks."""

from __future__ import annotations

import json

from core.gallery.store import NewSample
from core.station.replay import NextFrame
from core.station.visits import VisitLog
from tests.support.cli import facegate
from tests.support.data import CLIP
from tests.support.window import play

LIN = "Lin-Manuel"


def test_replay_json_matches_what_the_window_decides(qtbot, live_window, lin_gallery):
    window, recording = live_window
    samples = lin_gallery.store.samples(LIN)
    window.gallery.enroll_samples(LIN, [NewSample(s.descriptor, None, s.source) for s in samples])
    window.recognizer.refresh()
    # replay takes each descriptor on the next frame (a worker keeping up with a camera); so
    # does the window here, playing as fast as it can
    window.recognizer.descriptor_worker = NextFrame(window.recognizer.descriptor_worker)

    replayed = json.loads(facegate("replay", CLIP, "--db", window.gallery.store.path, "--json", check=True).stdout)

    seen = VisitLog()
    window.frame_shown.connect(lambda shown: seen.observe(shown.source_index, shown.result))
    play(qtbot, window, recording)
    pages = window.door_pages
    qtbot.waitUntil(lambda: pages.door.state == "locked", timeout=10_000)

    def summary(visits):
        # who got which final verdict (a track may be split at the clip's cut in one run, not the other)
        return sorted(
            {(v["person"] or "", v["verdict"], v["unlocked"]) for v in visits if v["verdict"] in ("Granted", "Unknown")}
        )

    shown = [v.as_dict() for v in seen.visits]
    assert seen.unlocks == replayed["unlocks"] == 1 and pages.door.pulses == 1
    assert summary(shown) == summary(replayed["visits"])
    granted = [v for v in shown if v["unlocked"]]
    assert granted[0]["person"] == LIN and granted[0]["liveness"].startswith(("turned", "blinked"))
