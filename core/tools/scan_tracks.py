"""Which views of a face a video scan describes: each face is followed from one scanned frame to
the next, and of each stretch of ``interval`` frames of it (0.5 s by default) only its most
frontal view gets a descriptor.

A descriptor costs 12-15 ms (dlib, holding the GIL) against ~5 ms for YuNet to find every face
of the frame, so describing every view made descriptors two thirds of a scan's time. But views of
one face are not interchangeable: on the shared clip, Lin-Manuel's descriptors 5 frames apart
already differ by 0.36 (median; 0.18 one frame apart), and only 5 frames of his 129 (148-152, the
head facing the camera) come within 0.4 of his photo. Describing the first view of each half
second missed them (nearest 0.42); the most frontal view of each half second (YuNet's landmarks:
least yaw plus pitch) kept frame 150 (0.31), as describing every 5th frame did. Photos searched
with, and enrolled from, face the camera: the frontal view is the one they match.
HOG and Haar give no landmarks: their widest view of the stretch is described.

A view that fails the quality gates (core.vision.quality) never stands for its stretch; when the
chosen view fails the chip's gates (blur), the next best is tried. But a scan is an archive search:
a face none of whose views ever passes the gates (a walker 60 px wide, turned and blurred) must not
vanish, so each followed face also holds its best poor view (the widest, then the least turned),
and when the face ends without a good view kept the scan keeps that one, marked poor.

Faces are paired by overlap (core.vision.tracking.pair_boxes). A face missing from ``max_misses``
scanned frames running ends, and at a cut every face ends, so a shot's faces never stand for the
next shot's; an ending face's open stretch is described at once.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from core.records import Box, Detection
from core.vision.quality import head_pose
from core.vision.tracking import CutDetector, pair_boxes

#: How many of a stretch's best views are held (frames referenced) in case the best fails the chip's gates.
HELD_VIEWS = 3


@dataclass
class View:
    """One view of a followed face: its frame (number and pixels) and what the detector saw."""

    frame: int
    rgb: np.ndarray
    detection: Detection
    rank: tuple[float, int]  # lower is better: (head turn in degrees, minus the box width)


@dataclass
class FollowedFace:
    """One face followed across scanned frames, and the best views of its current stretch."""

    box: Box
    misses: int = 0
    stretch_start: int | None = None
    views: list[View] = field(default_factory=list)  # best first, at most HELD_VIEWS
    poor: View | None = None  # its best view that failed the gates, kept if no good view ever is
    kept: bool = False  # a good view of it was kept (set by the scan)


@dataclass
class Ended:
    """A stretch of a followed face handed over to be described (``views``, best first; may be
    empty), and whether the face itself ended (``final``: its poor view is now due, if needed)."""

    face: FollowedFace
    views: list[View]
    final: bool = False


class FaceFollower:
    """Follows the faces of successive scanned frames and hands over, for each stretch of each
    face that ends, its best views (best first) to describe."""

    def __init__(self, interval: int, max_misses: int = 2, min_iou: float = 0.25, cut_threshold: float = 20.0) -> None:
        self.interval = interval
        self.max_misses = max_misses
        self.min_iou = min_iou
        self.cuts = CutDetector(cut_threshold)
        self.faces: list[FollowedFace] = []

    def follow(self, rgb: np.ndarray, frame: int, found: list[Detection], usable: list[bool]) -> list[Ended]:
        """Take this frame's detections (``usable``: which passed the detector-only quality gates;
        the others are followed and held as poor views) and return the stretches that ended."""
        ended: list[Ended] = []
        if self.cuts(rgb):
            ended += self.flush()
        pairs = {j: i for i, j in pair_boxes([f.box for f in self.faces], [d.box for d in found], self.min_iou)}
        current = []
        for j, detection in enumerate(found):
            face = self.faces[pairs[j]] if j in pairs else FollowedFace(detection.box)
            face.box, face.misses = detection.box, 0
            if face.stretch_start is not None and frame - face.stretch_start >= self.interval:
                ended.append(Ended(face, _close(face)))
            view = View(frame, rgb, detection, _rank(detection))
            if usable[j]:
                _offer(face, view)
            else:
                offer_poor(face, view)
            current.append(face)
        kept = {id(f) for f in current}
        for face in self.faces:
            if id(face) in kept:
                continue
            face.misses += 1
            if face.misses <= self.max_misses:
                current.append(face)
            else:
                ended.append(Ended(face, _close(face), final=True))
        self.faces = current
        return ended

    def flush(self) -> list[Ended]:
        """End every face (a cut, the end of the video): their open stretches."""
        ended = [Ended(f, _close(f), final=True) for f in self.faces]
        self.faces = []
        return ended


def offer_poor(face: FollowedFace, view: View) -> None:
    """Hold ``view`` as the face's poor view if it beats the one held: wider, then less turned."""
    if face.poor is None or (-view.rank[1], -view.rank[0]) > (-face.poor.rank[1], -face.poor.rank[0]):
        face.poor = view


def _offer(face: FollowedFace, view: View) -> None:
    if face.stretch_start is None:
        face.stretch_start = view.frame
    face.views.append(view)
    face.views.sort(key=lambda v: v.rank)  # stable: the earliest of equal views first
    del face.views[HELD_VIEWS:]


def _close(face: FollowedFace) -> list[View]:
    views, face.views, face.stretch_start = face.views, [], None
    return views


def _rank(detection: Detection) -> tuple[float, int]:
    if detection.points is None:
        return 0.0, -detection.box.width
    yaw, pitch = head_pose(detection.points)
    return yaw + abs(pitch or 0.0), -detection.box.width
