"""Does the face move with its surroundings? A geometric screen (and print) cue.

The door camera is fixed: behind a real head the wall stays still while the head moves. A face on
a phone, a tablet or a sheet held by hand moves *with* what is around it - the screen's content,
the bezel, the fingers - as one rigid plane. So: track corners (Shi-Tomasi, pyramidal Lucas-
Kanade) on the face and in a ring around it between two frames ``gap`` apart; fit one homography
to the face's points (the plane a picture of a face would be on), and ask what share of the ring's
points it explains as well. A real head against a still background: few (its hair and collar, not
the wall); a hand-held picture: most. Frames where the face hardly moved say nothing and are not
counted; neither does a face with too few corners around it (a blank wall).

What it cannot tell: a screen or print held so close that it fills the ring (nothing around the
face but the picture itself - the ring then holds the video's own background, which still moves
with the face when the hand moves), or a picture held perfectly still (no motion, no verdict).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import cv2
import numpy as np

from core.records import Box


@dataclass
class SurroundSettings:
    gap: int = 5  # frames between the two compared
    inner: float = 0.45  # the ring starts this many face widths outside the box (past hair and ears)...
    outer: float = 1.2  # ...and ends here
    min_shift: float = 2.0  # px the face must move for a frame to count
    tolerance: float = 0.35  # a ring point moves with the face within this share of the face's shift (>= 1 px)
    min_points: int = 8  # corners needed on the face and in the ring


@dataclass(frozen=True)
class SurroundFrame:
    shift: float  # px the face moved between the two frames
    rigid: float  # share of the ring's points the face's homography explains (0..1)
    points: int  # ring points tracked


def _mask(shape: tuple[int, ...], box: Box, grow: float) -> np.ndarray:
    h, w = shape[:2]
    dx, dy = int(box.width * grow), int(box.height * grow)
    mask = np.zeros((h, w), np.uint8)
    mask[max(0, box.top - dy) : max(0, min(h, box.bottom + dy)), max(0, box.left - dx) : max(0, min(w, box.right + dx))] = 255
    return mask


class SurroundMotion:
    """One visit's frames (one tracked face); observe() each, ``verdict()`` the median share."""

    def __init__(self, settings: SurroundSettings | None = None) -> None:
        self.settings = settings or SurroundSettings()
        self._recent: deque[tuple[np.ndarray, Box]] = deque(maxlen=self.settings.gap + 1)
        self.frames: list[SurroundFrame] = []

    def observe(self, rgb: np.ndarray, box: Box) -> SurroundFrame | None:
        gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
        self._recent.append((gray, box))
        if len(self._recent) <= self.settings.gap:
            return None
        frame = self.measure(*self._recent[0], gray)
        if frame is not None:
            self.frames.append(frame)
        return frame

    def measure(self, before: np.ndarray, box: Box, after: np.ndarray) -> SurroundFrame | None:
        """The face (``box`` in ``before``) and its ring from ``before`` to ``after`` (grey)."""
        s = self.settings
        h, w = before.shape[:2]  # work on the region around the face only (a few ms less than the frame)
        dx, dy = int(box.width * (s.outer + 0.2)), int(box.height * (s.outer + 0.2))
        x0, y0 = max(0, box.left - dx), max(0, box.top - dy)
        before, after = (
            before[y0 : min(h, box.bottom + dy), x0 : min(w, box.right + dx)],
            after[y0 : min(h, box.bottom + dy), x0 : min(w, box.right + dx)],
        )
        box = Box(box.left - x0, box.top - y0, box.right - x0, box.bottom - y0)
        face_mask = _mask(before.shape, box, -0.1)
        ring_mask = cv2.subtract(_mask(before.shape, box, s.outer), _mask(before.shape, box, s.inner))
        face = cv2.goodFeaturesToTrack(before, 60, 0.01, 3, mask=face_mask)
        ring = cv2.goodFeaturesToTrack(before, 120, 0.01, 5, mask=ring_mask)
        if face is None or ring is None or len(face) < s.min_points or len(ring) < s.min_points:
            return None
        points = np.concatenate([face, ring]).astype(np.float32)
        moved, status, _ = cv2.calcOpticalFlowPyrLK(before, after, points, np.empty_like(points), winSize=(15, 15), maxLevel=3)
        ok = status.ravel() == 1
        n = len(face)
        f0, f1 = points[:n][ok[:n]].reshape(-1, 2), moved[:n][ok[:n]].reshape(-1, 2)
        r0, r1 = points[n:][ok[n:]].reshape(-1, 2), moved[n:][ok[n:]].reshape(-1, 2)
        if len(f0) < s.min_points or len(r0) < s.min_points:
            return None
        shift = float(np.median(np.linalg.norm(f1 - f0, axis=1)))
        if shift < s.min_shift:
            return None
        h, _ = cv2.findHomography(f0, f1, cv2.RANSAC, max(1.0, s.tolerance * shift))
        if h is None:
            return None
        error = np.linalg.norm(cv2.perspectiveTransform(r0[None], h)[0] - r1, axis=1)
        return SurroundFrame(shift, float(np.mean(error <= max(1.0, s.tolerance * shift))), len(r0))

    def verdict(self) -> float | None:
        """The median share over the frames that said something (None before any did)."""
        return float(np.median([f.rigid for f in self.frames])) if self.frames else None
