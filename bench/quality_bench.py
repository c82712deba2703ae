"""The measurements behind the quality gates' defaults (core.vision.quality.QualitySettings).

    .venv/bin/python bench/quality_bench.py

A gate is worth its place when a face failing it gives a descriptor that has drifted from the
same face at its best: the strict threshold (0.4) leaves little room, and genuine live distances
sit at 0.25-0.35. So each gate is set about where the median drift passes DRIFT (a third of the
threshold) while the shared data's real door-like faces still pass:

- size: every shared photo (face 90-400 px) shrunk so its face is W px wide, described again;
  drift from the full-size descriptor, per W. And the clip's own 50 px shot of Lin-Manuel against
  his samples taken from his 90 px shot.
- blur: the same photos blurred (Gaussian, sigma in face widths); chip sharpness and drift.
- pose: the clip's 90 px shot of Lin-Manuel (frames 82-210), each frame's yaw and pitch (YuNet
  landmarks) against its distance to his samples from other moments of the shot; and the pose of
  every shared photo (the gallery's own photos must pass).
- score: YuNet's confidence on faces dlib's HOG confirms, and on everything else YuNet reports.
"""

from __future__ import annotations

import statistics
import sys
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from core.records import Detection  # noqa: E402
from core.vision.describe import Describer  # noqa: E402
from core.vision.detection import Detector  # noqa: E402
from core.vision.images import load_image  # noqa: E402
from core.vision.quality import QualitySettings, head_pose, measure  # noqa: E402
from tests.support.data import IMAGES, KNN, clip_frames  # noqa: E402

DRIFT = 0.13
LIN_ENROLL = (95, 110, 150, 180)  # as bench/live_bench.py enrolls him
SIZES = (40, 50, 55, 60, 65, 70, 75, 80, 100)
SIGMAS = (0.0, 0.0025, 0.005, 0.0075, 0.01, 0.015, 0.02, 0.04)


def photos() -> list[np.ndarray]:
    files = sorted(IMAGES.glob("*.jpg")) + sorted(IMAGES.glob("*.png")) + sorted((KNN / "train").glob("*/*"))
    return [load_image(f) for f in files]


def probes() -> list[np.ndarray]:
    """knn_examples/test: the photos with several faces, some of them turned."""
    return [load_image(f) for f in sorted((KNN / "test").glob("*"))]


def largest(detector: Detector, rgb: np.ndarray) -> Detection | None:
    found = detector.find(rgb)
    return max(found, key=lambda d: d.box.area) if found else None


def fmt(values: list[float]) -> str:
    if not values:
        return "none"
    return (
        f"median {statistics.median(values):.3f}, 5th-95th percentile {np.percentile(values, 5):.3f}-"
        f"{np.percentile(values, 95):.3f}, max {max(values):.3f} (n={len(values)})"
    )


def size_and_blur(describer: Describer, detector: Detector) -> None:
    small = Detector("yunet", min_face=20)
    drift_by_size: dict[int, list[float]] = {w: [] for w in SIZES}
    sharp_by_size: dict[int, list[float]] = {w: [] for w in SIZES}
    drift_by_sigma: dict[float, list[float]] = {s: [] for s in SIGMAS}
    sharp_by_sigma: dict[float, list[float]] = {s: [] for s in SIGMAS}
    for rgb in photos():
        d = largest(detector, rgb)
        if d is None:
            continue
        ref = describer.describe(rgb, d).descriptor
        for w in SIZES:
            f = w / d.box.width
            shrunk = cv2.resize(rgb, None, fx=f, fy=f, interpolation=cv2.INTER_AREA)
            e = largest(small, shrunk)
            if e is None:
                continue
            face = describer.describe(shrunk, e)
            drift_by_size[w].append(float(np.linalg.norm(face.descriptor - ref)))
            sharp_by_size[w].append(face.quality.sharpness)
        for s in SIGMAS:
            blurred = cv2.GaussianBlur(rgb, (0, 0), s * d.box.width) if s else rgb
            face = describer.describe(blurred, d)
            drift_by_sigma[s].append(float(np.linalg.norm(face.descriptor - ref)))
            sharp_by_sigma[s].append(face.quality.sharpness)
    print(f"size: drift from the full-size descriptor when the photo's face is shrunk to W px (photos: {len(photos())})")
    for w in SIZES:
        print(
            f"  W {w:3d}: drift {fmt(drift_by_size[w])}; chip sharpness median "
            f"{statistics.median(sharp_by_size[w]) if sharp_by_size[w] else 0:.0f}"
        )
    print("blur: Gaussian sigma (in face widths) -> chip sharpness and drift from the sharp photo")
    for s in SIGMAS:
        print(
            f"  sigma {s:.4f}: sharpness median {statistics.median(sharp_by_sigma[s]):.0f} "
            f"(min {min(sharp_by_sigma[s]):.0f}, max {max(sharp_by_sigma[s]):.0f}); drift {fmt(drift_by_sigma[s])}"
        )


def clip_figures(describer: Describer, detector: Detector) -> None:
    frames = clip_frames()
    faces = {}
    for i in list(range(0, 20)) + list(range(82, 211)):
        d = largest(detector, frames[i])
        if d is not None:
            faces[i] = describer.describe(frames[i], d)
    samples = {i: faces[i].descriptor for i in LIN_ENROLL if i in faces}

    def own_distance(i: int) -> float:
        return min(float(np.linalg.norm(faces[i].descriptor - v)) for j, v in samples.items() if abs(j - i) > 5)

    small = [i for i in range(20) if i in faces]
    print(
        f"clip, Lin-Manuel's 50 px shot (frames 0-19, {len(small)} faces, widths "
        f"{min(faces[i].box.width for i in small)}-{max(faces[i].box.width for i in small)} px): distance to his "
        f"samples from the 90 px shot {fmt([own_distance(i) for i in small])}; sharpness "
        f"{fmt([faces[i].quality.sharpness for i in small])}"
    )
    big = [i for i in range(82, 211) if i in faces]
    print(f"clip, his 90 px shot (frames 82-210, {len(big)} faces): sharpness {fmt([faces[i].quality.sharpness for i in big])}")
    bins = ((0, 10), (10, 20), (20, 30), (30, 40), (40, 50), (50, 60), (60, 90))
    print("  yaw (degrees) -> distance to his samples (frames more than 5 apart)")
    for lo, hi in bins:
        dist = [own_distance(i) for i in big if lo <= faces[i].quality.yaw < hi]
        print(f"    {lo:2d}-{hi:2d}: {fmt(dist)}")
    print("  |pitch| (degrees) -> distance")
    for lo, hi in bins:
        dist = [own_distance(i) for i in big if lo <= abs(faces[i].quality.pitch) < hi]
        print(f"    {lo:2d}-{hi:2d}: {fmt(dist)}")
    hog = Detector("hog", min_face=40)
    confirmed, other = [], []
    for i in range(0, len(frames), 2):
        boxes = hog.detect(frames[i])
        for d in detector.find(frames[i]):
            (confirmed if any(d.box.iou(b) > 0.4 for b in boxes) else other).append(d.score)
    print(
        f"score: faces HOG also finds {fmt(confirmed)}, min {min(confirmed):.3f}; the rest (audience, "
        f"small or turned faces, anything else): {fmt(other)}, min {min(other) if other else 0:.3f}"
    )


def photo_pose(detector: Detector) -> None:
    yaws, pitches = [], []
    for rgb in photos() + probes():
        for d in detector.find(rgb):
            yaw, pitch = head_pose(d.points)
            yaws.append(yaw)
            pitches.append(pitch)
    print(
        f"shared photos, every face: yaw {fmt(yaws)}; pitch median {statistics.median(pitches):+.1f}, "
        f"range {min(pitches):+.1f} to {max(pitches):+.1f}"
    )


def main() -> None:
    describer = Describer()
    detector = Detector("yunet", min_face=40)
    print(f"defaults now: {QualitySettings()}; drift that counts as harmful: {DRIFT}")
    photo_pose(detector)
    clip_figures(describer, detector)
    size_and_blur(describer, detector)
    _ = measure  # the gates measure with core.vision.quality.measure, as here through Describer.describe


if __name__ == "__main__":
    main()
