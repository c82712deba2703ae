"""Detection: Haar, HOG and Haar+HOG on the clip's small and large faces, the smallest-face
setting, and detectors shared between threads."""
from __future__ import annotations

import threading

import pytest

from core.vision.detection import Detector, hog_upsamples
from core.vision.images import load_image
from tests.support.data import IMAGES

SMALL_FACE_FRAME = 10  # Lin-Manuel about 50 px wide
LARGE_FACE_FRAME = 150  # Lin-Manuel about 90 px wide


def widths(boxes) -> list[int]:
    return [b.right - b.left for b in boxes]


@pytest.mark.parametrize("method", ["haar", "hog", "haar+hog"])
def test_each_method_finds_the_large_face(clip, method):
    boxes = Detector(method, min_face=40).detect(clip[LARGE_FACE_FRAME])
    assert len(boxes) == 1, boxes
    assert 70 <= widths(boxes)[0] <= 130


def test_small_faces_need_a_small_min_face(clip):
    """The clip's 50 px face: HOG finds it with min_face 40 (one upsample), not with min_face 80.
    (Haar on the half-size frame sees it in only a few frames; the live loop then keeps it by
    verifying the tracked box, see test_live.)"""
    frame = clip[SMALL_FACE_FRAME]
    assert hog_upsamples(80) == 0 and hog_upsamples(40) >= 1
    assert len(Detector("hog", min_face=40).detect(frame)) == 1
    assert Detector("hog", min_face=80).detect(frame) == []


def test_no_face_in_an_empty_frame(clip):
    """Frames 60-80 hold no detectable face (see tests/data/README.md)."""
    det = Detector("haar+hog", min_face=40)
    assert sum(len(det.detect(clip[i])) for i in range(60, 80)) == 0


def test_unknown_method_is_refused():
    with pytest.raises(ValueError, match="cnn"):
        Detector("cnn")


def test_threads_share_detectors_and_agree(clip):
    """Detectors are pooled across threads (building one holds the GIL for ~250 ms): two threads
    detecting at once get the same boxes as one thread alone."""
    det = Detector("hog", min_face=40)
    frames = [clip[i] for i in (SMALL_FACE_FRAME, LARGE_FACE_FRAME, 230)]
    expected = [det.detect(f) for f in frames]
    results: dict[int, list] = {}

    def run(k: int) -> None:
        results[k] = [det.detect(f) for _ in range(3) for f in frames]

    threads = [threading.Thread(target=run, args=(k,)) for k in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results[0] == expected * 3 and results[1] == expected * 3


def test_two_faces_come_left_to_right():
    boxes = Detector("hog", min_face=40).detect(load_image(IMAGES / "two_people.jpg"))
    assert len(boxes) == 2 and boxes[0].left < boxes[1].left


def test_live_loop_keeps_a_small_face_haar_sees_only_now_and_then(gallery, clip, describer):
    """Haar on the half-size frame finds the 50 px face in few frames; once found, the live loop
    verifies the tracked box with HOG and keeps it in most frames of the shot."""
    from core.live.loop import LiveRecognizer
    from core.live.worker import InlineWorker

    haar_hits = sum(bool(Detector("haar", min_face=40).detect(clip[i])) for i in range(19))
    rec = LiveRecognizer(gallery, descriptor_worker=InlineWorker(describer))
    try:
        tracked = sum(len(rec.process(clip[i], i / 30).tracks) == 1 for i in range(19))
    finally:
        rec.close()
    assert tracked >= 12 and tracked > haar_hits, (tracked, haar_hits)
