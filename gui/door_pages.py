"""Door decisions in the window: builds the door output and the DoorDecider from the settings stored
in the gallery, hands the DoorDecider to the live recognizer (core.station.wiring, as `facegate
replay` does), and adds the Access log and Door
pages plus the door indicator in the status bar. The door is locked and closed when the window
closes (core.door.base also locks at interpreter exit, and the guard process on a crash)."""
from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Signal

from core.door import start_door
from core.door.base import DoorSettings
from core.door.decide import MANUAL_UNLOCK, DecisionSettings
from core.errors import FaceGateError
from core.station.wiring import attach_decider
from gui.admin_dialog import require_admin
from gui.door_indicator import DoorIndicator
from gui.door_settings import DoorSettingsPage
from gui.log_page import LogPage
from gui.schedule_editor import ScheduleEditor


class DoorPages(QObject):
    logged = Signal(object)  # an AccessEvent just written (from the decider's writer thread)

    def __init__(self, window) -> None:
        super().__init__(window)
        self.window = window
        store = window.gallery.store
        door_settings, door_problem = DoorSettings.load_or_default(store)
        decision_settings, decision_problem = DecisionSettings.load_or_default(store)
        self.door, open_problem = start_door(door_settings)
        self.decider = attach_decider(window.recognizer, self.door, decision_settings)
        self.indicator = DoorIndicator(self.door)
        window.statusBar().addPermanentWidget(self.indicator)
        self.log_page = LogPage(window.gallery)
        self.settings_page = DoorSettingsPage(door_settings, decision_settings)
        self.schedules = ScheduleEditor(window.gallery)
        self.settings_page.column.insertWidget(1, self.schedules)
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
        door, problem = start_door(door_settings)
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

