"""Is the face at the door alive? An offline check that a still photo or a frozen screen cannot pass.

Two cues, each from dlib's 68-point landmarks over the frames of one visit:

- a blink: the eye aspect ratio (EAR, eye height over width; Soukupova & Cech 2016) drops below
  ``blink_ratio`` times the visit's open-eye EAR and comes back up. Relative, not absolute,
  because the open-eye EAR differs between people and with camera angle.
- a head turn: the nose tip's offset from the point between the eyes, along the eye line and
  divided by the eye distance, changes by ``turn_range``. For a flat picture this ratio does not
  change when the picture is moved, tilted, turned or brought closer (those keep it to within
  perspective error); it changes when a real head turns, because the nose stands out of the face.

A still photo or a frozen screen gives the same landmarks frame after frame: neither cue moves.
Replaying a video of the person does pass; this check is against stills, not replays.

The 68-point predictor holds the GIL (~1 ms), so the decider runs it only for faces that are
candidates to unlock, and faces under ``min_face`` px are not judged (their landmarks are too coarse).
"""
from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np

from core.records import Box
from core.vision.quality import nose_offset

# 68-point model indices: the six points around each eye, and the nose tip.
RIGHT_EYE = slice(36, 42)
LEFT_EYE = slice(42, 48)
NOSE_TIP = 30


@dataclass
class LivenessSettings:
    blink: bool = True
    head_turn: bool = True
    blink_ratio: float = 0.5     # eyes count as closed under this fraction of the open-eye EAR
    reopen_ratio: float = 0.85   # ...and as open again above this fraction
    turn_range: float = 0.2      # change of the nose offset (in eye distances) that counts as a turn
    min_face: int = 60           # px; smaller faces are not judged
    window: float = 10.0         # seconds of observations kept


@dataclass(frozen=True)
class LivenessResult:
    passed: bool
    reason: str                  # what passed, or what is still awaited, in words
    ear: float | None = None
    yaw: float | None = None
    frames: int = 0


def eye_aspect_ratio(eye: np.ndarray) -> float:
    """(|p2-p6| + |p3-p5|) / (2 |p1-p4|) for the six points of one eye."""
    width = np.linalg.norm(eye[0] - eye[3])
    if width < 1e-6:
        return 0.0
    return float((np.linalg.norm(eye[1] - eye[5]) + np.linalg.norm(eye[2] - eye[4])) / (2 * width))


def measure(points: np.ndarray) -> tuple[float, float]:
    """(mean EAR of both eyes, nose offset along the eye line in eye distances) from 68 points."""
    right, left = points[RIGHT_EYE], points[LEFT_EYE]
    ear = (eye_aspect_ratio(right) + eye_aspect_ratio(left)) / 2
    yaw = nose_offset(right.mean(axis=0), left.mean(axis=0), points[NOSE_TIP])
    return ear, 0.0 if yaw is None else yaw


class LivenessCheck:
    """Observations of one visit (one tracked face); feed it every frame while it matters."""

    def __init__(self, describer, settings: LivenessSettings | None = None) -> None:
        self.describer = describer
        self.settings = settings or LivenessSettings()
        self._seen: deque[tuple[float, float, float]] = deque()  # (timestamp, ear, yaw)
        self._passed: LivenessResult | None = None

    def observe(self, rgb: np.ndarray, box: Box, timestamp: float) -> LivenessResult:
        """Add this frame's landmarks; whether the face has shown itself alive so far."""
        if self._passed is not None:
            return self._passed
        s = self.settings
        if not (s.blink or s.head_turn):
            self._passed = LivenessResult(True, "liveness cues all switched off")
            return self._passed
        if box.width < s.min_face:
            return LivenessResult(False, f"come closer (face {box.width} px, need {s.min_face})", frames=len(self._seen))
        shape = self.describer.landmarks(rgb, box, 68)
        ear, yaw = measure(np.array([(p.x, p.y) for p in shape.parts()], dtype=np.float64))
        self._seen.append((timestamp, ear, yaw))
        while self._seen and self._seen[0][0] < timestamp - s.window:
            self._seen.popleft()
        result = self._judge(ear, yaw)
        if result.passed:
            self._passed = result
        return result

    def _judge(self, ear: float, yaw: float) -> LivenessResult:
        s = self.settings
        ears = np.array([e for _, e, _ in self._seen])
        yaws = np.sort([y for _, _, y in self._seen])
        n = len(self._seen)
        if s.blink and n >= 3:
            open_ear = float(np.percentile(ears, 80))
            closed = np.flatnonzero(ears < s.blink_ratio * open_ear)
            if closed.size:
                before = ears[:closed[0]] >= s.reopen_ratio * open_ear
                after = ears[closed[-1] + 1:] >= s.reopen_ratio * open_ear
                if before.any() and after.any():
                    return LivenessResult(True, f"blinked (eyes {ears.min() / open_ear:.0%} of open)", ear, yaw, n)
        if s.head_turn and n >= 4:
            spread = float(yaws[-2] - yaws[1])  # one outlier at each end ignored
            if spread >= s.turn_range:
                return LivenessResult(True, f"turned the head ({spread:.2f})", ear, yaw, n)
        asks = [w for w, on in (("blink", s.blink), ("turn your head", s.head_turn)) if on]
        return LivenessResult(False, f"please {' or '.join(asks)}", ear, yaw, n)
