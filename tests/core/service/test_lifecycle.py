"""How the previous run ended, in the access log: a clean stop, a crash (SIGKILL, SIGSEGV, an
uncaught exception), a hang (a stalled part, or SIGABRT from the watchdog) and a power cut
(another boot). The crashes are real: a child process runs a RunRecord and dies."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap

from core.door.access_log import AccessLog
from core.gallery.api import Gallery
from core.service import heartbeat
from core.service.lifecycle import (
    RESTARTED_CRASH,
    RESTARTED_HANG,
    RESTARTED_POWER_CUT,
    STARTED,
    STOPPED,
    RunRecord,
    previous_end,
)
from tests.support.data import ROOT
from tests.support.health import beat

CHILD = textwrap.dedent("""
    import os, signal, sys, time
    from core.gallery.api import Gallery
    from core.service import heartbeat
    from core.service.lifecycle import RunRecord
    from tests.support.health import beat
    gallery = Gallery(sys.argv[1])
    record = RunRecord(gallery)
    record.begin()
    heartbeat.write(record.heartbeat_path, beat(alive=sys.argv[2] != "stalled",
                    stalled=["the window has not responded for 12 s"] if sys.argv[2] == "stalled" else []))
    if sys.argv[2] == "exception":
        record.note_fault("uncaught RuntimeError: the camera driver said no")
        raise RuntimeError("the camera driver said no")
    os.kill(os.getpid(), getattr(signal, sys.argv[2], signal.SIGKILL))
    time.sleep(10)
""")


def run_and_die(db, how: str) -> int:
    done = subprocess.run([sys.executable, "-c", CHILD, str(db), how], cwd=ROOT, capture_output=True, timeout=120)
    return done.returncode


def next_start(db) -> tuple[str, str]:
    with Gallery(db) as g:
        event = RunRecord(g).begin(catch_faults=False)
        assert AccessLog(g.store).events(limit=1)[0].verdict == event.verdict
        return event.verdict, event.reason


def test_each_way_a_run_can_end(db_path, describer):
    with Gallery(db_path, describer=describer) as g:
        record = RunRecord(g)
        first = record.begin(catch_faults=False)
        assert (first.verdict, first.reason) == (STARTED, "no earlier run recorded with this gallery")
        heartbeat.write(record.heartbeat_path, beat(stopped=heartbeat.now_iso(), stop_reason="closed by the admin"))
        assert record.end("closed by the admin").verdict == STOPPED
    verdict, reason = next_start(db_path)
    assert verdict == STARTED and "stopped cleanly" in reason and "closed by the admin" in reason

    assert run_and_die(db_path, "SIGKILL") == -signal.SIGKILL
    verdict, reason = next_start(db_path)
    assert verdict == RESTARTED_CRASH and "killed, or it died between two heartbeats" in reason

    assert run_and_die(db_path, "SIGSEGV") == -signal.SIGSEGV
    verdict, reason = next_start(db_path)
    assert verdict == RESTARTED_CRASH and "Fatal Python error: Segmentation fault" in reason

    assert run_and_die(db_path, "SIGABRT") == -signal.SIGABRT  # what systemd's watchdog sends
    verdict, reason = next_start(db_path)
    assert verdict == RESTARTED_HANG and "aborted (SIGABRT" in reason

    assert run_and_die(db_path, "stalled") == -signal.SIGKILL
    verdict, reason = next_start(db_path)
    assert verdict == RESTARTED_HANG and "the window has not responded for 12 s" in reason

    assert run_and_die(db_path, "exception") == 1
    verdict, reason = next_start(db_path)
    assert verdict == RESTARTED_CRASH and "uncaught RuntimeError: the camera driver said no" in reason


def test_a_heartbeat_from_another_boot_is_a_power_cut():
    verdict, reason = previous_end(beat(boot_id="another-boot"), "", this_boot="this-boot")
    assert verdict == RESTARTED_POWER_CUT and "power cut or hard reset" in reason
