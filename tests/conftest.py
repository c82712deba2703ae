"""Fixtures: real photos and clip copied from the shared data (see tests/data/README.md for their
origin and licence), a fresh database per test, and dlib models loaded once per session."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.support.data import KNN, LIN_CLICK_FRAME, clip_frames, copy_gallery

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


@pytest.fixture(scope="session")
def describer():
    from core.vision.describe import Describer

    return Describer()


@pytest.fixture
def db_path(tmp_path) -> Path:
    """A path for a fresh, not yet created gallery database."""
    return tmp_path / "gallery.db"


@pytest.fixture
def gallery(db_path, describer):
    from core.gallery.api import Gallery

    g = Gallery(db_path, describer=describer)
    yield g
    g.close()


@pytest.fixture(scope="session")
def knn_db(tmp_path_factory, describer) -> Path:
    """A database enrolled once per session from knn_examples/train (one person per folder)."""
    from core.gallery.api import Gallery

    path = tmp_path_factory.mktemp("knn") / "knn.db"
    with Gallery(path, describer=describer) as g:
        for person in sorted((KNN / "train").iterdir()):
            g.enroll(person.name, sorted(str(f) for f in person.iterdir()))
    return path


@pytest.fixture
def knn_gallery(knn_db, tmp_path, describer):
    """A private copy of the knn gallery (database and index), safe to change."""
    g = copy_gallery(knn_db, tmp_path, describer)
    yield g
    g.close()


@pytest.fixture(scope="session")
def clip():
    return clip_frames()


@pytest.fixture(scope="session")
def lin_db(tmp_path_factory, clip, describer) -> Path:
    """A gallery where Lin-Manuel was enrolled live from the clip (samples of his track across the
    head poses he shows after the click; what was taken is saved when he leaves, as the operator
    would with "Save the samples taken")."""
    from core.gallery.api import Gallery
    from core.live.loop import LiveRecognizer, LiveSettings
    from core.live.worker import InlineWorker

    path = tmp_path_factory.mktemp("lin") / "lin.db"
    with Gallery(path, describer=describer) as g:
        # the 10 s to collect samples is wall-clock: on a loaded machine the 80 frames take longer
        rec = LiveRecognizer(g, LiveSettings(enroll_timeout=600.0), descriptor_worker=InlineWorker(describer))
        progress = None
        for i, rgb in enumerate(clip[: LIN_CLICK_FRAME + 100]):  # he leaves at 212
            result = rec.process(rgb, i / 30)
            if i == LIN_CLICK_FRAME:
                (track,) = result.tracks
                rec.start_enrollment(track.id, "Lin-Manuel")
            progress = result.enrollment or progress
        if not progress.done and progress.can_save:
            progress = rec.save_enrollment()
        rec.close()
        assert progress and progress.done, progress
    return path


@pytest.fixture
def lin_gallery(lin_db, tmp_path, describer):
    """A private copy of the Lin-Manuel gallery."""
    g = copy_gallery(lin_db, tmp_path, describer)
    yield g
    g.close()


@pytest.fixture
def live_window(qtbot, gallery, tmp_path):
    """(window, recording); the window plays files once, as fast as frames can be processed,
    so every frame of the clip is recognised and recorded (a paced file drops frames)."""
    import psutil
    from PySide6.QtCore import QSettings

    from core.station import Station
    from gui.main_window import build_window

    station = Station(gallery)
    recognizer = station.recognizer
    settings = QSettings(str(tmp_path / "facegate.ini"), QSettings.Format.IniFormat)
    window = build_window(station, settings, pace=False, loop=False)
    qtbot.addWidget(window)
    from tests.support.window import Recording, live_children, workers_of

    recording = Recording()
    window.frame_shown.connect(recording)
    window.show()
    started = []
    original_open = window.open_source

    def open_and_note(source):
        original_open(source)
        started.append(window.worker)

    window.open_source = open_and_note
    worker_pid = recognizer.descriptor_worker.pid
    yield window, recording
    window.close()
    assert window._closed
    assert all(w is None or w.isFinished() for w in started), "a capture thread is still running"
    assert workers_of(window) == []
    assert not psutil.pid_exists(worker_pid) or psutil.Process(worker_pid).status() == psutil.STATUS_ZOMBIE
    assert live_children() == []
