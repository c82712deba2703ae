"""What the door keeps of a logged face besides its access-log entry: an unknown face grouped
into its visitor (core.door.visitors), every face queued for the guards' review with the quality
of the shot (core.door.review), and the hourly retention purge (core.door.retention).

Apart from the access-log writer because these write the gallery and a dry run (``facegate
replay`` without --log) must not: it logs into memory and has no recorders at all. Each step
fails on its own: a visitor that cannot be grouped or a face that cannot be queued still leaves
the event logged.
"""

from __future__ import annotations

import logging
import time

import numpy as np

from core.door.access_log import AccessEvent
from core.door.retention import Retention
from core.door.review import RecentFaces
from core.door.verdict import Verdict
from core.door.visitors import Visitors
from core.gallery.api import Gallery
from core.records import Box, Candidate
from core.vision.quality import measure

log = logging.getLogger("facegate.decide")

PURGE_EVERY = 3600.0  # s between two retention purges (core.door.retention)


class FaceRecorders:
    """The visitor grouping, the review queue and the purge of one gallery; called from the
    access log's writer thread (core.door.writer), never from the frame thread."""

    def __init__(self, gallery: Gallery, visitors: Visitors, recent: RecentFaces) -> None:
        self.gallery = gallery
        self.visitors = visitors
        self.recent = recent
        self.retention = Retention(gallery, visitors)
        self._purged_at: float | None = None

    def purge_when_due(self) -> None:
        """At the first event and then hourly: delete what the retention period says must go."""
        if self._purged_at is not None and time.monotonic() - self._purged_at < PURGE_EVERY:
            return
        self._purged_at = time.monotonic()
        try:
            self.retention.purge()
        except Exception:
            log.exception("the retention purge failed; the next try is in an hour")

    def group(self, event: AccessEvent, descriptors: list[np.ndarray], quality: float) -> None:
        """Give an unknown face its visitor id (its earlier visits' or a new one), before the event
        is logged so that its entry carries it. A failure here still logs the event."""
        try:
            event.visitor_id, _new = self.visitors.assign(descriptors, event.time, event.snapshot, quality)
        except Exception:
            log.exception("grouping an unknown visitor failed; the event is logged without a visitor")

    def review(self, event: AccessEvent, face: tuple[np.ndarray, Box], descriptor: np.ndarray, nearest: list[Candidate]) -> None:
        """Put the logged visit's face in the review queue (with the quality of the shot), which
        learns from it after a grant when learning mode is on. A failure here still logs the event."""
        try:
            region, rel = face
            chip, points = self.gallery.describer.chip(region, rel)  # 5-point landmarks: ~1 ms
            self.recent.record(
                event, descriptor, measure(chip, rel, None, points), nearest, live_grant=event.verdict == Verdict.GRANTED
            )
        except Exception:
            log.exception("queueing the face for review failed")
