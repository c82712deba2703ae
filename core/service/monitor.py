"""The health monitor: a thread that, every second, checks that the app's three moving parts
are alive, writes the heartbeat, and tells the service manager.

The parts, and what "alive" means for each (Limits gives the seconds):

- the frame loop: its last step (a frame, or a failed attempt to open or read the source) is
  recent. A camera that is gone keeps the loop stepping (it retries with pauses of up to 8 s,
  and a stream gives up after 5 s of silence): that is unhealthy but alive, and restarting the
  app would not bring the camera back. A read that never returns is a hang;
- the descriptor worker: not given up, and no chip waits for its descriptor too long;
- the window's event loop: the GUI calls tick() from a timer; a frozen window stops ticking;
- the kiosk's screen: a kiosk must be on the screen. A kiosk window closed or unmapped from
  outside (``xdotool windowclose``, a crashed compositor) leaves a black screen and a dead F12
  while everything else runs, so the GUI says with each tick whether it is shown (tick(shown=)),
  and a kiosk not shown for Limits.gui seconds counts as hung: the service manager restarts it.

Only while all three are alive is WATCHDOG=1 sent, so the service manager kills and restarts a
hung app (WatchdogSec=). READY=1 goes out when the first frame has been processed; until then,
while alive, EXTEND_TIMEOUT_USEC keeps the start from timing out (a camera that is unplugged at
boot is waited for, not restarted over and over). The monitor itself is Qt-free: the window
reports its frame loop, door and admin state through ``probe``.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sqlite3
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Protocol

from core.door.access_log import AccessEvent
from core.door.base import DoorStatus
from core.gallery.api import Gallery
from core.service import heartbeat
from core.service.heartbeat import Heartbeat
from core.service.notify import Notifier

log = logging.getLogger("facegate.service")


class Watched(Protocol):
    """What the monitor reads off the frame loop (core.live.loop.LiveRecognizer is one); the
    station (core.station) hands it over, so the service never imports the frame loop."""

    @property
    def frames(self) -> int: ...

    @property
    def last_frame_at(self) -> float | None: ...

    @property
    def descriptor_worker(self) -> Any: ...


@dataclass(frozen=True)
class Limits:
    """How long (s) each part may go without a sign of life before the app counts as hung."""

    frame_loop: float = 15.0  # opening a stream may take 10 s (5 s to answer, 5 s for a frame)
    gui: float = 10.0
    worker: float = 15.0  # one descriptor takes 15 ms


@dataclass
class LoopState:
    """The frame loop as the window sees it. ``progress``: time.monotonic() of its last step."""

    source: str = ""
    running: bool = False
    progress: float | None = None
    problem: str | None = None


@dataclass
class Surroundings:
    """What the app around the recognizer reports on each beat."""

    loop: LoopState
    door: DoorStatus | None = None
    door_driver: str = ""
    admin_unlocked: bool = False
    mode: str = "window"


class Monitor:
    """start() it once the window runs; call tick() from the GUI thread at least every second
    and decision() for each access-log event; stop(reason) writes the final heartbeat."""

    def __init__(
        self,
        path: str | Path,
        recognizer: Watched,
        gallery: Gallery,
        probe: Callable[[], Surroundings],
        limits: Limits | None = None,
        notifier: Notifier | None = None,
        period: float | None = None,
    ) -> None:
        self.path = Path(path)
        self.recognizer = recognizer
        self.gallery = gallery
        self.probe = probe
        self.limits = limits or Limits()
        self.notifier = notifier or Notifier()
        watchdog = self.notifier.watchdog_seconds
        self.period = period or (min(1.0, watchdog / 4) if watchdog else 1.0)
        self.started_wall = heartbeat.now_iso()
        self.started = time.monotonic()
        self.ready = False
        self.boot = heartbeat.boot_id()
        self._tick = self.started
        self._shown = self.started
        self._rates: deque[tuple[float, int]] = deque()
        self._people = (0.0, 0)
        self._decision: AccessEvent | None = None
        self._status = ""
        self._stalled: list[str] = []
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    # -- what the app calls ---------------------------------------------------------------------
    def tick(self, shown: bool = True) -> None:
        """The window's event loop is running (called from its thread by a timer); ``shown``: the
        window is on the screen (always True for a window that may be hidden: only a kiosk says)."""
        self._tick = time.monotonic()
        if shown:
            self._shown = self._tick

    def decision(self, event: AccessEvent) -> None:
        """A door decision was logged (called from the decider's writer thread)."""
        if event.track is not None:
            self._decision = event

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="health-monitor", daemon=True)
        self._thread.start()

    def stop(self, reason: str) -> Heartbeat:
        """Stop beating; the last heartbeat says FaceGate stopped cleanly, and why."""
        self.notifier.send(STOPPING=1, STATUS=f"stopping: {reason}")
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        beat = replace(self.beat(), stopped=heartbeat.now_iso(), stop_reason=reason)
        self._write(beat, durable=True)
        self.notifier.close()
        return beat

    # -- the beat ---------------------------------------------------------------------------------
    def _run(self) -> None:
        while not self._stop.wait(self.period):
            try:
                beat = self.beat()
                self._write(beat)
                self._tell_manager(beat)
            except Exception:  # the monitor must never die silently: a dead monitor stops the pings
                log.exception("health monitor beat failed")

    def beat(self) -> Heartbeat:
        """One look at every part (thread-safe)."""
        with self._lock:
            now = time.monotonic()
            around = self.probe()
            frames = self.recognizer.frames
            last_frame = self.recognizer.last_frame_at
            worker = self.recognizer.descriptor_worker
            # alive() and stalled_for() are the worker process's (ProcessWorker); an InlineWorker
            # computes in the frame loop, which is watched already
            worker_alive = worker.error is None and getattr(worker, "alive", lambda: True)()
            stalled = self._stalled_parts(now, around.loop, worker)
            frame_age = None if last_frame is None else max(0.0, now - last_frame)
            door = around.door
            event = self._decision
            return Heartbeat(
                pid=os.getpid(),
                boot_id=self.boot,
                started=self.started_wall,
                written=heartbeat.now_iso(),
                written_monotonic=now,
                uptime_s=round(now - self.started, 1),
                ready=frames > 0,
                alive=not stalled,
                stalled=stalled,
                source=around.loop.source,
                camera=self._camera(around.loop, stalled, frames, frame_age),
                camera_error=around.loop.problem,
                fps=round(self._fps(now, frames), 1),
                frames=frames,
                last_frame_age_s=None if frame_age is None else round(frame_age, 2),
                worker_alive=worker_alive,
                worker_restarts=worker.restarts,
                worker_error=worker.error,
                door_driver=around.door_driver,
                door_state=door.state if door else "",
                door_error=door.error if door else None,
                gallery_people=self._people_count(now),
                last_decision=event.time if event else None,
                last_verdict=event.verdict if event else None,
                last_person=event.name if event else None,
                admin="unlocked" if around.admin_unlocked else "locked",
                mode=around.mode,
            )

    def _stalled_parts(self, now: float, loop: LoopState, worker: Any) -> list[str]:
        limits, stalled = self.limits, []
        if loop.running and loop.progress is not None and now - loop.progress > limits.frame_loop:
            stalled.append(f"the frame loop has not moved for {now - loop.progress:.0f} s ({loop.source})")
        if now - self._tick > limits.gui:
            stalled.append(f"the window has not responded for {now - self._tick:.0f} s")
        elif now - self._shown > limits.gui:
            stalled.append(
                f"the kiosk has not been on the screen for {now - self._shown:.0f} s (closed or unmapped from outside)"
            )
        if worker.error:
            stalled.append(f"the descriptor worker gave up: {worker.error}")
        waited = getattr(worker, "stalled_for", lambda: 0.0)()
        if waited > limits.worker:
            stalled.append(f"the descriptor worker has not answered for {waited:.0f} s")
        return stalled

    def _camera(self, loop: LoopState, stalled: list[str], frames: int, frame_age: float | None) -> str:
        if not loop.running:
            return "no source" if not loop.source else "stopped"
        if any(s.startswith("the frame loop") for s in stalled):
            return "stalled"
        if loop.problem:
            return "failing"
        if frame_age is not None and frame_age <= heartbeat.MAX_FRAME_AGE:
            return "running"
        return "opening" if frames == 0 else "no frames"

    def _fps(self, now: float, frames: int) -> float:
        """Frames per second over the last 5 s."""
        self._rates.append((now, frames))
        while len(self._rates) > 2 and now - self._rates[0][0] > 5.0:
            self._rates.popleft()
        (t0, f0) = self._rates[0]
        return (frames - f0) / (now - t0) if now > t0 else 0.0

    def _people_count(self, now: float) -> int:
        """People enrolled, read at most every 5 s on a read-only connection of its own: the
        gallery's connection may be busy writing, and the beat must never wait for it."""
        when, count = self._people
        if now - when > 5.0 or not when:
            try:
                with contextlib.closing(
                    sqlite3.connect(f"{Path(self.gallery.store.path).resolve().as_uri()}?mode=ro", uri=True, timeout=0.5)
                ) as db:
                    count = db.execute("SELECT count(*) FROM people").fetchone()[0]
            except sqlite3.Error:  # busy or unreadable: keep the last count
                pass
            self._people = (now, count)
        return count

    def _write(self, beat: Heartbeat, durable: bool = False) -> None:
        try:
            heartbeat.write(self.path, beat, durable=durable)
        except OSError as exc:  # a full or read-only disk: the watchdog still works
            log.warning("cannot write the heartbeat %s: %s", self.path, exc)

    # -- the service manager ----------------------------------------------------------------------
    def _tell_manager(self, beat: Heartbeat) -> None:
        parts = [s.split(" for ")[0] for s in beat.stalled]  # which parts, not for how long
        if parts != self._stalled:
            if parts:
                log.error("withholding the watchdog ping: %s", "; ".join(beat.stalled))
            else:
                log.info("every part is alive again")
            self._stalled = parts
        status = _status_line(beat)
        fields: dict[str, object] = {}
        if status != self._status:
            fields["STATUS"] = self._status = status
        if beat.alive:
            if not self.ready and beat.frames > 0:
                self.ready = True
                fields["READY"] = 1
            if self.ready:
                fields["WATCHDOG"] = 1
            else:  # still waiting for the first frame, but alive: do not time the start out
                fields["EXTEND_TIMEOUT_USEC"] = int(max(10.0, 10 * self.period) * 1e6)
        if fields:
            self.notifier.send(**fields)


def _status_line(beat: Heartbeat) -> str:
    if beat.stalled:
        return "hung: " + "; ".join(beat.stalled)
    camera = f"{beat.source or 'no source'} {beat.camera}" + (f" ({beat.camera_error})" if beat.camera == "failing" else "")
    door = f"door {beat.door_state or 'none'}" + (f" ({beat.door_error})" if beat.door_error else "")
    return f"{camera}; {beat.fps:.0f} fps; {beat.gallery_people} people; {door}"
