"""The door's state in the status bar: locked / OPEN / failure, and what the door decided last;
behind an access panel (the OSDP reader output), the panel's state: online or PANEL OFFLINE, and
what it shows on this reader (its LED's colour, its text, its answer to the last card read).

The door reports from its own thread; a Qt signal carries each report to the GUI thread. The
decision text (e.g. "Lin-Manuel: please blink or turn your head") is the operator's and the
visitor's only hint of what the door is waiting for, so it is shown next to the state.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSizePolicy, QWidget

from core.door.base import Door, DoorStatus
from core.door.factors import PROMPTS
from core.door.osdp import OsdpReader, PanelState
from core.door.policy import Decision
from core.door.verdict import Verdict
from gui.widgets import ElidedLabel

if TYPE_CHECKING:
    from core.live.loop import TrackView

STYLES = {
    "locked": "background: #2e7d32; color: white;",
    "open": "background: #f9a825; color: black; font-weight: bold;",
    "error": "background: #c62828; color: white; font-weight: bold;",
    "offline": "background: #6a1b9a; color: white; font-weight: bold;",
}
#: the panel's LED colour on this reader, as the screen shows it
LED_STYLES = {
    "green": "background: #2e7d32; color: white; font-weight: bold;",
    "red": "background: #c62828; color: white; font-weight: bold;",
    "amber": "background: #f9a825; color: black;",
}


class _DoorSignals(QObject):
    changed = Signal(object)  # DoorStatus, emitted from the door's thread
    panel = Signal(object)  # PanelState, emitted from libosdp's or the reader's watcher thread


class DoorIndicator(QWidget):
    def __init__(self, door: Door | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state = QLabel()
        self.state.setMargin(3)
        self.state.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Preferred)  # never squeezed
        self.decision = ElidedLabel()  # gives way (ending in "…") when the status bar is short of room
        self.panel = QLabel()  # the access panel's LED, text and answer (an OSDP reader output only)
        self.panel.setMargin(3)
        self.panel.setVisible(False)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.decision)
        layout.addWidget(self.panel)
        layout.addWidget(self.state)
        self._signals = _DoorSignals(self)
        self._signals.changed.connect(self.show_status)
        self._signals.panel.connect(self.show_panel)
        self.door: Door | None = None
        if door is not None:
            self.watch(door)

    def watch(self, door: Door) -> None:
        """Follow this door (after the settings changed it)."""
        self.door = door
        door.add_listener(self._signals.changed.emit)
        self.show_status(door.status())
        self.panel.setVisible(isinstance(door, OsdpReader))
        if isinstance(door, OsdpReader):
            door.panel_listeners.append(self._signals.panel.emit)
            self.show_panel(door.panel())

    def show_status(self, status: DoorStatus) -> None:
        if self.door is None:
            return
        driver = self.door.driver
        texts = {"locked": f"Door locked ({driver})", "open": f"DOOR OPEN ({driver})"}
        if driver == "osdp":  # the panel drives the lock; this is a reader
            texts = {"locked": "Panel online (osdp reader)", "offline": "PANEL OFFLINE (osdp reader)"}
        text = texts.get(status.state, "DOOR FAILURE")
        if status.error:
            text += f" - {status.error}"
        self.state.setText(text)
        self.state.setToolTip(status.error or f"{status.pulses} unlocks since start")
        self.state.setStyleSheet(STYLES.get(status.state if status.state == "offline" or not status.error else "error", ""))

    def show_panel(self, panel: PanelState) -> None:
        """What the access panel shows on this reader: its answer, else its text, else its LED."""
        if panel.answer is not None:
            text = f"Panel: ACCESS {panel.answer.upper()}"
        elif panel.text:
            text = f"Panel: {panel.text}"
        else:
            text = f"Panel LED {panel.led}"
        self.panel.setText(text + (" (beep)" if panel.buzzer else ""))
        self.panel.setStyleSheet(LED_STYLES.get(panel.led, ""))
        self.panel.setToolTip(panel.problem or ("secure channel up" if panel.secure else "no secure channel"))

    def show_decisions(self, tracks: list[TrackView]) -> None:
        """The most telling decision of the frame's faces: a grant or denial, else a liveness prompt."""
        decisions = [t.decision for t in tracks if t.decision is not None]
        if not decisions:
            self.decision.setText("")
            return
        d = min(decisions, key=_rank)
        who = d.person or "Face"  # not (yet) anyone: "Face: Unsure", "Face: Unknown"
        reason = (
            d.reason.split(" (")[0]
            if d.verdict == Verdict.CHECKING_LIVENESS
            else PROMPTS.get(_FACTORS.get(d.verdict, ""), d.verdict)
        )
        self.decision.setText(f"{who}: {reason}" if d.verdict != Verdict.GRANTED else f"{who}: Granted ({d.door})")


_FACTORS = {Verdict.AWAITING_PIN: "pin", Verdict.AWAITING_CARD: "card"}  # "Enter PIN", "Present card"


def _rank(d: Decision) -> int:
    """A grant or a denial tells the most (the first face's wins a tie), then a prompt: show
    yourself alive, enter your PIN, present your card."""
    return 1 if d.verdict.final else 2 if d.verdict == Verdict.CHECKING_LIVENESS or d.verdict in _FACTORS else 3
