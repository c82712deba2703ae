"""Door decisions in the window: builds the door output and the Decider from the settings stored
in the gallery, hands the Decider to the live recognizer, and adds the Access log and Door
pages plus the door indicator in the status bar. The door is locked and closed when the window
closes (core.door.drivers also locks at interpreter exit, and the guard process on a crash)."""
from __future__ import annotations

import json
import logging

from PySide6.QtCore import QEvent, QObject, Signal

from core.door import make_door
from core.door.base import Door, DoorSettings
from core.door.decide import MANUAL_UNLOCK, Decider, DecisionSettings
from core.door.drivers import SimulatedDoor
from core.errors import FaceGateError
from gui.admin_dialog import require_admin
from gui.door_indicator import DoorIndicator
from gui.door_settings import DoorSettingsPage
from gui.log_page import LogPage
from gui.schedule_editor import ScheduleEditor

log = logging.getLogger("facegate.door")


def _stored(cls, store):
    """Settings saved in the gallery; the defaults (and the reason) when they cannot be read."""
    try:
        settings = cls.load(store)
        settings.check()
        return settings, None
    except (ValueError, TypeError, json.JSONDecodeError, FaceGateError) as exc:
        return cls(), f"saved {cls.KEY} settings ignored: {exc}"


def open_door(settings: DoorSettings) -> tuple[Door, str | None]:
    """The configured door, or a simulated one showing why the configured one could not start:
    either way nothing physical is left unlocked."""
    try:
        door = make_door(settings)
        door.start()
        return door, None
    except Exception as exc:  # a missing port or a guard that will not start must not stop the window
        why = f"the {settings.driver} door could not start: {exc}"
        log.error(why)
        door = SimulatedDoor(settings.pulse_seconds, settings.cooldown_seconds)
        door.start()
        door.error = why
        return door, why


class DoorPages(QObject):
    logged = Signal(object)  # an AccessEvent just written (from the decider's writer thread)

    def __init__(self, window) -> None:
        super().__init__(window)
        self.window = window
        store = window.gallery.store
        door_settings, door_problem = _stored(DoorSettings, store)
        decision_settings, decision_problem = _stored(DecisionSettings, store)
        self.door, open_problem = open_door(door_settings)
        self.decider = Decider(window.gallery, self.door, decision_settings)
        window.recognizer.decider = self.decider
        self.indicator = DoorIndicator(self.door)
        window.statusBar().addPermanentWidget(self.indicator)
        self.log_page = LogPage(window.gallery)
        self.settings_page = DoorSettingsPage(door_settings, decision_settings)
        self.schedules = ScheduleEditor(window.gallery)
        self.settings_page.layout().insertWidget(1, self.schedules)
        window.add_page("Access log", self.log_page)
        window.add_page("Door", self.settings_page)
        self.log_page.gallery_changed.connect(window.recognizer.refresh)
        self.settings_page.applied.connect(self.apply)
        self.settings_page.test_pulse.connect(self.test_unlock)
        window.frame_shown.connect(lambda shown: self.indicator.show_decisions(shown.result.tracks))
        self.decider.on_logged.append(self.logged.emit)
        self.logged.connect(lambda _event: self.log_page.reload())
        window.installEventFilter(self)
        problems = [p for p in (door_problem, decision_problem, open_problem) if p]
        if problems:
            self.settings_page.message.setText("; ".join(problems))

    def apply(self, door_settings: DoorSettings, decision_settings: DecisionSettings) -> None:
        try:
            door_settings.save(self.window.gallery.store)
            decision_settings.save(self.window.gallery.store)
        except (FaceGateError, ValueError) as exc:
            self.settings_page.message.setText(f"Not saved: {exc}")
            return
        self.decider.settings = decision_settings
        door, problem = open_door(door_settings)
        old, self.door = self.door, door
        self.decider.set_door(door)
        self.indicator.watch(door)
        old.close()
        if problem:
            self.settings_page.message.setText(problem)

    def test_unlock(self) -> str:
        if not require_admin(self.window, "unlock the door by hand"):
            return "refused: no admin PIN"
        answer = self.door.unlock()
        self.decider.note(MANUAL_UNLOCK, "Test unlock on the Door page", answer)
        self.settings_page.message.setText(f"Test unlock: {answer}")
        return answer

    def shutdown(self) -> None:
        self.decider.close()
        self.door.close()

    def eventFilter(self, watched, event) -> bool:
        if event.type() == QEvent.Type.Close:
            self.shutdown()
        return False


def add_door_pages(window) -> DoorPages:
    return DoorPages(window)
