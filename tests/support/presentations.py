"""The pictures the generated presentation attacks show (core.tools.attacks), shared by the tests
and bench/attack_bench.py: the shared photos of people a gallery can hold, and frames of
Lin-Manuel from the clip (a screenshot of the real person), over backgrounds from the clip."""

from __future__ import annotations

from tests.support.data import IMAGES, KNN

#: photos of enrolled people (tests/data/images, knn_examples), and clip frames of Lin-Manuel
PHOTOS = ("obama.jpg", "obama2.jpg", "biden.jpg", "lin-manuel-miranda.png", "alex-lacamoire.png")
KNN_PHOTOS = ("test/obama1.jpg", "test/alex_lacamoire1.jpg", "train/biden/biden2.jpg")
CLIP_FRAMES = (95, 140, 160, 185, 205)
#: clip frames with no detectable face (a dim audience), behind the sheet
BACKGROUNDS = (60, 65, 70)


def attack_photos(describer, clip) -> list:
    """FacePhotos of every picture above."""
    from core.tools.attacks import face_photo
    from core.vision.images import load_image

    photos = [face_photo(load_image(IMAGES / name), name, describer) for name in PHOTOS]
    photos += [face_photo(load_image(KNN / name), name, describer) for name in KNN_PHOTOS]
    photos += [face_photo(clip[i], f"clip frame {i}", describer) for i in CLIP_FRAMES]
    return photos


def background(clip, seed: int):
    return clip[BACKGROUNDS[seed % len(BACKGROUNDS)]]
