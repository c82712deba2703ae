"""Quality gates: is this face worth a descriptor? Big enough, sharp enough, frontal enough, and
clearly a face.

A dlib descriptor of a small, blurred or turned face drifts away from the same face at its best
(bench/quality_bench.py: 0.13 at 60 px, 0.17 blurred to sharpness 27, against a 0.4 threshold),
so such a face is boxed and told what to do, but
never described, matched, logged as an Unknown visitor or counted in the door's consensus. The
same gates choose enrollment samples. Every number is a QualitySettings field; the defaults were
measured on the shared clip and photos (bench/quality_bench.py prints the measurements).

Head pose comes from five landmarks (YuNet's eyes, nose tip and mouth corners; with Haar or HOG,
dlib's eye corners and nose base, which give yaw only), read against a generic head: the nose tip
stands NOSE_DEPTH eye distances in front of the eyes, so turning the head by ``yaw`` moves it
sideways by about NOSE_DEPTH * tan(yaw) eye distances; nodding moves it between the eye line and
the mouth line. Roll (a tilted head) is taken out first. These are estimates against a generic
head, not measured angles (LEVEL_NOSE is set so the shared photos' median pitch is about 0):
enough to tell "looking at the door" from "looking past it".
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from core.records import Box, Detection, Quality

TOO_FAR = "too far"
TURNED = "turn towards the camera"
BLURRED = "blurred"
UNCLEAR = "not clearly a face"

#: The nose tip's depth in front of the eyes, in eye distances (a generic adult head).
NOSE_DEPTH = 0.45
#: dlib's nose base (5-point model) stands less far out than the tip.
NOSE_BASE_DEPTH = 0.30
#: Where the nose tip sits between the eye line (0) and the mouth line (1) on a level face, and the
#: nose depth in eye-to-mouth heights: pitch = atan((ratio - LEVEL_NOSE) / NOSE_DEPTH_V).
LEVEL_NOSE = 0.56
NOSE_DEPTH_V = 0.42
#: The share of each side of dlib's aligned chip (padding 0.25) that lies around the face.
CHIP_MARGIN = 0.25 / 1.5


@dataclass
class QualitySettings:
    """The gates a face must pass to be described (defaults measured: see the module doc)."""

    min_size: int = 60  # px, box width: shrunk to 60 px a photo's face drifts 0.13 (median), to 50 0.17
    min_sharpness: float = 25.0  # contrast-normalised Laplacian variance of the chip: blurred to 27, drift 0.17
    max_yaw: float = 45.0  # degrees either way: every shared photo's face passes (most turned: 42)
    max_pitch: float = 25.0  # degrees up or down: no shared face passes 20, so this gate is unmeasured
    min_score: float = 0.8  # YuNet's confidence, under every face HOG confirms (min 0.837); Haar/HOG: unchecked

    def check(self) -> None:
        if self.min_size < 1 or self.min_sharpness < 0 or not 0 <= self.min_score <= 1:
            raise ValueError("quality gates: size must be positive, sharpness and score not negative, score at most 1")
        if not (0 < self.max_yaw <= 90 and 0 < self.max_pitch <= 90):
            raise ValueError("quality gates: the largest yaw and pitch must be between 0 and 90 degrees")


def nose_offset(eye_a: np.ndarray, eye_b: np.ndarray, nose: np.ndarray) -> float | None:
    """Where the nose sits from the point between the eyes, along the eye line, in eye distances:
    0 facing the camera, towards +-0.5 as the head turns until the nose reaches an eye. Measured
    along the eye line, so a tilted head or picture gives the same number. None when the eyes
    coincide (a degenerate landmark fit)."""
    between = float(np.linalg.norm(eye_b - eye_a))
    if between < 1e-6:
        return None
    axis = (eye_b - eye_a) / between
    return float(np.dot(nose - (eye_a + eye_b) / 2, axis) / between)


def head_pose(points: np.ndarray | None, dlib5: bool = False) -> tuple[float, float | None]:
    """(yaw, pitch) in degrees from five landmarks; 0, 0 faces the camera. ``dlib5``: dlib's
    5-point order (two eye corners each, nose base), which gives yaw only (pitch None)."""
    if points is None or len(points) != 5:
        return 90.0, None
    p = np.asarray(points, dtype=np.float64)
    if dlib5:
        eye_a, eye_b, nose, depth = p[0:2].mean(axis=0), p[2:4].mean(axis=0), p[4], NOSE_BASE_DEPTH
    else:
        eye_a, eye_b, nose, depth = p[0], p[1], p[2], NOSE_DEPTH
    offset = nose_offset(eye_a, eye_b, nose)
    if offset is None:
        return 90.0, None
    yaw = math.degrees(math.atan(abs(offset) / depth))
    if dlib5:
        return yaw, None
    along = (eye_b - eye_a) / float(np.linalg.norm(eye_b - eye_a))  # the eye line: roll cancels
    down = np.array([-along[1], along[0]])
    mid = (eye_a + eye_b) / 2
    mouth = (p[3] + p[4]) / 2
    height = float(np.dot(mouth - mid, down))
    if height < 1e-6:
        return yaw, 90.0
    ratio = float(np.dot(nose - mid, down)) / height
    return yaw, math.degrees(math.atan((ratio - LEVEL_NOSE) / NOSE_DEPTH_V))


def sharpness(chip: np.ndarray) -> float:
    """Variance of the Laplacian over the face in the aligned chip, per unit of the face's own
    contrast (x1000): low for blurred or upscaled faces, and not low merely because the face is
    dimly lit. The chip's padding is left out (a face cut by the picture's edge shows a hard
    black border there)."""
    side = chip.shape[0]
    pad = int(round(side * CHIP_MARGIN))
    gray = cv2.cvtColor(chip[pad : side - pad, pad : side - pad], cv2.COLOR_RGB2GRAY).astype(np.float64)
    return float(cv2.Laplacian(gray, cv2.CV_64F).var() / max(float(gray.var()), 1e-6) * 1000)


def measure(chip: np.ndarray, box: Box, detection: Detection | None = None, dlib_points: np.ndarray | None = None) -> Quality:
    """The face's quality: the chip's sharpness, the box's width, the head pose from the detector's
    landmarks (else dlib's 5 points) and the detector's score."""
    if detection is not None and detection.points is not None:
        yaw, pitch = head_pose(detection.points)
    else:
        yaw, pitch = head_pose(dlib_points, dlib5=True)
    return Quality(sharpness(chip), box.width, yaw, pitch, detection.score if detection is not None else None)


def precheck(detection: Detection, settings: QualitySettings | None = None) -> list[str]:
    """The gates the detection alone can judge (size, score, and pose from YuNet's landmarks),
    before the aligned chip is made: the live loop checks every face on every frame, so a face
    already known to fail costs no landmark model and no chip."""
    yaw, pitch = head_pose(detection.points) if detection.points is not None else (0.0, None)
    return problems(Quality(float("inf"), detection.box.width, yaw, pitch, detection.score), settings)


def problems(quality: Quality, settings: QualitySettings | None = None) -> list[str]:
    """Why this face must not be described, most useful advice first ([] when it may be)."""
    s = settings or QualitySettings()
    out = []
    if quality.size < s.min_size:
        out.append(TOO_FAR)
    if quality.yaw > s.max_yaw or (quality.pitch is not None and abs(quality.pitch) > s.max_pitch):
        out.append(TURNED)
    if quality.sharpness < s.min_sharpness:
        out.append(BLURRED)
    if quality.score is not None and quality.score < s.min_score:
        out.append(UNCLEAR)
    return out
