"""Enroll a whole folder of people (the layout evaluation reads: one subfolder per person, or
files named ``<person>.<anything>``), with progress, cancel, and the reason for every skipped file.

Each person is one transaction: a cancel or a crash between people leaves whole people enrolled
and the rest untouched, never half a person (so a cancel takes effect between people).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from core.errors import FaceGateError
from core.evaluate import collect
from core.gallery import Gallery


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
    total = sum(len(files) for files in people.values())
    result = FolderEnrollResult(images=total)
    done = 0
    for person, files in people.items():
        if should_stop is not None and should_stop():
            result.cancelled = True
            break

        def progress(i: int, n: int, base: int = done, files=files) -> None:
            if on_progress is not None:
                on_progress(base + i, total, str(files[i - 1]))

        try:
            enrolled = gallery.enroll(person, [str(f) for f in files], on_progress=progress)
        except FaceGateError as exc:
            result.skipped.append((person, str(exc)))
        else:
            result.enrolled.append(enrolled.person.name)
            result.samples += len(enrolled.sample_ids)
            result.skipped += enrolled.skipped
        done += len(files)
    return result
