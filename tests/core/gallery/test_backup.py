"""Backup and restore of the whole gallery: one file, restored whole, and a damaged or foreign
file refused without touching the current gallery."""

from __future__ import annotations

import hashlib
import io
import json
import sqlite3
import stat
import zipfile
from pathlib import Path

import numpy as np
import pytest

from core.door.access_log import AccessEvent, AccessLog
from core.errors import DatabaseLocked
from core.gallery.api import Gallery
from core.gallery.backup import BackupError, backup, restore
from core.gallery.store import NewSample
from tests.support.cli import facegate
from tests.support.data import IMAGES


def _people(db: Path) -> dict[str, int]:
    with Gallery(db) as g:
        return {p.name: p.sample_count for p in g.people()}


def _fill(db: Path, names, seed=0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    probe = None
    with Gallery(db) as g:
        for name in names:
            vecs = rng.normal(0, 0.1, (3, 128)).astype(np.float32)
            g.enroll_samples(name, [NewSample(v, b"\xff\xd8jpeg", "test") for v in vecs])
            probe = vecs[0] if probe is None else probe
        AccessLog(g.store).record(AccessEvent("granted", names[0], reason="test", snapshot=b"snap"))
        g.store.set_setting("door", '{"driver": "simulated"}')
    return probe


def _files(folder: Path) -> dict[str, str]:
    """Every file in the gallery's folder with its SHA-256: what 'untouched' means."""
    return {f.name: hashlib.sha256(f.read_bytes()).hexdigest() for f in sorted(folder.iterdir()) if f.is_file()}


def test_backup_and_restore_round_trip(tmp_path):
    db = tmp_path / "home" / "gallery.db"
    probe = _fill(db, ["Ada", "Grace", "Linus"])
    archive = tmp_path / "gallery.fgbackup"
    out = facegate("backup", archive, "--db", db, "--json")
    assert out.returncode == 0, out.stderr
    info = json.loads(out.stdout)
    assert (info["people"], info["samples"], info["events"]) == (3, 9, 1)
    assert stat.S_IMODE(archive.stat().st_mode) == 0o600
    before = _people(db)

    with Gallery(db) as g:  # life goes on after the backup
        g.remove("Ada")
        g.enroll_samples("Zed", [NewSample(np.ones(128, np.float32) * 0.01)])
    out = facegate("restore", archive, "--db", db, "--json")
    assert out.returncode == 0, out.stderr
    kept = Path(json.loads(out.stdout)["kept"])
    assert not list(db.parent.glob("gallery.db.hnsw*"))  # the old index went with the old gallery
    assert _people(db) == before
    assert _people(kept) == {"Grace": 3, "Linus": 3, "Zed": 1}  # what it replaced, kept beside it
    with Gallery(db) as g:
        assert g.top_k(probe, 1)[0].name == "Ada"
        assert g.store.get_setting("door") == '{"driver": "simulated"}'
        assert [e.name for e in AccessLog(g.store).events()] == ["Ada"]
        assert AccessLog(g.store).snapshot(AccessLog(g.store).events()[0].id) == b"snap"


def test_backup_while_another_facegate_has_the_gallery_open(tmp_path):
    db = tmp_path / "gallery.db"
    _fill(db, ["Ada", "Grace"])
    with Gallery(db) as g:  # the window holds the gallery for writing
        out = facegate("backup", tmp_path / "b.zip", "--db", db)
        assert out.returncode == 0, out.stderr
        assert "backed up 2 people, 6 samples" in out.stdout
        with pytest.raises(DatabaseLocked, match="close it first"):
            restore(tmp_path / "b.zip", db)
        assert len(g.people()) == 2


def _damaged_zip(good: Path, tmp_path: Path) -> dict[str, bytes]:
    """Ways a backup file can be bad: damaged in transit, cut short, or not a FaceGate backup."""
    data = good.read_bytes()
    with zipfile.ZipFile(good) as z:
        manifest = json.loads(z.read("manifest.json"))
        db_bytes = z.read("gallery.db")

    def repack(manifest_obj, db_data, compress=zipfile.ZIP_STORED) -> bytes:
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", compress) as z:
            z.writestr("manifest.json", json.dumps(manifest_obj))
            z.writestr("gallery.db", db_data)
        return buf.getvalue()

    flipped_db = bytearray(db_bytes)
    flipped_db[len(flipped_db) // 2] ^= 0xFF
    bad_header = b"SQLite format 4\0" + db_bytes[16:]
    foreign = tmp_path / "foreign.db"
    conn = sqlite3.connect(foreign)
    conn.execute("CREATE TABLE t (x)")
    conn.commit()
    conn.close()
    foreign_bytes = foreign.read_bytes()
    stored = repack(manifest, db_bytes)
    middle = stored.index(db_bytes[:64]) + len(db_bytes) // 2
    bitrot = bytearray(stored)
    bitrot[middle] ^= 0x01
    return {
        "empty file": b"",
        "cut short": data[: len(data) // 2],
        "bit flipped in the stored database": bytes(bitrot),
        "a JPEG renamed": (IMAGES / "obama.jpg").read_bytes(),
        "a zip of other files": repack({"hello": 1}, b"x"),
        "database edited, digest kept": repack(manifest, bytes(flipped_db)),
        "SQLite header damaged, digest updated": repack(
            {**manifest, "sha256": hashlib.sha256(bad_header).hexdigest()}, bad_header
        ),
        "counts altered": repack({**manifest, "people": manifest["people"] + 1}, db_bytes),
        "another program's SQLite file": repack(
            {**manifest, "sha256": hashlib.sha256(foreign_bytes).hexdigest(), "size": len(foreign_bytes)}, foreign_bytes
        ),
        "a newer format": repack({**manifest, "version": 99}, db_bytes),
        "a bare SQLite database": db_bytes,
    }


def test_restore_refuses_damaged_and_foreign_files_and_touches_nothing(tmp_path):
    db = tmp_path / "home" / "gallery.db"
    _fill(db, ["Ada", "Grace"])
    good = tmp_path / "good.zip"
    with Gallery(db) as g:
        backup(g.store, good)
        g.enroll_samples("After", [NewSample(np.full(128, 0.02, np.float32))])
    before = _files(db.parent)
    refused = {}
    for kind, data in _damaged_zip(good, tmp_path).items():
        bad = tmp_path / f"bad-{len(refused)}.zip"
        bad.write_bytes(data)
        with pytest.raises(BackupError) as caught:
            restore(bad, db)
        assert str(bad) in str(caught.value), kind
        refused[kind] = str(caught.value).split(": ", 1)[1]
        assert _files(db.parent) == before, f"{kind}: the current gallery was touched"
    print(f"\n{len(refused)} kinds of bad backup refused, gallery untouched:")
    for kind, why in refused.items():
        print(f"  {kind:<40} {why}")
    assert _people(db) == {"Ada": 3, "Grace": 3, "After": 1}
    out = facegate("restore", tmp_path / "bad-0.zip", "--db", db)
    assert out.returncode == 2 and "bad-0.zip" in out.stderr and "Traceback" not in out.stderr
