"""Landmarks, aligned face chips and dlib's 128-D descriptors, with models loaded lazily.

Models come from the face-recognition-models package (found by location, never imported: its
__init__ needs pkg_resources, gone from recent setuptools) or from an explicit folder. The
descriptor is computed from a 150x150 chip aligned by the 5-point landmarks, which is exactly
what dlib's compute_face_descriptor(image, shape) does inside; splitting the two lets the live
window send small chips to a worker process instead of whole frames.
"""

from __future__ import annotations

import ctypes
import importlib.util
import os
import sys
import threading
from pathlib import Path
from typing import Any

import numpy as np

from core.errors import ModelError
from core.records import Box, Detection, Face
from core.vision.quality import QualitySettings, measure, problems

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
        raise ModelError(
            "the face-recognition-models package is not installed; "
            "install it or set FACEGATE_MODELS to a folder holding the dlib .dat files"
        )
    return Path(list(spec.submodule_search_locations)[0]) / "models"


class Describer:
    """Computes landmarks, chips, quality and descriptors. Thread-safe; models load on first use."""

    def __init__(self, model_dir: str | Path | None = None) -> None:
        self.model_dir = Path(model_dir) if model_dir else default_model_dir()
        self._models: dict[str, object] = {}
        self._lock = threading.Lock()

    def _model(self, key: str) -> Any:
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
                if key == "descriptor" and dlib.DLIB_USE_BLAS:
                    single_blas_thread()
            return self._models[key]

    def preload(self, *keys: str) -> None:
        """Load these models now (shape5 50 ms, shape68 470 ms, descriptor 60 ms here, all holding
        the GIL): at start-up, before video plays, rather than stalling the window mid-stream."""
        for key in keys:
            self._model(key)

    def landmarks(self, rgb: np.ndarray, box: Box, points: int = 5) -> Any:
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

    def describe(self, rgb: np.ndarray, found: Box | Detection, gate: QualitySettings | None = None) -> Face:
        """A complete Face for a box or a detection: landmarks, chip, quality and the descriptor,
        unless the face fails the quality ``gate`` (then ``problems`` says why, and no descriptor
        is computed: it would not be trusted)."""
        detection = found if isinstance(found, Detection) else None
        box = found.box if isinstance(found, Detection) else found
        chip, points = self.chip(rgb, box)
        quality = measure(chip, box, detection, points)
        failed = problems(quality, gate) if gate is not None else []
        descriptor = None if failed else self.descriptor_from_chip(chip)
        return Face(box, points, descriptor, quality, chip, detection, failed)


def single_blas_thread() -> None:
    """Run dlib's OpenBLAS on one thread in this process, as the descriptor worker process does
    (core.live.worker). One chip at a time gains nothing from a second BLAS thread, and on a busy
    2-core machine the helper thread spins against the other work: measured at load 4, a YuNet scan
    of the clip at every 5th frame ran at 45-49 scanned frames/s with one thread against 25-27
    with two, one descriptor 21.8 ms against 23.7 ms; descriptors are bit-identical. Only the
    OpenBLAS dlib loaded (libopenblas.so.0) is limited: numpy and OpenCV bring their own."""
    try:
        openblas = ctypes.CDLL("libopenblas.so.0")
    except OSError:  # dlib built against another BLAS (another system): left as it is
        return
    openblas.openblas_set_num_threads(1)


def face_distance(known: np.ndarray, probe: np.ndarray) -> np.ndarray:
    """Euclidean distances from ``probe`` (128,) to each row of ``known`` (N, 128)."""
    known = np.atleast_2d(np.asarray(known, dtype=np.float32))
    if known.size == 0:
        return np.empty((0,), dtype=np.float32)
    return np.linalg.norm(known - np.asarray(probe, dtype=np.float32), axis=1)
