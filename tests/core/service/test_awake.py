"""Keeping the screen on over D-Bus, on a real (private) session bus: the desktop's idle
inhibitors (org.freedesktop.ScreenSaver for KDE/Xfce/..., org.gnome.SessionManager for GNOME)
are played by tests/support/desktop_idle.py with the system's dbus-python, as a desktop session
would serve them. Each is asked once and released with its own cookie; with no session bus at
all nothing is asked and nothing fails. (The X11 half runs on Xvfb in tests/gui/test_gui_kiosk.py.)"""

from __future__ import annotations

import json
import os
import subprocess

from core.service.awake import ScreenAwake
from tests.support.data import SUPPORT


def test_the_desktop_is_asked_to_stay_awake_then_released(monkeypatch):
    bus = subprocess.Popen(
        ["dbus-daemon", "--session", "--nofork", "--nopidfile", "--print-address=1"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    desktop = None
    try:
        address = bus.stdout.readline().strip()
        monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", address)
        desktop = subprocess.Popen(
            ["/usr/bin/python3", str(SUPPORT / "desktop_idle.py")],
            stdout=subprocess.PIPE,
            text=True,
            env={**os.environ, "DBUS_SESSION_BUS_ADDRESS": address},
        )
        assert json.loads(desktop.stdout.readline())["ready"]
        awake = ScreenAwake(x11=False)
        assert awake.start() == ["org.freedesktop.ScreenSaver.Inhibit", "org.gnome.SessionManager.Inhibit"]
        awake.stop()
        calls = [json.loads(desktop.stdout.readline()) for _ in range(4)]
    finally:
        for process in (desktop, bus):
            if process is not None:
                process.kill()
                process.wait()
    inhibit_fd, inhibit_gnome, release_fd, release_gnome = calls
    assert inhibit_fd["method"] == "Inhibit" and inhibit_fd["args"][0] == "FaceGate"
    assert inhibit_gnome["args"][0] == "FaceGate" and inhibit_gnome["args"][3] == 8  # 8: inhibit idle
    assert release_fd == {"interface": "org.freedesktop.ScreenSaver", "method": "UnInhibit", "args": [inhibit_fd["cookie"]]}
    assert release_gnome == {"interface": "org.gnome.SessionManager", "method": "Uninhibit", "args": [inhibit_gnome["cookie"]]}


def test_without_a_session_bus_nothing_is_asked(monkeypatch, tmp_path):
    monkeypatch.delenv("DBUS_SESSION_BUS_ADDRESS", raising=False)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path))  # no bus socket there
    awake = ScreenAwake(x11=False)
    assert awake.start() == []
    awake.stop()
