"""What GUI tests read off the real window (the ``live_window`` fixture in tests/conftest.py):
every frame it showed, a clip played to its end, how late the event loop ran, and the threads and
processes that must be gone when it closes."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field

import psutil
from PySide6.QtCore import QTimer

from tests.support.data import CLIP

LIN = "Lin-Manuel Miranda"
LIN_FRAMES = range(82, 211)  # his big face (about 90 px)
OTHER_FRAMES = range(211, 249)  # someone enrolled nowhere


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


def workers_of(window) -> list:
    """The window's capture threads, current and still stopping."""
    return [w for w in [window.worker, *window._retiring] if w is not None]


def live_children() -> list:
    """Command lines of this process's children still running (zombies and stdlib helpers aside)."""
    return [
        c.cmdline()
        for c in psutil.Process(os.getpid()).children()
        if c.is_running() and c.status() != psutil.STATUS_ZOMBIE and not _stdlib_helper(c)
    ]


def _stdlib_helper(process: psutil.Process) -> bool:
    """multiprocessing's resource tracker lives as long as the interpreter, by design."""
    return any("resource_tracker" in part for part in process.cmdline())


def play(qtbot, window, recording, source=CLIP, timeout=120_000) -> None:
    """Play a file from start to end and wait for its end."""
    recording.frames.clear()
    window.open_source(str(source))
    with qtbot.waitSignal(window.worker.finished_source, timeout=timeout):
        pass


class LoopWatch:
    """Measures how late a 10 ms QTimer fires: the longest stall of the GUI's event loop."""

    def __init__(self) -> None:
        self.worst = 0.0
        self._last = time.monotonic()
        self.timer = QTimer(interval=10)
        self.timer.timeout.connect(self._tick)
        self.timer.start()

    def _tick(self) -> None:
        now = time.monotonic()
        self.worst = max(self.worst, now - self._last - 0.010)
        self._last = now


def on_modal(cls, act, tries: int = 500) -> list:
    """Act on the next modal dialog of type ``cls`` once it is open (its exec() blocks the caller,
    so this runs from the event loop); returns a list that holds the dialog once acted on."""
    from PySide6.QtWidgets import QApplication

    seen: list = []

    def poll(left: int) -> None:
        dialog = QApplication.activeModalWidget()
        if isinstance(dialog, cls) and dialog.isVisible():
            seen.append(dialog)
            act(dialog)
        elif left:
            QTimer.singleShot(20, lambda: poll(left - 1))

    QTimer.singleShot(0, lambda: poll(tries))
    return seen
