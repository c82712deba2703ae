"""The door output's common part: settings, the Door interface, the pulse and fail-secure logic.

An unlock is a *pulse*: open, wait ``pulse_seconds``, lock again; a new pulse is refused for
``cooldown_seconds`` after one ends. The resting state is locked: every driver is sent its lock
command when it starts, after every pulse, on close and at interpreter exit, and after any
failure. Pulses run on the door's own thread, so a slow HTTP lock or a stuck serial port never
stalls the video loop; failures are reported to listeners (the window shows them, the access
log records them) and to the ``facegate.door`` logger.

A driver (core.door.drivers) only says how to switch: ``switch_open``, ``switch_locked`` and
``release``; the guard process (core.door.guard) calls the same three.
"""

from __future__ import annotations

import atexit
import logging
import queue
import threading
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar

from core.gallery.stored_settings import StoredSettings

log = logging.getLogger("facegate.door")

DRIVERS = ("simulated", "serial", "http", "command", "osdp")
#: The common LCUS-1 style USB relay: A0 <relay> <state> <checksum>.
LCUS_ON = "A0 01 01 A2"
LCUS_OFF = "A0 01 00 A1"


class DoorError(Exception):
    """A driver could not switch the lock; the message says which device and why."""


@dataclass
class DoorSettings(StoredSettings):
    """Which driver, its parameters, and the pulse timing. Stored in the gallery as JSON."""

    KEY: ClassVar[str] = "door"

    driver: str = "simulated"
    pulse_seconds: float = 3.0
    cooldown_seconds: float = 5.0
    guard: bool = True  # real drivers run inside the fail-secure guard process
    serial_port: str = ""
    serial_baud: int = 9600
    serial_on: str = LCUS_ON  # hex bytes, spaces allowed
    serial_off: str = LCUS_OFF
    http_unlock_url: str = ""
    http_lock_url: str = ""  # empty: the lock relocks itself (most smart locks' "pulse" mode)
    http_method: str = "POST"
    http_body: str = ""
    http_headers: str = ""  # "Name: value" per line
    http_timeout: float = 3.0
    command_unlock: str = ""
    command_lock: str = ""
    command_timeout: float = 5.0
    # osdp: FaceGate as a card reader on an access panel's RS-485 bus (core.door.osdp)
    osdp_port: str = ""
    osdp_baud: int = 9600
    osdp_address: int = 1  # the reader's address on the bus, as the panel is told
    osdp_scbk: str = ""  # the secure channel base key, 16 bytes in hex, as the panel is told
    osdp_format: str = "h10301"  # core.door.card_formats.FORMATS
    osdp_facility: int = 0
    osdp_raw_bits: int = 32
    osdp_offline_seconds: float = 3.0  # the panel silent this long: shown offline, nothing sent

    def check(self) -> None:
        """Refuse settings that cannot work, naming the field; raises ValueError."""
        if self.driver not in DRIVERS:
            raise ValueError(f"door driver {self.driver!r} is not one of {', '.join(DRIVERS)}")
        if not 0 < self.pulse_seconds <= 60:
            raise ValueError(f"door pulse {self.pulse_seconds} s must be between 0 and 60 s")
        if self.cooldown_seconds < 0:
            raise ValueError("door cooldown cannot be negative")
        if self.driver == "serial":
            if not self.serial_port:
                raise ValueError("the serial relay needs a port (e.g. /dev/ttyUSB0 or COM3)")
            hex_bytes(self.serial_on, "serial_on")
            hex_bytes(self.serial_off, "serial_off")
        if self.driver == "http":
            for name in ("http_unlock_url", "http_lock_url"):
                url = getattr(self, name)
                if (url or name == "http_unlock_url") and not url.startswith(("http://", "https://")):
                    raise ValueError(f"{name} {url!r} must start with http:// or https://")
            parse_headers(self.http_headers)
        if self.driver == "command" and not self.command_unlock.strip():
            raise ValueError("the command driver needs an unlock command")
        if self.driver == "osdp":
            self._check_osdp()

    def _check_osdp(self) -> None:
        from core.door.card_formats import check_layout

        if not self.osdp_port:
            raise ValueError("the OSDP reader needs a serial port (the RS-485 adapter, e.g. /dev/ttyUSB0 or COM3)")
        if not 0 <= self.osdp_address <= 126:
            raise ValueError(f"OSDP reader address {self.osdp_address} must be between 0 and 126")
        if self.osdp_baud not in OSDP_BAUDS:
            raise ValueError(f"OSDP baud rate {self.osdp_baud} must be one of {', '.join(map(str, OSDP_BAUDS))}")
        scbk_bytes(self.osdp_scbk)
        check_layout(self.osdp_format, self.osdp_facility, self.osdp_raw_bits)
        if not 0.5 <= self.osdp_offline_seconds <= 60:
            raise ValueError("the panel's offline time must be between 0.5 and 60 s")


#: The speeds OSDP panels use (the standard's list).
OSDP_BAUDS = (9600, 19200, 38400, 57600, 115200, 230400)


def scbk_bytes(text: str) -> bytes:
    """The secure channel base key: 16 bytes of hex. The reader never runs without one, so the
    panel's card reads are never sent in clear."""
    try:
        key = bytes.fromhex(text.replace(" ", "").replace(":", ""))
    except ValueError:
        key = b""
    if len(key) != 16:
        raise ValueError("the OSDP secure channel key (SCBK) must be 16 bytes in hex (32 hex digits), as the panel is told")
    return key


def hex_bytes(text: str, field_name: str = "bytes") -> bytes:
    try:
        data = bytes.fromhex(text.replace(" ", "").replace(",", ""))
    except ValueError:
        raise ValueError(f"{field_name} {text!r} is not hex bytes (like 'A0 01 01 A2')") from None
    if not data:
        raise ValueError(f"{field_name} is empty")
    return data


def parse_headers(text: str) -> dict[str, str]:
    headers = {}
    for line in text.splitlines():
        if line.strip():
            name, sep, value = line.partition(":")
            if not sep or not name.strip():
                raise ValueError(f"HTTP header line {line!r} must look like 'Name: value'")
            headers[name.strip()] = value.strip()
    return headers


@dataclass(frozen=True)
class Holder:
    """Whom a grant is for: what a door output that reports people (a card reader) sends."""

    person_id: int
    name: str
    card: str | None  # the credential number (decimal), None: the person has none


@dataclass(frozen=True)
class DoorStatus:
    """What the window shows: locked / open / error, and the last failure in words."""

    state: str
    error: str | None
    pulses: int


class Door:
    """The pulse, cooldown and fail-secure logic; drivers only say how to open and lock."""

    driver = "abstract"
    lock_at_start = True
    lock_retry_pauses = (0.2, 0.5)  # s between the attempts to lock (a replugged USB board, a busy lock)

    def __init__(self, pulse_seconds: float = 3.0, cooldown_seconds: float = 5.0) -> None:
        self.pulse_seconds = pulse_seconds
        self.cooldown_seconds = cooldown_seconds
        self.state = "locked"
        self.error: str | None = None
        self.pulses = 0
        self._listeners: list[Callable[[DoorStatus], None]] = []
        self._lock = threading.Lock()
        self._jobs: queue.Queue = queue.Queue()
        self._stop = threading.Event()
        self._busy_until = 0.0
        self._thread: threading.Thread | None = None
        self._closed = False
        _OPEN_DOORS.add(self)

    # -- what callers use ---------------------------------------------------------------------------
    def start(self) -> None:
        """Lock (the resting state) and start the pulse thread. Safe to call twice."""
        with self._lock:
            if self._thread is not None:
                return
            self._thread = threading.Thread(target=self._run, name=f"door-{self.driver}", daemon=True)
            self._thread.start()
        if self.lock_at_start:
            self._jobs.put("lock")

    def unlock(self, holder: Holder | None = None) -> str:
        """Ask for one pulse (for ``holder``, granted by a face; None: a manual unlock); returns at
        once: 'unlocking', 'cooldown (N s left)' or 'error: ...'."""
        self.start()
        with self._lock:
            if self._closed:
                return "error: the door output is closed"
            now = time.monotonic()
            if now < self._busy_until:
                return f"cooldown ({self._busy_until - now:.1f} s left)"
            self._busy_until = now + self.pulse_seconds + self.cooldown_seconds
        self._jobs.put(("pulse", holder))
        return "unlocking"

    def status(self) -> DoorStatus:
        return DoorStatus(self.state, self.error, self.pulses)

    def add_listener(self, callback: Callable[[DoorStatus], None]) -> None:
        """Called (from the door thread) whenever the state or error changes."""
        self._listeners.append(callback)

    def close(self) -> None:
        """End any pulse, lock, stop the thread and release the device."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
        self._stop.set()
        thread = self._thread
        if thread is not None:
            self._jobs.put("quit")
            thread.join(timeout=self.pulse_seconds + 15)
        self._safe_lock()  # whether or not the thread got there: locked is the state we leave
        self.release()
        _OPEN_DOORS.discard(self)

    def __enter__(self) -> Door:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- the pulse thread ---------------------------------------------------------------------------
    def _run(self) -> None:
        while True:
            job = self._jobs.get()
            if job == "quit":
                return
            if job == "lock":
                self._safe_lock()
            elif job[0] == "pulse" and not self._stop.is_set():
                self._pulse(job[1])

    def _pulse(self, holder: Holder | None) -> None:
        try:
            self.open_for(holder)
        except Exception as exc:
            self._fail(f"could not unlock: {exc}")
            self._safe_lock()
            return
        self.pulses += 1
        self._set_state("open", None)
        log.info("door %s open for %.1f s", self.driver, self.pulse_seconds)
        self._stop.wait(self.pulse_seconds)
        self._safe_lock()

    def _safe_lock(self) -> bool:
        """Lock, retrying: a lock command that fails is the one failure that matters most."""
        last = None
        for pause in (*self.lock_retry_pauses, None):
            try:
                self.switch_locked()
            except Exception as exc:
                last = exc
                if pause is not None:
                    time.sleep(pause)
                continue
            if self.state != "locked":  # a failure stays on show until the next good pulse
                self._set_state("locked", self.error if self.state == "error" else None)
            return True
        self._fail(f"could not lock: {last}")
        return False

    def _fail(self, message: str) -> None:
        log.error("door %s: %s", self.driver, message)
        self._set_state("error", message)

    def _set_state(self, state: str, error: str | None) -> None:
        self.state, self.error = state, error
        status = self.status()
        for callback in list(self._listeners):
            try:
                callback(status)
            except Exception:  # a broken listener must not keep the door open
                log.exception("door listener failed")

    # -- what a driver provides -----------------------------------------------------------------------
    def open_for(self, holder: Holder | None) -> None:
        """Open for ``holder``: a lock does not care who (a card reader does)."""
        self.switch_open()

    def switch_open(self) -> None:
        raise NotImplementedError

    def switch_locked(self) -> None:
        raise NotImplementedError

    def release(self) -> None:
        """Free the device after the final lock (close a port, stop a process)."""


# Every door still open at interpreter exit (normal exit, unhandled exception) is locked.
_OPEN_DOORS: weakref.WeakSet[Door] = weakref.WeakSet()


@atexit.register
def _lock_all_at_exit() -> None:
    for door in list(_OPEN_DOORS):
        try:
            door.close()
        except Exception:
            log.exception("locking the door at exit failed")
