"""Enroll a whole folder of people (the layout evaluation reads: one subfolder per person, or
files named ``<person>.<anything>``), with progress, cancel, and the reason for every skipped file.

Each person is one transaction: a cancel or a crash between people leaves whole people enrolled
and the rest untouched, never half a person (so a cancel takes effect between people). It finds
faces with a detector of its own, because a dlib detector must not be used by two threads at once
and the window may be enrolling with the gallery's while this runs on a job thread.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from core.detection import Detector
from core.errors import FaceGateError
from core.evaluate import collect
from core.gallery import Gallery, as_rgb, sample_of
from core.store import NewSample


@dataclass
class FolderEnrollResult:
    enrolled: list[str] = field(default_factory=list)
    samples: int = 0
    images: int = 0
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (file or person, reason)
    cancelled: bool = False


def enroll_folder(gallery: Gallery, folder: str | Path,
                  on_progress: Callable[[int, int, str], None] | None = None,
                  should_stop: Callable[[], bool] | None = None) -> FolderEnrollResult:
    """Enroll every person of ``folder``; ``on_progress(done, total, file)`` after each photo."""
    people: dict[str, list[Path]] = {}
    for person, path in collect(folder):
        people.setdefault(person, []).append(path)
    settings = gallery.detector.settings
    detector = Detector(settings.method, settings.min_face, settings.haar_scale)
    result = FolderEnrollResult(images=sum(len(files) for files in people.values()))
    done = 0
    for person, files in people.items():
        if should_stop is not None and should_stop():
            result.cancelled = True
            break
        samples: list[NewSample] = []
        for path in files:
            try:
                samples.append(_sample(gallery, detector, path))
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
    return result


def _sample(gallery: Gallery, detector: Detector, path: Path) -> NewSample:
    """The one face of a photo as a sample, or the reason it cannot be one."""
    rgb = as_rgb(str(path), str(path))
    faces = gallery.faces(rgb, detector)
    if len(faces) != 1:
        raise FaceGateError(f"{path}: " + ("no face found" if not faces else
                                           f"{len(faces)} faces found; a photo to enroll from must hold one"))
    return sample_of(rgb, faces[0], str(path))
