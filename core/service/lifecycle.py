"""How each run of FaceGate begins and ends, in the access log and the log file.

At start the previous run's heartbeat (core.service.heartbeat) and fault record say how it
ended:

- a heartbeat marked ``stopped``: it was stopped cleanly -> "FaceGate started";
- a heartbeat from another boot of the PC, not stopped: the PC went down under it (power cut,
  hard reset) -> "FaceGate restarted after a power cut";
- its last heartbeat said a part was stalled, or its fault record says it was aborted (SIGABRT
  is the signal systemd's watchdog sends): it hung -> "FaceGate restarted after a hang";
- otherwise it ended between two heartbeats without stopping: killed, crashed in C, or an
  uncaught exception -> "FaceGate restarted after a crash".

The fault record is a file beside the gallery (``gallery.db.faults``, mode 0600) that
Python's faulthandler writes every thread's stack into when the process dies of a fatal signal
(SIGSEGV, SIGABRT, ...); a clean stop removes it. Its first line goes into the access-log
reason, the whole of it into the log file.
"""

from __future__ import annotations

import faulthandler
import logging
import os
from pathlib import Path
from typing import TextIO

from core.door.access_log import AccessEvent, AccessLog
from core.gallery.api import Gallery
from core.service import heartbeat
from core.service.heartbeat import Heartbeat

STARTED = "FaceGate started"
STOPPED = "FaceGate stopped"
RESTARTED_CRASH = "FaceGate restarted after a crash"
RESTARTED_HANG = "FaceGate restarted after a hang"
RESTARTED_POWER_CUT = "FaceGate restarted after a power cut"
FAULTS_SUFFIX = ".faults"

log = logging.getLogger("facegate.service")


def faults_path(db: str | Path) -> Path:
    db = Path(db)
    return db.with_name(db.name + FAULTS_SUFFIX)


def previous_end(beat: Heartbeat | None, faults: str = "", this_boot: str | None = None) -> tuple[str, str]:
    """The access-log verdict and reason for this start, from how the previous run ended."""
    last_words = faults.strip().splitlines()[0] if faults.strip() else ""
    if beat is None:
        if last_words:
            return RESTARTED_CRASH, f"the previous run died: {last_words}"
        return STARTED, "no earlier run recorded with this gallery"
    if beat.stopped:
        return STARTED, f"the previous run stopped cleanly at {beat.stopped} ({beat.stop_reason})"
    if beat.boot_id and this_boot and beat.boot_id != this_boot:
        return RESTARTED_POWER_CUT, (
            f"the PC went down while FaceGate was running (power cut or hard reset); last heartbeat {beat.written}"
        )
    if "Aborted" in last_words or not beat.alive:
        why = "; ".join(beat.stalled) or "it stopped responding and was aborted (SIGABRT, the watchdog's signal)"
        return RESTARTED_HANG, f"{why}; last heartbeat {beat.written}"
    how = f": {last_words}" if last_words else " (killed, or it died between two heartbeats)"
    return RESTARTED_CRASH, f"it ended without stopping{how}; last heartbeat {beat.written}, pid {beat.pid}"


class RunRecord:
    """One run of the app over one gallery: begin() logs how the previous run ended and arms the
    fault record; end() logs the clean stop and disarms it."""

    def __init__(self, gallery: Gallery) -> None:
        self.gallery = gallery
        self.log = AccessLog(gallery.store)
        db = Path(gallery.store.path)
        self.heartbeat_path = heartbeat.heartbeat_path(db)
        self.faults_path = faults_path(db)
        self._faults: TextIO | None = None

    def begin(self, catch_faults: bool = True) -> AccessEvent:
        """Record this start (call before the first heartbeat overwrites the previous run's)."""
        try:
            faults = self.faults_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            faults = ""
        verdict, reason = previous_end(heartbeat.read(self.heartbeat_path), faults, heartbeat.boot_id())
        if faults.strip():
            log.error("the previous run's fault record (%s):\n%s", self.faults_path, faults.strip())
        event = AccessEvent(verdict, reason=reason)
        self.log.record(event)
        if catch_faults:
            fd = os.open(self.faults_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            self._faults = os.fdopen(fd, "w", encoding="utf-8")
            faulthandler.enable(self._faults, all_threads=True)
        else:
            self.faults_path.unlink(missing_ok=True)
        return event

    def note_fault(self, text: str) -> None:
        """Leave a last word for the next start (an exception that is ending the run)."""
        if self._faults is not None:
            self._faults.write(f"{text}\n")
            self._faults.flush()

    def end(self, reason: str) -> AccessEvent:
        """Record a clean stop and drop the fault record."""
        event = AccessEvent(STOPPED, reason=reason)
        self.log.record(event)
        if self._faults is not None:
            faulthandler.disable()
            self._faults.close()
            self._faults = None
        self.faults_path.unlink(missing_ok=True)
        return event
