"""The real FaceGate window for GUI tests: a fresh gallery, the real LiveRecognizer with its
descriptor worker process, QSettings in a temporary file, and the clip as the camera. Teardown
closes the window the way a user does and asserts that no capture thread and no worker process
is left running. Test modules import the fixture: ``from live_window import live_window``."""
from __future__ import annotations

import os
from dataclasses import dataclass, field

import psutil
import pytest
from PySide6.QtCore import QSettings

from conftest import CLIP

LIN = "Lin-Manuel Miranda"
LIN_FRAMES = range(82, 211)       # his big face (about 90 px)
OTHER_FRAMES = range(211, 249)    # someone enrolled nowhere


@dataclass
class Recording:
    """Every frame the window showed: source frame index -> [(track id, label, state, box)]."""

    frames: dict[int, list] = field(default_factory=dict)

    def __call__(self, shown) -> None:
        self.frames[shown.source_index] = [(t.id, t.label, t.state, t.box) for t in shown.result.tracks]

    def labels(self, frames: range, tracks: set[int] | None = None) -> list[str]:
        return [label for i in frames for tid, label, _, _ in self.frames.get(i, []) if tracks is None or tid in tracks]

    def tracks_starting_in(self, frames: range) -> set[int]:
        before = {tid for i, seen in self.frames.items() if i < frames.start for tid, *_ in seen}
        return {tid for i in frames for tid, *_ in self.frames.get(i, [])} - before


def _workers(window) -> list:
    return [w for w in [window.worker, *window._retiring] if w is not None]


@pytest.fixture
def live_window(qtbot, gallery, tmp_path):
    """(window, recording); the window plays files once, as fast as frames can be processed,
    so every frame of the clip is recognised and recorded (a paced file drops frames)."""
    from core.live import LiveRecognizer
    from gui.app import build_window

    recognizer = LiveRecognizer(gallery)
    settings = QSettings(str(tmp_path / "facegate.ini"), QSettings.Format.IniFormat)
    window = build_window(gallery, recognizer, settings, pace=False, loop=False)
    qtbot.addWidget(window)
    recording = Recording()
    window.frame_shown.connect(recording)
    window.show()
    started = []
    original_open = window.open_source

    def open_and_note(source):
        original_open(source)
        started.append(window.worker)

    window.open_source = open_and_note
    worker_pid = recognizer.pool.pid
    yield window, recording
    window.close()
    assert window._closed
    assert all(w is None or w.isFinished() for w in started), "a capture thread is still running"
    assert _workers(window) == []
    assert not psutil.pid_exists(worker_pid) or psutil.Process(worker_pid).status() == psutil.STATUS_ZOMBIE
    assert [c.cmdline() for c in psutil.Process(os.getpid()).children() if c.is_running()
            and c.status() != psutil.STATUS_ZOMBIE and not _stdlib_helper(c)] == []


def _stdlib_helper(process: psutil.Process) -> bool:
    """multiprocessing's resource tracker lives as long as the interpreter, by design."""
    return any("resource_tracker" in part for part in process.cmdline())


def play(qtbot, window, recording, source=CLIP, timeout=120_000) -> None:
    """Play a file from start to end and wait for its end."""
    recording.frames.clear()
    window.open_source(str(source))
    with qtbot.waitSignal(window.worker.finished_source, timeout=timeout):
        pass
