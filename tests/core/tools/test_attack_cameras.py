"""Simulated door cameras for the genuine side of the attack benchmark (core.tools.attacks)."""

from __future__ import annotations

import cv2
import numpy as np

from core.tools.attacks import through_camera


def _low_pass(a: np.ndarray, b: np.ndarray) -> float:
    """How much two frames differ once sensor noise is smoothed away (mean, 0-255)."""
    diff = a.astype(np.float32) - b.astype(np.float32)
    return float(np.abs(cv2.GaussianBlur(diff, (0, 0), 4)).mean())


def test_another_take_of_a_camera_differs_only_in_its_noise(clip):
    frames = clip[100:103]
    first = list(through_camera(frames, 4))
    again = list(through_camera(frames, 4))
    take = list(through_camera(frames, 4, take=1))
    assert all(np.array_equal(a, b) for a, b in zip(first, again, strict=True))  # a camera is its seed
    assert not any(np.array_equal(a, b) for a, b in zip(first, take, strict=True))  # another take: other noise...
    assert all(_low_pass(a, b) < 1.0 for a, b in zip(first, take, strict=True))  # ...the same picture under it
    other = list(through_camera(frames, 5))  # another camera: other light, blur
    assert all(_low_pass(a, b) > 2 * _low_pass(a, t) for a, b, t in zip(first, other, take, strict=True))
