"""Enroll a whole folder of people (the layout evaluation reads: one subfolder per person, or
files named ``<person>.<anything>``), with progress, cancel, and the reason for every skipped file.

Each person is one transaction: a cancel or a crash between people leaves whole people enrolled
and the rest untouched, never half a person (so a cancel takes effect between people). The same
code serves the window's job thread and `facegate enroll-folder`.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from core.errors import FaceGateError
from core.gallery.api import Gallery
from core.gallery.store import NewSample
from core.records import Skipped
from core.tools.evaluate import collect


@dataclass
class FolderEnrollResult:
    enrolled: list[str] = field(default_factory=list)
    samples: int = 0
    images: int = 0
    skipped: list[Skipped] = field(default_factory=list)  # files, and people with no usable photo
    cancelled: bool = False


def enroll_folder(gallery: Gallery, folder: str | Path,
                  on_progress: Callable[[int, int, str], None] | None = None,
                  should_stop: Callable[[], bool] | None = None) -> FolderEnrollResult:
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
                samples.append(gallery.sample_from_photo(str(path), str(path)))
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

