"""The heartbeat: a small JSON file the running app rewrites every second, which `facegate
status` (and the next start) read on the same PC. No network port: a file beside the gallery,
mode 0600 like the gallery, replaced atomically (written to a temporary file, then renamed), so
a reader never sees half a heartbeat.

Ages are measured on the monotonic clock, which is shared by every process of one boot (a door
PC without a clock battery may jump hours when NTP answers; a wall-clock age would lie then).
The wall-clock times are for people. A heartbeat from another boot, or with ``stopped`` set, is
no longer a running app's.
"""

from __future__ import annotations

import json
import os
import sys
import time
from dataclasses import asdict, dataclass, field, fields
from datetime import datetime, timezone
from pathlib import Path

SUFFIX = ".heartbeat"
#: A heartbeat older than this (s) means the app is gone or frozen.
STALE_AFTER = 10.0
#: No frame for this long (s) is unhealthy.
MAX_FRAME_AGE = 10.0
#: `facegate status` exit codes: healthy, running but unhealthy, not running (as LSB status).
HEALTHY, UNHEALTHY, NOT_RUNNING = 0, 1, 3


@dataclass
class Heartbeat:
    """What the running app says about itself. Times ending in _s are durations in seconds."""

    pid: int
    boot_id: str | None
    started: str  # ISO wall-clock time
    written: str  # ISO wall-clock time of this beat
    written_monotonic: float  # time.monotonic() at this beat
    uptime_s: float
    ready: bool = False  # the camera delivered a first frame
    alive: bool = True  # frame loop, descriptor worker and window all alive
    stalled: list[str] = field(default_factory=list)  # why not alive, part by part
    source: str = ""
    camera: str = "no source"  # running | opening | failing | stalled | no frames | no source
    camera_error: str | None = None
    fps: float = 0.0
    frames: int = 0
    last_frame_age_s: float | None = None
    worker_alive: bool = True
    worker_restarts: int = 0
    worker_error: str | None = None
    door_driver: str = ""
    door_state: str = ""
    door_error: str | None = None
    gallery_people: int = 0
    last_decision: str | None = None  # ISO time of the last door decision logged
    last_verdict: str | None = None
    last_person: str | None = None
    admin: str = "locked"
    mode: str = "window"  # window | kiosk | kiosk admin
    stopped: str | None = None  # ISO time of a clean stop; None while running
    stop_reason: str | None = None

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=1)

    @classmethod
    def from_json(cls, text: str) -> Heartbeat:
        data = json.loads(text)
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})


@dataclass
class Health:
    """What `facegate status` concludes: ``code`` is its exit status."""

    code: int
    state: str  # healthy | unhealthy | stopped | not running
    problems: list[str]
    heartbeat_age_s: float | None = None

    @property
    def healthy(self) -> bool:
        return self.code == HEALTHY


def heartbeat_path(db: str | Path) -> Path:
    """The heartbeat of the app serving this gallery: ``gallery.db.heartbeat`` beside it."""
    db = Path(db)
    return db.with_name(db.name + SUFFIX)


def boot_id() -> str | None:
    """This boot's id (Linux); None elsewhere."""
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text().strip() or None
    except OSError:
        return None


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def write(path: str | Path, beat: Heartbeat, durable: bool = False) -> None:
    """Replace the heartbeat atomically, owner-only. ``durable``: fsync too (the final beat of a
    clean stop must survive a power cut; the per-second ones need not wear the disk)."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_BINARY", 0), 0o600)
    try:
        os.write(fd, beat.to_json().encode("utf-8"))
        if durable:
            os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)


def read(path: str | Path) -> Heartbeat | None:
    """The heartbeat, or None when there is none or it cannot be read (torn by a power cut)."""
    try:
        return Heartbeat.from_json(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError, TypeError):
        return None


def judge(
    beat: Heartbeat | None,
    max_frame_age: float = MAX_FRAME_AGE,
    stale_after: float = STALE_AFTER,
    this_boot: str | None = None,
    now: float | None = None,
) -> Health:
    """Healthy, unhealthy (and why), stopped or not running, from a heartbeat read on this PC."""
    if beat is None:
        return Health(NOT_RUNNING, "not running", ["no heartbeat: FaceGate has not run with this gallery"])
    if beat.stopped:
        return Health(NOT_RUNNING, "stopped", [f"FaceGate stopped at {beat.stopped} ({beat.stop_reason or 'no reason'})"])
    this_boot = this_boot if this_boot is not None else boot_id()
    if beat.boot_id and this_boot and beat.boot_id != this_boot:
        return Health(NOT_RUNNING, "not running", [f"the last heartbeat ({beat.written}) is from before the PC restarted"])
    age = (time.monotonic() if now is None else now) - beat.written_monotonic
    if not _pid_running(beat.pid):
        return Health(
            NOT_RUNNING, "not running", [f"FaceGate (pid {beat.pid}) ended without stopping; last heartbeat {age:.0f} s ago"], age
        )
    problems = []
    if age > stale_after:
        problems.append(f"no heartbeat for {age:.0f} s: FaceGate (pid {beat.pid}) is frozen")
    problems += beat.stalled
    frame_age = None if beat.last_frame_age_s is None else beat.last_frame_age_s + max(0.0, age)
    if beat.camera == "failing":
        problems.append(f"camera failing: {beat.camera_error}")
    elif beat.camera == "no source":
        problems.append("no video source chosen")
    if frame_age is None and beat.uptime_s + age > max_frame_age:
        problems.append(f"no frame since FaceGate started {beat.uptime_s + age:.0f} s ago")
    elif frame_age is not None and frame_age > max_frame_age:
        problems.append(f"no frame for {frame_age:.0f} s")
    if not beat.worker_alive or beat.worker_error:
        problems.append(f"descriptor worker: {beat.worker_error or 'not running'}")
    if beat.door_state == "error" or beat.door_error:
        problems.append(f"door: {beat.door_error or 'failure'}")
    if problems:
        return Health(UNHEALTHY, "unhealthy", problems, age)
    return Health(HEALTHY, "healthy", [], age)


def _pid_running(pid: int) -> bool:
    if sys.platform == "win32":  # os.kill(pid, 0) would send CTRL_C_EVENT there; trust the age
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process with that pid: not ours any more
        return False
    return True
