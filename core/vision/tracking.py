"""Following faces from one frame to the next, for anything that reads video: which box of this
frame is which box of the last (by overlap, then by centre distance for fast moves), and when the
whole picture changed at once (a cut), after which no box is the same face as before.

The live loop (core.live.tracking) and the video scan (core.tools.scan) both build on these.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from core.records import Box


def pair_boxes(old: Sequence[Box], new: Sequence[Box], min_iou: float = 0.25) -> list[tuple[int, int]]:
    """Pairs (index in ``old``, index in ``new``) of the same face, each box used once: greedily,
    largest overlap first; a pair must overlap by ``min_iou`` or have centres closer than half
    the wider box (a fast move), which ranks just above the same overlap without it."""
    candidates = []
    for i, a in enumerate(old):
        for j, b in enumerate(new):
            overlap = a.iou(b)
            near = _centre_distance(a, b) < 0.5 * max(a.width, b.width)
            if overlap >= min_iou or near:
                candidates.append((overlap + (0.01 if near else 0.0), i, j))
    used_old, used_new, pairs = set(), set(), []
    for _, i, j in sorted(candidates, reverse=True):
        if i in used_old or j in used_new:
            continue
        used_old.add(i)
        used_new.add(j)
        pairs.append((i, j))
    return pairs


class CutDetector:
    """Tells when the whole picture changed at once: a cut in a video, a camera swapped. A tracker
    would take a face in the new picture for the old face moved (a track holding one person's
    name would sit on someone else); after a cut every track starts afresh.

    Compares 32x18 gray thumbnails of consecutive frames (0.2 ms): on the shared clip its three
    cuts differ by 26-30 (mean absolute difference, 0-255) and every other frame by at most 12.6.
    Between every 5th frame (a scan's stride) its fast pans also pass 20 now and then: a scan then
    merely describes those faces afresh, whereas a missed cut would cost it the new faces.
    """

    def __init__(self, threshold: float = 20.0) -> None:
        self.threshold = threshold
        self._last: np.ndarray | None = None

    def __call__(self, rgb: np.ndarray) -> bool:
        gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
        thumb = cv2.resize(gray, (32, 18), interpolation=cv2.INTER_AREA).astype(np.float32)
        last, self._last = self._last, thumb
        return last is not None and float(np.abs(thumb - last).mean()) > self.threshold


def _centre_distance(a: Box, b: Box) -> float:
    (ax, ay), (bx, by) = a.center, b.center
    return float(np.hypot(ax - bx, ay - by))
