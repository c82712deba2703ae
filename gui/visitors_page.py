"""The Visitors page: unknown faces grouped by who they are (core.door.visitors), with their visit
counts and best snapshot; enroll one from all of their faces in one step, and set how long the
snapshots of visitors never enrolled are kept."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QDateTime, Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QDateTimeEdit,
    QDoubleSpinBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from core.door.access_log import local_time, stored_time
from core.door.retention import Retention
from core.door.review import Implausible
from core.door.visitors import Visitor, Visitors
from core.errors import FaceGateError
from gui.admin_dialog import require_admin
from gui.compare_dialog import go_on_anyway
from gui.widgets import row_table, show_jpeg

if TYPE_CHECKING:
    from core.gallery.api import Gallery

COLUMNS = ("Visitor", "First seen", "Last seen", "Visits", "Faces kept", "Enrolled as")


class VisitorsPage(QWidget):
    gallery_changed = Signal()  # a visitor was enrolled: the live view must re-identify

    def __init__(self, gallery: Gallery, visitors: Visitors, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.gallery, self.visitors = gallery, visitors
        self.shown: list[Visitor] = []
        self.table = row_table(COLUMNS)
        self.table.itemSelectionChanged.connect(self._selected)
        self.snapshot = QLabel("no visitor selected", alignment=Qt.AlignmentFlag.AlignCenter)
        self.snapshot.setFixedSize(180, 180)
        self.name = QLineEdit(placeholderText="name to enroll as")
        self.allowed = QCheckBox("Allowed in")
        self.allowed.setChecked(True)
        self.pass_until = QCheckBox("Visitor pass until")  # core.door.passes: refused at every door after it
        self.until = QDateTimeEdit(QDateTime.currentDateTime().addSecs(8 * 3600), calendarPopup=True)
        self.until.setDisplayFormat("yyyy-MM-dd HH:mm")
        self.enroll_button = QPushButton("Enroll from all their faces")
        self.enroll_button.clicked.connect(self.enroll_selected)
        self.retention = QDoubleSpinBox(
            minimum=1, maximum=3650, decimals=0, suffix=" days", value=visitors.settings.retention_days
        )
        keep = QPushButton("Apply")
        keep.clicked.connect(self.set_retention)
        self.status = QLabel(wordWrap=True)

        side = QVBoxLayout()
        for w in (self.snapshot, self.name, self.allowed, self.pass_until, self.until, self.enroll_button):
            side.addWidget(w)
        side.addStretch(1)
        body = QHBoxLayout()
        body.addWidget(self.table, 1)
        body.addLayout(side)
        retention = QHBoxLayout()
        retention.addWidget(QLabel("Keep the snapshots of visitors never enrolled for"))
        retention.addWidget(self.retention)
        retention.addWidget(keep)
        retention.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addLayout(body, 1)
        layout.addLayout(retention)
        layout.addWidget(self.status)
        self.reload()

    def reload(self) -> None:
        selected = self.selected()
        self.shown = self.visitors.all()
        self.table.setRowCount(len(self.shown))
        for row, v in enumerate(self.shown):
            cells = (
                f"#{v.id}",
                local_time(v.first_seen),
                local_time(v.last_seen),
                str(v.visits),
                str(v.faces),
                v.enrolled_as or "",
            )
            for col, text in enumerate(cells):
                self.table.setItem(row, col, QTableWidgetItem(text))
            if selected is not None and v.id == selected.id:
                self.table.selectRow(row)
        self.status.setText(f"{len(self.shown)} unknown visitors, {sum(v.visits for v in self.shown)} visits")
        self._selected()

    def selected(self) -> Visitor | None:
        rows = self.table.selectionModel().selectedRows()
        return self.shown[rows[0].row()] if rows and rows[0].row() < len(self.shown) else None

    def _selected(self) -> None:
        visitor = self.selected()
        self.enroll_button.setEnabled(visitor is not None and visitor.faces > 0)
        jpeg = self.visitors.best_snapshot(visitor.id) if visitor else None
        show_jpeg(self.snapshot, jpeg, "no snapshot" if visitor else "no visitor selected")

    def enroll_selected(self) -> bool:
        visitor = self.selected()
        name = self.name.text().strip()
        if visitor is None or not name or not require_admin(self, "enroll a visitor"):
            if visitor is not None and not name:
                self.status.setText("Type the name to enroll them as")
            return False
        until = None
        if self.pass_until.isChecked():  # the edit shows this PC's clock; stored in UTC
            until = stored_time(self.until.dateTime().toString(Qt.DateFormat.ISODate))
        try:
            try:
                result = self.visitors.enroll(visitor.id, self.gallery, name, allowed=self.allowed.isChecked(), until=until)
            except Implausible as refusal:  # added to someone enrolled, but far from their samples
                flags = go_on_anyway(
                    self, refusal, self.visitors.best_snapshot(visitor.id), self.gallery.store.thumbnail(refusal.sample_id)
                )
                if flags is None:
                    raise
                result = self.visitors.enroll(
                    visitor.id,
                    self.gallery,
                    name,
                    confirm=flags.get("confirm", False),
                    force=flags.get("force", False),
                    until=until,
                )
        except (FaceGateError, ValueError) as exc:
            self.status.setText(f"Not enrolled: {exc}")
            return False
        self.gallery_changed.emit()
        self.reload()
        self.status.setText(
            f"Visitor #{visitor.id} enrolled as {result.person.name} from "
            f"{len(result.sample_ids)} faces ({result.person.sample_count} samples in all)"
            + (f"; visitor pass until {self.until.dateTime().toString('yyyy-MM-dd HH:mm')}" if until else "")
        )
        return True

    def set_retention(self) -> None:
        if not require_admin(self, "change how long visitors are kept"):
            return
        settings = self.visitors.settings
        settings.retention_days = self.retention.value()
        try:
            settings.save(self.gallery.store)
            purged = Retention(self.gallery, self.visitors).purge()
        except (FaceGateError, ValueError) as exc:
            self.status.setText(f"Not saved: {exc}")
            return
        self.reload()
        self.status.setText(f"Snapshots kept {settings.retention_days:g} days; {purged.text()}")
