"""The capture thread: read a frame, let the recognizer process it, hand the picture to the GUI.

Capture and detection run here, off the GUI thread; descriptors run in the recognizer's worker
process, so this thread never holds the GIL for long either. Each frame leaves as a COPIED
QImage (the numpy buffer it was made over is reused) with its FrameResult, by queued signal.
A source that fails (camera unplugged or busy, stream silent, file moved) is reported and
reopened with growing pauses until it answers again; stop() ends it all promptly.

A file played unpaced (benchmarks, the self-test, tests) is timed by its own clock, frame count
over frame rate, as `facegate replay` times it: the loop's timeouts (enrollment, visits) then
mean the same frames on any machine. ``lockstep`` (tests) also waits for the GUI to take each
frame before the next, so what the GUI does on a frame lands before the next one is processed.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QThread, Signal
from PySide6.QtGui import QImage

from core.live.loop import FrameResult, LiveRecognizer
from core.live.sources import FrameSource, SourceError, SourceSpec
from gui.widgets import rgb_qimage

if TYPE_CHECKING:
    pass

#: Pauses between attempts to reopen a failed source (seconds); the last one repeats.
BACKOFF = (0.5, 1.0, 2.0, 4.0, 8.0)

log = logging.getLogger("facegate.video")


@dataclass
class ShownFrame:
    """One processed frame for the GUI: the picture, what core found, and when."""

    image: QImage
    result: FrameResult
    source_index: int  # the frame's number in its source (a file's frame position)
    latency_ms: float  # capture -> result ready: detection, tracking, matching


class VideoWorker(QThread):
    """Runs one source through one recognizer until stop() (or a file's end)."""

    frame_ready = Signal(object)  # ShownFrame
    source_opened = Signal(str)  # a description of the source
    source_failed = Signal(str, float)  # why, seconds until the next attempt
    finished_source = Signal()  # a non-looping file reached its end

    def __init__(
        self,
        recognizer: LiveRecognizer,
        spec: SourceSpec,
        pace: bool = True,
        loop: bool = False,
        backoff: tuple[float, ...] = BACKOFF,
        lockstep: bool = False,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.lockstep = lockstep
        self._taken = threading.Event()
        self.recognizer = recognizer
        self.spec = spec
        self.pace = pace
        self.loop = loop
        self.backoff = backoff
        self._stop = threading.Event()
        self._unshown = 0  # frames sent but not yet taken by the GUI
        self._unshown_lock = threading.Lock()
        # for the health monitor (core.service.monitor): when the loop last stepped, and why the
        # source fails (None while frames come)
        self.progress = time.monotonic()
        self.problem: str | None = None

    def stop(self, wait_ms: int = 10000) -> bool:
        """Ask the loop to end and wait for it; True when the thread has stopped."""
        self._stop.set()
        return self.wait(wait_ms) if self.isRunning() else True

    def shown(self) -> None:
        """The GUI took a frame; called from the GUI thread so the worker can skip sending
        pictures nobody will see when the GUI falls behind (processing never skips)."""
        with self._unshown_lock:
            self._unshown = max(0, self._unshown - 1)
        self._taken.set()

    def run(self) -> None:
        source: FrameSource | None = None
        failures = 0
        bad_frames = 0  # frames in a row that recognition failed on
        video_clock = not self.pace and self.spec.kind == "file"
        played = 0  # frames of an unpaced file read so far (across its loops): its clock
        try:
            while not self._stop.is_set():
                self.progress = time.monotonic()
                if source is None:
                    try:
                        source = FrameSource(self.spec, pace=self.pace, loop=self.loop)
                    except SourceError as exc:
                        failures = self._wait_after(str(exc), failures)
                        continue
                    failures = 0
                    self.recognizer.reset()  # a new scene: no track or name carries over
                    self.source_opened.emit(str(self.spec))
                try:
                    frame = source.read()
                except SourceError as exc:
                    source.close()
                    source = None
                    failures = self._wait_after(str(exc), failures)
                    continue
                if frame is None:
                    self.finished_source.emit()
                    return
                self.problem = None
                when = played / source.fps if video_clock else frame.timestamp
                played += 1
                try:
                    result = self.recognizer.process(frame.rgb, when)
                except Exception as exc:  # one bad frame must not freeze the window
                    bad_frames += 1
                    if bad_frames == 1:  # once per streak: not 30 log entries a second
                        log.exception("recognition failed on frame %s", frame.index)
                        self.source_failed.emit(f"recognition failed on a frame ({exc}); continuing", 0.0)
                    continue
                if bad_frames:
                    log.info("recognition works again after %d failed frames", bad_frames)
                    bad_frames = 0
                latency = (time.monotonic() - frame.timestamp) * 1000
                with self._unshown_lock:
                    if self._unshown > 2:
                        continue
                    self._unshown += 1
                self._taken.clear()
                self.frame_ready.emit(ShownFrame(rgb_qimage(frame.rgb), result, frame.index, latency))
                while self.lockstep and not self._stop.is_set() and not self._taken.wait(0.05):
                    pass
        finally:
            if source is not None:
                source.close()

    def _wait_after(self, why: str, failures: int) -> int:
        pause = self.backoff[min(failures, len(self.backoff) - 1)]
        self.problem = why
        self.progress = time.monotonic()
        self.source_failed.emit(why, pause)
        self._stop.wait(pause)
        return failures + 1
