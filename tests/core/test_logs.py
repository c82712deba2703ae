"""The log file: every error and every door decision, rotating, owner-only, never stopping
FaceGate when it cannot be written."""

from __future__ import annotations

import logging
import stat
import threading

import numpy as np
import pytest

from core import logs
from core.door.access_log import AccessEvent, AccessLog
from core.gallery.store import Store
from tests.support.cli import facegate


def _flush() -> None:
    for handler in logging.getLogger("facegate").handlers:
        handler.flush()


@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")
def test_every_door_decision_and_error_is_in_the_log(tmp_path, db_path):
    path = logs.setup(tmp_path)
    with Store(db_path) as store:
        access = AccessLog(store)
        access.record(
            AccessEvent(
                "granted",
                "Ada",
                person_id=None,
                reason="allowed, consensus 3/3",
                distance=0.31,
                door="simulated",
                descriptor=np.zeros(128, np.float32),
            )
        )
        access.record(AccessEvent("denied", None, reason="nobody near", distance=0.62))
        access.record(AccessEvent("denied", "Bob", reason="outside his schedule", distance=0.28))
        events = access.events()
    logging.getLogger("facegate.door").error("door serial:/dev/ttyUSB0: port vanished")
    crash = threading.Thread(target=lambda: 1 / 0, name="capture")  # an error nobody caught
    crash.start()
    crash.join()
    _flush()
    text = path.read_text()
    print("\n" + text)
    for event in events:
        assert f"event {event.id}: {event.verdict} {event.who} ({event.reason})" in text
    assert "granted Ada (allowed, consensus 3/3), distance 0.310, door simulated" in text
    assert "denied unknown visitor (nobody near), distance 0.620" in text
    assert "ERROR facegate.door: door serial:/dev/ttyUSB0: port vanished" in text
    assert "uncaught ZeroDivisionError in thread capture" in text and "Traceback" in text
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_the_log_rotates_and_every_file_stays_private(tmp_path):
    path = logs.setup(tmp_path / "rot", max_bytes=4000, backups=2)
    for i in range(400):
        logging.getLogger("facegate.door").info("decision %04d %s", i, "x" * 40)
    _flush()
    files = sorted(p.name for p in path.parent.iterdir())
    assert files == ["facegate.log", "facegate.log.1", "facegate.log.2"]
    assert all(stat.S_IMODE((path.parent / f).stat().st_mode) == 0o600 for f in files)
    assert "decision 0399" in path.read_text() and path.stat().st_size <= 4000
    logs.setup(tmp_path)  # back to one handler with the default size


def test_an_unwritable_folder_does_not_stop_facegate(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("a file where the folder should be")
    assert logs.setup(blocker / "sub") is None
    assert logs.log_file() is not None  # the previous log still works


def test_command_line_errors_go_to_the_log_beside_the_gallery(tmp_path):
    db = tmp_path / "g.db"
    out = facegate("remove", "nobody", "--db", db)
    assert out.returncode == 2
    assert "ERROR facegate.cli: remove: no person called 'nobody'" in (tmp_path / "facegate.log").read_text()
