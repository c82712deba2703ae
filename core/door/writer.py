"""The access log's own thread. The door decides on the frame thread, which must never wait for
a disk: it only copies the face and hands the decision over; the snapshot JPEG, the visitor
grouping, the SQLite commit (an fsync) and the review queue happen here, one event at a time
in the order they were decided.

A failing write is logged and skipped: it must never stop the door or the video.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from core.door.access_log import AccessEvent, EventRecorder
from core.door.recorders import FaceRecorders
from core.records import Box, Candidate
from core.vision.images import crop, encode_jpeg
from core.vision.quality import sharpness

log = logging.getLogger("facegate.decide")


@dataclass
class LoggedFace:
    """What the writer needs besides the event: the face (a padded crop and the box in it), its
    descriptor (from the live loop's worker process), the visit's last few descriptors when it is
    unknown (to group it into a visitor), and its nearest people (for the review queue)."""

    face: tuple[np.ndarray, Box] | None = None
    descriptor: np.ndarray | None = None
    unknown_face: list[np.ndarray] | None = None
    candidates: list[Candidate] = field(default_factory=list)


class EventWriter:
    """Writes queued events to ``access_log`` on a thread started with the first event.
    ``recorders`` None (a dry run) writes nothing else: no visitor, no review, no purge."""

    def __init__(self, access_log: EventRecorder, snapshot_size: int, recorders: FaceRecorders | None = None) -> None:
        self.access_log = access_log
        self.snapshot_size = snapshot_size  # px, square JPEG
        self.recorders = recorders
        self.on_logged: list[Callable[[AccessEvent], None]] = []  # called on the writer thread
        self._queue: queue.Queue[tuple[AccessEvent, LoggedFace] | None] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def put(self, event: AccessEvent, face: LoggedFace | None = None) -> None:
        """Queue the event (and its face) for writing; returns at once."""
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="access-log", daemon=True)
                self._thread.start()
        self._queue.put((event, face or LoggedFace()))

    def flush(self) -> None:
        """Wait until every queued event is written."""
        self._queue.join()

    def close(self) -> None:
        """Write what is queued and stop the thread."""
        with self._lock:
            thread, self._thread = self._thread, None
        if thread is not None:
            self._queue.put(None)
            thread.join()

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            try:
                if item is None:
                    return
                self._write(*item)
            except Exception:  # a failing log must never stop the door or the video
                log.exception("writing the access log failed")
            finally:
                self._queue.task_done()

    def _write(self, event: AccessEvent, face: LoggedFace) -> None:
        recorders = self.recorders
        if recorders is not None:
            recorders.purge_when_due()
        event.descriptor = face.descriptor
        quality = 0.0
        if face.face is not None:
            region, rel = face.face
            picture = crop(region, rel, size=self.snapshot_size)
            event.snapshot = encode_jpeg(picture, 85)
            quality = sharpness(picture) * min(1.0, rel.width / 100)  # sharp and big: the best snapshot
        if face.unknown_face and recorders is not None:
            recorders.group(event, face.unknown_face, quality)
        self.access_log.record(event)
        if face.face is not None and face.descriptor is not None and recorders is not None:
            recorders.review(event, face.face, face.descriptor, face.candidates)
        for callback in list(self.on_logged):
            callback(event)
