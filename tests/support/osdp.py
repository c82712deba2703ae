"""A real access panel for the OSDP tests and benchmark: libosdp's ControlPanel on one end of a
pty pair, FaceGate's reader (core.door.osdp) on the other end's /dev/pts path, as it would open a
USB RS-485 adapter. The secure channel is enforced on both ends with the same key.

    with PanelBus() as bus:                    # the pty pair; bus.port is what FaceGate opens
        panel = bus.panel(answer=GREEN)        # a started ControlPanel (call again after stop())
        read = panel.card_read(timeout=5)      # the next card read the reader sent, or None
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import queue
import select
import threading
import time
import tty

import osdp

from core.door.card_formats import CardBits

SCBK = bytes.fromhex("00112233445566778899aabbccddeeff")
ADDRESS = 1


class FdChannel(osdp.Channel):
    """The panel's end of the pty, non-blocking."""

    def __init__(self, fd: int) -> None:
        super().__init__()
        self.fd = fd
        fcntl.fcntl(fd, fcntl.F_SETFL, fcntl.fcntl(fd, fcntl.F_GETFL) | os.O_NONBLOCK)

    def read(self, max_bytes: int) -> bytes:
        try:
            return os.read(self.fd, max_bytes)
        except (BlockingIOError, OSError):
            return b""

    def write(self, buf: bytes) -> int:
        try:
            return os.write(self.fd, buf)
        except (BlockingIOError, OSError):
            return 0

    def flush(self) -> None:
        pass


class Panel:
    """libosdp's ControlPanel polling the one reader at ADDRESS, secure channel enforced. Its
    listener thread takes each card read as it arrives and, when ``answer`` is an LED colour,
    answers it at once with that colour, as a panel that decided does."""

    def __init__(self, fd: int, scbk: bytes = SCBK, answer: int | None = None) -> None:
        info = osdp.PDInfo(ADDRESS, FdChannel(fd), scbk=scbk, flags=[osdp.LibFlag.EnforceSecure])
        self.cp = osdp.ControlPanel([info], log_level=osdp.LogLevel.Error)
        self.answer = answer
        self.reads: queue.Queue[tuple[float, CardBits]] = queue.Queue()  # (monotonic time it arrived, bits)
        self.statuses: queue.Queue[dict] = queue.Queue()  # the reader's status reports
        self._stop = threading.Event()
        self.cp.start()
        self._listener = threading.Thread(target=self._listen, name="test-panel", daemon=True)
        self._listener.start()

    def _listen(self) -> None:
        while not self._stop.is_set():
            event = self.cp.get_event(ADDRESS, timeout=0.05)
            if event is not None and event.get("event") == osdp.Event.Status:
                self.statuses.put(event)
            if event is None or event.get("event") != osdp.Event.CardRead:
                continue
            arrived = time.monotonic()
            assert event["format"] == osdp.CardFormat.Wiegand, event
            value = int.from_bytes(event["data"], "big") >> (len(event["data"]) * 8 - event["length"])
            self.reads.put((arrived, CardBits(value, event["length"])))
            if self.answer is not None:
                self.led(self.answer)

    def secure(self, timeout: float = 15.0) -> bool:
        """Wait until the reader is online with the secure channel up."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.cp.is_online(ADDRESS) and self.cp.is_sc_active(ADDRESS):
                return True
            time.sleep(0.02)
        return False

    def card_read(self, timeout: float = 5.0) -> CardBits | None:
        """The next card read from the reader, or None after ``timeout`` seconds."""
        try:
            return self.reads.get(timeout=timeout)[1]
        except queue.Empty:
            return None

    def led(self, color: int, temporary: bool = True) -> bool:
        return self.cp.submit_command(
            ADDRESS,
            {
                "command": osdp.Command.LED,
                "reader": 0,
                "led_number": 0,
                "control_code": 1,
                "on_count": 10,
                "off_count": 0,
                "on_color": color,
                "off_color": osdp.CommandLEDColor.Black,
                "timer_count": 30,
                "temporary": temporary,
            },
        )

    def local_status(self, timeout: float = 5.0) -> dict | None:
        """Ask the reader for its local status (tamper, power); its report, or None."""
        self.cp.submit_command(ADDRESS, {"command": osdp.Command.Status, "type": osdp.StatusReportType.Local, "report": b""})
        return self.status(timeout)

    def status(self, timeout: float = 5.0) -> dict | None:
        """The next status report from the reader (asked for, or sent on its own: a tamper), or None."""
        try:
            return self.statuses.get(timeout=timeout)
        except queue.Empty:
            return None

    def text(self, words: str) -> bool:
        return self.cp.submit_command(
            ADDRESS,
            {
                "command": osdp.Command.Text,
                "reader": 0,
                "control_code": 1,
                "temp_time": 5,
                "offset_row": 1,
                "offset_col": 1,
                "data": words,
            },
        )

    def stop(self) -> None:
        self._stop.set()
        self._listener.join(timeout=2)
        if self.cp.thread is not None:
            self.cp.stop()


class PanelBus:
    """A pty pair: the panel holds the master, FaceGate opens ``port`` (the slave's path)."""

    def __init__(self) -> None:
        self.master, self.slave = os.openpty()
        tty.setraw(self.slave)  # no echo, no line editing: bytes pass as on a serial line
        self.port = os.ttyname(self.slave)
        self.panels: list[Panel] = []

    def panel(self, scbk: bytes = SCBK, answer: int | None = None) -> Panel:
        """A panel starting on the bus with an empty receive buffer, as a panel powered up does: a
        reply the reader sent to a stopped panel would otherwise reach the new one out of sequence
        (libosdp then takes the reader offline for 300 s)."""
        self._drain()
        panel = Panel(self.master, scbk, answer)
        self.panels.append(panel)
        return panel

    def _drain(self) -> None:
        while select.select([self.master], [], [], 0)[0]:
            try:
                if not os.read(self.master, 4096):
                    return
            except OSError:
                return

    def close(self) -> None:
        for panel in self.panels:
            panel.stop()
        for fd in (self.master, self.slave):
            with contextlib.suppress(OSError):
                os.close(fd)

    def __enter__(self) -> PanelBus:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
