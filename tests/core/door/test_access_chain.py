"""The access log's hash chain: a row edited, deleted or inserted by raw sqlite3 is caught by
``facegate access-log --verify`` (exit status 1, the row named); the retention purge deletes old
rows and logs itself, and the chain still holds; a gallery made before the chain is chained once."""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime, timedelta, timezone

from core.door.access_log import AccessEvent, AccessLog
from core.door.retention import Retention
from core.door.verdict import Verdict
from core.door.visitors import Visitors
from core.gallery import store as store_module
from core.gallery.api import Gallery
from core.gallery.chain import GENESIS, ChainRow
from core.gallery.store import Store
from tests.support.cli import facegate


def _log_ten(gallery: Gallery, start: datetime | None = None) -> AccessLog:
    log = AccessLog(gallery.store)
    start = start or datetime.now(timezone.utc)
    for i in range(10):
        log.record(
            AccessEvent(
                Verdict.GRANTED if i % 2 else Verdict.UNKNOWN,
                f"person {i}" if i % 2 else None,
                reason=f"reason {i}",
                distance=0.1 + i / 97,
                margin=0.3,
                door="unlocking",
                track=i,
                time=(start + timedelta(minutes=i)).isoformat(timespec="milliseconds"),
            )
        )
    return log


def _verify(db) -> tuple[int, dict]:
    out = facegate("access-log", "--verify", "--db", db, "--json")
    return out.returncode, json.loads(out.stdout)


def _raw(db, sql: str, params: tuple = ()) -> None:
    conn = sqlite3.connect(db)
    with conn:
        conn.execute(sql, params)
    conn.close()


def test_edited_deleted_and_inserted_rows_are_each_caught(gallery, db_path):
    _log_ten(gallery)
    gallery.close()
    assert _verify(db_path) == (0, {"ok": True, "rows": 10, "bad": None, "problem": ""})

    backup = db_path.with_suffix(".clean")
    backup.write_bytes(db_path.read_bytes())
    _raw(db_path, "UPDATE access_events SET verdict = 'Granted', name = 'person 4' WHERE id = 5")  # an Unknown made a grant
    code, report = _verify(db_path)
    assert code == 1 and report["bad"] == 5 and "edited" in report["problem"]

    db_path.write_bytes(backup.read_bytes())
    _raw(db_path, "DELETE FROM access_events WHERE id = 6")
    code, report = _verify(db_path)
    assert code == 1 and report["bad"] == 7 and "deleted" in report["problem"]

    db_path.write_bytes(backup.read_bytes())
    _raw(db_path, "DELETE FROM access_events WHERE id = 1")  # the oldest row: no purge recorded its cut
    code, report = _verify(db_path)
    assert code == 1 and report["bad"] == 2 and "deleted" in report["problem"]

    db_path.write_bytes(backup.read_bytes())
    _raw(db_path, "DELETE FROM access_events WHERE id = 10")  # the newest row: the kept head tells
    code, report = _verify(db_path)
    assert code == 1 and report["bad"] == 9 and "newest" in report["problem"]

    db_path.write_bytes(backup.read_bytes())
    # a row copied from another with its hashes (the chain's own fields, a new id): caught at its id
    _raw(
        db_path,
        "INSERT INTO access_events(time, name, verdict, reason, distance, margin, door, prev_hash, hash) "
        "SELECT time, name, verdict, reason, distance, margin, door, prev_hash, hash FROM access_events WHERE id = 5",
    )
    code, report = _verify(db_path)
    assert code == 1 and report["bad"] == 11 and "edited" in report["problem"]

    # a forged row appended with its hash made right (by someone who read core.gallery.chain): the kept head tells
    db_path.write_bytes(backup.read_bytes())
    store = Store(db_path)
    (last,) = store.read("SELECT hash FROM access_events WHERE id = 10")[0]
    store.close()
    forged = ChainRow(
        11, datetime.now(timezone.utc).isoformat(), "intruder", "Granted", "forged", 0.1, 0.3, None, None, "unlocking"
    )
    _raw(
        db_path,
        "INSERT INTO access_events(id, time, name, verdict, reason, distance, margin, door, prev_hash, hash) "
        "VALUES(11, ?, 'intruder', 'Granted', 'forged', 0.1, 0.3, 'unlocking', ?, ?)",
        (forged.time, last, forged.content_hash(last)),
    )
    code, report = _verify(db_path)
    assert code == 1 and report["bad"] == 11 and "added" in report["problem"]


def test_the_retention_purge_deletes_old_rows_logs_itself_and_keeps_the_chain(gallery, db_path):
    now = datetime.now(timezone.utc)
    log = _log_ten(gallery, now - timedelta(days=40))
    log.record(AccessEvent(Verdict.GRANTED, "recent", reason="yesterday", time=(now - timedelta(days=1)).isoformat()))
    visitors = Visitors(gallery.store)
    visitors.settings.access_log_days = 30
    purged = Retention(gallery, visitors).purge(now)
    assert purged.log_rows == 10
    kept = log.events(limit=None)
    assert [e.verdict for e in kept] == [Verdict.PURGED, Verdict.GRANTED]
    assert "10 access-log rows up to #10" in kept[0].reason and "chain cut at" in kept[0].reason
    assert log.verify().ok and log.verify().started_after_cut
    assert Retention(gallery, visitors).purge(now).log_rows == 0  # nothing more to remove: no second row
    assert len(log.events(limit=None)) == 2
    gallery.close()
    assert _verify(db_path)[0] == 0
    _raw(db_path, "DELETE FROM access_events WHERE verdict = 'Granted'")  # the row a purge did not remove
    code, report = _verify(db_path)
    assert code == 1 and report["bad"] == 12


def test_a_log_written_before_the_chain_is_chained_once_by_the_migration(tmp_path, monkeypatch):
    db = tmp_path / "old.db"
    with monkeypatch.context() as m:  # a gallery as the FaceGate before the chain left it
        m.setattr(store_module, "MIGRATIONS", [x for x in store_module.MIGRATIONS if x[0] != "access-log-chain"])
        old = Store(db)
        with old.write() as conn:
            for i in range(5):
                conn.execute(
                    "INSERT INTO access_events(time, name, verdict, reason, distance) VALUES(?,?,?,?,?)",
                    (f"2026-11-0{i + 1}T08:00:00.000+00:00", "Ada", "Granted", f"visit {i}", 0.2 + i / 100),
                )
        old.close()
    store = Store(db)  # the migration runs now, once
    rows = store.read("SELECT prev_hash, hash FROM access_events ORDER BY id")
    store.close()
    assert rows[0][0] == GENESIS and all(rows[i][0] == rows[i - 1][1] for i in range(1, len(rows)))
    assert _verify(db) == (0, {"ok": True, "rows": 5, "bad": None, "problem": ""})
