"""Find faces in an RGB image with YuNet (OpenCV's CNN, the default), dlib HOG, OpenCV Haar, or
Haar proposals verified by HOG.

``yunet`` (cv2.FaceDetectorYN with the model in resources/models/yunet) also gives each face a
confidence and five landmarks. It finds faces from about 10 px, so the image is scaled so that
the smallest face asked for (``min_face``) is YUNET_FACE_PX wide in the network's input: a
640x360 frame looking for 40 px faces runs at 320x180 (about 5 ms here). Only a ``min_face``
under YUNET_FACE_PX upscales, in tiles when the upscaled image would be large.

The older methods stay selectable. Measured per 640x360 frame here: Haar 13 ms on a half-size
gray frame, HOG 46 ms (187 ms with one upsample, which faces under ~80 px need); ``haar+hog``
runs Haar on the half-size frame and then HOG on a small crop around each proposal, scaled so
the face is ~100 px.

Every method returns boxes framed like dlib HOG's (YuNet's and Haar's are mapped), because
dlib's 5-point landmark model, which aligns the descriptor's chip, was trained on such boxes.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import cv2.data  # the Haar cascades folder (a submodule the type stubs do not declare)
import numpy as np

from core.errors import ModelError
from core.paths import resource_path
from core.records import Box, Detection

METHODS: tuple[str, ...] = ("yunet", "haar+hog", "hog", "haar")
DEFAULT_METHOD = "yunet"

#: HOG's sliding window finds faces of about this width and up.
HOG_MIN_FACE = 80
#: YuNet's model, shipped in resources/ (with its licence and origin beside it).
YUNET_MODEL = "models/yunet/face_detection_yunet_2023mar.onnx"
#: The smallest face (px) YuNet is asked to find in its input image: ``min_face`` lands at this size.
YUNET_FACE_PX = 20
#: An upscaled image (tiny faces asked for) larger than this on a side is cut into tiles.
YUNET_MAX_SIDE = 1280


@dataclass
class DetectorSettings:
    """How to look for faces. ``min_face`` is the smallest face width (px) to find; ``min_score``
    YuNet's confidence for a face to be boxed at all (the quality gates ask for 0.8 to describe
    it): on the shared data, things that are no face score 0.60-0.71 (a painting's faces, a hand
    under Lin-Manuel's face), real faces 0.6-0.95 (those HOG also finds 0.84 and up)."""

    method: str = DEFAULT_METHOD
    min_face: int = 40
    haar_scale: float = 0.5
    min_score: float = 0.7
    nms: float = 0.3


class Detector:
    """A face detector; models load on first use (or warm_up()); one instance may serve several threads."""

    def __init__(self, method: str = DEFAULT_METHOD, min_face: int = 40, haar_scale: float = 0.5, min_score: float = 0.7) -> None:
        if method not in METHODS:
            raise ValueError(f"unknown detector {method!r}; choose one of {', '.join(METHODS)}")
        self.settings = DetectorSettings(method, max(8 if method == "yunet" else 12, int(min_face)), haar_scale, min_score)
        self._local = threading.local()

    # -- models -------------------------------------------------------------------------------
    def _run_hog(self, image: np.ndarray, upsample: int) -> Any:
        """dlib's HOG on ``image``, with a detector borrowed from the process-wide pool."""
        hog = _borrow_hog()
        try:
            return hog(image, upsample)
        finally:
            _return_hog(hog)

    def warm_up(self) -> None:
        """Load the models now (on the calling thread), not on the first frame of another thread.
        YuNet loads per thread in a few ms with the GIL released; loading it here checks the file."""
        if self.settings.method == "yunet":
            self._yunet()
            return
        _return_hog(_borrow_hog())
        self._haar_cascade()

    # cv2.FaceDetectorYN keeps its input size and network buffers in the instance (detect() sets
    # the network's input and runs forward on it), so it is not thread-safe: one per thread, as
    # the Haar cascade. Building one parses the 232 KB model in a few ms, with the GIL released.
    def _yunet(self) -> cv2.FaceDetectorYN:
        local = self._local
        yunet = getattr(local, "yunet", None)
        if yunet is None:
            path = yunet_model_path()
            if not path.is_file():
                raise ModelError(f"{path}: the YuNet face detector model is missing")
            try:
                yunet = cv2.FaceDetectorYN.create(str(path), "", (320, 320), self.settings.min_score, self.settings.nms, 5000)
            except cv2.error as exc:
                raise ModelError(f"{path}: OpenCV could not load the YuNet model ({exc.err})") from None
            local.yunet = yunet
        return yunet

    # OpenCV's cascade is not thread-safe either, but loads in a few ms with the GIL released:
    # each thread that detects gets its own.
    def _haar_cascade(self) -> cv2.CascadeClassifier:
        local = self._local
        cascade = getattr(local, "cascade", None)
        if cascade is None:
            path = haar_cascade_path()
            cascade = cv2.CascadeClassifier(path)
            if cascade.empty():
                raise ModelError(f"{path}: the Haar cascade could not be loaded")
            local.cascade = cascade
        return cascade

    # -- detection ----------------------------------------------------------------------------
    def detect(self, rgb: np.ndarray) -> list[Box]:
        """Boxes of the faces in ``rgb`` at least ``min_face`` px wide, sorted left to right."""
        return [d.box for d in self.find(rgb)]

    def find(self, rgb: np.ndarray) -> list[Detection]:
        """The faces in ``rgb`` at least ``min_face`` px wide, left to right, with YuNet's score and
        landmarks when the method is ``yunet``."""
        method = self.settings.method
        if method == "yunet":
            found = self.yunet(rgb)
        else:
            if method == "hog":
                boxes = self.hog(rgb)
            elif method == "haar":
                boxes = [_haar_to_hog_geometry(b) for b in self.haar(rgb)]
            else:
                boxes = self.haar_then_hog(rgb)
            found = [Detection(b) for b in _dedupe(boxes)]
        h, w = rgb.shape[:2]
        found = [d for d in found if d.box.right > 0 and d.box.bottom > 0 and d.box.left < w and d.box.top < h]
        return sorted(found, key=lambda d: (d.box.left, d.box.top))

    def yunet(self, rgb: np.ndarray) -> list[Detection]:
        """YuNet on ``rgb`` scaled so ``min_face`` is YUNET_FACE_PX wide: big frames and photos
        shrink (the cost falls with the pixel count); only a tiny ``min_face`` enlarges, in tiles."""
        scale = YUNET_FACE_PX / self.settings.min_face
        h, w = rgb.shape[:2]
        raw = self._yunet_raw(rgb, scale) if scale <= 1 or max(h, w) * scale <= YUNET_MAX_SIDE else self._yunet_tiled(rgb, scale)
        out: list[Detection] = []
        for x, y, bw, bh, *rest in raw.tolist():
            if bw < self.settings.min_face * 0.8:  # YuNet's box is tighter than HOG's: a little slack
                continue
            box = _yunet_to_hog_geometry(x, y, bw, bh)
            points = np.asarray(rest[:10], dtype=np.float32).reshape(5, 2)
            out.append(Detection(box, float(rest[10]), points))
        return out

    def _yunet_raw(self, rgb: np.ndarray, scale: float) -> np.ndarray:
        """YuNet's rows (x, y, w, h, 5 landmarks, score) for ``rgb`` seen at ``scale``, in ``rgb``'s pixels."""
        h, w = rgb.shape[:2]
        size = (max(1, round(w * scale)), max(1, round(h * scale)))
        small = rgb if size == (w, h) else cv2.resize(rgb, size, interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
        yunet = self._yunet()
        yunet.setInputSize(size)
        _, faces = yunet.detect(cv2.cvtColor(small, cv2.COLOR_RGB2BGR))
        if faces is None:
            return np.empty((0, 15), np.float32)
        rows = faces.astype(np.float32)  # a copy (YuNet's rows are float32 already)
        rows[:, 0:14:2] *= np.float32(w / size[0])  # x, width and the landmarks' x
        rows[:, 1:14:2] *= np.float32(h / size[1])  # y, height and the landmarks' y
        return rows

    def _yunet_tiled(self, rgb: np.ndarray, scale: float) -> np.ndarray:
        """Tiny faces in a big image: overlapping tiles, each enlarged by ``scale``, plus the whole
        image at its own size for faces larger than the overlap; one NMS over all of them."""
        h, w = rgb.shape[:2]
        tile = max(64, int(YUNET_MAX_SIDE / scale))
        step = max(32, tile * 3 // 4)
        rows = [self._yunet_raw(rgb, 1.0)]
        for y0 in range(0, max(1, h - tile + step), step):
            for x0 in range(0, max(1, w - tile + step), step):
                part = self._yunet_raw(rgb[y0 : y0 + tile, x0 : x0 + tile], scale)
                part[:, 0:14:2] += x0
                part[:, 1:14:2] += y0
                rows.append(part)
        faces = np.concatenate(rows)
        if not len(faces):
            return faces
        keep = cv2.dnn.NMSBoxes(faces[:, :4].tolist(), faces[:, 14].tolist(), self.settings.min_score, self.settings.nms)
        return faces[np.asarray(keep, dtype=int).reshape(-1)]

    def hog(self, rgb: np.ndarray, upsample: int | None = None) -> list[Box]:
        """dlib HOG on the whole image, upsampling as often as ``min_face`` needs (at most 2)."""
        if upsample is None:
            upsample = hog_upsamples(self.settings.min_face)
        rects = self._run_hog(rgb, upsample)
        return [Box(r.left(), r.top(), r.right(), r.bottom()) for r in rects]

    def haar(self, rgb: np.ndarray) -> list[Box]:
        """OpenCV Haar cascade on a downscaled, equalised gray copy; boxes in full-size pixels."""
        scale = self.settings.haar_scale
        gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
        if scale != 1.0:
            gray = cv2.resize(gray, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        gray = cv2.equalizeHist(gray)
        smallest = max(20, int(self.settings.min_face * scale * 0.8))
        found = self._haar_cascade().detectMultiScale(gray, scaleFactor=1.1, minNeighbors=4, minSize=(smallest, smallest))
        inv = 1.0 / scale
        return [Box(int(x * inv), int(y * inv), int((x + w) * inv), int((y + h) * inv)) for (x, y, w, h) in found]

    def haar_then_hog(self, rgb: np.ndarray) -> list[Box]:
        """Haar proposals, each confirmed by HOG on a crop scaled so the face is ~100 px wide."""
        out = []
        for prop in self.haar(rgb):
            box = self.verify(rgb, prop)
            if box is not None:
                out.append(box)
        return out

    def verify(self, rgb: np.ndarray, around: Box) -> Box | None:
        """Run HOG in a window around ``around`` (a proposal or a tracked box); the best face or None."""
        side = max(around.width, around.height)
        window = around.padded(int(side * 0.6), int(side * 0.6)).clipped(rgb.shape)
        crop = window.cut(rgb)
        if crop.size == 0:
            return None
        factor = 110.0 / max(side, 1)
        crop = cv2.resize(crop, None, fx=factor, fy=factor, interpolation=cv2.INTER_LINEAR if factor > 1 else cv2.INTER_AREA)
        rects = self._run_hog(np.ascontiguousarray(crop), 0)
        if not len(rects):
            return None
        best = max(rects, key=lambda r: r.area())
        inv = 1.0 / factor
        return Box(
            int(best.left() * inv) + window.left,
            int(best.top() * inv) + window.top,
            int(best.right() * inv) + window.left,
            int(best.bottom() * inv) + window.top,
        )


# dlib's detector keeps a mutable scanner, so two threads must not run one at once, and building
# one holds the GIL for ~250 ms (a fresh copy per thread stalled the window when a thread first
# detected). So detectors are pooled: a thread borrows an idle one and a new one is built only
# when every built one is busy (a scan running beside live video); detections still run in
# parallel, since HOG releases the GIL.
_HOG_POOL_LOCK = threading.Lock()
_HOG_IDLE: list = []


def _borrow_hog() -> Any:
    with _HOG_POOL_LOCK:
        if _HOG_IDLE:
            return _HOG_IDLE.pop()
    import dlib

    return dlib.get_frontal_face_detector()


def _return_hog(hog: Any) -> None:
    with _HOG_POOL_LOCK:
        _HOG_IDLE.append(hog)


def hog_upsamples(min_face: int) -> int:
    """How many times HOG must double the image to see faces ``min_face`` px wide (0-2)."""
    if min_face >= HOG_MIN_FACE:
        return 0
    return min(2, math.ceil(math.log2(HOG_MIN_FACE / max(min_face, 1))))


def yunet_model_path() -> Path:
    """The YuNet model in resources/ (source tree or frozen bundle)."""
    return resource_path(YUNET_MODEL)


def haar_cascade_path() -> str:
    """The frontal-face cascade shipped with OpenCV (or beside a frozen app)."""
    import os
    import sys

    name = "haarcascade_frontalface_default.xml"
    frozen = getattr(sys, "_MEIPASS", None)
    if frozen and os.path.exists(os.path.join(frozen, "cv2", "data", name)):
        return os.path.join(frozen, "cv2", "data", name)
    return os.path.join(cv2.data.haarcascades, name)


def _haar_to_hog_geometry(box: Box) -> Box:
    """Haar boxes are larger and sit higher than HOG's; shrink to HOG's usual framing."""
    w, h = box.width, box.height
    return Box(int(box.left + 0.1 * w), int(box.top + 0.17 * h), int(box.right - 0.1 * w), int(box.bottom - 0.03 * h))


#: YuNet's box -> dlib HOG's framing, as fractions of YuNet's width and height (left, top, right,
#: bottom shifts), measured on the clip's and photos' faces both detectors find (bench/detect_bench.py).
YUNET_TO_HOG = (-0.08, 0.15, 0.02, -0.04)


def _yunet_to_hog_geometry(x: float, y: float, w: float, h: float) -> Box:
    dl, dt, dr, db = YUNET_TO_HOG
    return Box(int(round(x + dl * w)), int(round(y + dt * h)), int(round(x + w + dr * w)), int(round(y + h + db * h)))


def _dedupe(boxes: list[Box], iou: float = 0.4) -> list[Box]:
    """Drop boxes that overlap a larger kept box (Haar proposals can land on one face twice)."""
    kept: list[Box] = []
    for b in sorted(boxes, key=lambda b: -b.area):
        if all(b.iou(k) < iou for k in kept):
            kept.append(b)
    return kept
