"""The service manager's view of the real window, on a real notify socket the test binds (as
systemd does): READY=1 once the network camera's first frame is through, WATCHDOG=1 while the
frame loop, the descriptor worker and the window all live, and no WATCHDOG=1 while the frame
loop hangs in a read from a camera that stopped answering (SIGSTOP) or while the GUI thread is
blocked. `facegate status --json` says healthy, then unhealthy when the camera dies (the pings
go on then: restarting cannot bring a camera back), then not running after the stop.

The limits are shortened (a 2 s stalled frame loop, 3 s frozen window, 4 s for a descriptor) so that the camera's own
5 s read timeout is a hang here; the production limits are in core.service.monitor.Limits."""

from __future__ import annotations

import contextlib
import json
import socket
import subprocess
import sys
import threading
import time

from PySide6.QtCore import QTimer

from core.service.monitor import Limits
from gui.supervision import Supervision
from tests.support.camera import Camera, free_port
from tests.support.data import ROOT


class NotifySocket:
    """The service manager's end: every datagram received, with when it came."""

    def __init__(self, path) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(str(path))
        self.sock.settimeout(0.2)
        self.messages: list[tuple[float, str]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        while not self._stop.is_set():
            with contextlib.suppress(TimeoutError):
                self.messages.append((time.monotonic(), self.sock.recv(4096).decode()))

    def since(self, t: float, key: str) -> list[float]:
        """When messages carrying ``key`` (e.g. 'WATCHDOG=1') came after ``t``."""
        return [when for when, text in list(self.messages) if when >= t and key in text.splitlines()]

    def status_at(self, text: str) -> float | None:
        """When a STATUS line containing ``text`` first came."""
        return next((when for when, m in list(self.messages) if "STATUS=" in m and text in m), None)

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        self.sock.close()


def facegate_status(qtbot, db) -> tuple[int, dict]:
    """`facegate status --json` as a separate process; the window's event loop runs meanwhile."""
    proc = subprocess.Popen(
        [sys.executable, str(ROOT / "main.py"), "status", "--json", "--db", str(db)], stdout=subprocess.PIPE, text=True, cwd=ROOT
    )
    qtbot.waitUntil(lambda: proc.poll() is not None, timeout=120_000)
    return proc.returncode, json.loads(proc.stdout.read())


def longest_gap(times: list[float], start: float, end: float) -> float:
    """The longest time without a ping between start and end."""
    points = [start, *[t for t in times if start < t < end], end]
    return max(b - a for a, b in zip(points, points[1:], strict=False))


def test_ready_and_watchdog_follow_the_parts_alive(qtbot, live_window, tmp_path, monkeypatch):
    window, _ = live_window
    notify = NotifySocket(tmp_path / "notify")
    monkeypatch.setenv("NOTIFY_SOCKET", str(tmp_path / "notify"))
    monkeypatch.setenv("WATCHDOG_USEC", "2000000")
    # 4 frames a second: a loaded machine keeps up, so no backlog of frames sits in the socket
    # and a camera that stops sending is felt at once
    camera = Camera(free_port(), garbage=False, fps=4)
    camera.start(qtbot)
    supervision = Supervision(window, window.station, limits=Limits(frame_loop=2.0, gui=3.0, worker=4.0))
    db = window.gallery.store.path
    try:
        assert supervision.monitor.period == 0.5  # a quarter of WatchdogSec
        window.open_source(camera.url)
        supervision.start(catch_faults=False, handle_sigterm=False)
        qtbot.waitUntil(lambda: bool(notify.since(0, "READY=1")), timeout=60_000)
        ready = notify.since(0, "READY=1")[0]
        assert window.recognizer.frames > 0
        qtbot.wait(2500)
        assert len(notify.since(ready, "WATCHDOG=1")) >= 4
        code, health = facegate_status(qtbot, db)
        assert (code, health["state"]) == (0, "healthy"), health
        beat = health["heartbeat"]
        assert beat["camera"] == "running" and beat["source"] == camera.url and beat["fps"] > 0
        assert beat["worker_alive"] and beat["door_state"] == "locked" and beat["admin"] == "locked"

        # the camera hangs with the connection open (SIGSTOP): the frame loop sits in a read
        camera.hang()
        hung = time.monotonic()
        qtbot.waitUntil(lambda: notify.status_at("hung: the frame loop has not moved") is not None, timeout=20_000)
        stalled = notify.status_at("hung: the frame loop has not moved")
        assert stalled - hung >= 1.5  # the 2 s limit, counted from the last frame read (4 a second)
        qtbot.wait(1200)
        assert notify.since(stalled, "WATCHDOG=1") == []  # no ping while the loop is stuck
        camera.resume()
        qtbot.waitUntil(lambda: bool(notify.since(stalled, "WATCHDOG=1")), timeout=30_000)

        # the GUI thread blocked for 6 s: no ping from 3 s on, pings again once it runs
        blocked = time.monotonic()
        QTimer.singleShot(0, lambda: time.sleep(6))
        qtbot.wait(7000)
        frozen = notify.status_at("the window has not responded")
        assert frozen is not None and 2.0 <= frozen - blocked <= 6  # 3 s from the last tick, which may precede `blocked`
        assert longest_gap(notify.since(blocked, "WATCHDOG=1"), blocked, blocked + 6) >= 2.5
        qtbot.waitUntil(lambda: bool(notify.since(blocked + 6.2, "WATCHDOG=1")), timeout=10_000)

        # the camera dies: unhealthy, but the app is alive and keeps retrying (pings go on)
        camera.die()
        qtbot.waitUntil(lambda: window.worker.problem is not None, timeout=30_000)
        died = time.monotonic()
        qtbot.wait(1500)  # the heartbeat is rewritten once a second: let it carry the failure
        code, health = facegate_status(qtbot, db)
        assert code == 1 and health["state"] == "unhealthy", health
        assert any("camera failing" in p for p in health["problems"]), health["problems"]
        # longer than every limit (the worker's too: a descriptor answered but not collected, for
        # want of frames, is not a hung worker): the pings never pause
        qtbot.wait(max(0, int((died + 6 - time.monotonic()) * 1000)))
        assert longest_gap(notify.since(died, "WATCHDOG=1"), died, died + 6) < 1.5
    finally:
        camera.stop()
    supervision.stop("the test is over")
    assert notify.since(0, "STOPPING=1")
    code, health = facegate_status(qtbot, db)
    assert (code, health["state"]) == (3, "stopped") and "the test is over" in health["problems"][0]
    notify.close()
