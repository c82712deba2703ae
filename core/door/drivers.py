"""The door drivers: simulated, a serial USB relay, an HTTP smart lock, any command, and (built
here, written in core.door.osdp) a card reader on an access panel's OSDP bus.

Each says only how to switch (``switch_open``, ``switch_locked``, ``release``); pulses, cooldown
and fail-secure locking are core.door.base's Door.
"""

from __future__ import annotations

import contextlib
import shlex
import subprocess
import time
import urllib.error
import urllib.request
from typing import Any

from core.door.base import LCUS_OFF, LCUS_ON, Door, DoorError, DoorSettings, hex_bytes, parse_headers


class SimulatedDoor(Door):
    """No hardware: the state is shown by the window's indicator. ``history`` keeps each switch."""

    driver = "simulated"

    def __init__(self, pulse_seconds: float = 3.0, cooldown_seconds: float = 5.0) -> None:
        super().__init__(pulse_seconds, cooldown_seconds)
        self.history: list[tuple[float, str]] = []

    def switch_open(self) -> None:
        self.history.append((time.monotonic(), "open"))

    def switch_locked(self) -> None:
        if not self.history or self.history[-1][1] != "lock":
            self.history.append((time.monotonic(), "lock"))


class SerialRelay(Door):
    """A USB relay board on a serial port that takes one command for on and one for off."""

    driver = "serial"

    def __init__(
        self,
        port: str,
        baud: int = 9600,
        on: bytes = hex_bytes(LCUS_ON),
        off: bytes = hex_bytes(LCUS_OFF),
        pulse_seconds: float = 3.0,
        cooldown_seconds: float = 5.0,
    ) -> None:
        super().__init__(pulse_seconds, cooldown_seconds)
        self.port, self.baud, self.on, self.off = port, baud, on, off
        self._serial: Any = None  # a serial.Serial once opened (pyserial is imported only when used)

    def _send(self, data: bytes) -> None:
        import serial

        try:
            if self._serial is None:
                self._serial = serial.Serial(self.port, self.baud, timeout=1, write_timeout=1)
            self._serial.write(data)
            self._serial.flush()
        except (serial.SerialException, OSError) as exc:
            self.release()  # reopen next time: the board may have been replugged
            raise DoorError(f"serial relay {self.port}: {exc}") from None

    def switch_open(self) -> None:
        self._send(self.on)

    def switch_locked(self) -> None:
        self._send(self.off)

    def release(self) -> None:
        if self._serial is not None:
            with contextlib.suppress(Exception):
                self._serial.close()
            self._serial = None


class HttpDoor(Door):
    """A smart lock or home-automation endpoint: one request to unlock, optionally one to lock."""

    driver = "http"

    def __init__(
        self,
        unlock_url: str,
        lock_url: str = "",
        method: str = "POST",
        body: str = "",
        headers: dict[str, str] | None = None,
        timeout: float = 3.0,
        pulse_seconds: float = 3.0,
        cooldown_seconds: float = 5.0,
    ) -> None:
        super().__init__(pulse_seconds, cooldown_seconds)
        self.unlock_url, self.lock_url = unlock_url, lock_url
        self.method, self.body, self.headers, self.timeout = method.upper(), body, headers or {}, timeout

    def _request(self, url: str) -> None:
        data = self.body.encode() if self.body and self.method != "GET" else None
        request = urllib.request.Request(url, data=data, method=self.method, headers=self.headers)
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as reply:
                reply.read(65536)
        except urllib.error.HTTPError as exc:
            raise DoorError(f"{url} answered {exc.code} {exc.reason}") from None
        except (urllib.error.URLError, OSError) as exc:
            raise DoorError(f"{url}: {getattr(exc, 'reason', exc)}") from None

    def switch_open(self) -> None:
        self._request(self.unlock_url)

    def switch_locked(self) -> None:
        if self.lock_url:
            self._request(self.lock_url)


class CommandDoor(Door):
    """Any program: a GPIO tool, a home-automation CLI. A non-zero exit status is a failure."""

    driver = "command"

    def __init__(
        self, unlock: str, lock: str = "", timeout: float = 5.0, pulse_seconds: float = 3.0, cooldown_seconds: float = 5.0
    ) -> None:
        super().__init__(pulse_seconds, cooldown_seconds)
        self.unlock_command, self.lock_command, self.timeout = unlock, lock, timeout

    def _run_command(self, command: str) -> None:
        try:
            done = subprocess.run(shlex.split(command), capture_output=True, text=True, timeout=self.timeout)
        except (OSError, ValueError) as exc:
            raise DoorError(f"cannot run {command!r}: {exc}") from None
        except subprocess.TimeoutExpired:
            raise DoorError(f"{command!r} did not finish within {self.timeout:.0f} s") from None
        if done.returncode != 0:
            tail = (done.stderr or done.stdout).strip().splitlines()[-1:] or [""]
            raise DoorError(f"{command!r} exited with status {done.returncode} {tail[0]}".rstrip())

    def switch_open(self) -> None:
        self._run_command(self.unlock_command)

    def switch_locked(self) -> None:
        if self.lock_command:
            self._run_command(self.lock_command)


def build_driver(settings: DoorSettings) -> Door:
    """The driver itself, in this process (the guard process uses this too)."""
    settings.check()
    timing = {"pulse_seconds": settings.pulse_seconds, "cooldown_seconds": settings.cooldown_seconds}
    if settings.driver == "serial":
        return SerialRelay(
            settings.serial_port, settings.serial_baud, hex_bytes(settings.serial_on), hex_bytes(settings.serial_off), **timing
        )
    if settings.driver == "http":
        return HttpDoor(
            settings.http_unlock_url,
            settings.http_lock_url,
            settings.http_method,
            settings.http_body,
            parse_headers(settings.http_headers),
            settings.http_timeout,
            **timing,
        )
    if settings.driver == "command":
        return CommandDoor(settings.command_unlock, settings.command_lock, settings.command_timeout, **timing)
    if settings.driver == "osdp":
        from core.door.base import scbk_bytes
        from core.door.osdp import OsdpReader

        return OsdpReader(
            settings.osdp_port,
            scbk_bytes(settings.osdp_scbk),
            settings.osdp_address,
            settings.osdp_baud,
            settings.osdp_format,
            settings.osdp_facility,
            settings.osdp_raw_bits,
            settings.osdp_offline_seconds,
            **timing,
        )
    return SimulatedDoor(**timing)
