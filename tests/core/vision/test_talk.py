"""The talking cue of the liveness check (core.vision.liveness): a GRID talker who neither blinks
nor turns within his 3 s unlocks the door with the check required, by his lips alone; generated
prints and sheets (held by hand, folded, curved, a phone photo) and the real phone of
Silent-Face's GIF do not pass it, the open-mouthed photos among them included, whose inner lips
dlib snaps shut as they tilt or fold; and the rule's arithmetic: shut, open, shut again, in runs
of frames, read only on frames that fit the face's plane. And the blink beside it: GRID's brbk7n,
whose lips never shut for the cue again after her word, unlocks by a steady face's shallow blink,
which the nearest generated pictures (chosen on and held out) do not make.

Real footage, real models: the talker's clip and the GIF are tests/data/footage copies, the
landmarks dlib's 68-point model on YuNet boxes."""

from __future__ import annotations

from dataclasses import replace

import cv2
import numpy as np
import pytest

from core.door.policy import DecisionSettings
from core.station.replay import replay
from core.tools.attacks import attack
from core.vision.detection import Detector
from core.vision.liveness import LivenessCheck, LivenessSettings, _blink, _talk, lip_gap
from tests.support.data import FOOTAGE, clip_frames
from tests.support.presentations import attack_photos, background

GRID = FOOTAGE / "grid-talkers"
#: the talking cue alone: what these tests are about
TALK_ONLY = LivenessSettings(blink=False, head_turn=False)
#: the talking cue before it asked to see the mouth opening (any inner lips' open run counted)
OLD_TALK = replace(TALK_ONLY, lips_ramp=0.0, lips_outer=-np.inf)
#: the blink alone, and as it was before the shallow blink (under half of open, 4x the jitter)
BLINK_ONLY = LivenessSettings(head_turn=False, talk=False)
OLD_BLINK = replace(BLINK_ONLY, blink_shallow=0.0)


def _talks(describer, frames, faces=None, settings=TALK_ONLY, method="yunet", fps=30.0) -> tuple[bool, str, int]:
    """The talking cue alone (or ``settings``) fed the face of every frame (the box ``method``
    finds over ``faces`` when given, else the largest): whether it passed, what it last said of a
    judged face, the faces judged."""
    detector = Detector(method, 40)
    check = LivenessCheck(describer, settings)
    said, judged = "", 0
    for i, rgb in enumerate(frames):
        if method == "haar+hog" and faces is not None:
            found = detector.verify(rgb, faces[i])
            boxes = [found] if found is not None else []
        else:
            boxes = [b for b in detector.detect(rgb) if faces is None or b.iou(faces[i]) > 0.3]
        if not boxes:
            continue
        result = check.observe(rgb, max(boxes, key=lambda b: b.area), i / fps)
        if result.passed:
            return True, result.reason, judged + 1
        if not result.reason.startswith("come closer"):
            said, judged = result.reason, judged + 1
    return False, said, judged


def test_a_grid_talker_who_neither_blinks_nor_turns_unlocks_with_the_check_required(describer, tmp_path):
    """GRID's lbax4n, enrolled from his clip's first frame: the blink and the turn never pass in
    his 3 s (the door stayed shut before the talking cue); saying his sentence opens it, with the
    screen and print check required too."""
    from core.gallery.api import Gallery

    video = GRID / "lbax4n.mpg"
    still = tmp_path / "D.png"
    cv2.imwrite(str(still), cv2.cvtColor(clip_frames(video)[0], cv2.COLOR_RGB2BGR))
    with Gallery(tmp_path / "grid.db", describer=describer) as gallery:
        gallery.enroll("D", [str(still)])
        talking = replay(video, gallery, decision=DecisionSettings(screen_check="required"))
        mute = replay(video, gallery, decision=DecisionSettings(screen_check="required", talk=False))
    named = [v for v in talking.visits if v.person == "D"]
    assert talking.unlocks >= 1, [v.line() for v in talking.visits]
    assert any(v.unlocked and v.liveness.startswith("talked: lips") and "a live face" in v.liveness for v in named), [
        v.liveness for v in named
    ]
    assert mute.unlocks == 0, [v.line() for v in mute.visits]  # the blink or turn alone: shut
    assert any("please blink or turn your head" in v.liveness for v in mute.visits), [v.liveness for v in mute.visits]


@pytest.mark.parametrize(
    "kind, seeds",
    [
        # 4 and 17: alex-lacamoire.png, mouth open, whose inner lips shut for a frame or two as
        # the sheet tilts far (the nearest the generated attacks came to talking); 5: the 38°
        # valley fold of obama1.jpg; 11: a clip frame of Lin-Manuel mid-word
        ("print", (4, 17, 11)),
        ("folded", (4, 17, 5)),
        ("curved", (4, 17)),
        ("screen", (17,)),
        ("still", (11,)),
    ],
)
def test_generated_pictures_do_not_talk(describer, clip, kind, seeds):
    photos = attack_photos(describer, clip)
    for seed in seeds:
        shown, it = attack(kind, photos[seed % len(photos)], background(clip, seed), seed, 120)
        drawn = list(it)
        passed, said, judged = _talks(describer, [f.rgb for f in drawn], [f.face for f in drawn])
        assert judged >= 20, (shown, judged)  # the check really saw the picture
        assert not passed, (shown, said)
        assert "say something" in said, (shown, said)


@pytest.mark.parametrize(
    "kind, seed, method",
    [
        # a clip frame of Lin-Manuel mid-word on a hand-held print: dlib's inner lips open as the
        # outer ones shut (chosen on: seeds 0-9 only; 24 was held out and is the one found)
        ("print", 24, "yunet"),
        # an open-mouthed alex-lacamoire.png on a curved sheet, read shut, snapping open in one frame
        ("curved", 4, "haar+hog"),
    ],
)
def test_pictures_whose_inner_lips_snap_open_do_not_talk(describer, clip, kind, seed, method):
    """Fed 120 frames, the talking cue as it was passed these by their inner lips alone; asked to
    see the mouth opening (a frame part-open before the open run, the outer lips parting too), it
    does not."""
    photos = attack_photos(describer, clip)
    shown, it = attack(kind, photos[seed % len(photos)], background(clip, seed), seed, 120)
    drawn = list(it)
    frames, faces = [f.rgb for f in drawn], [f.face for f in drawn]
    passed, said, judged = _talks(describer, frames, faces, method=method)
    assert judged >= 20 and not passed, (shown, judged, said)
    assert "say something" in said, (shown, said)
    passed, said, _ = _talks(describer, frames, faces, OLD_TALK, method)
    assert passed and said.startswith("talked: lips"), (shown, said)


def test_a_real_phone_held_up_does_not_talk(describer):
    """Silent-Face's GIF, its phone segment (frames 38-61, a photographed phone showing a face)."""
    from PIL import Image, ImageSequence

    gif = [np.array(f.convert("RGB")) for f in ImageSequence.Iterator(Image.open(FOOTAGE / "silent-face-pad" / "demo.gif"))]
    passed, said, judged = _talks(describer, gif[38:62])
    assert judged >= 10 and not passed, (judged, said)


def test_the_cue_is_shut_open_shut_in_runs_of_frames():
    s = LivenessSettings()
    rule = (s.lips_closed, s.lips_open, s.closed_frames, s.open_frames, s.lips_ramp, s.lips_outer)

    def mouth(gaps: list[float], lips: float = 0.25) -> np.ndarray:  # outer lips the inner gap plus both lips
        return np.array([(g, g + lips) for g in gaps])

    shut, word = [0.02, 0.01, 0.03], [0.08, 0.15, 0.22, 0.18, 0.14]
    assert _talk(mouth(shut + word + shut), *rule) == pytest.approx(0.15)  # the run's lowest of its best 3
    assert _talk(mouth(shut + word), *rule) is None  # not shut again yet
    assert _talk(mouth(word + shut), *rule) is None  # never seen shut before
    assert _talk(mouth(shut + [0.30, 0.02, 0.30] + shut), *rule) is None  # single frames are jitter, not a word
    assert _talk(mouth(shut + [0.08, 0.11, 0.11, 0.11, 0.11] + shut), *rule) is None  # under lips_open
    # an open-mouthed picture whose lips dlib snaps shut for single frames: never a run of two shut
    photo = mouth([0.25, 0.03, 0.24, 0.26, 0.02, 0.23, 0.25, 0.03, 0.26])
    assert _talk(photo, *rule) is None
    # dlib's inner lips of a picture snapping open in one frame: no mouth was seen opening
    snap = mouth(shut + word[1:] + shut)
    assert _talk(snap, *rule) is None
    assert _talk(snap, *rule[:4], 0.0, s.lips_outer) == pytest.approx(0.15)  # the rule before
    # ...or the inner lips parting while the outer ones stay (or shut): not a mouth opening either
    alone = mouth(shut + word + shut)
    alone[:, 1] = 0.3
    assert _talk(alone, *rule) is None
    assert _talk(alone, *rule[:5], -np.inf) == pytest.approx(0.15)
    # the gap is measured in nose lengths: the same mouth on a face twice the size says the same
    points = np.zeros((68, 2))
    points[27], points[33] = (50, 40), (50, 80)
    points[[61, 62, 63]] = [(44, 100), (50, 99), (56, 100)]
    points[[67, 66, 65]] = [(44, 108), (50, 109), (56, 108)]
    assert lip_gap(points) == pytest.approx((8 + 10 + 8) / 3 / 40)
    assert lip_gap(points * 2) == pytest.approx(lip_gap(points))
    points[[67, 66, 65]] = points[[61, 62, 63]]
    assert lip_gap(points) == 0.0


def test_lips_are_read_only_on_frames_that_fit_the_faces_plane(describer, clip):
    """Lin-Manuel's landmarks from one frame of the clip, his inner lips moved shut, open, shut:
    the check passes by talking. The same frames with the shut ones' outline pulled out of the
    face's plane (as dlib places a folded sheet turned far, snapping its lips shut) do not."""
    (box,) = [b for b in Detector("yunet", 40).detect(clip[150]) if b.width >= 60]
    shape = describer.landmarks(clip[150], box, 68)
    face = np.array([(p.x, p.y) for p in shape.parts()], float)
    nose = float(np.linalg.norm(face[33] - face[27]))

    def mouth(gap: float, bent: bool = False) -> np.ndarray:
        points = face.copy()
        points[[67, 66, 65]] = points[[61, 62, 63]] + (0, gap * nose)
        points[[58, 57, 56]] = face[[58, 57, 56]] + (0, gap * nose)  # the outer lips part with them
        if bent:  # the outline's right half slides in a quarter of an eye distance
            points[9:17] -= (0.25 * (points[45, 0] - points[36, 0]), 0)
        return points

    def check(frames, settings=TALK_ONLY) -> str:
        liveness = LivenessCheck(describer, settings)
        results = [liveness.observe_points(points, i / 30) for i, points in enumerate(frames)]
        return next((r.reason for r in results if r.passed), results[-1].reason)

    word = [mouth(0.0)] * 4 + [mouth(g) for g in (0.1, 0.2, 0.25, 0.2, 0.1)] + [mouth(0.0)] * 4
    assert check(word) == "talked: lips 0.20"
    # an open-mouthed photo, its lips snapped shut on frames out of the plane's fit
    snapped = [mouth(0.25)] * 3 + [mouth(0.0, bent=True)] * 4 + [mouth(0.25)] * 5 + [mouth(0.0, bent=True)] * 4
    assert check(snapped).startswith("please say something")
    # the fit is what refuses it (the snap open from shut too: lips_ramp)
    assert check(snapped, replace(TALK_ONLY, lips_fit=1.0, lips_ramp=0.0)) == "talked: lips 0.25"


def test_a_grid_talker_whose_blink_dlib_sees_shallow_unlocks_with_the_check_required(describer, tmp_path):
    """GRID's brbk7n neither turns nor shuts her lips for the talking cue after her word (dlib
    reads her shut lips at 0.04-0.08), but she blinks, eyes fully shut on frames 21-22, which
    dlib's eyelids on her small face put at 58 % of open (not under the half the blink asked):
    the shallow blink - under 70 % of open and 9 times her eyes' own jitter - sees it, and the
    door unlocks with the screen and print check required. The rule before it refuses her."""
    from core.gallery.api import Gallery

    video = GRID / "brbk7n.mpg"
    frames = clip_frames(video)
    still = tmp_path / "C.png"
    cv2.imwrite(str(still), cv2.cvtColor(frames[0], cv2.COLOR_RGB2BGR))
    with Gallery(tmp_path / "grid.db", describer=describer) as gallery:
        gallery.enroll("C", [str(still)])
        report = replay(video, gallery, decision=DecisionSettings(screen_check="required"))
    named = [v for v in report.visits if v.person == "C"]
    assert report.unlocks >= 1, [v.line() for v in report.visits]
    assert any(
        v.unlocked and v.liveness.startswith("blinked") and "their jitter" in v.liveness and "a live face" in v.liveness
        for v in named
    ), [v.liveness for v in named]
    passed, said, _ = _talks(describer, frames, settings=BLINK_ONLY, fps=25.0)
    assert passed and said.startswith("blinked (eyes 5"), said
    passed, said, judged = _talks(describer, frames, settings=OLD_BLINK, fps=25.0)
    assert judged >= 70 and not passed, said  # under half of open: never
    passed, said, _ = _talks(describer, frames, fps=25.0)
    assert not passed, said  # nor her lips


@pytest.mark.parametrize(
    "kind, seed, method",
    [
        # the nearest of seeds 0-9 (the rule was chosen on them): a curved sheet of obama.jpg whose
        # eyes dip to 58 % of open at 7 times their jitter, a 38° valley fold (52 %, 4x), another fold
        # and a phone photo (64 %, 5-6x); then seeds 4 and 17 (open-mouthed alex-lacamoire.png, as above)
        ("curved", 0, "haar+hog"),
        ("folded", 5, "yunet"),
        ("folded", 9, "yunet"),
        ("screen", 4, "yunet"),
        ("print", 4, "yunet"),
        ("folded", 17, "yunet"),
        ("curved", 17, "haar+hog"),
        ("still", 17, "yunet"),
        # held out (seeds 10-29 were not looked at while choosing): the nearest of them, a curved
        # sheet at 7.7 times its jitter and a print at 7.1 (docs/liveness.md)
        ("folded", 16, "yunet"),
        ("curved", 27, "yunet"),
        ("print", 23, "yunet"),
    ],
)
def test_generated_pictures_do_not_blink(describer, clip, kind, seed, method):
    photos = attack_photos(describer, clip)
    shown, it = attack(kind, photos[seed % len(photos)], background(clip, seed), seed, 120)
    drawn = list(it)
    passed, said, judged = _talks(describer, [f.rgb for f in drawn], [f.face for f in drawn], BLINK_ONLY, method)
    assert judged >= 20, (shown, judged)
    assert not passed, (shown, said)
    assert "please blink" in said, (shown, said)


def test_a_shallow_blink_counts_only_on_a_steady_face():
    """Eyes at 58 % of open for 2 frames: a blink when the eyes tremble 4 % a frame (14 times
    that), not when they tremble 10 % (4 times), and never under the rule before (half of open)."""
    s = LivenessSettings()

    def ears(tremble: float) -> np.ndarray:  # open eyes trembling up and down by ``tremble`` a frame
        rel = 1 + tremble / 2 * np.where(np.arange(20) % 2, 1.0, -1.0)[:, None].repeat(2, axis=1)
        rel[10:12] = 0.58
        return 0.30 * rel

    steady, shaky = ears(0.04), ears(0.10)
    shallow = (s.blink_shallow, s.blink_shallow_noise)
    blinked = _blink(steady, s.blink_ratio, s.reopen_ratio, s.blink_frames, s.noise_factor, shallow)
    assert blinked is not None and blinked[0] == pytest.approx(0.58, abs=0.03)
    assert _blink(shaky, s.blink_ratio, s.reopen_ratio, s.blink_frames, s.noise_factor, shallow) is None
    assert _blink(steady, s.blink_ratio, s.reopen_ratio, s.blink_frames, s.noise_factor) is None
