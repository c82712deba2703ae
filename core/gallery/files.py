"""Files that must survive a crash and stay private: the index, its stamp, backups, restores.

Writing a file, fsyncing it, renaming it into place and fsyncing its folder is what makes a
rename durable; every file holding descriptors is created owner-only (biometric data) before
anything is written into it.
"""
from __future__ import annotations

import hashlib
import os
from pathlib import Path


def sha256_of(path: Path) -> str:
    """The file's SHA-256 as hex, read in 1 MB pieces."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def fsync_file(path: Path) -> None:
    """Make what was written to ``path`` reach the disk."""
    with open(path, "rb") as f:
        os.fsync(f.fileno())


def fsync_folder(path: Path) -> None:
    """Make renames and new files in the folder ``path`` reach the disk (nothing to do on Windows)."""
    if os.name == "nt":  # pragma: no cover
        return
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def create_private(path: Path) -> None:
    """Create ``path`` empty, mode 0600, before anything writes into it."""
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600))
