"""Where the test data is, and small helpers over it: the shared photos and clip (see
tests/data/README.md for their origin and licence), the clip's frames, a private copy of a gallery."""

from __future__ import annotations

import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data"
IMAGES = DATA / "images"
KNN = DATA / "knn_examples"
CLIP = DATA / "video" / "short_hamilton_clip.mp4"
#: real presentation attacks (silent-face-pad) and real talking faces (grid-talkers): see tests/data/README.md
FOOTAGE = DATA / "footage"
SUPPORT = Path(__file__).resolve().parent

#: Lin-Manuel Miranda's long shot in the clip, where a click enrolls him; the unknown person alone.
LIN_CLICK_FRAME = 130
LIN_SHOT = range(140, 206)
STRANGER_ALONE = range(215, 249)


def copy_db(db: Path, folder: Path, name: str | None = None) -> Path:
    """A private copy of a gallery's files (database and index) in ``folder``, as ``name``
    (default: the same file name); its path."""
    name = name or db.name
    for f in db.parent.iterdir():
        if f.name.startswith(db.name) and not f.name.endswith(".lock"):
            shutil.copy(f, folder / (name + f.name[len(db.name) :]))
    return folder / name


def copy_gallery(db: Path, folder: Path, describer, name: str | None = None):
    """Open a private copy of a gallery in ``folder`` (copy_db)."""
    from core.gallery.api import Gallery

    return Gallery(copy_db(db, folder, name), describer=describer)


def clip_frames(path: Path = CLIP) -> list:
    """Every frame of a video as RGB arrays (the clip: 275 frames of 640x360)."""
    import cv2

    cap = cv2.VideoCapture(str(path))
    frames = []
    while True:
        ok, frame = cap.read()
        if not ok:
            break
        frames.append(cv2.cvtColor(frame, cv2.COLOR_BGR2RGB))
    cap.release()
    assert frames, f"could not read {path}"
    return frames


def video_frame(path: Path, index: int):
    """One frame of a video as an RGB array (a still taken from a recording; read from the start,
    as seeking an MPEG-1 file may land on another frame)."""
    return clip_frames(path)[index]


def stranger_at(clip, frame, box):
    """The stranger's face from frame 240, scaled and shifted onto ``box`` in ``frame``: another
    person where the tracked face was, with the rest of the picture unchanged (not a cut, which
    the loop notices): the tracker cannot tell it from movement."""
    import cv2
    import numpy as np

    from core.vision.detection import Detector

    (his,) = Detector("hog").detect(clip[240])
    s = box.width / his.width
    (bx, by), (hx, hy) = box.center, his.center
    m = np.float32([[s, 0, bx - s * hx], [0, s, by - s * hy]])
    moved = cv2.warpAffine(clip[240], m, (frame.shape[1], frame.shape[0]))
    out = frame.copy()
    pad = box.width // 3
    y0, x0 = max(0, box.top - pad), max(0, box.left - pad)
    out[y0 : box.bottom + pad, x0 : box.right + pad] = moved[y0 : box.bottom + pad, x0 : box.right + pad]
    return out
