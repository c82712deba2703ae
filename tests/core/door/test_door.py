"""Door drivers against real endpoints: a pseudo-terminal pair for the serial relay, a local HTTP
server, real commands; pulses, cooldown, fail-secure on errors, on close, and on SIGKILL."""

from __future__ import annotations

import http.server
import os
import select
import signal
import subprocess
import sys
import threading
import time
import tty

import psutil
import pytest

from core.door import make_door, start_door
from core.door.base import LCUS_OFF, LCUS_ON, DoorSettings, hex_bytes
from core.door.drivers import CommandDoor, HttpDoor, SerialRelay, SimulatedDoor
from core.door.guard import GuardedDoor
from tests.support.data import ROOT

ON, OFF = hex_bytes(LCUS_ON), hex_bytes(LCUS_OFF)


@pytest.fixture
def pty_pair():
    """(master fd, slave path): the relay board's side is the master; the driver opens the slave."""
    master, slave = os.openpty()
    tty.setraw(slave)
    yield master, os.ttyname(slave)
    os.close(master)
    os.close(slave)


def read_bytes(master: int, count: int, timeout: float = 10.0) -> bytes:
    got = b""
    deadline = time.monotonic() + timeout
    while len(got) < count and time.monotonic() < deadline:
        ready, _, _ = select.select([master], [], [], max(0.0, deadline - time.monotonic()))
        if ready:
            got += os.read(master, 1024)
    return got


def commands(data: bytes) -> list[str]:
    """The 4-byte relay commands in ``data`` as 'on'/'off' (anything else fails the test)."""
    names = {ON: "on", OFF: "off"}
    chunks = [data[i : i + 4] for i in range(0, len(data), 4)]
    assert all(c in names for c in chunks), data.hex()
    return [names[c] for c in chunks]


def wait_for(predicate, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return predicate()


def test_serial_relay_pulses_on_then_off_and_respects_cooldown(pty_pair):
    master, port = pty_pair
    door = SerialRelay(port, pulse_seconds=0.3, cooldown_seconds=30)
    try:
        assert door.unlock() == "unlocking"
        assert read_bytes(master, 12) == OFF + ON + OFF  # locks at start, one pulse, locked again
        assert door.unlock().startswith("cooldown")
        assert read_bytes(master, 1, timeout=0.8) == b""  # nothing sent during the cooldown
        assert door.status().state == "locked" and door.pulses == 1
    finally:
        door.close()
    assert read_bytes(master, 4, timeout=2) == OFF  # and locks on close


def test_serial_relay_with_custom_command_bytes(pty_pair):
    master, port = pty_pair
    settings = DoorSettings(
        driver="serial", serial_port=port, serial_on="FF 01 01", serial_off="ff0100", pulse_seconds=0.2, guard=False
    )
    door = make_door(settings)
    try:
        door.unlock()
        assert read_bytes(master, 9) == bytes.fromhex("FF0100 FF0101 FF0100")
    finally:
        door.close()


def test_guarded_serial_relay_locks_at_start_and_after_pulse(pty_pair):
    master, port = pty_pair
    door = make_door(DoorSettings(driver="serial", serial_port=port, pulse_seconds=0.3))
    assert isinstance(door, GuardedDoor)
    try:
        assert read_bytes(master, 4) == OFF  # the guard locks as it starts
        door.unlock()
        assert read_bytes(master, 8) == ON + OFF
        assert wait_for(lambda: door.status().state == "locked")
    finally:
        door.close()
    assert not psutil.pid_exists(door.guard_pid) or psutil.Process(door.guard_pid).status() == psutil.STATUS_ZOMBIE


def test_close_during_a_pulse_locks_at_once(pty_pair):
    master, port = pty_pair
    door = SerialRelay(port, pulse_seconds=30)
    door.unlock()
    assert read_bytes(master, 8) == OFF + ON
    started = time.monotonic()
    door.close()
    assert set(commands(read_bytes(master, 8, timeout=2))) == {"off"}
    assert time.monotonic() - started < 5


def test_serial_error_is_fail_secure_and_reported(tmp_path):
    seen = []
    door = SerialRelay(str(tmp_path / "no-such-port"), pulse_seconds=0.2)
    door.add_listener(seen.append)
    try:
        door.unlock()
        assert wait_for(lambda: door.status().state == "error" and "could not unlock" in (door.error or ""))
        assert "no-such-port" in door.error
        assert door.pulses == 0
        assert seen and seen[-1].state == "error"
    finally:
        door.close()


def test_kill_while_open_leaves_the_door_locked(pty_pair):
    """SIGKILL the app mid-pulse: the guard sees its parent's pipe close and sends OFF."""
    master, port = pty_pair
    app = subprocess.Popen(
        [
            sys.executable,
            "-c",
            (
                "import sys, time\n"
                "from core.door import DoorSettings, make_door\n"
                f"door = make_door(DoorSettings(driver='serial', serial_port={port!r}, pulse_seconds=60))\n"
                "door.unlock()\n"
                "while door.status().state != 'open': time.sleep(0.01)\n"
                "print(door.guard_pid, flush=True)\n"
                "time.sleep(120)\n"
            ),
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        guard_pid = int(app.stdout.readline())
        seen = commands(read_bytes(master, 64, timeout=1.0))
        assert seen[-1] == "on" and seen.count("on") == 1  # the door is open now, for 60 s
        app.send_signal(signal.SIGKILL)
        app.wait(timeout=10)
        assert read_bytes(master, 4, timeout=5) == OFF  # locked within seconds, not after 60 s
        assert wait_for(lambda: not psutil.pid_exists(guard_pid) or psutil.Process(guard_pid).status() == psutil.STATUS_ZOMBIE)
    finally:
        if app.poll() is None:
            app.kill()
            app.wait()


class _LockServer(http.server.BaseHTTPRequestHandler):
    calls: list = []
    fail_unlock = False

    def do_POST(self):  # noqa: N802 - http.server's naming
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
        type(self).calls.append((self.path, body, self.headers.get("X-Token")))
        status = 500 if self.path == "/unlock" and type(self).fail_unlock else 200
        self.send_response(status)
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args):
        pass


@pytest.fixture
def lock_server():
    _LockServer.calls = []
    _LockServer.fail_unlock = False
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _LockServer)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", _LockServer
    server.shutdown()
    server.server_close()
    thread.join()


def test_http_driver_sends_unlock_then_lock(lock_server):
    base, handler = lock_server
    door = make_door(
        DoorSettings(
            driver="http",
            http_unlock_url=base + "/unlock",
            http_lock_url=base + "/lock",
            http_body='{"door": 1}',
            http_headers="X-Token: s3cret",
            pulse_seconds=0.2,
        )
    )
    try:
        assert wait_for(lambda: [c[0] for c in handler.calls] == ["/lock"])  # resting state at start
        door.unlock()
        assert wait_for(lambda: [c[0] for c in handler.calls] == ["/lock", "/unlock", "/lock"])
        assert handler.calls[1] == ("/unlock", '{"door": 1}', "s3cret")
        assert door.pulses == 1 and door.error is None
    finally:
        door.close()


def test_http_error_is_shown_and_door_is_locked(lock_server):
    base, handler = lock_server
    handler.fail_unlock = True
    door = HttpDoor(base + "/unlock", base + "/lock", pulse_seconds=0.2)
    try:
        door.unlock()
        assert wait_for(lambda: door.error is not None and "500" in door.error)
        assert wait_for(lambda: [c[0] for c in handler.calls][-1:] == ["/lock"])
        assert door.pulses == 0
    finally:
        door.close()


def test_http_unreachable_is_an_error(lock_server):
    base, _ = lock_server
    door = HttpDoor("http://127.0.0.1:9/unlock", timeout=1, pulse_seconds=0.2)
    try:
        door.unlock()
        assert wait_for(lambda: door.error is not None)
        assert "127.0.0.1:9" in door.error and door.status().state == "locked" and door.pulses == 0
    finally:
        door.close()


def test_command_driver_runs_commands_and_reports_failure(tmp_path):
    journal = tmp_path / "journal.txt"
    write = f"{sys.executable} -c \"import sys; open({str(journal)!r}, 'a').write(sys.argv[1] + '\\n')\""
    door = CommandDoor(f"{write} open", f"{write} lock", pulse_seconds=0.2)
    try:
        door.unlock()
        assert wait_for(lambda: journal.exists() and journal.read_text().split() == ["lock", "open", "lock"])
    finally:
        door.close()

    failing = CommandDoor(f"{sys.executable} -c \"import sys; sys.exit('relay jammed')\"", f"{write} lock", pulse_seconds=0.2)
    try:
        failing.unlock()
        assert wait_for(lambda: failing.error is not None and "relay jammed" in failing.error)
        assert journal.read_text().split()[-1] == "lock" and failing.pulses == 0
    finally:
        failing.close()


def test_settings_refuse_what_cannot_work_and_round_trip():
    for bad, word in [
        (DoorSettings(driver="relay"), "relay"),
        (DoorSettings(driver="serial"), "port"),
        (DoorSettings(driver="serial", serial_port="/dev/x", serial_on="A0 0G"), "serial_on"),
        (DoorSettings(driver="http", http_unlock_url="ftp://x"), "http_unlock_url"),
        (DoorSettings(driver="command"), "unlock command"),
        (DoorSettings(pulse_seconds=0), "pulse"),
    ]:
        with pytest.raises(ValueError, match=word):
            bad.check()
    settings = DoorSettings(driver="http", http_unlock_url="http://lock/open", pulse_seconds=2.5)
    assert DoorSettings.from_json(settings.to_json()) == settings


def test_a_door_that_cannot_start_is_replaced_by_a_simulated_one_saying_why():
    door, problem = start_door(DoorSettings(driver="serial", serial_port=""))
    try:
        assert isinstance(door, SimulatedDoor) and problem is not None
        assert problem.startswith("the serial door could not start: ") and "needs a port" in problem
        assert door.error == problem and door.unlock() == "unlocking"  # the window keeps a door to show
    finally:
        door.close()
    door, problem = start_door(DoorSettings(pulse_seconds=1.5))
    try:
        assert isinstance(door, SimulatedDoor) and problem is None and door.pulse_seconds == 1.5
    finally:
        door.close()
