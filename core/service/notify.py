"""sd_notify(3) without libsystemd: messages to the service manager over $NOTIFY_SOCKET.

systemd gives a Type=notify service the address of a datagram socket in NOTIFY_SOCKET: a path,
or an abstract socket name written with a leading '@'. A message is one datagram of
newline-separated KEY=VALUE lines: READY=1 (started), WATCHDOG=1 (still alive),
EXTEND_TIMEOUT_USEC=N (still starting: give me N µs more), STATUS=text (shown by
`systemctl status`), STOPPING=1. WATCHDOG_USEC says how often WATCHDOG=1 is expected, and
WATCHDOG_PID from which process. Outside a service (no NOTIFY_SOCKET) every call does nothing,
so the app runs the same by hand.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections.abc import Mapping

log = logging.getLogger("facegate.service")


def socket_address(value: str) -> str | None:
    """The address to send to: a path as is, '@name' as the abstract name (leading NUL);
    None for anything else (unset, or a transport this module does not speak, e.g. vsock:)."""
    if value.startswith("@") and len(value) > 1:
        return "\0" + value[1:]
    if value.startswith("/"):
        return value
    return None


class Notifier:
    """Sends sd_notify messages; safe to call from any thread, silent when not under a manager."""

    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        env = os.environ if environ is None else environ
        self.address = socket_address(env.get("NOTIFY_SOCKET", ""))
        self.watchdog_seconds = _watchdog_seconds(env)
        self._socket: socket.socket | None = None
        self._lock = threading.Lock()
        self._failed = False

    @property
    def enabled(self) -> bool:
        return self.address is not None

    def send(self, **fields: object) -> bool:
        """Send one message, e.g. send(READY=1, STATUS="watching camera 0"); True when sent."""
        if self.address is None:
            return False
        text = "\n".join(f"{key}={str(value).replace(chr(10), ' ')}" for key, value in fields.items())
        with self._lock:
            try:
                if self._socket is None:
                    self._socket = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC)
                self._socket.sendto(text.encode("utf-8"), self.address)
            except OSError as exc:  # the manager went away (or never was): say so once
                if not self._failed:
                    log.warning("cannot reach the service manager at %r: %s", self.address, exc)
                self._failed = True
                return False
        self._failed = False
        return True

    def close(self) -> None:
        with self._lock:
            if self._socket is not None:
                self._socket.close()
                self._socket = None


def _watchdog_seconds(env: Mapping[str, str]) -> float | None:
    """WatchdogSec= as seconds when the watchdog is meant for this process, else None."""
    try:
        usec = int(env.get("WATCHDOG_USEC", "0"))
    except ValueError:
        return None
    pid = env.get("WATCHDOG_PID")
    if usec <= 0 or (pid and pid != str(os.getpid())):
        return None
    return usec / 1e6
