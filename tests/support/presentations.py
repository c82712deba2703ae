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


def lin_replay_video(kind: str, seed: int, describer, folder, clip):
    """The clip's second shot on a ``kind`` of display (core.tools.attacks.replay_attack, ``seed``)
    written to an mp4 in ``folder``, and three frames of the recording the attacker replays as
    stills to enroll Lin-Manuel from: (the mp4's path, the stills' paths)."""
    import cv2

    from core.tools.attacks import replay_attack, write_video

    stills = []
    for i in (140, 170, 200):
        stills.append(str(folder / f"lin{i}.png"))
        cv2.imwrite(stills[-1], cv2.cvtColor(clip[i], cv2.COLOR_RGB2BGR))
    _, shown = replay_attack(kind, clip[120:211], describer, background(clip, seed), seed, frames=90)
    return write_video((f.rgb for f in shown), folder / f"{kind}.mp4", fps=30), stills


def lin_door_replay(kind: str, seed: int, describer, folder, clip, decision):
    """lin_replay_video played through the door (core.station.replay, the window's wiring) with
    ``decision`` settings, at a door whose gallery holds Lin-Manuel from its stills: the ReplayReport."""
    from core.gallery.api import Gallery
    from core.station.replay import replay

    path, stills = lin_replay_video(kind, seed, describer, folder, clip)
    with Gallery(folder / "lin.db", describer=describer) as gallery:
        gallery.enroll("Lin-Manuel", stills)
        return replay(path, gallery, decision=decision)


def emptied(rgb, box):
    """``rgb`` with the person whose face is ``box`` painted out (their face and body, as
    core.vision.room's person cells reach, at pixel level): the room as the camera saw it before
    they came (a plain wall paints out well)."""
    import cv2
    import numpy as np

    h, w = rgb.shape[:2]
    mask = np.zeros((h, w), np.uint8)
    x0, x1 = max(0, box.left - box.width), min(w, box.right + box.width)
    mask[max(0, int(box.top - 0.5 * box.height)) :, x0:x1] = 255
    return cv2.inpaint(rgb, mask, 5, cv2.INPAINT_TELEA)


def standing(frames, box, room, size=(640, 480)):
    """A person standing in front of ``room``: ``frames`` (a talker's video whose first face is
    ``box``) cut from half a face height above the head down, a face width and a half either
    side, set into ``room`` (resized to ``size``) with its lower edge carried on to the bottom of
    the view (the chest and shirt the recording cut off). The recordings shared here frame head
    and shoulders; a door camera sees the body under the face. Returns (the room alone, frames)."""
    import cv2
    import numpy as np

    w, h = size
    back = cv2.resize(room, (w, h), interpolation=cv2.INTER_AREA)
    x0, x1 = max(0, int(box.left - 1.5 * box.width)), min(frames[0].shape[1], int(box.right + 1.5 * box.width))
    y0 = max(0, int(box.top - 0.5 * box.height))
    left, top = (w - (x1 - x0)) // 2, h // 8
    out = []
    for rgb in frames:
        patch = rgb[y0:, x0:x1]
        tall = cv2.copyMakeBorder(patch, 0, max(0, h - top - len(patch)), 0, 0, cv2.BORDER_REPLICATE)[: h - top]
        shot = back.copy()
        shot[top:, left : left + tall.shape[1]] = tall
        out.append(np.ascontiguousarray(shot))
    return back, out
