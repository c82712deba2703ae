"""The fail-secure guard: a tiny process that owns the door device and locks it when the app dies.

A USB relay board keeps its last state with no one talking to it, so an app killed (SIGKILL,
power button on the PC's session, OOM) during a pulse would leave the door open. The guard owns
the port instead of the app. It

- locks at start (whatever state a previous crash left),
- times every pulse itself: an "open" carries its length, and the guard locks when it runs out
  even if the app hangs,
- locks and exits the moment the pipe to its parent closes: the kernel closes that pipe when the
  parent dies, however it dies,
- locks on SIGTERM.

Started as a core.processes.ChildProcess (spawned, like the descriptor worker), so it also works
in the frozen app through main.py's freeze_support().
"""

from __future__ import annotations

import signal
import threading
import time
from typing import TYPE_CHECKING

from core.door.base import Door, DoorError, DoorSettings
from core.door.drivers import build_driver
from core.processes import ChildProcess

if TYPE_CHECKING:
    from collections.abc import Callable
    from multiprocessing.connection import Connection

#: How long past its pulse the guard waits for the app's own "lock" before locking by itself.
WATCHDOG_SLACK = 1.0


def _serve(conn: Connection, settings_json: str) -> None:
    """The guard process's main loop."""
    signal.signal(signal.SIGTERM, _exit)
    driver = build_driver(DoorSettings.from_json(settings_json))
    deadline: float | None = None
    try:
        conn.send(_attempt(driver.switch_locked))
        while True:
            wait = None if deadline is None else max(0.0, deadline - time.monotonic())
            try:
                ready = conn.poll(wait)
            except (EOFError, OSError):
                return
            if not ready:  # the pulse ran out before the app said lock
                deadline = None
                _attempt(driver.switch_locked)
                continue
            try:
                command = conn.recv()
            except (EOFError, OSError):  # the app is gone
                return
            if command is None:
                return
            if command[0] == "open":
                reply = _attempt(driver.switch_open)
                deadline = time.monotonic() + float(command[1]) + WATCHDOG_SLACK if reply[0] else None
            else:
                deadline = None
                reply = _attempt(driver.switch_locked)
            try:
                conn.send(reply)
            except (BrokenPipeError, OSError):
                return
    finally:
        # Under systemd every process of the service gets SIGTERM when the app ends: it must not
        # cut this lock short, nor kill a lock command (which inherits the ignored signal).
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        _attempt(driver.switch_locked)
        driver.release()


def _exit(*_: object) -> None:
    raise SystemExit(0)  # runs the finally: lock, then release the port


def _attempt(action: Callable[[], object]) -> tuple[bool, str]:
    try:
        action()
        return True, ""
    except Exception as exc:
        return False, str(exc)


class GuardedDoor(Door):
    """A real driver run inside the guard process; same interface as any Door."""

    lock_at_start = False  # the guard itself locks as it starts

    def __init__(self, settings: DoorSettings, reply_timeout: float | None = None) -> None:
        super().__init__(settings.pulse_seconds, settings.cooldown_seconds)
        settings.check()
        self.settings = settings
        self.driver = settings.driver
        # an HTTP request or a command may take its full timeout, plus time to start
        self.reply_timeout = reply_timeout or 10.0 + max(settings.http_timeout, settings.command_timeout)
        self._conn_lock = threading.Lock()
        self._guard: ChildProcess | None = None
        self.guard_pid: int | None = None  # the latest guard's, kept after it stopped
        self._spawn()

    def _spawn(self) -> None:
        self._guard = ChildProcess(_serve, (self.settings.to_json(),), "facegate-door-guard")
        self.guard_pid = self._guard.pid
        ok, message = self._reply("starting the door guard")
        if not ok:
            self._fail(f"could not lock at start: {message}")

    def _reply(self, doing: str) -> tuple[bool, str]:
        assert self._guard is not None
        if not self._guard.conn.poll(self.reply_timeout):
            raise DoorError(f"the door guard did not answer ({doing}) within {self.reply_timeout:.0f} s")
        return self._guard.conn.recv()

    def _command(self, command: tuple, doing: str) -> None:
        with self._conn_lock:
            try:
                if self._guard is None:
                    raise OSError("the door guard was released")
                self._guard.conn.send(command)
                ok, message = self._reply(doing)
            except (EOFError, OSError, BrokenPipeError):
                self._respawn()
                raise DoorError(f"the door guard stopped while {doing}; restarted it (it locks at start)") from None
            if not ok:
                raise DoorError(message)

    def _respawn(self) -> None:
        self._stop_guard()
        self._spawn()

    def switch_open(self) -> None:
        self._command(("open", self.pulse_seconds), "unlocking")

    def switch_locked(self) -> None:
        self._command(("lock",), "locking")

    def _stop_guard(self) -> None:
        if self._guard is not None:
            self._guard.stop(timeout=5)

    def release(self) -> None:
        with self._conn_lock:
            self._stop_guard()
            self._guard = None
