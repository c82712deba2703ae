"""Landmark geometry and the installed models, without computing a descriptor."""

from __future__ import annotations

import numpy as np
import pytest

from core.errors import ModelError
from core.vision.describe import MODEL_FILES
from core.vision.models import check_models
from core.vision.quality import head_pose, nose_offset


def _rotate(points: np.ndarray, degrees: float) -> np.ndarray:
    a = np.radians(degrees)
    return points @ np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]]).T


def test_nose_offset_is_along_the_eye_line_in_eye_distances():
    eye_a, eye_b = np.array([0.0, 0.0]), np.array([40.0, 0.0])
    assert nose_offset(eye_a, eye_b, np.array([20.0, 25.0])) == pytest.approx(0.0)  # straight ahead
    assert nose_offset(eye_a, eye_b, np.array([30.0, 25.0])) == pytest.approx(0.25)  # turned towards eye b
    assert nose_offset(eye_a, eye_b, np.array([10.0, 25.0])) == pytest.approx(-0.25)
    tilted = _rotate(np.array([eye_a, eye_b, [30.0, 25.0]]), 30) * 2 + 7  # tilted, closer, moved: the same
    assert nose_offset(*tilted) == pytest.approx(0.25)
    assert nose_offset(eye_a, eye_a, np.array([1.0, 1.0])) is None


def test_yaw_from_dlibs_five_landmarks():
    # 5-point order: right eye corners, left eye corners, nose base (which gives no pitch)
    ahead = np.array([[0, 0], [10, 0], [30, 0], [40, 0], [20, 25]], np.float32)
    assert head_pose(ahead, dlib5=True) == (pytest.approx(0.0), None)
    turned = ahead.copy()
    turned[4] = (27.5, 25)  # a quarter of the eye distance (30) off the middle
    assert head_pose(turned, dlib5=True)[0] == pytest.approx(39.8, abs=0.1)  # atan(0.25 / 0.30)
    assert head_pose(np.zeros((5, 2), np.float32), dlib5=True)[0] == 90.0 and head_pose(ahead[:4])[0] == 90.0


def test_the_installed_models_are_found(monkeypatch, tmp_path):
    models = check_models()
    assert models.files == tuple(MODEL_FILES.values()) and models.megabytes > 50
    assert all((models.folder / name).is_file() for name in models.files)
    assert models.yunet.name == "face_detection_yunet_2023mar.onnx" and models.yunet.with_name("LICENSE").is_file()
    monkeypatch.setenv("FACEGATE_MODELS", str(tmp_path))
    (tmp_path / MODEL_FILES["shape5"]).write_bytes(b"not really")
    with pytest.raises(ModelError, match=f"missing from {tmp_path}: {MODEL_FILES['shape68']}"):
        check_models()


def test_dlibs_blas_runs_on_one_thread_once_the_descriptor_model_is_loaded(describer):
    """One chip at a time: a second OpenBLAS thread only spins against other work (the scan ran at
    half speed on a busy 2-core machine). The descriptors are the same either way, to float rounding."""
    import ctypes

    import dlib

    from core.vision.describe import single_blas_thread

    assert dlib.DLIB_USE_BLAS  # the build this machine has: dlib on the system's OpenBLAS
    openblas = ctypes.CDLL("libopenblas.so.0")
    chip = (np.random.default_rng(0).random((150, 150, 3)) * 255).astype(np.uint8)
    describer.preload("descriptor")
    assert openblas.openblas_get_num_threads() == 1
    one = describer.descriptor_from_chip(chip)
    openblas.openblas_set_num_threads(2)
    try:
        # the same up to float rounding (two threads add the dot products in another order)
        assert np.allclose(describer.descriptor_from_chip(chip), one, atol=1e-5)
    finally:
        single_blas_thread()
    assert openblas.openblas_get_num_threads() == 1
