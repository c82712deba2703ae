"""Back up the whole gallery to one file, and restore it only when the file is whole and ours.

A backup is a zip holding ``gallery.db`` (a consistent copy made with SQLite's online backup API
through the Store's own connection, so the live window keeps running and no second writer ever
touches the gallery) and ``manifest.json`` (format, when, what it holds, and the database's
SHA-256 and size). People, samples, settings and the access log all live in the database; the
hnswlib index is a cache and is rebuilt after a restore.

restore() verifies everything BEFORE touching the current gallery: the zip, the manifest, the
digest, SQLite's integrity_check, that it is a FaceGate database this version understands, and
that its counts match the manifest. Only then is the current database set aside (kept beside
it as ``<name>.before-restore-<time>``) and the restored one renamed into place, atomically.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import sqlite3
import tempfile
import zipfile
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from core.errors import DatabaseLocked, FaceGateError
from core.gallery.files import create_private, fsync_file, fsync_folder, release_writer_lock, sha256_of, take_writer_lock
from core.gallery.schema import MIGRATIONS
from core.gallery.store import Store, now

FORMAT = "facegate-backup"
VERSION = 1
DB_MEMBER = "gallery.db"
MANIFEST_MEMBER = "manifest.json"


class BackupError(FaceGateError):
    """A backup could not be written, or a file offered for restore is damaged or not ours."""


@dataclass
class BackupInfo:
    """What a backup holds (its manifest)."""

    path: Path
    created: str
    people: int
    samples: int
    events: int
    sha256: str
    size: int
    kept: Path | None = None  # restore: where the gallery it replaced was set aside


def backup(store: Store, target: str | Path) -> BackupInfo:
    """Write the whole gallery behind ``store`` to ``target`` (one zip file, mode 0600)."""
    target = Path(target)
    if target.is_dir():
        raise BackupError(f"{target}: is a folder; give the backup a file name")
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=".facegate-backup-") as tmp:
        copy = Path(tmp) / DB_MEMBER
        create_private(copy)
        dest = sqlite3.connect(copy)
        try:
            store.copy_to(dest)
            dest.execute("PRAGMA journal_mode = DELETE")  # one self-contained file, no -wal beside it
        except sqlite3.Error as exc:
            raise BackupError(f"{target}: writing the backup failed ({exc}); the gallery is unchanged") from None
        finally:
            dest.close()
        counts = _counts(copy)
        manifest = {
            "format": FORMAT,
            "version": VERSION,
            "created": now(),
            "source": str(store.path),
            "sha256": sha256_of(copy),
            "size": copy.stat().st_size,
            "migrations": _migrations(copy),
            **counts,
        }
        packed = Path(tmp) / "backup.zip"
        create_private(packed)
        try:
            with zipfile.ZipFile(packed, "w", compression=zipfile.ZIP_DEFLATED) as z:
                z.writestr(MANIFEST_MEMBER, json.dumps(manifest, indent=1))
                z.write(copy, DB_MEMBER)
            fsync_file(packed)
            os.replace(packed, target)
        except OSError as exc:
            raise BackupError(f"{target}: writing the backup failed ({exc.strerror or exc}); the gallery is unchanged") from None
    return _info(target, manifest)


def open_store(db_path: str | Path) -> Store:
    """The gallery to back up: for writing if free, else read-only (FaceGate's window has it)."""
    db_path = Path(db_path)
    if not db_path.is_file():
        raise BackupError(f"{db_path}: no such gallery to back up")
    try:
        return Store(db_path)
    except DatabaseLocked:
        return Store(db_path, readonly=True)


def verify(archive: str | Path, workdir: str | Path) -> tuple[Path, BackupInfo]:
    """Check ``archive`` completely and unpack its database into ``workdir``; (database, info).

    Raises BackupError naming the file and what is wrong; writes nothing outside ``workdir``."""
    archive = Path(archive)
    if not archive.is_file():
        raise BackupError(f"{archive}: no such backup file")
    try:
        with zipfile.ZipFile(archive) as z:
            names = set(z.namelist())
            if MANIFEST_MEMBER not in names or DB_MEMBER not in names:
                raise BackupError(f"{archive}: not a FaceGate backup (no manifest and database inside)")
            manifest = json.loads(z.read(MANIFEST_MEMBER))
            if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
                raise BackupError(f"{archive}: not a FaceGate backup (unknown manifest)")
            if manifest.get("version") != VERSION:
                raise BackupError(
                    f"{archive}: a backup of format version {manifest.get('version')}; this FaceGate reads version {VERSION}"
                )
            db = Path(workdir) / DB_MEMBER
            create_private(db)
            with z.open(DB_MEMBER) as src, open(db, "wb") as out:
                shutil.copyfileobj(src, out, 1 << 20)  # zipfile checks each member's CRC as it reads
    except zipfile.BadZipFile as exc:
        raise BackupError(f"{archive}: damaged or not a FaceGate backup ({exc})") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise BackupError(f"{archive}: damaged backup (unreadable manifest: {exc})") from None
    except OSError as exc:
        raise BackupError(f"{archive}: cannot read the backup ({exc.strerror or exc})") from None
    if db.stat().st_size != manifest.get("size") or sha256_of(db) != manifest.get("sha256"):
        raise BackupError(f"{archive}: damaged backup (the database inside does not match its SHA-256)")
    try:
        conn = sqlite3.connect(f"file:{db.as_posix()}?mode=ro", uri=True)
        try:
            result = [r[0] for r in conn.execute("PRAGMA integrity_check").fetchall()]
        finally:
            conn.close()
        if result != ["ok"]:
            raise BackupError(f"{archive}: damaged backup (integrity check: {'; '.join(result[:3])})")
        known = {name for name, _ in MIGRATIONS}
        done = set(_migrations(db))
        if not done or "people-and-samples" not in done:
            raise BackupError(f"{archive}: the database inside is not a FaceGate gallery")
        if done - known:
            raise BackupError(
                f"{archive}: made by a newer FaceGate (schema {', '.join(sorted(done - known))}); update FaceGate to restore it"
            )
        counts = _counts(db)
    except sqlite3.Error as exc:
        raise BackupError(f"{archive}: damaged backup ({exc})") from None
    for key, value in counts.items():
        if manifest.get(key) != value:
            raise BackupError(f"{archive}: damaged backup ({key}: {value} inside, {manifest.get(key)} listed)")
    return db, _info(archive, manifest)


def restore(archive: str | Path, db_path: str | Path) -> BackupInfo:
    """Replace the gallery at ``db_path`` with the backup, only after verify() passed.

    The gallery must not be open for writing (its lock is taken for the whole swap). The
    replaced database is kept as ``<db>.before-restore-<time>``; the index is rebuilt on open."""
    db_path = Path(db_path)
    db_path.parent.mkdir(parents=True, exist_ok=True)
    lock = take_writer_lock(db_path)  # DatabaseLocked (naming the holder) while FaceGate has it open
    try:
        with tempfile.TemporaryDirectory(dir=db_path.parent, prefix=".facegate-restore-") as tmp:
            fresh, info = verify(archive, tmp)
            fsync_file(fresh)
            kept = _set_aside(db_path) if db_path.exists() else None
            os.replace(fresh, db_path)
            for leftover in (_sidecar(db_path, "-wal"), _sidecar(db_path, "-shm")):
                with contextlib.suppress(FileNotFoundError):
                    leftover.unlink()
            for index_file in db_path.parent.glob(db_path.name + ".hnsw*"):
                index_file.unlink()
            fsync_folder(db_path.parent)
    finally:
        release_writer_lock(lock)
    info.kept = kept
    return info


# -- helpers ------------------------------------------------------------------------------------
def _set_aside(db_path: Path) -> Path:
    """Copy the current gallery (its committed state, WAL folded in when possible) beside it."""
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    kept = db_path.with_name(f"{db_path.name}.before-restore-{stamp}")
    with contextlib.suppress(sqlite3.Error):  # a damaged gallery is kept as it is, WAL and all
        conn = sqlite3.connect(db_path)
        try:
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            conn.close()
    for suffix in ("", "-wal"):
        src = _sidecar(db_path, suffix)
        if src.exists() and (suffix == "" or src.stat().st_size):
            dst = _sidecar(kept, suffix)
            create_private(dst)
            shutil.copyfile(src, dst)
            fsync_file(dst)
    return kept


def _sidecar(db_path: Path, suffix: str) -> Path:
    return db_path.with_name(db_path.name + suffix)


def _counts(db: Path) -> dict[str, int]:
    conn = sqlite3.connect(f"file:{db.as_posix()}?mode=ro", uri=True)
    try:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        count = {"people": "people", "samples": "samples", "events": "access_events"}
        return {
            key: (conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0] if table in tables else 0)
            for key, table in count.items()
        }
    finally:
        conn.close()


def _migrations(db: Path) -> list[str]:
    conn = sqlite3.connect(f"file:{db.as_posix()}?mode=ro", uri=True)
    try:
        if not conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meta'").fetchone():
            return []
        return [
            r[0][len("migration:") :] for r in conn.execute("SELECT key FROM meta WHERE key LIKE 'migration:%' ORDER BY value")
        ]
    finally:
        conn.close()


def _info(path: Path, manifest: dict) -> BackupInfo:
    return BackupInfo(
        Path(path),
        str(manifest.get("created")),
        int(manifest.get("people", 0)),
        int(manifest.get("samples", 0)),
        int(manifest.get("events", 0)),
        str(manifest.get("sha256")),
        int(manifest.get("size", 0)),
    )
