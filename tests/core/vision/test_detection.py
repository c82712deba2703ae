"""Detection: YuNet (the default), Haar, HOG and Haar+HOG on the clip's small and large faces and
on every face tests/data/README.md lists; the smallest-face setting (shrinking, upscaling, tiles);
YuNet's score and landmarks; detectors shared between threads; a missing model named."""

from __future__ import annotations

import threading

import cv2
import numpy as np
import pytest

from core.errors import ModelError
from core.records import Box
from core.vision import detection
from core.vision.detection import DEFAULT_METHOD, Detector, hog_upsamples
from core.vision.images import load_image
from core.vision.quality import QualitySettings
from tests.support.data import IMAGES, KNN

SMALL_FACE_FRAME = 10  # Lin-Manuel about 50 px wide
LARGE_FACE_FRAME = 150  # Lin-Manuel about 90 px wide

#: Every photo tests/data/README.md lists: how many faces, and the boxes it gives.
LISTED = {
    KNN / "test" / "alex_lacamoire1.jpg": (1, []),
    KNN / "test" / "johnsnow_test1.jpg": (1, []),
    KNN / "test" / "kit_with_rose.jpg": (2, [Box(79, 130, 154, 204)]),
    KNN / "test" / "obama1.jpg": (1, []),
    KNN / "test" / "obama_and_biden.jpg": (3, [Box(1594, 1062, 1749, 1216)]),
    IMAGES / "obama.jpg": (1, [Box(349, 142, 617, 409)]),
    **{
        IMAGES / name: (1, [])
        for name in (
            "obama2.jpg",
            "obama3.jpg",
            "obama-240p.jpg",
            "obama-480p.jpg",
            "obama-720p.jpg",
            "obama-1080p.jpg",
            "obama_small.jpg",
            "obama_partial_face.jpg",
            "obama_partial_face2.jpg",
            "32bit.png",
            "biden.jpg",
            "lin-manuel-miranda.png",
            "alex-lacamoire.png",
        )
    },
    IMAGES / "two_people.jpg": (2, []),
    **{photo: (1, []) for photo in sorted((KNN / "train").glob("*/*"))},
}


def widths(boxes) -> list[int]:
    return [b.right - b.left for b in boxes]


def test_yunet_is_the_default():
    assert DEFAULT_METHOD == "yunet" and Detector().settings.method == "yunet"


@pytest.mark.parametrize("method", ["yunet", "haar", "hog", "haar+hog"])
def test_each_method_finds_the_large_face(clip, method):
    boxes = Detector(method, min_face=40).detect(clip[LARGE_FACE_FRAME])
    assert len(boxes) == 1, boxes
    assert 70 <= widths(boxes)[0] <= 130


def test_yunet_boxes_the_small_face_in_nearly_every_frame(clip):
    """Lin-Manuel's 50 px face in frames 0-19 (haar+hog boxes it in about 1 of them)."""
    det = Detector()
    hog = Detector("hog", min_face=40)
    boxed = 0
    for i in range(20):
        (truth,) = hog.detect(clip[i]) or [None]
        found = det.detect(clip[i])
        boxed += truth is not None and any(b.iou(truth) >= 0.5 for b in found)
    assert boxed >= 18, boxed


def test_yunet_boxes_the_large_face_in_every_frame_of_his_shot(clip):
    det = Detector()
    missed = [i for i in range(82, 211) if not any(70 <= b.width <= 130 for b in det.detect(clip[i]))]
    assert missed == []


def test_yunet_boxes_every_face_hog_finds_in_the_clip(clip):
    """Where HOG (upsampled for 40 px faces, the data README's reference) sees a face, YuNet has a
    box on it; YuNet also finds the audience that HOG calls face-free (see tests/data/README.md)."""
    det, hog = Detector(), Detector("hog", min_face=40)
    for i in range(0, len(clip), 7):
        found = det.detect(clip[i])
        for truth in hog.detect(clip[i]):
            assert max((b.iou(truth) for b in found), default=0) >= 0.5, (i, truth, found)
    assert len(det.detect(clip[60])) >= 3 and Detector("haar+hog", min_face=40).detect(clip[60]) == []


@pytest.mark.parametrize("photo", sorted(LISTED), ids=lambda p: p.name)
def test_every_listed_face_is_found_with_its_box(photo):
    """Exactly the listed faces score as faces (the quality gates' score); a painted background
    (biden2.jpg) may add boxes under that score, which are then never described."""
    count, boxes = LISTED[photo]
    found = Detector().find(load_image(photo))
    confident = [d.box for d in found if d.score >= QualitySettings().min_score]
    assert len(confident) == count, found
    for box in boxes:
        assert max(b.iou(box) for b in confident) >= 0.5, (box, found)


def test_yunet_gives_a_score_and_five_landmarks():
    (face,) = Detector().find(load_image(IMAGES / "obama.jpg"))
    assert face.score > 0.9
    right_eye, left_eye, nose, mouth_right, mouth_left = face.points
    box = face.box
    assert all(box.contains(*p) for p in face.points)
    assert right_eye[0] < nose[0] < left_eye[0]  # his right eye is on the picture's left
    assert max(right_eye[1], left_eye[1]) < nose[1] < min(mouth_right[1], mouth_left[1])


def test_other_methods_give_boxes_without_score_or_landmarks(clip):
    (face,) = Detector("hog", min_face=40).find(clip[LARGE_FACE_FRAME])
    assert face.score is None and face.points is None


def test_small_faces_need_a_small_min_face(clip):
    """The clip's 50 px face: HOG finds it with min_face 40 (one upsample), not with min_face 80;
    YuNet, asked for 40 px faces, finds it, and drops it when asked for 80 px ones."""
    frame = clip[SMALL_FACE_FRAME]
    assert hog_upsamples(80) == 0 and hog_upsamples(40) >= 1
    assert len(Detector("hog", min_face=40).detect(frame)) == 1
    assert Detector("hog", min_face=80).detect(frame) == []
    assert len(Detector("yunet", min_face=40).detect(frame)) == 1
    assert Detector("yunet", min_face=80).detect(frame) == []


def _tiny_face(canvas: tuple[int, int], width: int) -> tuple[np.ndarray, Box]:
    """obama.jpg shrunk so his face is ``width`` px, pasted on a grey canvas; the face's box there."""
    rgb = load_image(IMAGES / "obama.jpg")
    scale = width / 268  # his face in obama.jpg (tests/data/README.md)
    small = cv2.resize(rgb, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    out = np.full((*canvas, 3), 128, np.uint8)
    y, x = canvas[0] // 3, canvas[1] // 2
    out[y : y + small.shape[0], x : x + small.shape[1]] = small
    face = Box(349, 142, 617, 409).scaled(scale)
    return out, Box(face.left + x, face.top + y, face.right + x, face.bottom + y)


@pytest.mark.parametrize("canvas", [(360, 640), (1500, 2000)], ids=["upscaled", "in tiles"])
def test_tiny_faces_only_when_the_setting_asks_for_them(canvas):
    """A 16 px face: not looked for at the default 40 px; found once min_face asks for 12 px faces,
    by upscaling a small frame or, when that would be too big, upscaled tiles."""
    rgb, truth = _tiny_face(canvas, 16)
    assert Detector().detect(rgb) == []
    det = Detector("yunet", min_face=12)
    assert max(canvas) * detection.YUNET_FACE_PX / 12 > detection.YUNET_MAX_SIDE or canvas == (360, 640)
    found = det.detect(rgb)
    assert any(b.iou(truth) >= 0.4 for b in found), (truth, found)


def test_no_face_in_an_empty_frame_for_haar_hog(clip):
    """Frames 60-80 hold no face HOG can find (the audience there is YuNet's, see above)."""
    det = Detector("haar+hog", min_face=40)
    assert sum(len(det.detect(clip[i])) for i in range(60, 80)) == 0


def test_unknown_method_is_refused():
    with pytest.raises(ValueError, match="cnn"):
        Detector("cnn")


def test_a_missing_yunet_model_is_named(monkeypatch):
    monkeypatch.setattr(detection, "YUNET_MODEL", "models/yunet/gone.onnx")
    with pytest.raises(ModelError, match="gone.onnx"):
        Detector().warm_up()


@pytest.mark.parametrize("method", ["hog", "yunet"])
def test_threads_share_a_detector_and_agree(clip, method):
    """HOG detectors are pooled across threads (building one holds the GIL for ~250 ms); YuNet's
    cv2.FaceDetectorYN is not thread-safe, so each thread gets its own. Either way two threads
    detecting at once get the same boxes as one thread alone."""
    det = Detector(method, min_face=40)
    frames = [clip[i] for i in (SMALL_FACE_FRAME, LARGE_FACE_FRAME, 230)]
    expected = [det.detect(f) for f in frames]
    results: dict[int, list] = {}
    models: dict[int, int] = {}

    def run(k: int) -> None:
        results[k] = [det.detect(f) for _ in range(3) for f in frames]
        if method == "yunet":
            models[k] = id(det._yunet())

    threads = [threading.Thread(target=run, args=(k,)) for k in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results[0] == expected * 3 and results[1] == expected * 3
    if method == "yunet":
        assert len({*models.values(), id(det._yunet())}) == 3


def test_two_faces_come_left_to_right():
    boxes = Detector().detect(load_image(IMAGES / "two_people.jpg"))
    assert len(boxes) == 2 and boxes[0].left < boxes[1].left


def test_live_loop_keeps_a_small_face_haar_sees_only_now_and_then(gallery, clip, describer):
    """With haar+hog, Haar on the half-size frame finds the 50 px face in few frames; once found,
    the live loop verifies the tracked box with HOG and keeps it in most frames of the shot."""
    from core.live.loop import LiveRecognizer, LiveSettings
    from core.live.worker import InlineWorker

    haar_hits = sum(bool(Detector("haar", min_face=40).detect(clip[i])) for i in range(19))
    rec = LiveRecognizer(gallery, LiveSettings(method="haar+hog"), descriptor_worker=InlineWorker(describer))
    try:
        tracked = sum(len(rec.process(clip[i], i / 30).tracks) == 1 for i in range(19))
    finally:
        rec.close()
    assert tracked >= 12 and tracked > haar_hits, (tracked, haar_hits)
