"""Door decisions in the window: the Access log, Visitors, Recent faces and Door pages plus the
door indicator in the status bar, over the station's decider, door output and events out
(core.station.Station builds them all from the gallery's settings, as `facegate replay` does).
The Door page's Apply goes to Station.apply; the pages that change who is enrolled ask the
window to look (MainWindow.poll_gallery), and every page that shows the gallery reloads on its
one gallery_changed signal."""

from __future__ import annotations

from dataclasses import replace

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtWidgets import QApplication

from core.door.access_log import AccessEvent
from core.door.base import Door, DoorSettings
from core.door.decide import DoorDecider
from core.door.event_settings import EventSettings
from core.door.factors import KeyboardWedge
from core.door.policy import DecisionSettings
from core.door.verdict import Verdict
from core.errors import FaceGateError
from core.station import Station
from gui.admin_dialog import require_admin
from gui.door_indicator import DoorIndicator
from gui.door_settings import DoorSettingsPage
from gui.log_page import LogPage
from gui.pin_keypad import CardKeys, PinKeypad
from gui.recent_page import RecentPage
from gui.schedule_editor import ScheduleEditor
from gui.shell import Shell
from gui.visitors_page import VisitorsPage


class DoorPages(QObject):
    logged = Signal(object)  # an AccessEvent just written (from the decider's writer thread)
    learned = Signal(int)  # learning mode added a sample (from the decider's writer thread)

    def __init__(self, window: Shell, station: Station) -> None:
        super().__init__(window)
        self.window = window
        self.station = station
        settings = station.settings
        self.indicator = DoorIndicator(station.door)
        station.on_door.append(self.indicator.watch)
        window.statusBar().addPermanentWidget(self.indicator)
        gallery = station.gallery
        self.log_page = LogPage(gallery)
        self.settings_page = DoorSettingsPage(settings.door, settings.decision, settings.events)
        self.schedules = ScheduleEditor(gallery)
        self.settings_page.column.insertWidget(1, self.schedules)
        self.visitors_page = VisitorsPage(gallery, station.decider.visitors)
        self.recent_page = RecentPage(gallery, station.decider.recent)
        window.add_page("Access log", self.log_page)
        window.add_page("Visitors", self.visitors_page)
        window.add_page("Recent faces", self.recent_page)
        window.add_page("Door", self.settings_page, scroll=True)  # three columns of forms: scrolled, not the window's width
        for page in (self.log_page, self.visitors_page, self.recent_page):
            page.gallery_changed.connect(window.poll_gallery)
        window.gallery_changed.connect(self.recent_page.reload)
        window.gallery_changed.connect(self.visitors_page.reload)
        self._closed = False
        station.decider.recent.on_learned.append(self.learned.emit)
        self.learned.connect(lambda _sample: None if self._closed else window.poll_gallery())
        station.decider.on_logged.append(self.logged.emit)
        self.logged.connect(self._show_logged)
        self.settings_page.applied.connect(self.apply)
        self.settings_page.test_pulse.connect(self.test_unlock)
        window.frame_shown.connect(lambda shown: self.indicator.show_decisions(shown.result.tracks))
        # the second factor: the keypad over the live picture, and a USB HID card reader's keys
        self.keypad = PinKeypad(window.video, lambda pin: self.station.decider.enter_pin(pin))
        window.frame_shown.connect(lambda shown: self.keypad.ask(_asks_pin(shown.result.tracks)))
        self.card_reader = KeyboardWedge()
        self.card_reader.add_listener(lambda number: self.station.decider.present_card(number))
        self.card_keys = CardKeys(self.card_reader, self)
        app = QApplication.instance()
        if app is not None:
            app.installEventFilter(self.card_keys)
        if station.problems:
            self.settings_page.message.setText("; ".join(station.problems))
        self.events_timer = QTimer(self, interval=1000)
        self.events_timer.timeout.connect(self.show_events_status)
        self.events_timer.start()
        self.show_events_status()

    @property
    def door(self) -> Door:
        return self.station.door

    @property
    def decider(self) -> DoorDecider:
        return self.station.decider

    def show_events_status(self) -> None:
        statuses = self.station.events.status() if self.station.events is not None else []
        text = "; ".join(str(s) for s in statuses) if statuses else "off"
        self.settings_page.events_status.setText(f"Events out: {text}")
        self.settings_page.events_status.setStyleSheet(
            "color: #c62828;" if any(s.state == "retrying" or s.dropped for s in statuses) else ""
        )

    def apply(self, door_settings: DoorSettings, decision_settings: DecisionSettings, event_settings: EventSettings) -> None:
        """The Door page's Apply: the station saves and runs on them (nothing changes if refused)."""
        try:
            if decision_settings.liveness and decision_settings.screen_check != "off":
                self.station.decider.texture_scorer()  # its model loads now: a missing one is said here, not at a face
            problems = self.station.apply(
                replace(self.station.settings, door=door_settings, decision=decision_settings, events=event_settings)
            )
        except (FaceGateError, ValueError) as exc:
            self.settings_page.message.setText(f"Not saved: {exc}")
            return
        self.show_events_status()
        if problems:
            self.settings_page.message.setText("; ".join(problems))

    def test_unlock(self) -> str:
        if not require_admin(self.window, "unlock the door by hand"):
            return "refused: no admin PIN"
        answer = self.station.door.unlock()
        self.station.decider.note(Verdict.MANUAL_UNLOCK, "Test unlock on the Door page", answer)
        self.settings_page.message.setText(f"Test unlock: {answer}")
        return answer

    def _show_logged(self, event: AccessEvent) -> None:
        """A new access-log entry: the pages that list entries reload. An entry logged just
        before the window closed may be delivered after its gallery closed: it is dropped."""
        if self._closed:
            return
        self.recent_page.reload()
        self.log_page.reload()
        if event.visitor_id:
            self.visitors_page.reload()

    def shutdown(self) -> None:
        """Stop the page's timer, card reader and undo job (the station closes the decider, door
        and events); entries and learned samples still on their way to the pages are dropped."""
        self._closed = True
        for callbacks, emit in (
            (self.station.decider.on_logged, self.logged.emit),
            (self.station.decider.recent.on_learned, self.learned.emit),
        ):
            if emit in callbacks:
                callbacks.remove(emit)
        self.events_timer.stop()
        self.keypad.shutdown()
        self.recent_page.shutdown()
        app = QApplication.instance()
        if app is not None:
            app.removeEventFilter(self.card_keys)


def _asks_pin(tracks: list) -> bool:
    """Whether the door is asking one of the frame's faces for a PIN (the keypad shows)."""
    return any(t.decision is not None and t.decision.verdict == Verdict.AWAITING_PIN for t in tracks)
