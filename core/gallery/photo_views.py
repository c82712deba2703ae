"""A photo's face as a door camera sees it: the same face shrunk to the widths a door sees, each
described, kept beside the photo's own sample.

An ID photo shows a face at 100-400 px, sharp; the door sees that face at 60-180 px through a
video encoder, and dlib's descriptor of a small face drifts from the big one's (shrunk to 60 px, a
photo's face moves 0.13 at the median: core.vision.quality). A person enrolled from one photo then
sits 0.40-0.42 from their own face on camera where a second sample made as the camera makes it
sits nearer. Measured (docs/search-scan-eval.md): on the one-photo recording (bench/one_photo_bench.py)
the views name 2 more of 20 shots, strangers' nearest distance unchanged; on the open set
(bench/open_set_bench.py) 54 more genuine photos named of 3,891, no stranger named, the nearest
stranger 0.501 (0.507 without). Also measured and refused: the mirrored photo as another sample
and dlib's jittered average (num_jitters 10-100) brought strangers nearer (0.48-0.49) and named no
more shots for certain (the jittered descriptor changes from run to run, and with it the outcome),
and chips at another padding gained nothing.

The cost is at enrollment only (a descriptor per view, ~20 ms each); the door's per-frame path is
unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from core.records import Box
from core.vision.describe import Describer

#: Face widths (px) a photo's face is also described at, from the door's smallest judged faces up.
#: The smallest sits under the 60 px size gate because a video encoder softens a 60 px face more
#: than a clean shrink does. Chosen on bench/one_photo_bench.py --part tune: (50, 70, 100) named 10
#: of 11 shots, (60, 90, 120) and (60, 80, 110) 9, the photo alone 8.
VIEW_WIDTHS = (50, 70, 100)
#: The face's surroundings kept around the box before shrinking (landmarks need some context).
_CONTEXT = 0.6


@dataclass
class View:
    """The photo's face shrunk to ``width`` px: its descriptor and the shrunk crop (a thumbnail)."""

    width: int
    descriptor: np.ndarray
    rgb: np.ndarray
    box: Box


def camera_views(describer: Describer, rgb: np.ndarray, box: Box, widths: tuple[int, ...] = VIEW_WIDTHS) -> list[View]:
    """The face in ``box`` of ``rgb`` described at each of ``widths`` narrower than it is (a face
    already that small gains nothing from a copy of itself)."""
    pad = int(max(box.width, box.height) * _CONTEXT)
    around = box.padded(pad, pad).clipped(rgb.shape)
    part = around.cut(rgb)
    local = Box(box.left - around.left, box.top - around.top, box.right - around.left, box.bottom - around.top)
    views = []
    for width in widths:
        scale = width / box.width
        if scale >= 1:
            continue
        small = cv2.resize(part, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        seen = local.scaled(scale)
        chip, _ = describer.chip(small, seen)
        views.append(View(width, describer.descriptor_from_chip(chip), small, seen))
    return views
