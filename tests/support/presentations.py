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
    ``box``) cut out of their plain wall and set into ``room`` (resized to ``size``), with their
    lower edge carried on to the bottom of the view (the chest and shirt the recording cut off).
    The recordings shared here frame head and shoulders before a plain wall; a door camera sees
    the room around the head and the body under the face. Returns (the room alone, frames)."""
    import cv2
    import numpy as np

    w, h = size
    back = cv2.resize(room, (w, h), interpolation=cv2.INTER_AREA)
    x0, x1 = max(0, int(box.left - 1.5 * box.width)), min(frames[0].shape[1], int(box.right + 1.5 * box.width))
    y0 = max(0, int(box.top - 0.5 * box.height))
    left, top = (w - (x1 - x0)) // 2, h // 8
    out, mask = [], None
    cv2.setRNGSeed(0)  # GrabCut's k-means draws from OpenCV's global generator: the same cut in any test order
    for rgb in frames:
        mask = talker_mask(rgb, box, mask)
        pad = max(0, h - top - (len(rgb) - y0))
        tall = cv2.copyMakeBorder(rgb[y0:, x0:x1], 0, pad, 0, 0, cv2.BORDER_REPLICATE)[: h - top]
        keep = cv2.copyMakeBorder(mask[y0:, x0:x1], 0, pad, 0, 0, cv2.BORDER_REPLICATE)[: h - top].astype(bool)
        torso = (box.left + box.right) // 2 - x0, 0.9 * box.width  # the body the recording cut off, under the chin
        keep[max(0, int(box.bottom + 0.3 * box.height) - y0) :, max(0, int(torso[0] - torso[1])) : int(torso[0] + torso[1])] = (
            True
        )
        shot = back.astype(np.float32)
        alpha = cv2.GaussianBlur(keep.astype(np.float32), (0, 0), 1.5)[..., None]  # a lens's soft edge, not a cut-out's
        part = shot[top:, left : left + tall.shape[1]]
        part[:] = alpha * tall + (1 - alpha) * part
        out.append(np.ascontiguousarray(shot.round().astype(np.uint8)))
    return back, out


def talker_mask(rgb, box, previous=None):
    """The talker whose face is ``box`` against their plain wall (uint8, 1 on the person):
    OpenCV's GrabCut from a rectangle around head and shoulders (from ``previous``, the last
    frame's mask, when given); around the head, less what has the wall's colour (its blue, or its
    median chroma beside the person, or its cyan: the lit gradient fools GrabCut there; under the chin a
    dark blue shirt has the wall's colour: ``standing`` gives the body its torso), the part that
    holds the face, holes filled."""
    import cv2
    import numpy as np

    h, w = rgb.shape[:2]
    bgr = cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)
    cut, models = np.zeros((h, w), np.uint8), (np.zeros((1, 65)), np.zeros((1, 65)))
    if previous is None:
        x, y = max(4, int(box.left - 1.4 * box.width)), max(4, int(box.top - 0.7 * box.height))
        rect = (x, y, min(w - 5, int(box.right + 1.4 * box.width)) - x, h - 1 - y)
        cv2.grabCut(bgr, cut, rect, *models, 5, cv2.GC_INIT_WITH_RECT)
    else:
        cut = np.where(previous > 0, cv2.GC_PR_FGD, cv2.GC_PR_BGD).astype(np.uint8)
        cv2.grabCut(bgr, cut, None, *models, 2, cv2.GC_INIT_WITH_MASK)
    mask = ((cut == cv2.GC_FGD) | (cut == cv2.GC_PR_FGD)).astype(np.uint8)
    lab = cv2.cvtColor(cv2.GaussianBlur(rgb, (0, 0), 1.5), cv2.COLOR_RGB2LAB).astype(np.float32)
    xs = np.arange(w)[None, :].repeat(h, 0)
    aside = (xs < max(8, box.left - box.width)) | (xs >= min(w - 8, box.right + box.width))  # the frame's edges at least
    above = aside & (np.arange(h)[:, None] < box.top)
    walls = [np.median(lab[where][:, 1:], axis=0) for where in (aside, above) if where.any()]  # a lit gradient: two
    chin = int(box.bottom + 0.3 * box.height)
    wall_like = (
        (lab[..., 2] < 123) | (lab[..., 1] < 117) | np.any([np.linalg.norm(lab[..., 1:] - c, axis=-1) < 6 for c in walls], axis=0)
    )
    mask[:chin][wall_like[:chin]] = 0
    mask = cv2.morphologyEx(mask, cv2.MORPH_OPEN, np.ones((5, 5), np.uint8))
    _, parts = cv2.connectedComponents(mask)
    face = parts[(box.top + box.bottom) // 2, (box.left + box.right) // 2]
    mask = (parts == face).astype(np.uint8) if face else mask
    outside = cv2.copyMakeBorder(mask, 1, 1, 1, 1, cv2.BORDER_CONSTANT, value=0)
    cv2.floodFill(outside, None, (0, 0), 2)  # from the margin: what it cannot reach is the person or a hole in them
    person = np.where(outside[1:-1, 1:-1] == 2, 0, 1).astype(np.uint8)
    return cv2.dilate(person, np.ones((9, 9), np.uint8))  # ears and stray hair the colours took, back
