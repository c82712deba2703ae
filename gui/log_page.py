"""The access log page: filter the door's events, see a visitor's snapshot, export CSV, and say
"not this person" for a wrong match (core.door.access_log does the work; this page only asks it)."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from PySide6.QtCore import QDate, Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDateEdit,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from core.door.access_log import AccessEvent, AccessLog, local_time, stored_time
from core.door.verdict import Verdict
from core.errors import FaceGateError
from gui.admin_dialog import require_admin
from gui.widgets import row_table, show_jpeg

if TYPE_CHECKING:
    from core.gallery.api import Gallery

COLUMNS = ("Time", "Person", "Verdict", "Distance", "Margin", "Door", "Reason")
VERDICTS = (
    "",
    Verdict.GRANTED,
    Verdict.DENIED,
    Verdict.DENIED_SCHEDULE,
    Verdict.UNKNOWN,
    Verdict.UNSURE,
    Verdict.NO_LIVENESS,
    Verdict.DOOR_ERROR,
    Verdict.MANUAL_UNLOCK,
    Verdict.PANEL_GRANTED,
    Verdict.PANEL_DENIED,
    Verdict.PURGED,
    Verdict.WRONG_PIN,
    Verdict.WRONG_CARD,
    Verdict.NO_PIN,
    Verdict.NO_CARD,
    Verdict.LOCKED_OUT,
    Verdict.DURESS,
    Verdict.VIEW_CHANGED,
)


def _number(value: float | None) -> str:
    return "" if value is None else f"{value:.3f}"


def _day(qdate: QDate) -> date:
    return date(qdate.year(), qdate.month(), qdate.day())


class LogPage(QWidget):
    gallery_changed = Signal()  # a "not this person" mark: the live view must re-identify

    def __init__(self, gallery: Gallery, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.gallery = gallery
        self.access_log = AccessLog(gallery.store)
        self.events: list[AccessEvent] = []

        self.person = QLineEdit(placeholderText="person (any)")
        self.verdict = QComboBox()
        self.verdict.addItems([v or "any verdict" for v in VERDICTS])
        self.unknown = QCheckBox("unknown visitors only")
        self.use_since = QCheckBox("since")
        self.since = QDateEdit(QDate.currentDate().addDays(-7))
        self.since.setCalendarPopup(True)
        refresh = QPushButton("Refresh")
        export = QPushButton("Export CSV…")
        self.not_this = QPushButton("Not this person")
        self.not_this.setToolTip("This face is not the person it was matched to: never match it to them again")
        self.not_this.setEnabled(False)
        self.person.returnPressed.connect(self.reload)
        for signal in (self.verdict.currentIndexChanged, self.unknown.toggled, self.use_since.toggled, self.since.dateChanged):
            signal.connect(self.reload)
        refresh.clicked.connect(self.reload)
        export.clicked.connect(self.choose_export)
        self.not_this.clicked.connect(self.mark_not_this_person)

        self.table = row_table(COLUMNS)
        self.table.itemSelectionChanged.connect(self._selected)
        self.snapshot = QLabel("no event selected", alignment=Qt.AlignmentFlag.AlignCenter)
        self.snapshot.setFixedSize(180, 180)
        self.status = QLabel()

        filters = QHBoxLayout()
        for w in (self.person, self.verdict, self.unknown, self.use_since, self.since, refresh, export):
            filters.addWidget(w)
        body = QHBoxLayout()
        body.addWidget(self.table, 1)
        side = QVBoxLayout()
        side.addWidget(self.snapshot)
        side.addWidget(self.not_this)
        side.addStretch(1)
        body.addLayout(side)
        layout = QVBoxLayout(self)
        layout.addLayout(filters)
        layout.addLayout(body, 1)
        layout.addWidget(self.status)
        self.reload()

    def filters(self) -> dict:
        verdict = VERDICTS[self.verdict.currentIndex()]
        return {
            "person": self.person.text().strip() or None,
            "verdict": verdict or None,
            "unknown": self.unknown.isChecked(),
            "since": stored_time(_day(self.since.date())) if self.use_since.isChecked() else None,
        }

    def reload(self) -> None:
        try:
            self.events = self.access_log.events(**self.filters())
        except FaceGateError as exc:
            self.status.setText(str(exc))
            return
        self.table.setRowCount(len(self.events))
        for row, e in enumerate(self.events):
            cells = (
                local_time(e.time),
                e.who,
                e.verdict + (" (not this person)" if e.not_this_person else ""),
                _number(e.distance),
                _number(e.margin),
                e.door,
                e.reason,
            )
            for col, text in enumerate(cells):
                self.table.setItem(row, col, QTableWidgetItem(text))
        self.status.setText(f"{len(self.events)} events")
        self._selected()

    def selected_event(self) -> AccessEvent | None:
        rows = self.table.selectionModel().selectedRows()
        return self.events[rows[0].row()] if rows else None

    def _selected(self) -> None:
        event = self.selected_event()
        self.not_this.setEnabled(bool(event and event.person_id is not None and not event.not_this_person))
        jpeg = self.access_log.snapshot(event.id) if event and event.id is not None and event.has_snapshot else None
        show_jpeg(self.snapshot, jpeg, "no snapshot" if event else "no event selected")

    def export(self, path: str) -> int:
        count = self.access_log.export_csv(path, **self.filters())
        self.status.setText(f"{count} events written to {path}")
        return count

    def choose_export(self) -> None:
        if not require_admin(self, "export the access log"):
            return
        path, _ = QFileDialog.getSaveFileName(self, "Export the access log", "access-log.csv", "CSV (*.csv)")
        if path:
            try:
                self.export(path)
            except OSError as exc:
                QMessageBox.warning(self, "Export", f"Could not write {path}: {exc}")

    def mark_not_this_person(self) -> None:
        event = self.selected_event()
        if event is None or event.id is None or not require_admin(self, "correct the access log"):
            return
        try:
            self.access_log.not_this_person(event.id, self.gallery)
        except FaceGateError as exc:
            self.status.setText(str(exc))
            return
        self.status.setText(f"that face will not be matched to {event.name} again")
        self.gallery_changed.emit()
        self.reload()
