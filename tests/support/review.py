"""Faces into the review queue the way the door puts them there: a logged visit with its snapshot,
then the face's descriptor, quality and nearest people (core.door.review.RecentFaces.record)."""

from __future__ import annotations

import numpy as np

from core.door.access_log import AccessEvent, AccessLog
from core.door.verdict import Verdict
from core.vision.images import crop, encode_jpeg


def queue_face(recent, rgb: np.ndarray) -> int:
    """Queue the largest face of a picture that passes the quality gates, as an unknown visitor's;
    returns its id in the queue."""
    gallery = recent.gallery
    face = max((f for f in gallery.faces(rgb) if f.descriptor is not None), key=lambda f: f.box.area)
    event = AccessEvent(Verdict.UNKNOWN, reason="a visit", snapshot=encode_jpeg(crop(rgb, face.box, size=160)))
    AccessLog(gallery.store).record(event)
    return recent.record(event, face.descriptor, face.quality, gallery.candidates(face.descriptor))
