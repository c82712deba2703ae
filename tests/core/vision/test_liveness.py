"""The liveness check on real landmarks: Lin-Manuel turning his head in the clip passes; generated
presentation attacks (core.tools.attacks: a still frame, a hand-held print, a curved sheet, a sheet
folded down the nose line, a phone screen) never do, over many seeds; small faces are asked to
come closer; the blink rule needs both eyes shut for consecutive frames and open again.

The landmarks come from the real detector (HOG verifying the box where the picture was drawn, as
the live loop verifies a tracked box) and the real 68-point model."""

from __future__ import annotations

import numpy as np
import pytest

from core.records import Box
from core.tools.attacks import KINDS, attack
from core.vision.detection import Detector
from core.vision.liveness import FOLD_CUES, LivenessCheck, LivenessSettings, _blink
from tests.support.presentations import attack_photos, background

#: seeds per kind and frames per presentation: 5 x 8 presentations of 2 s, about 100 ms a frame
#: on 2 busy cores (drawing, HOG, landmarks); bench/attack_bench.py runs many more through the door
SEEDS = 8
FRAMES = 60


@pytest.fixture(scope="module")
def photos(describer, clip):
    return attack_photos(describer, clip)


def _landmarks(describer, rgb, box: Box) -> np.ndarray:
    shape = describer.landmarks(rgb, box, 68)
    return np.array([(p.x, p.y) for p in shape.parts()], float)


def _judge(describer, frames, settings=None, method="haar+hog"):
    """Feed the check every frame's face (HOG verifying the box where it was drawn, or the box
    ``method`` finds over it); the last result and the frames judged."""
    detector = Detector(method, 40)
    check = LivenessCheck(describer, settings)
    result, judged = None, 0
    for i, (rgb, around) in enumerate(frames):
        if method == "haar+hog":
            box = detector.verify(rgb, around)
        else:
            box = max((b for b in detector.detect(rgb) if b.iou(around) > 0.3), key=lambda b: b.iou(around), default=None)
        if box is None:
            continue
        result = check.observe(rgb, box, i / 30)
        judged += result.reason.startswith(("please", "turned", "blinked"))
        if result.passed:
            break
    return result, judged


@pytest.mark.parametrize("kind", KINDS)
def test_every_attack_kind_is_refused_over_many_variants(describer, clip, photos, kind):
    passed, parallax, judged = [], [], 0
    for seed in range(SEEDS):
        shown, frames = attack(kind, photos[seed % len(photos)], background(clip, seed), seed, FRAMES)
        result, n = _judge(describer, [(f.rgb, f.face) for f in frames])
        judged += n
        assert result is not None, f"{shown}: the face was never found"
        if result.passed:
            passed.append(f"{shown}: {result.reason}")
        parallax.append(result.parallax or 0.0)
    assert judged >= 0.5 * SEEDS * FRAMES  # the check really saw the pictures (a sheet turned edge-on hides its face)
    if kind != "still":
        assert max(parallax) > 0.02  # and they moved: parallax was measured, and too little
    # The known gap (README, "What the liveness check stops"): dlib's 68-point model places the
    # landmarks of a sheet folded down the nose line, turned far, like a turning head's; the
    # outline and midline cues (FOLD_CUES, not the default) close it. Every other kind: none.
    assert len(passed) <= (1 if kind == "folded" else 0), passed


def test_a_fold_dlib_sees_as_a_turning_head_is_refused_by_its_outline_and_midline(describer, clip, photos):
    """The 38° valley fold of obama1.jpg (seed 5) and the 30° ridge fold of Lin-Manuel's own photo
    (seed 55): dlib places their nose tips like a turning head's, so parallax and bump alone pass
    them (on the boxes of YuNet, the app's detector); their outline does not slide against the
    eyes, or their midline stays straight. So does every fold of the first seeds."""
    for seed in (5, 55):
        shown, frames = attack("folded", photos[seed % len(photos)], background(clip, seed), seed, 120)
        frames = [(f.rgb, f.face) for f in frames]
        nose_only, _ = _judge(describer, frames, method="yunet")
        assert nose_only is not None and nose_only.passed, (shown, nose_only)
        result, _ = _judge(describer, frames, LivenessSettings(**FOLD_CUES), "yunet")
        assert not result.passed, (shown, result)
    for seed in range(SEEDS):
        shown, frames = attack("folded", photos[seed % len(photos)], background(clip, seed), seed, FRAMES)
        result, _ = _judge(describer, [(f.rgb, f.face) for f in frames], LivenessSettings(**FOLD_CUES), "yunet")
        assert result is not None and not result.passed, (shown, result)


def _tracked(gallery, frames):
    """The box the live loop tracks on each frame (the largest face), as the door sees it."""
    from core.live.loop import LiveRecognizer
    from core.live.worker import InlineWorker

    rec = LiveRecognizer(gallery, descriptor_worker=InlineWorker(gallery.describer))
    try:
        return [
            (rgb, max((v.box for v in rec.process(rgb, i / 30).tracks), key=lambda b: b.area, default=None))
            for i, rgb in enumerate(frames)
        ]
    finally:
        rec.close()


def test_lin_turning_his_head_passes_and_says_why(gallery, clip):
    # his visit as the tracker follows it (frames 82-210, one track across the cut), and his
    # second shot alone; his first shot alone (1.1 s) ends before ten frames show the turn
    for first, stop in ((82, 211), (120, 211)):
        boxes = [(rgb, b) for rgb, b in _tracked(gallery, clip[first:stop]) if b is not None]
        result, _ = _judge(gallery.describer, boxes)
        assert result.passed and result.reason.startswith("turned: parallax"), (first, result)
        assert result.parallax >= LivenessSettings().parallax
        # with the fold cues asked too, his turn still passes (later), and says so
        result, _ = _judge(gallery.describer, boxes, LivenessSettings(**FOLD_CUES))
        assert result.passed and "outline slid" in result.reason and "midline bent" in result.reason, (first, result)


def test_a_small_face_is_asked_to_come_closer(describer, clip):
    check = LivenessCheck(describer)
    box = Detector("hog", 40).detect(clip[10])[0]  # his 50 px face early in the clip
    result = check.observe(clip[10], box, 0.0)
    assert not result.passed and result.reason.startswith("come closer") and f"{box.width} px" in result.reason


def test_thresholds_follow_the_faces_own_noise(gallery, clip):
    """The same head turn, with the landmarks shaken by 20 % of an eye distance per frame, is no
    longer enough: the evidence a face needs grows with its own jitter."""
    points = [_landmarks(gallery.describer, rgb, box) for rgb, box in _tracked(gallery, clip[120:211]) if box]
    clean = LivenessCheck(gallery.describer)
    assert any(clean.observe_points(p, i / 30).passed for i, p in enumerate(points))
    rng = np.random.default_rng(0)
    shaken = LivenessCheck(gallery.describer)
    results = []
    for i, p in enumerate(points):
        iod = np.linalg.norm(p[36:42].mean(0) - p[42:48].mean(0))
        results.append(shaken.observe_points(p + rng.normal(0, 0.2 * iod, p.shape), i / 30))
    assert not any(r.passed for r in results), results[-1]  # its parallax is far over 0.35, but so is its noise
    assert max(r.parallax or 0 for r in results) > 2 * LivenessSettings().parallax


def test_blink_needs_both_eyes_shut_for_consecutive_frames_then_open():
    open_, shut = [0.30, 0.30], [0.10, 0.11]
    wink = [0.10, 0.30]

    def ears(*rows):
        return np.array(rows, float)

    assert _blink(ears(open_, open_, shut, shut, open_, open_), 0.5, 0.85, 2) is not None
    assert _blink(ears(open_, open_, shut, open_, open_, open_), 0.5, 0.85, 2) is None  # one frame: jitter
    assert _blink(ears(open_, open_, wink, wink, open_, open_), 0.5, 0.85, 2) is None  # one eye: a wink or noise
    assert _blink(ears(open_, open_, open_, open_, shut, shut), 0.5, 0.85, 2) is None  # not open again yet
    assert _blink(ears(shut, shut, open_, open_, open_, open_), 0.5, 0.85, 2) is None  # never seen open before


def test_the_door_asks_for_the_outline_and_midline_only_when_strict():
    from core.door.policy import DecisionSettings

    plain = DecisionSettings().liveness_settings()
    strict = DecisionSettings(strict_turn=True).liveness_settings()
    assert (plain.outline, plain.midline) == (0.0, 0.0)
    assert (strict.outline, strict.midline) == (FOLD_CUES["outline"], FOLD_CUES["midline"])
    saved = DecisionSettings(strict_turn=True).to_json()
    assert DecisionSettings.from_json(saved).strict_turn  # stored in the gallery like every decision number
    assert not DecisionSettings.from_json('{"threshold": 0.4}').strict_turn  # a gallery saved before it
