"""FaceGate's core: a small, Qt-free face-recognition library usable from a Python prompt.

    >>> import core
    >>> img = core.load_image("obama.jpg")
    >>> boxes = core.face_locations(img)              # [Box(left, top, right, bottom), ...]
    >>> vecs = core.face_descriptors(img, boxes)      # [128-D float32 arrays]
    >>> core.face_distance(vecs, vecs[0])
    >>> g = core.Gallery("people.db"); g.enroll("Barack", ["obama.jpg"])
    >>> g.identify("two_people.jpg")

Models are loaded on first use, never at import.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from core.errors import (
    DatabaseDamaged,
    DatabaseLocked,
    FaceGateError,
    ImageError,
    ManyFacesError,
    ModelError,
    NoFaceError,
    StoreError,
    UnknownPerson,
)
from core.gallery.api import EnrollResult, Gallery
from core.gallery.match import DEFAULT_MARGIN, DEFAULT_THRESHOLD
from core.gallery.store import Person, Store
from core.records import Box, Candidate, Face, Match, Quality
from core.vision.describe import Describer, face_distance
from core.vision.detection import Detector
from core.vision.images import as_rgb, load_image

if TYPE_CHECKING:
    from core.vision.images import ImageLike

_describer: Describer | None = None


def _default_describer() -> Describer:
    global _describer
    if _describer is None:
        _describer = Describer()
    return _describer


def face_locations(image: ImageLike, method: str = "yunet", min_face: int = 40) -> list[Box]:
    """Boxes of the faces in an image (path, bytes or RGB array), left to right."""
    return Detector(method, min_face=min_face).detect(as_rgb(image))


def face_descriptors(image: ImageLike, boxes: list[Box] | None = None) -> list:
    """128-D descriptors of the faces in ``boxes`` (found with YuNet when not given)."""
    rgb = as_rgb(image)
    if boxes is None:
        boxes = face_locations(rgb)
    describer = _default_describer()
    return [describer.describe(rgb, b).descriptor for b in boxes]


__all__ = [
    "Box",
    "Candidate",
    "DEFAULT_MARGIN",
    "DEFAULT_THRESHOLD",
    "DatabaseDamaged",
    "DatabaseLocked",
    "Describer",
    "Detector",
    "EnrollResult",
    "Face",
    "FaceGateError",
    "Gallery",
    "ImageError",
    "ManyFacesError",
    "Match",
    "ModelError",
    "NoFaceError",
    "Person",
    "Quality",
    "Store",
    "StoreError",
    "UnknownPerson",
    "face_descriptors",
    "face_distance",
    "face_locations",
    "load_image",
]
