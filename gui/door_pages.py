"""Door decisions in the window: builds the door output and the DoorDecider from the settings stored
in the gallery, hands the DoorDecider to the live recognizer (core.station.wiring, as
`facegate replay` does), and adds the Access log, Visitors,
Recent faces and Door pages plus the door indicator in the status bar; sends every logged
decision out (MQTT, webhook: core.door.events) when the Door page says where. The door is locked and closed when the window
closes (core.door.base also locks at interpreter exit, and the guard process on a crash)."""
from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, QTimer, Signal

from core.door import start_door
from core.door.base import DoorSettings
from core.door.decide import MANUAL_UNLOCK, DecisionSettings
from core.door.event_settings import EventSettings
from core.door.events import EventPublisher
from core.errors import FaceGateError
from core.station.wiring import attach_decider
from gui.admin_dialog import require_admin
from gui.door_indicator import DoorIndicator
from gui.door_settings import DoorSettingsPage
from gui.log_page import LogPage
from gui.recent_page import RecentPage
from gui.schedule_editor import ScheduleEditor
from gui.visitors_page import VisitorsPage


class DoorPages(QObject):
    logged = Signal(object)  # an AccessEvent just written (from the decider's writer thread)
    learned = Signal(int)    # learning mode added a sample (from the decider's writer thread)

    def __init__(self, window) -> None:
        super().__init__(window)
        self.window = window
        store = window.gallery.store
        door_settings, door_problem = DoorSettings.load_or_default(store)
        decision_settings, decision_problem = DecisionSettings.load_or_default(store)
        event_settings, events_problem = EventSettings.load_or_default(store)
        self.door, open_problem = start_door(door_settings)
        self.decider = attach_decider(window.recognizer, self.door, decision_settings)
        self.events = EventPublisher(event_settings)
        self.decider.on_logged.append(self._publish)
        self.door.add_listener(self._door_changed)
        self.indicator = DoorIndicator(self.door)
        window.statusBar().addPermanentWidget(self.indicator)
        self.log_page = LogPage(window.gallery)
        self.settings_page = DoorSettingsPage(door_settings, decision_settings, event_settings)
        self.schedules = ScheduleEditor(window.gallery)
        self.settings_page.column.insertWidget(1, self.schedules)
        self.visitors_page = VisitorsPage(window.gallery, self.decider.visitors)
        window.add_page("Access log", self.log_page)
        window.add_page("Visitors", self.visitors_page)
        self.recent_page = RecentPage(window.gallery, self.decider.recent)
        window.add_page("Recent faces", self.recent_page)
        self.recent_page.gallery_changed.connect(window.recognizer.refresh)
        self.decider.recent.on_learned.append(self.learned.emit)
        self.learned.connect(lambda _sample: window.recognizer.refresh())
        self.logged.connect(lambda _event: self.recent_page.reload())
        window.add_page("Door", self.settings_page)
        self.log_page.gallery_changed.connect(window.recognizer.refresh)
        self.visitors_page.gallery_changed.connect(window.recognizer.refresh)
        self.settings_page.applied.connect(self.apply)
        self.settings_page.test_pulse.connect(self.test_unlock)
        window.frame_shown.connect(lambda shown: self.indicator.show_decisions(shown.result.tracks))
        self.decider.on_logged.append(self.logged.emit)
        self.logged.connect(lambda _event: self.log_page.reload())
        self.logged.connect(lambda event: self.visitors_page.reload() if event.visitor_id else None)
        window.installEventFilter(self)
        problems = [p for p in (door_problem, decision_problem, events_problem, open_problem) if p]
        if problems:
            self.settings_page.message.setText("; ".join(problems))
        self.events_timer = QTimer(self, interval=1000)
        self.events_timer.timeout.connect(self.show_events_status)
        self.events_timer.start()
        self.show_events_status()

    # The publisher may be replaced (Apply) while the writer and door threads call these.
    def _publish(self, event) -> None:
        self.events.publish(event)

    def _door_changed(self, status) -> None:
        self.events.door_changed(status)

    def show_events_status(self) -> None:
        statuses = self.events.status()
        text = "; ".join(str(s) for s in statuses) if statuses else "off"
        self.settings_page.events_status.setText(f"Events out: {text}")
        self.settings_page.events_status.setStyleSheet(
            "color: #c62828;" if any(s.state == "retrying" or s.dropped for s in statuses) else "")

    def apply(self, door_settings: DoorSettings, decision_settings: DecisionSettings,
              event_settings: EventSettings) -> None:
        try:
            if decision_settings.liveness and decision_settings.screen_check != "off":
                self.decider.texture_scorer()  # its model loads now: a missing one is said here, not at a face
            door_settings.save(self.window.gallery.store)
            decision_settings.save(self.window.gallery.store)
            event_settings.save(self.window.gallery.store)
        except (FaceGateError, ValueError) as exc:
            self.settings_page.message.setText(f"Not saved: {exc}")
            return
        self.decider.settings = decision_settings
        old_events, self.events = self.events, EventPublisher(event_settings)
        old_events.close(timeout=0.5)
        door, problem = start_door(door_settings)
        door.add_listener(self._door_changed)
        old, self.door = self.door, door
        self.decider.set_door(door)
        self.indicator.watch(door)
        old.close()
        self.show_events_status()
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
        self.events_timer.stop()
        self.decider.close()
        self.door.close()
        self.events.close(timeout=1.0)

    def eventFilter(self, watched, event) -> bool:
        if event.type() == QEvent.Type.Close:
            self.shutdown()
        return False

