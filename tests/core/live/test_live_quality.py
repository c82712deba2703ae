"""The live loop with YuNet and the quality gates: every face boxed, each frame detected; faces
too small, blurred or turned away are labelled with why and never described, named, counted by
the door or logged as Unknown visitors."""

from __future__ import annotations

import cv2

from core.door.decide import DoorDecider
from core.live.loop import LiveRecognizer
from core.live.worker import InlineWorker
from core.vision.quality import BLURRED, TOO_FAR, TURNED
from tests.support.data import LIN_SHOT

PROFILE_FRAMES = range(20, 49)  # a head about 220 px wide, seen in profile


def test_the_small_face_is_boxed_in_nearly_every_frame_and_called_too_far(gallery, clip, describer):
    rec = LiveRecognizer(gallery, descriptor_worker=InlineWorker(describer))
    try:
        shown = [rec.process(clip[i], i / 30).tracks for i in range(20)]
    finally:
        rec.close()
    boxed = [views for views in shown if any(35 <= v.box.width <= 60 for v in views)]
    assert len(boxed) >= 18
    assert all(v.label == TOO_FAR and v.state == "poor" and v.name is None for views in boxed for v in views)
    assert all(t.descriptor is None and not t.matches for t in rec.tracker.tracks.values())


def test_blurred_and_turned_faces_are_boxed_never_described_nor_logged(lin_gallery, clip, describer):
    """Lin-Manuel's shot blurred, then the profile: boxed and labelled every frame, no descriptor
    is ever made, no name shown, and the door logs neither face (no Unknown visitor)."""
    decider = DoorDecider(lin_gallery)
    rec = LiveRecognizer(lin_gallery, descriptor_worker=InlineWorker(describer), decider=decider)
    frames = [cv2.GaussianBlur(clip[i], (0, 0), 4) for i in LIN_SHOT[:30]] + [clip[i] for i in PROFILE_FRAMES]
    labels, big_tracks = [], set()
    try:
        for n, rgb in enumerate(frames):
            views = rec.process(rgb, n / 30).tracks
            big = [v for v in views if v.box.width >= 80]
            assert len(big) == 1, (n, views)
            labels.append(big[0].label)
            big_tracks.add(big[0].id)
            assert big[0].name is None and big[0].decision is None
        assert all(t.descriptor is None and not t.matches for t in rec.tracker.tracks.values() if t.box.width >= 80)
        rec.reset()  # the faces leave
    finally:
        rec.close()
        decider.flush()
        decider.close()
    assert set(labels[:30]) == {BLURRED} and set(labels[30:]) == {TURNED}
    # (a small face in the audience behind the profile is sharp and frontal enough: it may be logged)
    assert [e for e in decider.access_log.events() if e.track in big_tracks] == []


def test_the_sharp_shot_is_named_after_the_gates(lin_gallery, clip, describer):
    rec = LiveRecognizer(lin_gallery, descriptor_worker=InlineWorker(describer))
    try:
        labels = [[v.label for v in rec.process(clip[i], i / 30).tracks] for i in LIN_SHOT]
    finally:
        rec.close()
    assert sum("Lin-Manuel" in ls for ls in labels) >= 0.8 * len(LIN_SHOT)
