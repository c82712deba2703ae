"""Enroll a whole folder of people (the layout evaluation reads: one subfolder per person, or
files named ``<person>.<anything>``), with progress, cancel, and the reason for every skipped file.

Each person is one transaction: a cancel or a crash between people leaves whole people enrolled
and the rest untouched, never half a person (so a cancel takes effect between people). The same
code serves the window's job thread and `facegate enroll-folder`.

Each photo's face is also kept as a door camera sees it, shrunk to VIEW_WIDTHS (core.gallery.
photo_views): an ID photo is sharp and large, the door's faces small and video-encoded, and one
photo alone left some people just past the threshold on camera (bench/one_photo_bench.py).

Importing ID photos is how a site fills its gallery, and one photo is thin evidence: each person
enrolled from fewer than ``WELL_ENROLLED`` distinct photos gets advice saying what it will take to
name them reliably at the door (measured: bench/open_set_bench.py on the shared photos, 22 people).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from core.errors import FaceGateError
from core.gallery.api import PHOTO_VIEW, Gallery
from core.gallery.photo_views import VIEW_WIDTHS
from core.gallery.store import NewSample
from core.records import Skipped
from core.tools.evaluate import collect

#: Photos of a person (distinct ones: farther apart than SAME_LOOK) that name them reliably.
WELL_ENROLLED = 2
#: Two samples this near each other are one look (the same photo twice, a burst).
SAME_LOOK = 0.15
#: bench/open_set_bench.py (--photos 1 / 2, 200 splits, threshold 0.4): the share of a person's other
#: photos named right when enrolled from one photo, and from two; no stranger was named in either.
NAMED_FROM_ONE, NAMED_FROM_TWO = 0.84, 0.965


@dataclass
class FolderEnrollResult:
    enrolled: list[str] = field(default_factory=list)
    samples: int = 0
    views: int = 0  # of the samples, the photos' faces as a door camera sees them (core.gallery.photo_views)
    images: int = 0
    skipped: list[Skipped] = field(default_factory=list)  # files, and people with no usable photo
    cancelled: bool = False
    advice: dict[str, str] = field(default_factory=dict)  # person -> what it will take to name them reliably


def enroll_folder(
    gallery: Gallery,
    folder: str | Path,
    on_progress: Callable[[int, int, str], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> FolderEnrollResult:
    """Enroll every person of ``folder``; ``on_progress(done, total, file)`` after each photo."""
    people: dict[str, list[Path]] = {}
    for person, path in collect(folder):
        people.setdefault(person, []).append(path)
    result = FolderEnrollResult(images=sum(len(files) for files in people.values()))
    done = 0
    for person, files in people.items():
        if should_stop is not None and should_stop():
            result.cancelled = True
            break
        samples: list[NewSample] = []
        for path in files:
            try:
                samples += gallery.samples_from_photo(str(path), str(path), VIEW_WIDTHS)
            except FaceGateError as exc:
                result.skipped.append((str(path), str(exc)))
            done += 1
            if on_progress is not None:
                on_progress(done, result.images, str(path))
        if not samples:
            result.skipped.append((person, f"nothing enrolled for {person!r}: no usable photo"))
            continue
        try:
            enrolled, ids = gallery.enroll_samples(person, samples)
        except FaceGateError as exc:
            result.skipped.append((person, str(exc)))
        else:
            result.enrolled.append(enrolled.name)
            result.samples += len(ids)
            photos = [s for s in samples if s.how != PHOTO_VIEW]  # a photo's views are not other looks
            result.views += len(samples) - len(photos)
            looks = distinct_looks([s.descriptor for s in photos])
            if looks < WELL_ENROLLED:
                result.advice[enrolled.name] = advice(enrolled.name, len(photos), looks)
    return result


def distinct_looks(descriptors: list) -> int:
    """How many of the descriptors differ from every one kept before them by more than SAME_LOOK."""
    kept: list[np.ndarray] = []
    for d in descriptors:
        d = np.asarray(d, np.float32)
        if all(float(np.linalg.norm(d - k)) > SAME_LOOK for k in kept):
            kept.append(d)
    return len(kept)


def advice(name: str, photos: int, looks: int) -> str:
    """What it will take to name ``name`` reliably, in the operator's words."""
    what = "one photo" if photos == 1 else f"{photos} photos that look alike (one look)"
    return (
        f"{name}: enrolled from {what}. One photo names a person in about {NAMED_FROM_ONE:.0%} of their "
        f"other pictures, two different photos in {NAMED_FROM_TWO:.0%} (measured on the shared photos); add a "
        f"photo from another day or light, or enroll {name} at the door's camera (press E on their face): "
        f"the poses and new looks it takes name them from their first frames."
    )
