"""One enrollment fed descriptors directly, as the frame loop does, on the clip's real faces: a
box whose face changed to someone else is never sampled (the security rule), the enrolled face
is taken back on a new track, and an enrollment whose face does not come back saves nothing."""

from __future__ import annotations

import numpy as np
import pytest

from core.live.enrollment import Chip, Enrollment
from core.live.loop import LiveSettings
from core.vision.detection import Detector
from core.vision.images import crop, encode_jpeg
from core.vision.pose import head_pose
from tests.support.data import LIN_CLICK_FRAME, LIN_SHOT, STRANGER_ALONE

NAME = "Lin-Manuel"
DETECTOR = Detector()  # YuNet, as the live loop's default


def biggest_face(describer, rgb) -> tuple[np.ndarray, Chip]:
    """The biggest face's descriptor and chip, as the loop would send them (core.live.loop._submit)."""
    found = max(DETECTOR.find(rgb), key=lambda d: d.box.width)
    box = found.box.clipped(rgb.shape)
    face = describer.describe(rgb, found)
    shape = describer.landmarks(rgb, box, 68)
    pose = head_pose(np.array([(q.x, q.y) for q in shape.parts()], float), rgb.shape[1])
    return face.descriptor, (encode_jpeg(crop(rgb, box), 85), face.quality, pose)


def test_another_face_in_the_enrolled_box_is_never_sampled_and_the_face_is_taken_back(gallery, clip, describer):
    settings = LiveSettings()
    clicked, _ = biggest_face(describer, clip[LIN_CLICK_FRAME])
    enrollment = Enrollment(gallery, settings, f" {NAME} ", 1, True, clicked)
    assert enrollment.progress.name == NAME and not enrollment.progress.lost
    enrollment.tick(0.0)
    # the box of track 1 now holds the stranger (the loop saw its descriptor jump): lost
    enrollment.lose(1, "in the box changed to another", 0.1)
    assert enrollment.progress.lost and not enrollment.progress.can_save
    stranger, chip = biggest_face(describer, clip[STRANGER_ALONE[10]])
    for frame in range(140, 170, 6):  # track 1 goes on showing him, chips and all
        enrollment.chip(1, frame, chip)
        no_match = gallery.identify_descriptor(stranger, settings.threshold, settings.min_margin)
        assert enrollment.described(1, frame, stranger, no_match, enrollment.take_chip(1, frame)) is None
    assert enrollment.progress.lost and enrollment.progress.collected == 0 and enrollment.progress.track_id == 1
    # Lin-Manuel shows up on track 2: taken back, then sampled from its next frames
    frames = list(LIN_SHOT)[::6]
    back, _ = biggest_face(describer, clip[frames[0]])
    enrollment.described(2, frames[0], back, gallery.identify_descriptor(back), None)
    assert not enrollment.progress.lost and enrollment.progress.track_id == 2
    for frame in frames[1:]:
        descriptor, chip = biggest_face(describer, clip[frame])
        enrollment.chip(2, frame, chip)
        match = gallery.identify_descriptor(descriptor, settings.threshold, settings.min_margin)
        enrollment.described(2, frame, descriptor, match, enrollment.take_chip(2, frame))
    taken = [s.descriptor for s in enrollment.samples]
    assert enrollment.progress.collected == len(taken) >= 3, enrollment.progress
    assert all(np.linalg.norm(s - stranger) > settings.threshold for s in taken)
    if not enrollment.progress.done:  # (done already when every pose had its samples)
        assert enrollment.save() is not None
    assert gallery.store.person(NAME).sample_count == len(taken)


def test_a_face_that_does_not_come_back_saves_nothing(gallery, clip, describer):
    settings = LiveSettings()
    clicked, _ = biggest_face(describer, clip[LIN_CLICK_FRAME])
    enrollment = Enrollment(gallery, settings, NAME, 1, True, clicked)
    enrollment.tick(0.0)
    enrollment.lose(1, "left", 1.0)
    enrollment.tick(1.0 + settings.enroll_wait)  # still within the wait
    assert enrollment.progress.error is None and not enrollment.finished
    enrollment.tick(1.1 + settings.enroll_wait)
    assert enrollment.finished and "did not come back" in (enrollment.progress.error or "")
    with pytest.raises(ValueError, match="at least 3"):
        enrollment.save()
    assert gallery.people() == []
