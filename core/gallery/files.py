"""The gallery's files besides the database's own: durable, private, and locked to one writer.

Writing a file, fsyncing it, renaming it into place and fsyncing its folder is what makes a
rename durable (the index, its stamp, backups, restores); every file holding descriptors is
created owner-only (biometric data) before anything is written into it. ``<db>.lock`` lets one
process at a time open a gallery for writing: the SQLite linked here (3.40.1) has the WAL-reset
bug that two writing connections can hit.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import sys
from pathlib import Path
from typing import IO

from core.errors import DatabaseLocked


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


# -- one writer per database file ---------------------------------------------------------------
def take_writer_lock(db_path: Path) -> IO[str]:
    """Hold ``<db>.lock`` exclusively (DatabaseLocked, naming the holder, when another process
    does); the open lock file, for release_writer_lock()."""
    path = db_path.with_name(db_path.name + ".lock")
    handle = os.fdopen(os.open(path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o600), "a+")
    try:
        if sys.platform == "win32":  # pragma: no cover - Windows
            import msvcrt

            msvcrt.locking(handle.fileno(), msvcrt.LK_NBLCK, 1)
        else:
            import fcntl

            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        handle.seek(0)
        holder = handle.read().strip() or "another process"
        handle.close()
        raise DatabaseLocked(
            f"{db_path}: the gallery is open for writing in another FaceGate ({holder}); "
            "close it first, or open this one read-only"
        ) from None
    handle.seek(0)
    handle.truncate()
    handle.write(f"pid {os.getpid()}")
    handle.flush()
    return handle


def release_writer_lock(handle: IO[str]) -> None:
    with contextlib.suppress(Exception):
        handle.close()
