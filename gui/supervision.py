"""The running window as a supervised service: feeds core.service.monitor (the frame loop, door
and admin state, a tick from the GUI thread every half second), writes "FaceGate started" /
"restarted after ..." and "FaceGate stopped" to the access log (core.service.lifecycle), and
stops cleanly on SIGTERM (what `systemctl stop` and a shutdown send).

The logic is in core (the station builds the monitor over its loop and gallery); this only
reports what the window knows (its capture thread, the kiosk's mode) and wires the timer.
"""

from __future__ import annotations

import logging
import signal
import threading
from types import FrameType
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QTimer
from PySide6.QtWidgets import QApplication

from core.service.lifecycle import RunRecord
from core.service.monitor import Limits, LoopState, Surroundings
from core.station import Station

if TYPE_CHECKING:
    from gui.kiosk import Kiosk
    from gui.main_window import MainWindow

if TYPE_CHECKING:
    from gui.kiosk import Kiosk
    from gui.main_window import MainWindow

log = logging.getLogger("facegate.service")

#: How often the GUI thread says it is alive (ms): well inside Limits.gui.
TICK_MS = 500


class Supervision(QObject):
    """start() once the window runs; stop() after the event loop has returned."""

    def __init__(
        self,
        window: MainWindow,
        station: Station,
        kiosk: Kiosk | None = None,
        limits: Limits | None = None,
        period: float | None = None,
    ) -> None:
        super().__init__(window)
        self.window = window
        self.station = station
        self.kiosk = kiosk
        self.record = RunRecord(station.gallery)
        self.monitor = station.supervise(self.probe, limits=limits, period=period)
        self.stop_reason = "the window was closed"
        self._ticker = QTimer(self, interval=TICK_MS)
        self._ticker.timeout.connect(self.tick)

    def start(self, catch_faults: bool = True, handle_sigterm: bool = True) -> None:
        """Log how the previous run ended, then beat. ``catch_faults``: keep a fault record
        (faulthandler); ``handle_sigterm``: stop cleanly on SIGTERM (main thread only)."""
        start = self.record.begin(catch_faults=catch_faults)
        log.info("%s: %s", start.verdict, start.reason)
        self.tick()
        self._ticker.start()
        self.monitor.start()
        if handle_sigterm and threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGTERM, self._on_sigterm)

    def tick(self) -> None:
        """The GUI thread is alive; and a kiosk says whether it is still on the screen."""
        self.monitor.tick(shown=self.kiosk is None or self.kiosk.on_screen())

    def _on_sigterm(self, signum: int, frame: FrameType | None) -> None:
        # Python runs this between two bytecodes of the GUI thread (a frame or the ticker runs
        # Python at least every TICK_MS); leave the window from the event loop, not from here.
        self.stop_reason = "stopped by the service manager (SIGTERM)"
        QTimer.singleShot(0, self._leave)

    def _leave(self) -> None:
        if self.kiosk is not None:
            self.kiosk.leave(0)
        else:
            self.window.close()
            QApplication.exit(0)

    def probe(self) -> Surroundings:
        """The window's parts as the monitor needs them (called from the monitor's thread: it
        only reads attributes, so a frozen GUI thread cannot stop it)."""
        w = self.window
        worker = w.worker
        loop = LoopState(
            source=w.source,
            running=worker is not None and worker.isRunning(),
            progress=getattr(worker, "progress", None),
            problem=getattr(worker, "problem", None),
        )
        door = self.station.door
        admin = w.admin
        return Surroundings(
            loop, door.status(), door.driver, bool(admin and admin.unlocked()), self.kiosk.mode if self.kiosk else "window"
        )

    def stop(self, reason: str | None = None) -> None:
        """The last heartbeat (stopped, and why) and "FaceGate stopped" in the access log."""
        reason = reason or self.stop_reason
        self._ticker.stop()
        self.monitor.stop(reason)
        self.record.end(reason)
        log.info("FaceGate stopped: %s", reason)
