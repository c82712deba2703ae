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


@pytest.fixture
def knn_gallery(knn_db, tmp_path, describer):
    """A private copy of the knn gallery (database and index), safe to change."""
    from core.gallery import Gallery

    for f in knn_db.parent.iterdir():
        if f.name.startswith(knn_db.name) and not f.name.endswith(".lock"):
            shutil.copy(f, tmp_path / f.name)
    g = Gallery(tmp_path / knn_db.name, describer=describer)
    yield g
    g.close()
