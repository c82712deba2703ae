"""Fixtures: real photos and clip copied from the shared data (see tests/data/README.md for their
origin and licence), a fresh database per test, and dlib models loaded once per session."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

DATA = Path(__file__).parent / "data"
IMAGES = DATA / "images"
KNN = DATA / "knn_examples"
CLIP = DATA / "video" / "short_hamilton_clip.mp4"


@pytest.fixture(scope="session")
def describer():
    from core.describe import Describer

    return Describer()


@pytest.fixture
def db_path(tmp_path) -> Path:
    """A path for a fresh, not yet created gallery database."""
    return tmp_path / "gallery.db"


@pytest.fixture
def gallery(db_path, describer):
    from core.gallery import Gallery

    g = Gallery(db_path, describer=describer)
    yield g
    g.close()


@pytest.fixture(scope="session")
def knn_db(tmp_path_factory, describer) -> Path:
    """A database enrolled once per session from knn_examples/train (one person per folder)."""
    from core.gallery import Gallery

    path = tmp_path_factory.mktemp("knn") / "knn.db"
    with Gallery(path, describer=describer) as g:
        for person in sorted((KNN / "train").iterdir()):
            g.enroll(person.name, sorted(str(f) for f in person.iterdir()))
    return path


def copy_gallery(db: Path, folder: Path, describer):
    """Open a private copy of a gallery (database and index files) in ``folder``."""
    from core.gallery import Gallery

    for f in db.parent.iterdir():
        if f.name.startswith(db.name) and not f.name.endswith(".lock"):
            shutil.copy(f, folder / f.name)
    return Gallery(folder / db.name, describer=describer)


@pytest.fixture
def knn_gallery(knn_db, tmp_path, describer):
    """A private copy of the knn gallery (database and index), safe to change."""
    g = copy_gallery(knn_db, tmp_path, describer)
    yield g
    g.close()


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


@pytest.fixture(scope="session")
def clip():
    return clip_frames()


#: Lin-Manuel Miranda's long shot in the clip, where a click enrolls him; the unknown person alone.
LIN_CLICK_FRAME = 130
LIN_SHOT = range(140, 206)
STRANGER_ALONE = range(215, 249)


@pytest.fixture(scope="session")
def lin_db(tmp_path_factory, clip, describer) -> Path:
    """A gallery where Lin-Manuel was enrolled live from the clip (5 samples of his track)."""
    from core.gallery import Gallery
    from core.live import LiveRecognizer
    from core.worker import InlinePool

    path = tmp_path_factory.mktemp("lin") / "lin.db"
    with Gallery(path, describer=describer) as g:
        rec = LiveRecognizer(g, pool=InlinePool(describer))
        progress = None
        for i, rgb in enumerate(clip[:LIN_CLICK_FRAME + 80]):
            result = rec.process(rgb, i / 30)
            if i == LIN_CLICK_FRAME:
                (track,) = result.tracks
                rec.start_enrollment(track.id, "Lin-Manuel")
            progress = result.enrollment or progress
        rec.close()
        assert progress and progress.done, progress
    return path


@pytest.fixture
def lin_gallery(lin_db, tmp_path, describer):
    """A private copy of the Lin-Manuel gallery."""
    g = copy_gallery(lin_db, tmp_path, describer)
    yield g
    g.close()
