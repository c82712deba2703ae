"""sd_notify over a real datagram socket the test binds, as systemd does: a path and an
abstract name (@...), WATCHDOG_USEC/WATCHDOG_PID, and silence outside a service manager."""

from __future__ import annotations

import os
import socket

from core.service.notify import Notifier


def _listen(address: str) -> socket.socket:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(address)
    sock.settimeout(5)
    return sock


def test_messages_reach_a_path_socket(tmp_path):
    path = str(tmp_path / "notify")
    with _listen(path) as sock:
        notifier = Notifier({"NOTIFY_SOCKET": path})
        assert notifier.send(READY=1, STATUS="watching camera 0\nnext line")
        assert sock.recv(4096).decode() == "READY=1\nSTATUS=watching camera 0 next line"
        assert notifier.send(WATCHDOG=1)
        assert sock.recv(4096) == b"WATCHDOG=1"
        notifier.close()


def test_messages_reach_an_abstract_socket():
    name = f"facegate-test-{os.getpid()}"
    with _listen("\0" + name) as sock:
        notifier = Notifier({"NOTIFY_SOCKET": "@" + name})
        assert notifier.send(READY=1)
        assert sock.recv(4096) == b"READY=1"
        notifier.close()


def test_a_gone_manager_is_reported_not_raised(tmp_path, caplog):
    notifier = Notifier({"NOTIFY_SOCKET": str(tmp_path / "nobody")})
    assert notifier.send(WATCHDOG=1) is False
    assert notifier.send(WATCHDOG=1) is False
    assert sum("cannot reach the service manager" in r.message for r in caplog.records) == 1


def test_outside_a_service_nothing_is_sent():
    notifier = Notifier({})
    assert not notifier.enabled and notifier.send(READY=1) is False
    assert Notifier({"NOTIFY_SOCKET": "vsock:2:1234"}).enabled is False


def test_watchdog_interval_is_for_this_process_only():
    assert Notifier({"WATCHDOG_USEC": "20000000"}).watchdog_seconds == 20.0
    assert Notifier({"WATCHDOG_USEC": "20000000", "WATCHDOG_PID": str(os.getpid())}).watchdog_seconds == 20.0
    assert Notifier({"WATCHDOG_USEC": "20000000", "WATCHDOG_PID": "1"}).watchdog_seconds is None
    assert Notifier({"WATCHDOG_USEC": "bad"}).watchdog_seconds is None
