"""The plain records that flow between FaceGate's steps: a Box, what the detector saw (a
Detection), a face's Quality, a Face, and who it is (a Candidate, a Match); and the files a step
could not use (Skipped)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

#: Length of a face descriptor (dlib's ResNet): what the store packs, the index holds, tools compare.
DESCRIPTOR_DIM = 128

#: A file (or person) a step could not use, and why in words: (source, reason).
Skipped = tuple[str, str]


def skipped_json(skipped: list[Skipped]) -> list[dict[str, str]]:
    """The skipped list as ``--json`` prints it: [{"file": ..., "reason": ...}]."""
    return [{"file": source, "reason": reason} for source, reason in skipped]


@dataclass(frozen=True)
class Box:
    """A face rectangle in pixels: left, top, right, bottom (right/bottom exclusive)."""

    left: int
    top: int
    right: int
    bottom: int

    @property
    def width(self) -> int:
        return self.right - self.left

    @property
    def height(self) -> int:
        return self.bottom - self.top

    @property
    def area(self) -> int:
        return max(0, self.width) * max(0, self.height)

    @property
    def center(self) -> tuple[float, float]:
        return ((self.left + self.right) / 2, (self.top + self.bottom) / 2)

    def as_tuple(self) -> tuple[int, int, int, int]:
        return (self.left, self.top, self.right, self.bottom)

    def scaled(self, factor: float) -> Box:
        return Box(*(int(round(v * factor)) for v in self.as_tuple()))

    def padded(self, dx: int, dy: int) -> Box:
        """The box grown by ``dx`` on the left and right and ``dy`` above and below."""
        return Box(self.left - dx, self.top - dy, self.right + dx, self.bottom + dy)

    def clipped(self, shape: tuple[int, ...]) -> Box:
        """The part of the box inside an image of ``shape`` (height, width, ...)."""
        height, width = shape[:2]
        return Box(max(0, self.left), max(0, self.top), min(width, self.right), min(height, self.bottom))

    def cut(self, image: np.ndarray) -> np.ndarray:
        """The pixels of ``image`` inside the box (a view; the box must lie inside the image)."""
        return image[self.top : self.bottom, self.left : self.right]

    def iou(self, other: Box) -> float:
        """Intersection over union: how much two boxes are the same face."""
        ix = max(0, min(self.right, other.right) - max(self.left, other.left))
        iy = max(0, min(self.bottom, other.bottom) - max(self.top, other.top))
        inter = ix * iy
        union = self.area + other.area - inter
        return inter / union if union > 0 else 0.0

    def contains(self, x: float, y: float) -> bool:
        return self.left <= x < self.right and self.top <= y < self.bottom


@dataclass(frozen=True)
class Detection:
    """One face as the detector saw it: its box and, from YuNet (None from Haar or HOG), the
    detector's confidence and five landmarks in image pixels, in YuNet's order: right eye, left
    eye, nose tip, right and left mouth corner (the person's right and left)."""

    box: Box
    score: float | None = None
    points: np.ndarray | None = field(default=None, repr=False, compare=False)


@dataclass(frozen=True)
class Quality:
    """How trustworthy a descriptor of this face would be (core.vision.quality measures and judges it).

    sharpness: variance of the Laplacian of the aligned gray chip (blurred chips score low);
    size: box width in pixels; yaw and pitch: head rotation in degrees (0 looking straight at
    the camera), pitch None when only dlib's 5 points were there to measure it; score: the
    detector's confidence (None for Haar and HOG, which give none).
    """

    sharpness: float
    size: int
    yaw: float
    pitch: float | None = None
    score: float | None = None


@dataclass
class Face:
    """One face found in an image: where, dlib's 5 landmarks, its quality and its descriptor
    (DESCRIPTOR_DIM floats).

    ``descriptor`` is None when the face failed the quality gates; ``problems`` then says why in
    the operator's words ("too far", "blurred", "turn towards the camera").
    """

    box: Box
    landmarks: np.ndarray
    descriptor: np.ndarray | None
    quality: Quality
    chip: np.ndarray | None = field(default=None, repr=False)
    detection: Detection | None = None
    problems: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Candidate:
    """A person (or one of their samples) and how far the probe is from them; ``threshold``: the
    person's own stricter threshold (None: the door's), which the match rule applies to them."""

    person_id: int
    name: str
    distance: float
    sample_id: int
    threshold: float | None = None


@dataclass
class Match:
    """The answer for one face: who (or None), how far, by what margin, and the runners-up.

    margin is the second person's distance minus the first's (None with fewer than two people).
    reason says in words why this is or is not a match.
    """

    name: str | None
    person_id: int | None
    distance: float | None
    margin: float | None
    candidates: list[Candidate] = field(default_factory=list)
    reason: str = ""

    @property
    def matched(self) -> bool:
        return self.name is not None
