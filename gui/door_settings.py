"""The Door page: which door output and its parameters, pulse and cooldown, the decision
numbers (consensus, margin, liveness), and where events go out (MQTT, webhook). Forms are built from core's settings dataclasses, so a
new setting there shows up here with no widget code; core checks the values (check()), and this
page only shows what core says is wrong."""

from __future__ import annotations

from dataclasses import fields, replace
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from core.door.base import DRIVERS, DoorSettings
from core.door.card_formats import FORMATS
from core.door.event_settings import EventSettings
from core.door.policy import DecisionSettings
from core.vision.texture import MODES
from gui.admin_dialog import require_admin

LABELS = {
    "pulse_seconds": "Unlock pulse (s)",
    "cooldown_seconds": "Cooldown after a pulse (s)",
    "guard": "Run in the fail-secure guard process",
    "serial_port": "Serial port",
    "serial_baud": "Baud rate",
    "serial_on": "ON command (hex)",
    "serial_off": "OFF command (hex)",
    "http_unlock_url": "Unlock URL",
    "http_lock_url": "Lock URL (empty: the lock relocks itself)",
    "http_method": "Method",
    "http_body": "Body",
    "http_headers": "Headers (Name: value; …)",
    "http_timeout": "Timeout (s)",
    "command_unlock": "Unlock command",
    "command_lock": "Lock command",
    "command_timeout": "Timeout (s)",
    "osdp_port": "Serial port (RS-485 adapter)",
    "osdp_baud": "Baud rate (as the panel is told)",
    "osdp_address": "Reader address (as the panel is told)",
    "osdp_scbk": "Secure channel key, SCBK (32 hex digits)",
    "osdp_format": "Card format",
    "osdp_facility": "Facility code",
    "osdp_raw_bits": "Raw format: bits",
    "osdp_offline_seconds": "Panel silent this long: offline (s)",
    "threshold": "Match threshold",
    "min_margin": "Margin to the next person",
    "agree": "Identifications that must agree",
    "within": "...among the last (identifications)",
    "revisit_after": "Out of sight before a new visit (s)",
    "unknown_after": "Identifications before 'Unknown'",
    "liveness": "Require liveness to unlock",
    "blink": "A blink counts",
    "head_turn": "A head turn counts",
    "talk": "Talking counts (lips open and shut)",
    "blink_ratio": "Closed-eye ratio",
    "blink_frames": "Frames with eyes closed",
    "turn_parallax": "Head turn: nose parallax needed",
    "turn_bump": "Head turn: nose out of the half-faces",
    "turn_frames": "Head turn: frames that show it",
    "strict_turn": "Head turn: outline and midline too (refuses folded sheets; slower)",
    "screen_check": "Screen and print check (advisory: logged, never refuses)",
    "room_required": "Screen check required: refuse until the door has seen its empty room",
    "liveness_min_face": "Smallest face judged (px)",
    "liveness_window": "Liveness memory (s)",
    "factor_timeout": "Second factor: time to answer (s)",
    "factor_tries": "Second factor: wrong answers before a lockout",
    "lockout_seconds": "Second factor: lockout (s)",
    "snapshot_size": "Log snapshot size (px)",
    "door_name": "Door name (Home Assistant device)",
    "mqtt_host": "MQTT broker (empty: off)",
    "mqtt_port": "MQTT port",
    "mqtt_username": "MQTT user",
    "mqtt_password": "MQTT password",
    "mqtt_topic": "Base topic (empty: facegate/<door>)",
    "mqtt_discovery": "Home Assistant discovery",
    "discovery_prefix": "Discovery prefix",
    "webhook_url": "Webhook URL (empty: off)",
    "webhook_timeout": "Webhook timeout (s)",
    "send_snapshots": "Send face snapshots",
    "queue_size": "Events kept while an output is down",
}
#: text settings that take one of a few values: a drop-down, not a line to type in
CHOICES = {"screen_check": MODES, "osdp_format": tuple(FORMATS)}
#: text settings shown as dots, never in clear
SECRETS = ("mqtt_password", "osdp_scbk")


class SettingsForm(QWidget):
    """Widgets for some fields of a settings dataclass, chosen by each field's type."""

    def __init__(self, value: object, names: list[str], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.widgets: dict[str, QWidget] = {}
        form = QFormLayout(self)
        for name in names:
            current = getattr(value, name)
            widget: QWidget
            if name in CHOICES:
                widget = QComboBox()
                widget.addItems(list(CHOICES[name]))
            elif isinstance(current, bool):
                widget = QCheckBox()
            elif isinstance(current, int):
                widget = QSpinBox(minimum=0, maximum=1_000_000)
            elif isinstance(current, float):
                widget = QDoubleSpinBox(minimum=0.0, maximum=3600.0, decimals=3, singleStep=0.01)
            else:
                widget = QLineEdit()
                if name in SECRETS:
                    widget.setEchoMode(QLineEdit.EchoMode.Password)
            self.widgets[name] = widget
            form.addRow(LABELS.get(name, name), widget)
        self.set(value)

    def set(self, value: object) -> None:
        for name, widget in self.widgets.items():
            v = getattr(value, name)
            if isinstance(widget, QComboBox):
                widget.setCurrentText(str(v))
            elif isinstance(widget, QCheckBox):
                widget.setChecked(bool(v))
            elif isinstance(widget, (QSpinBox, QDoubleSpinBox)):
                widget.setValue(v)
            elif isinstance(widget, QLineEdit):
                widget.setText(str(v).replace("\n", "; ") if name == "http_headers" else str(v))

    def values(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name, widget in self.widgets.items():
            if isinstance(widget, QComboBox):
                out[name] = widget.currentText()
            elif isinstance(widget, QCheckBox):
                out[name] = widget.isChecked()
            elif isinstance(widget, (QSpinBox, QDoubleSpinBox)):
                out[name] = widget.value()
            elif isinstance(widget, QLineEdit):
                text = widget.text().strip()
                out[name] = "\n".join(h.strip() for h in text.split(";")) if name == "http_headers" else text
        return out


class DoorSettingsPage(QWidget):
    applied = Signal(object, object, object)  # DoorSettings, DecisionSettings, EventSettings (all checked)
    test_pulse = Signal()

    def __init__(
        self, door: DoorSettings, decision: DecisionSettings, events: EventSettings | None = None, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.door, self.decision, self.events = door, decision, events or EventSettings()
        self.driver = QComboBox()
        self.driver.addItems(DRIVERS)
        self.driver.setCurrentText(door.driver)
        names = [f.name for f in fields(DoorSettings) if f.name != "driver"]
        self.common = SettingsForm(door, [n for n in names if not n.startswith(tuple(d + "_" for d in DRIVERS[1:]))])
        self.per_driver = {d: SettingsForm(door, [n for n in names if n.startswith(d + "_")]) for d in DRIVERS[1:]}
        self.decision_form = SettingsForm(decision, [f.name for f in fields(DecisionSettings)])
        self.events_form = SettingsForm(self.events, [f.name for f in fields(EventSettings)])
        self.events_status = QLabel("Events out: off", wordWrap=True)  # DoorPages keeps it current
        self.driver.currentTextChanged.connect(self._show_driver)
        self.message = QLabel(wordWrap=True)
        apply, test = QPushButton("Apply"), QPushButton("Test unlock")
        apply.clicked.connect(self.apply)
        test.clicked.connect(self.test_pulse.emit)

        door_box = QGroupBox("Door output")
        box = QVBoxLayout(door_box)
        row = QHBoxLayout()
        row.addWidget(QLabel("Driver"))
        row.addWidget(self.driver, 1)
        box.addLayout(row)
        box.addWidget(self.common)
        for form in self.per_driver.values():
            box.addWidget(form)
        decision_box = QGroupBox("Decisions")
        QVBoxLayout(decision_box).addWidget(self.decision_form)
        events_box = QGroupBox("Events out (MQTT / Home Assistant, webhook)")
        events_column = QVBoxLayout(events_box)
        events_column.addWidget(self.events_form)
        events_column.addWidget(self.events_status)
        columns = QHBoxLayout()
        columns.addWidget(door_box, 1)
        columns.addWidget(decision_box, 1)
        columns.addWidget(events_box, 1)
        buttons = QHBoxLayout()
        buttons.addWidget(self.message, 1)
        buttons.addWidget(test)
        buttons.addWidget(apply)
        self.column = QVBoxLayout(self)  # door_pages puts the schedule editor in it
        self.column.addLayout(columns)
        self.column.addLayout(buttons)
        self.column.addStretch(1)
        self._show_driver(door.driver)

    def _show_driver(self, driver: str) -> None:
        for name, form in self.per_driver.items():
            form.setVisible(name == driver)

    def chosen(self) -> tuple[DoorSettings, DecisionSettings, EventSettings]:
        """The settings as filled in; ValueError (naming the field) when they cannot work."""
        driver = self.driver.currentText()
        door = replace(
            self.door,
            driver=driver,
            **self.common.values(),
            **(self.per_driver[driver].values() if driver in self.per_driver else {}),
        )
        decision = replace(self.decision, **self.decision_form.values())
        events = replace(self.events, **self.events_form.values())
        door.check()
        decision.check()
        events.check()
        return door, decision, events

    def apply(self) -> bool:
        if not require_admin(self, "change the door settings"):
            return False
        try:
            door, decision, events = self.chosen()
        except ValueError as exc:
            self.message.setText(f"Not applied: {exc}")
            self.message.setStyleSheet("color: #c62828;")
            return False
        self.door, self.decision, self.events = door, decision, events
        self.message.setStyleSheet("")
        self.message.setText(f"Applied: {door.driver} door, pulse {door.pulse_seconds:g} s")
        self.applied.emit(door, decision, events)
        return True
