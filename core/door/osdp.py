"""FaceGate as a card reader behind an access panel: OSDP, secure channel on (libosdp).

Most office doors already have an access panel (Mercury, HID, Axis, ...) that decides schedules,
anti-passback and alarms, with card readers on an RS-485 bus. FaceGate joins it as one more
reader: on a grant it reports a *card read* of the person's credential number (core.door.
card_formats: 26-bit H10301, 34-bit, 37-bit H10304, or raw), and the panel opens the door - or
not: the panel's own answer (its LED turned green or red on this reader) is passed to
``answer_listeners`` and logged beside FaceGate's verdict (core.station).

    reader = OsdpReader("/dev/ttyUSB0", scbk=key, address=1, fmt="h10301", facility=42)
    reader.start()
    reader.unlock(Holder(7, "Ada", "1001"))   # 'card 1001 sent to the panel' | 'nothing sent: ...'

Safety: nothing is sent for a manual unlock, a person without a card number, a number that does
not fit the layout, or while the panel is silent (a read queued then would reach the panel long
after the person left). The secure channel is enforced: libosdp refuses to talk in clear, so a
card number never crosses the bus readable. The panel's LED, buzzer and text commands are kept
as the PanelState the window shows (``panel_listeners``; this module never imports Qt); its local
status query is answered (power normal: a PC has no mains sensor; tamper normal unless alarmed).

A duress grant (core.door.decide) raises a silent alarm at the panel too (``alarm()``): the
reader reports its tamper input tripped, an unsolicited local status report the panel takes as a
tamper alarm on this reader, and restored ALARM_SECONDS later. The card read before it went
exactly as for any grant, and nothing of the alarm enters the PanelState: the screen shows none.

Threads: libosdp's refresh loop (its own thread, every 20 ms), a watcher that turns silence into
the "offline" state (and back), and the Door's own thread that submits card reads; the frame
thread only queues. ``close()`` stops them all.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import osdp

from core.door.base import Door, DoorError, Holder
from core.door.card_formats import CardBits, encode, label

log = logging.getLogger("facegate.door")

#: An LED command from the panel this soon after a card read is its answer to that read.
ANSWER_SECONDS = 3.0
#: How often the watcher looks at the bus.
WATCH_SECONDS = 0.1
#: How long the port stays closed after it failed (an adapter unplugged) before it is tried again.
REOPEN_SECONDS = 1.0
#: How long the tamper input stays tripped after a duress alarm before the reader reports it restored.
ALARM_SECONDS = 3.0

COLORS = {
    osdp.CommandLEDColor.Black: "off",
    osdp.CommandLEDColor.Red: "red",
    osdp.CommandLEDColor.Green: "green",
    osdp.CommandLEDColor.Amber: "amber",
    osdp.CommandLEDColor.Blue: "blue",
    osdp.CommandLEDColor.Magenta: "magenta",
    osdp.CommandLEDColor.Cyan: "cyan",
    osdp.CommandLEDColor.White: "white",
}
#: What a panel's LED colour says of its answer to a card read.
ANSWERS = {"green": "granted", "red": "denied"}


@dataclass(frozen=True)
class PanelState:
    """What the panel last told this reader, for the screen."""

    online: bool = False  # the panel is polling this reader
    secure: bool = False  # ... over the secure channel: only then are card reads sent
    led: str = "off"  # the colour the panel last set the reader's LED to
    text: str = ""  # the panel's last text for the reader's display
    buzzer: bool = False  # the panel's last buzzer command sounded it
    answer: str | None = None  # granted | denied: the panel's answer to the latest card read
    problem: str | None = None  # why it is offline, in words


@dataclass(frozen=True)
class PanelAnswer:
    """The panel's answer to one card read FaceGate sent."""

    holder: Holder
    card: str
    answer: str  # granted | denied
    seconds: float  # after the card read was sent


class SerialChannel(osdp.Channel):
    """The serial port under libosdp (pyserial, never blocking), reopened after it fails; notes
    when the panel was last heard, which is what "online" means here."""

    def __init__(self, port: str, baud: int) -> None:
        super().__init__()
        self.port, self.baud = port, baud
        self.heard: float | None = None  # monotonic time of the panel's last byte
        self.problem: str | None = None
        self._serial: Any = None
        self._failed_at = 0.0
        self._open()
        if self._serial is None:
            raise DoorError(f"OSDP reader: cannot open {port}: {self.problem}")

    def _open(self) -> None:
        try:
            self._serial = _open_port(self.port, self.baud)
            self.problem = None
        except (OSError, ValueError) as exc:  # pyserial's SerialException is an OSError
            self._broken(exc)

    def _broken(self, exc: Exception) -> None:
        self.problem = f"{self.port}: {exc}"
        self._failed_at = time.monotonic()
        self.close()

    def read(self, max_bytes: int) -> bytes:
        if self._serial is None:
            if time.monotonic() - self._failed_at < REOPEN_SECONDS:
                return b""
            self._open()
            if self._serial is None:
                return b""
        try:
            data = self._serial.read(max_bytes)
        except Exception as exc:  # a USB adapter pulled out: pyserial's errors, OSError, TypeError
            self._broken(exc)
            return b""
        if data:
            self.heard = time.monotonic()
        return bytes(data)

    def write(self, buf: bytes) -> int:
        if self._serial is None:
            return 0
        try:
            return int(self._serial.write(buf) or 0)
        except Exception as exc:
            self._broken(exc)
            return 0

    def flush(self) -> None:
        """Nothing: pyserial writes through; libosdp calls this between packets."""

    def close(self) -> None:
        if self._serial is not None:
            with contextlib.suppress(Exception):
                self._serial.close()
            self._serial = None


class _Tty:
    """A serial port without pyserial (an optional extra): the tty itself, raw, non-blocking."""

    def __init__(self, port: str, baud: int) -> None:
        import termios
        import tty

        speed = getattr(termios, f"B{baud}", None)
        if speed is None:
            raise ValueError(f"{baud} baud is not a speed this system's serial ports take")
        self.fd = os.open(port, os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)
        try:
            tty.setraw(self.fd)
            attrs = termios.tcgetattr(self.fd)
            attrs[4] = attrs[5] = speed
            termios.tcsetattr(self.fd, termios.TCSANOW, attrs)
        except BaseException:
            os.close(self.fd)
            raise

    def read(self, max_bytes: int) -> bytes:
        try:
            return os.read(self.fd, max_bytes)
        except BlockingIOError:
            return b""

    def write(self, data: bytes) -> int:
        try:
            return os.write(self.fd, data)
        except BlockingIOError:
            return 0

    def close(self) -> None:
        os.close(self.fd)


def _open_port(port: str, baud: int) -> Any:
    """pyserial's port when it is installed (any OS), else the tty itself (POSIX)."""
    try:
        import serial
    except ImportError:
        return _Tty(port, baud)
    return serial.Serial(port, baud, timeout=0, write_timeout=1)


class OsdpReader(Door):
    """A door output that reports grants to an access panel as card reads (the reader role)."""

    driver = "osdp"
    lock_at_start = False  # there is no lock here: the panel drives its own

    def __init__(
        self,
        port: str,
        scbk: bytes,
        address: int = 1,
        baud: int = 9600,
        fmt: str = "h10301",
        facility: int = 0,
        raw_bits: int = 32,
        offline_seconds: float = 3.0,
        pulse_seconds: float = 3.0,
        cooldown_seconds: float = 5.0,
    ) -> None:
        super().__init__(pulse_seconds, cooldown_seconds)
        encode(0, fmt, facility, raw_bits)  # a layout that cannot work is refused now, not at the first grant
        self.fmt, self.facility, self.raw_bits = fmt, facility, raw_bits
        self.offline_seconds = offline_seconds
        self.channel = SerialChannel(port, baud)
        capabilities = osdp.PDCapabilities(
            [
                (osdp.Capability.CardDataFormat, 1, 1),
                (osdp.Capability.LEDControl, 1, 1),
                (osdp.Capability.AudibleControl, 1, 1),
                (osdp.Capability.TextOutput, 1, 1),
                (osdp.Capability.CommunicationSecurity, 1, 1),
            ]
        )
        info = osdp.PDInfo(address, self.channel, scbk=scbk, name="facegate", flags=[osdp.LibFlag.EnforceSecure])
        try:
            self.pd = osdp.PeripheralDevice(info, capabilities, log_level=osdp.LogLevel.Error, command_handler=self._command)
        except Exception as exc:
            self.channel.close()
            raise DoorError(f"OSDP reader: libosdp would not start ({exc})") from None
        self.panel_listeners: list[Callable[[PanelState], None]] = []  # libosdp's or the watcher's thread
        self.answer_listeners: list[Callable[[PanelAnswer], None]] = []  # libosdp's thread
        self._panel = PanelState(problem="not heard yet")
        self._panel_lock = threading.Lock()
        self._sent: tuple[float, Holder, str] | None = None  # the latest card read awaiting the panel's answer
        self._alarm_until: float | None = None  # monotonic time the duress alarm's tamper report is restored
        self._watching = threading.Event()
        self._watcher: threading.Thread | None = None
        self.state, self.error = "offline", "panel offline: not heard yet"

    # -- what callers use ---------------------------------------------------------------------------
    def start(self) -> None:
        super().start()
        with self._lock:
            if self._watcher is not None or self._closed:
                return
            self.pd.start()
            self._watcher = threading.Thread(target=self._watch, name="osdp-watch", daemon=True)
            self._watcher.start()

    def unlock(self, holder: Holder | None = None) -> str:
        """Queue a card read for ``holder``; refused at once (nothing sent) when it cannot be right."""
        if holder is None:
            return "nothing sent: the access panel opens this door (FaceGate sends it the card of a granted face)"
        if holder.card is None:
            log.warning("OSDP reader: %s was granted but has no card number: nothing sent to the panel", holder.name)
            return f"nothing sent: {holder.name} has no card number"
        try:
            self.bits(holder.card)
        except ValueError as exc:
            log.error("OSDP reader: %s's card cannot be sent: %s", holder.name, exc)
            return f"nothing sent: {exc}"
        panel = self.panel()
        if not panel.secure:
            log.warning("OSDP reader: %s was granted but the panel is offline: nothing sent", holder.name)
            return "nothing sent: the access panel is offline"
        answer = super().unlock(holder)
        return f"card {holder.card} sent to the panel" if answer == "unlocking" else answer

    def alarm(self, why: str) -> None:
        """Raise the silent alarm at the panel (any thread): this reader's tamper input reported
        tripped now, restored by the watcher ALARM_SECONDS later. Queued in libosdp even while
        the panel is silent: an alarm that arrives late still matters, unlike a card read."""
        with self._panel_lock:
            self._alarm_until = time.monotonic() + ALARM_SECONDS
        log.warning("OSDP reader: silent alarm raised at the panel (tamper reported): %s", why)
        self._report_tamper(True)

    def _report_tamper(self, tripped: bool) -> None:
        """An unsolicited local status report (tamper, power) to the panel; never under _panel_lock:
        libosdp's thread holds its own lock while it calls _command, which takes _panel_lock."""
        if self.pd.thread is None:
            return  # not started or closed: there is no panel to tell
        report = {"event": osdp.Event.Status, "type": osdp.StatusReportType.Local, "report": bytes([int(tripped), 0])}
        if self.pd.submit_event(report) is False:
            log.error("OSDP reader: libosdp refused the tamper report (%s)", "tripped" if tripped else "restored")

    def bits(self, card: str) -> CardBits:
        return encode(card, self.fmt, self.facility, self.raw_bits)

    def panel(self) -> PanelState:
        with self._panel_lock:
            return self._panel

    # -- the door thread ----------------------------------------------------------------------------
    def _pulse(self, holder: Holder | None) -> None:
        """Submit the card read (the door's own thread: never the frame thread)."""
        if holder is None or holder.card is None:
            return
        bits = self.bits(holder.card)
        event = {
            "event": osdp.Event.CardRead,
            "reader_no": 0,
            "direction": 0,
            "format": osdp.CardFormat.Wiegand,
            "length": bits.length,
            "data": bits.data(),
        }
        with self._panel_lock:
            self._sent = (time.monotonic(), holder, holder.card)
            self._panel = replace(self._panel, answer=None)
        if self.pd.submit_event(event) is False:
            self._fail(f"libosdp refused the card read of {holder.name}")
            return
        self.pulses += 1
        log.info("OSDP reader: card %s (%s) of %s sent to the panel", holder.card, label(self.fmt), holder.name)

    def switch_open(self) -> None:
        """Not used: a reader has no lock (see _pulse)."""

    def switch_locked(self) -> None:
        """Nothing to lock: the panel keeps its own door locked."""

    def _safe_lock(self) -> bool:
        return True  # the state is the panel's (the watcher's), never "locked" by a pulse

    # -- the panel's commands (libosdp's thread) ----------------------------------------------------------
    def _command(self, command: dict) -> tuple[int, dict | None]:
        kind = command.get("command")
        answered: PanelAnswer | None = None
        with self._panel_lock:
            panel = self._panel
            if kind == osdp.Command.LED:
                color = COLORS.get(command.get("on_color", 0), "off")
                panel = replace(panel, led=color)
                if self._sent is not None and color in ANSWERS:
                    sent_at, holder, card = self._sent
                    elapsed = time.monotonic() - sent_at
                    if elapsed <= ANSWER_SECONDS:
                        answered = PanelAnswer(holder, card, ANSWERS[color], elapsed)
                        panel = replace(panel, answer=ANSWERS[color])
                        self._sent = None
            elif kind == osdp.Command.Buzzer:
                panel = replace(panel, buzzer=bool(command.get("control_code")) and command.get("on_count", 0) > 0)
            elif kind == osdp.Command.Text:
                panel = replace(panel, text=str(command.get("data", "")))
            elif kind == osdp.Command.Status and command.get("type") == osdp.StatusReportType.Local:
                # tamper (tripped only by a duress alarm: a PC has no switch) and power (no mains sensor: normal)
                tamper = int(self._alarm_until is not None)
                return 0, {"command": osdp.Command.Status, "type": osdp.StatusReportType.Local, "report": bytes([tamper, 0])}
            else:
                return 0, None
            self._panel = panel
        self._tell(panel)
        if answered is not None:
            log.info(
                "OSDP panel: %s for %s (card %s), %.0f ms after the card read",
                answered.answer,
                answered.holder.name,
                answered.card,
                answered.seconds * 1000,
            )
            for listener in list(self.answer_listeners):
                try:
                    listener(answered)
                except Exception:
                    log.exception("panel answer listener failed")
        return 0, None

    # -- the watcher --------------------------------------------------------------------------------
    def _watch(self) -> None:
        while not self._watching.wait(WATCH_SECONDS):
            with self._panel_lock:
                restore = self._alarm_until is not None and time.monotonic() >= self._alarm_until
                if restore:
                    self._alarm_until = None
            if restore:
                self._report_tamper(False)
            heard = self.channel.heard
            silent = heard is None or time.monotonic() - heard > self.offline_seconds
            online = not silent and self.pd.is_online()
            secure = online and self.pd.is_sc_active()
            problem = None
            if not online:
                problem = self.channel.problem or (
                    "not heard yet" if heard is None else f"not heard for {self.offline_seconds:g} s"
                )
            elif not secure:
                problem = "no secure channel (is the panel given this reader's SCBK?)"
            with self._panel_lock:
                old = self._panel
                self._panel = replace(old, online=online, secure=secure, problem=problem)
                changed = self._panel != old
                panel = self._panel
            if changed:
                self._tell(panel)
            if secure != (self.state != "offline"):
                if secure:
                    log.info("OSDP reader: the panel is online, secure channel up")
                    self._set_state("locked", None)
                else:
                    log.warning("OSDP reader: panel offline (%s)", problem)
                    self._drop_queued()
                    self._set_state("offline", f"panel offline: {problem}")

    def _drop_queued(self) -> None:
        """Forget card reads the panel has not taken yet: delivered when it is back, they would
        open the door for someone long gone."""
        with self.pd.lock:
            dropped = self.pd.ctx.flush_events()
        if dropped:
            log.warning("OSDP reader: %s card read(s) the panel never took were dropped", dropped)

    def _tell(self, panel: PanelState) -> None:
        for listener in list(self.panel_listeners):
            try:
                listener(panel)
            except Exception:
                log.exception("panel listener failed")

    def release(self) -> None:
        """Stop the watcher and libosdp's thread, then close the port."""
        self._watching.set()
        if self._watcher is not None:
            self._watcher.join(timeout=2)
        if self.pd.thread is not None:
            self.pd.stop()
        self.channel.close()
