"""What every ``facegate`` verb shares: opening --db, printing text or JSON, a progress bar."""

from __future__ import annotations

import getpass
import json
import os
import stat
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from core.errors import DatabaseDamaged, StoreError
from core.gallery.admin import AdminError
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


def stdin_lines() -> Iterator[str]:
    for line in sys.stdin:
        yield line.rstrip("\r\n")


def read_secret(path: Path | None, prompt: str, lines: Iterator[str]) -> str:
    """A secret from ``path`` (refused unless only its owner may read it), else typed at a
    terminal without echo, else the next line of standard input."""
    if path is not None:
        try:
            mode = os.stat(path).st_mode
            if os.name == "posix" and mode & (stat.S_IRWXG | stat.S_IRWXO):
                raise AdminError(f"{path} may be read by others: chmod 600 it first")
            return path.read_text(encoding="utf-8").splitlines()[0] if path.stat().st_size else ""
        except OSError as exc:
            raise AdminError(f"cannot read {path}: {exc.strerror}") from None
    if sys.stdin.isatty():
        return getpass.getpass(prompt)
    secret = next(lines, None)
    if secret is None:
        what = prompt.strip(": ")
        raise AdminError(f"no {what[0].lower()}{what[1:]} on standard input (or give --pin-file)")
    return secret
