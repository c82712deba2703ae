"""Landmarks, aligned face chips and dlib's 128-D descriptors, with models loaded lazily.

Models come from the face-recognition-models package (found by location, never imported: its
__init__ needs pkg_resources, gone from recent setuptools) or from an explicit folder. The
descriptor is computed from a 150x150 chip aligned by the 5-point landmarks, which is exactly
what dlib's compute_face_descriptor(image, shape) does inside; splitting the two lets the live
window send small chips to a worker process instead of whole frames.
"""
from __future__ import annotations

import importlib.util
import os
import sys
import threading
from pathlib import Path

import cv2
import numpy as np

from core.errors import ModelError
from core.records import Box, Face, Quality

MODEL_FILES = {
    "shape5": "shape_predictor_5_face_landmarks.dat",
    "shape68": "shape_predictor_68_face_landmarks.dat",
    "descriptor": "dlib_face_recognition_resnet_model_v1.dat",
    "mmod": "mmod_human_face_detector.dat",
}
CHIP_SIZE = 150
CHIP_PADDING = 0.25


def default_model_dir() -> Path:
    """Where the dlib models are: $FACEGATE_MODELS, beside a frozen app, or face-recognition-models."""
    env = os.environ.get("FACEGATE_MODELS")
    if env:
        return Path(env)
    frozen = getattr(sys, "_MEIPASS", None)
    if frozen:
        return Path(frozen) / "face_recognition_models" / "models"
    spec = importlib.util.find_spec("face_recognition_models")
    if spec is None or not spec.submodule_search_locations:
        raise ModelError("the face-recognition-models package is not installed; "
                         "install it or set FACEGATE_MODELS to a folder holding the dlib .dat files")
    return Path(list(spec.submodule_search_locations)[0]) / "models"


class Describer:
    """Computes landmarks, chips, quality and descriptors. Thread-safe; models load on first use."""

    def __init__(self, model_dir: str | Path | None = None) -> None:
        self.model_dir = Path(model_dir) if model_dir else default_model_dir()
        self._models: dict[str, object] = {}
        self._lock = threading.Lock()

    def _model(self, key: str):
        with self._lock:
            if key not in self._models:
                import dlib

                path = self.model_dir / MODEL_FILES[key]
                if not path.is_file():
                    raise ModelError(f"{path}: dlib model file not found")
                try:
                    loader = dlib.face_recognition_model_v1 if key == "descriptor" else dlib.shape_predictor
                    self._models[key] = loader(str(path))
                except RuntimeError as exc:
                    raise ModelError(f"{path}: dlib could not load this model ({exc})") from None
            return self._models[key]

    def preload(self, *keys: str) -> None:
        """Load these models now (shape5 50 ms, shape68 470 ms, descriptor 60 ms here, all holding
        the GIL): at start-up, before video plays, rather than stalling the window mid-stream."""
        for key in keys:
            self._model(key)

    def landmarks(self, rgb: np.ndarray, box: Box, points: int = 5):
        """dlib's full_object_detection for ``box`` (5 or 68 points)."""
        import dlib

        predictor = self._model("shape5" if points == 5 else "shape68")
        return predictor(rgb, dlib.rectangle(box.left, box.top, box.right, box.bottom))

    def chip(self, rgb: np.ndarray, box: Box) -> tuple[np.ndarray, np.ndarray]:
        """The 150x150 aligned chip and the 5 landmark points (x, y) of the face in ``box``."""
        import dlib

        shape = self.landmarks(rgb, box, 5)
        chip = dlib.get_face_chip(rgb, shape, size=CHIP_SIZE, padding=CHIP_PADDING)
        points = np.array([(p.x, p.y) for p in shape.parts()], dtype=np.float32)
        return np.ascontiguousarray(chip), points

    def descriptor_from_chip(self, chip: np.ndarray) -> np.ndarray:
        """The 128-D descriptor (float32) of an aligned 150x150 chip."""
        vec = self._model("descriptor").compute_face_descriptor(np.ascontiguousarray(chip))
        return np.asarray(vec, dtype=np.float32)

    def describe(self, rgb: np.ndarray, box: Box) -> Face:
        """A complete Face for ``box``: landmarks, chip, quality and descriptor."""
        chip, points = self.chip(rgb, box)
        return Face(box=box, landmarks=points, descriptor=self.descriptor_from_chip(chip),
                    quality=quality_of(chip, points, box), chip=chip)


def quality_of(chip: np.ndarray, points: np.ndarray, box: Box) -> Quality:
    """Sharpness of the chip, size of the box, and frontalness from the 5 landmarks."""
    return Quality(sharpness=sharpness_of(chip), size=box.width, frontal=frontal_score(points))


def sharpness_of(rgb: np.ndarray) -> float:
    """How sharp a picture is: the variance of its Laplacian (blur and low light make it small)."""
    return float(cv2.Laplacian(cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY), cv2.CV_64F).var())


def frontal_score(points: np.ndarray) -> float:
    """1.0 when the nose sits midway between the eyes, 0 when it reaches an eye (head turned).

    5-point model order: right eye corners (0, 1), left eye corners (2, 3), nose base (4).
    """
    if points is None or len(points) != 5:
        return 0.0
    offset = nose_offset(points[0:2].mean(axis=0), points[2:4].mean(axis=0), points[4])
    return 0.0 if offset is None else max(0.0, 1.0 - 2.0 * abs(offset))


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


def face_distance(known: np.ndarray, probe: np.ndarray) -> np.ndarray:
    """Euclidean distances from ``probe`` (128,) to each row of ``known`` (N, 128)."""
    known = np.atleast_2d(np.asarray(known, dtype=np.float32))
    if known.size == 0:
        return np.empty((0,), dtype=np.float32)
    return np.linalg.norm(known - np.asarray(probe, dtype=np.float32), axis=1)
