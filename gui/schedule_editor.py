"""Weekly time windows per person, on the Door page: pick a person, type their windows
("Mon-Fri 08:00-18:00, Sat 10:00-14:00"; empty = no time limit), save. core.door.schedule parses and
stores them and says what is wrong with a window that cannot be read."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtWidgets import QComboBox, QGroupBox, QHBoxLayout, QLabel, QLineEdit, QPushButton, QVBoxLayout

from core.door.schedule import Schedules, format_windows, parse_windows
from core.errors import FaceGateError
from gui.admin_dialog import require_admin

if TYPE_CHECKING:
    from PySide6.QtGui import QShowEvent
    from PySide6.QtWidgets import QWidget

    from core.gallery.api import Gallery


class ScheduleEditor(QGroupBox):
    def __init__(self, gallery: Gallery, parent: QWidget | None = None) -> None:
        super().__init__("Time windows (door PC's local time)", parent)
        self.gallery = gallery
        self.schedules = Schedules(gallery.store)
        self.person = QComboBox()
        self.windows = QLineEdit(placeholderText="no time limit, e.g. Mon-Fri 08:00-18:00, Sat 10:00-14:00")
        save = QPushButton("Save")
        self.message = QLabel(wordWrap=True)
        self.person.currentIndexChanged.connect(self._show_person)
        self.windows.returnPressed.connect(self.save)
        save.clicked.connect(self.save)
        row = QHBoxLayout()
        row.addWidget(self.person)
        row.addWidget(self.windows, 1)
        row.addWidget(save)
        layout = QVBoxLayout(self)
        layout.addLayout(row)
        layout.addWidget(self.message)
        self.reload()

    def reload(self) -> None:
        """Re-read the people (someone may have been enrolled or removed)."""
        current = self.person.currentText()
        self.person.blockSignals(True)
        self.person.clear()
        for p in self.gallery.people():
            self.person.addItem(p.name, p.id)
        self.person.blockSignals(False)
        if current:
            self.person.setCurrentText(current)
        self._show_person()

    def _show_person(self) -> None:
        person_id = self.person.currentData()
        self.windows.setText(format_windows(self.schedules.windows(person_id)) if person_id is not None else "")
        self.message.clear()

    def save(self) -> bool:
        if not require_admin(self, "change the schedules"):
            return False
        person_id = self.person.currentData()
        if person_id is None:
            self.message.setText("Enroll someone first.")
            return False
        try:
            windows = parse_windows(self.windows.text())
            self.schedules.set(person_id, windows)
        except (ValueError, FaceGateError) as exc:
            self.message.setText(f"Not saved: {exc}")
            return False
        self.windows.setText(format_windows(windows))
        self.message.setText(f"{self.person.currentText()}: {format_windows(windows) or 'no time limit'}")
        return True

    def showEvent(self, event: QShowEvent) -> None:
        self.reload()
        super().showEvent(event)
