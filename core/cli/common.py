"""What every ``facegate`` verb shares: opening --db, printing text or JSON, a progress bar."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from core.errors import DatabaseDamaged, StoreError
from core.paths import default_db

if TYPE_CHECKING:
    import argparse

    from core.gallery.api import Gallery


def open_gallery(args: argparse.Namespace, write: bool) -> Gallery:
    """The gallery at --db; a read-only command falls back to read-only if another FaceGate writes."""
    from core.gallery.api import Gallery
    from core.gallery.match import DEFAULT_THRESHOLD

    db = args.db or default_db()
    threshold = args.threshold if args.threshold is not None else DEFAULT_THRESHOLD
    try:
        return Gallery(db, threshold=threshold)
    except StoreError as exc:  # locked by another FaceGate, or a read-only folder
        if write or not Path(db).exists() or isinstance(exc, DatabaseDamaged):
            raise
        return Gallery(db, threshold=threshold, readonly=True)


def say(args: argparse.Namespace, data: object, text: str) -> None:
    """Print ``data`` as JSON under --json, else the human ``text``."""
    print(json.dumps(data) if args.json else text)


def progress_bar(i: int, n: int, label: str, quiet: bool) -> None:
    """A one-line progress bar on stderr (nothing under --json, so stdout stays parseable)."""
    if quiet or n == 0:
        return
    width = 30
    filled = int(width * i / n)
    sys.stderr.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {i}/{n} {label[:30]:<30}")
    sys.stderr.flush()
