"""A tiny stand-in for systemd running FaceGate's unit, for tests on a machine where systemd is
not PID 1 (no user service manager, no `systemd-run --user`).

It reads the unit text `facegate service install` writes and honours what the restart tests
depend on, the way systemd does:

- Type=notify: a datagram socket in NOTIFY_SOCKET; the unit is up at READY=1; with
  NotifyAccess=main only the main process's messages count (checked with SO_PASSCRED);
- WatchdogSec=: WATCHDOG_USEC and WATCHDOG_PID in the environment; no WATCHDOG=1 for that long
  after READY and the main process gets SIGABRT (then SIGCONT, as systemd sends, so a stopped
  process handles it), then SIGKILL after TimeoutAbortSec=;
- TimeoutStartSec= with EXTEND_TIMEOUT_USEC=: no READY in time and it is stopped (SIGTERM, then
  SIGKILL after TimeoutStopSec=);
- Restart=always / RestartSec= / RestartPreventExitStatus=: whatever ends the main process
  (but a prevented exit status or stop()), it starts again after RestartSec;
- KillMode=control-group: on stop, and when the main process has ended, SIGTERM to every
  process of the service (its process group), SIGKILL to those left after TimeoutStopSec=.

Environment= and ExecStart= are read with systemd's quoting (double quotes, %% and $$).
Start limits and the [Install] section are systemd's business and not imitated.
"""

from __future__ import annotations

import array
import contextlib
import os
import re
import select
import shlex
import signal
import socket
import struct
import subprocess
import threading
import time
from dataclasses import dataclass, field

import psutil


def timespan(text: str) -> float:
    """systemd time spans used by the unit: '2s', '10min', '90s', '1min 30s', 'infinity'."""
    if text.strip() == "infinity":
        return float("inf")
    units = {"ms": 0.001, "s": 1, "sec": 1, "min": 60, "m": 60, "h": 3600}
    total = 0.0
    for number, unit in re.findall(r"([\d.]+)\s*([a-z]*)", text):
        total += float(number) * units[unit or "s"]
    return total


def words(text: str) -> list[str]:
    """ExecStart=/Environment= words: quotes and backslashes as in a shell, %% and $$ literal."""
    return [w.replace("%%", "%").replace("$$", "$") for w in shlex.split(text)]


@dataclass
class Unit:
    command: list[str]
    environment: dict[str, str]
    restart: str
    restart_sec: float
    prevent: set[int]
    watchdog_sec: float
    start_timeout: float
    abort_timeout: float
    stop_timeout: float
    notify_main_only: bool

    @classmethod
    def parse(cls, text: str) -> Unit:
        keys: dict[str, list[str]] = {}
        for line in text.splitlines():
            if "=" in line and not line.lstrip().startswith(("#", ";", "[")):
                key, value = line.split("=", 1)
                keys.setdefault(key.strip(), []).append(value.strip())

        def one(key: str, default: str = "") -> str:
            return keys.get(key, [default])[-1]

        assert one("Type") == "notify", "the supervisor speaks Type=notify only"
        env = dict(w.split("=", 1) for value in keys.get("Environment", []) for w in words(value))
        return cls(
            words(one("ExecStart")),
            env,
            one("Restart", "no"),
            timespan(one("RestartSec", "100ms")),
            {int(x) for x in one("RestartPreventExitStatus").split()},
            timespan(one("WatchdogSec", "0")),
            timespan(one("TimeoutStartSec", "90s")),
            timespan(one("TimeoutAbortSec", one("TimeoutStopSec", "90s"))),
            timespan(one("TimeoutStopSec", "90s")),
            one("NotifyAccess", "main") == "main",
        )


@dataclass
class Event:
    when: float  # time.monotonic()
    what: str  # started | ready | watchdog | status | start-timeout | watchdog-timeout | exited | ignored
    pid: int
    detail: str = ""


@dataclass
class Supervisor:
    """Runs a unit's ExecStart= until stop(); ``events`` tells what happened when."""

    unit: Unit
    cwd: str | None = None
    events: list[Event] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.proc: subprocess.Popen | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC)
        self.address = f"@facegate-supervisor-{os.getpid()}-{id(self)}"
        self.sock.bind("\0" + self.address[1:])
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)

    # -- the test's side --------------------------------------------------------------------------
    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="supervisor", daemon=True)
        self._thread.start()

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc else None

    def last(self, what: str, after: float = 0.0) -> Event | None:
        found = [e for e in list(self.events) if e.what == what and e.when >= after]
        return found[-1] if found else None

    def wait_for(self, what: str, after: float = 0.0, timeout: float = 120.0) -> Event:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            event = self.last(what, after)
            if event is not None:
                return event
            time.sleep(0.05)
        raise TimeoutError(f"no {what!r} within {timeout:.0f} s; events: {self.events[-8:]}")

    def stop(self) -> int | None:
        """Stop the unit as `systemctl stop` does; the main process's exit status."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(self.unit.stop_timeout + 30)
        self.sock.close()
        return self.proc.returncode if self.proc else None

    # -- the manager's side -------------------------------------------------------------------------
    def _run(self) -> None:
        while not self._stop.is_set():
            self._spawn()
            code = self._supervise()
            self._kill_leftovers()
            if self._stop.is_set() or self.unit.restart != "always" or code in self.unit.prevent:
                return
            self._stop.wait(self.unit.restart_sec)

    def _spawn(self) -> None:
        env = {**os.environ, **self.unit.environment, "NOTIFY_SOCKET": self.address}
        if self.unit.watchdog_sec:
            env["WATCHDOG_USEC"] = str(int(self.unit.watchdog_sec * 1e6))
        # WATCHDOG_PID is the main process's own pid: sh sets it, then execs the command in place
        argv = ["sh", "-c", 'WATCHDOG_PID=$$ exec "$@"', "sh", *self.unit.command]
        self.proc = subprocess.Popen(
            argv, env=env, cwd=self.cwd, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        self.events.append(Event(time.monotonic(), "started", self.proc.pid))

    def _supervise(self) -> int:
        """Until the main process ends: messages, the start timeout, the watchdog."""
        proc, unit = self.proc, self.unit
        started = time.monotonic()
        start_deadline = started + unit.start_timeout
        ready_at = last_ping = None
        kill_at = None
        stopping = False
        while proc.poll() is None:
            if self._stop.is_set() and not stopping:
                stopping, kill_at = True, time.monotonic() + unit.stop_timeout
                self._kill_group(signal.SIGTERM)
            readable, _, _ = select.select([self.sock], [], [], 0.05)
            if readable:
                text, pid = self._receive()
                now = time.monotonic()
                if unit.notify_main_only and pid != proc.pid:
                    self.events.append(Event(now, "ignored", pid, text))
                    continue
                for line in text.splitlines():
                    key, _, value = line.partition("=")
                    if key == "READY" and ready_at is None:
                        ready_at = last_ping = now
                        self.events.append(Event(now, "ready", pid))
                    elif key == "WATCHDOG" and value == "1":
                        last_ping = now
                        self.events.append(Event(now, "watchdog", pid))
                    elif key == "EXTEND_TIMEOUT_USEC" and ready_at is None:
                        start_deadline = max(start_deadline, now + int(value) / 1e6)
                    elif key == "STATUS":
                        self.events.append(Event(now, "status", pid, value))
            now = time.monotonic()
            if kill_at is not None and now >= kill_at:
                self._kill_group(signal.SIGKILL)
                kill_at = float("inf")
            elif stopping or kill_at is not None:
                continue
            elif ready_at is None and now > start_deadline:
                self.events.append(Event(now, "start-timeout", proc.pid))
                self._kill_group(signal.SIGTERM)
                kill_at = now + unit.stop_timeout
            elif ready_at is not None and unit.watchdog_sec and now - last_ping > unit.watchdog_sec:
                self.events.append(Event(now, "watchdog-timeout", proc.pid, f"{now - last_ping:.1f} s without a ping"))
                os.kill(proc.pid, signal.SIGABRT)
                os.kill(proc.pid, signal.SIGCONT)
                kill_at = now + unit.abort_timeout
        self.events.append(Event(time.monotonic(), "exited", proc.pid, str(proc.returncode)))
        return proc.returncode

    def _receive(self) -> tuple[str, int]:
        """One datagram and its sender's pid (SCM_CREDENTIALS: pid, uid, gid)."""
        data, ancillary, _, _ = self.sock.recvmsg(4096, socket.CMSG_SPACE(struct.calcsize("3i")))
        pid = -1
        for level, kind, payload in ancillary:
            if level == socket.SOL_SOCKET and kind == socket.SCM_CREDENTIALS:
                pid = array.array("i", payload[: struct.calcsize("3i")])[0]
        return data.decode("utf-8", "replace"), pid

    def _kill_group(self, sig: int) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, sig)

    def _kill_leftovers(self) -> None:
        """What the main process left behind: SIGTERM, then SIGKILL after TimeoutStopSec=."""
        self._kill_group(signal.SIGTERM)
        deadline = time.monotonic() + self.unit.stop_timeout
        while time.monotonic() < deadline and self._group_alive():
            time.sleep(0.05)
        self._kill_group(signal.SIGKILL)

    def _group_alive(self) -> bool:
        """Any process of the service still running (zombies waiting for their reaper aside)."""
        for process in psutil.process_iter(["status"]):
            try:
                if os.getpgid(process.pid) == self.proc.pid and process.info["status"] != psutil.STATUS_ZOMBIE:
                    return True
            except (ProcessLookupError, PermissionError):
                continue
        return False
