"""The heartbeat file and what `facegate status` concludes from it: written atomically and
owner-only, read back whole or not at all, and judged healthy, unhealthy (why), stopped or not
running - on this PC's real boot id and processes."""

from __future__ import annotations

import stat
import subprocess
import sys
import time

from core.service import heartbeat
from core.service.heartbeat import HEALTHY, NOT_RUNNING, UNHEALTHY, judge
from tests.support.health import beat


def test_written_atomically_owner_only_and_read_back(tmp_path):
    path = heartbeat.heartbeat_path(tmp_path / "gallery.db")
    assert path.name == "gallery.db.heartbeat"
    written = beat()
    heartbeat.write(path, written)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert heartbeat.read(path) == written
    assert [p.name for p in tmp_path.iterdir()] == [path.name]  # no temporary file left behind
    path.write_text(path.read_text()[:40])  # torn (a power cut on a file system without rename order)
    assert heartbeat.read(path) is None
    assert heartbeat.read(tmp_path / "none") is None


def test_judged_healthy_when_everything_moves():
    health = judge(beat())
    assert (health.code, health.state, health.problems) == (HEALTHY, "healthy", [])


def test_judged_unhealthy_with_the_reason():
    cases = {
        "frozen": beat(written_monotonic=time.monotonic() - 30),
        "camera failing: camera 0: not connected": beat(camera="failing", camera_error="camera 0: not connected"),
        "no frame for 25 s": beat(last_frame_age_s=25.0),
        "no frame since FaceGate started": beat(frames=0, last_frame_age_s=None, camera="opening"),
        "the frame loop has not moved for 16 s": beat(alive=False, stalled=["the frame loop has not moved for 16 s"]),
        "descriptor worker: gave up": beat(worker_alive=False, worker_error="gave up"),
        "door: could not lock: port gone": beat(door_state="error", door_error="could not lock: port gone"),
    }
    for expected, b in cases.items():
        health = judge(b)
        assert health.code == UNHEALTHY and health.state == "unhealthy", expected
        assert any(expected in p for p in health.problems), (expected, health.problems)
    assert judge(beat(last_frame_age_s=25.0), max_frame_age=30).code == HEALTHY


def test_judged_not_running():
    assert judge(None).code == NOT_RUNNING
    stopped = judge(beat(stopped=heartbeat.now_iso(), stop_reason="closed by the admin"))
    assert (stopped.code, stopped.state) == (NOT_RUNNING, "stopped") and "closed by the admin" in stopped.problems[0]
    other_boot = judge(beat(boot_id="00000000-0000-0000-0000-000000000000"))
    assert other_boot.code == NOT_RUNNING and "before the PC restarted" in other_boot.problems[0]
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    dead = judge(beat(pid=gone.pid))
    assert dead.code == NOT_RUNNING and "ended without stopping" in dead.problems[0]
