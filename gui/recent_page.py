"""The Recent faces page: the review queue (core.door.review). The last faces seen at this door,
newest first, with their verdict, nearest people and quality; select one or several and add them
as samples of a person, say "not this person", enroll a new person, or dismiss them. Learning mode
and its learned samples (each undone in one click) are here too. Every guard lives in core; this
page shows what core refused and why."""
from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from core.door.access_log import local_time
from core.door.review import RecentFace, RecentFaces
from core.errors import FaceGateError
from core.vision.quality import problems
from gui.admin_dialog import require_admin
from gui.widgets import row_table, thumbnail_icon

if TYPE_CHECKING:
    from core.gallery.api import Gallery

COLUMNS = ("Face", "Time", "Verdict", "Nearest people", "Quality", "Status")


class RecentPage(QWidget):
    gallery_changed = Signal()  # samples or marks changed: the live view must re-identify

    def __init__(self, gallery: Gallery, recent: RecentFaces, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.gallery, self.recent = gallery, recent
        self.shown: list[RecentFace] = []
        self.table = row_table(COLUMNS, multi=True)
        self.name = QComboBox(editable=True)
        self.name.setToolTip("the person to add the faces to, mark them not, or enroll them as")
        self.pending = QCheckBox("only faces not yet reviewed")
        self.pending.toggled.connect(self.reload)
        buttons = {"add": "Add as a sample of", "not": "Not this person", "enroll": "Enroll as a new person",
                   "dismiss": "Dismiss"}
        self.buttons: dict[str, QPushButton] = {}
        for action, text in buttons.items():
            button = self.buttons[action] = QPushButton(text)
            button.clicked.connect(lambda _checked=False, a=action: self.act(a))
        self.learning = QCheckBox("Learning mode: add samples after confident live grants "
                                  f"(at most {recent.settings.learn_per_week} per person a week)")
        self.learning.setChecked(recent.settings.learning)
        self.learning.toggled.connect(self.set_learning)
        self.learned = QListWidget()
        self.learned.setMaximumHeight(90)
        undo = self.buttons["undo"] = QPushButton("Undo the learned sample")
        undo.clicked.connect(self.undo_learned)
        self.status = QLabel(wordWrap=True)

        actions = QHBoxLayout()
        actions.addWidget(self.buttons["add"])
        actions.addWidget(self.name, 1)
        for action in ("not", "enroll", "dismiss"):
            actions.addWidget(self.buttons[action])
        actions.addWidget(self.pending)
        learned_row = QHBoxLayout()
        learned_row.addWidget(self.learned, 1)
        learned_row.addWidget(undo)
        layout = QVBoxLayout(self)
        layout.addWidget(self.table, 1)
        layout.addLayout(actions)
        layout.addWidget(self.status)
        layout.addWidget(self.learning)
        layout.addLayout(learned_row)
        self.reload()

    def reload(self) -> None:
        chosen = {f.id for f in self.selected()}
        self.shown = self.recent.recent(100, pending=self.pending.isChecked())
        self.table.setRowCount(len(self.shown))
        self.table.clearSelection()
        for row, f in enumerate(self.shown):
            failed = problems(f.quality)
            cells = (f"#{f.id}", local_time(f.time), f.verdict + (f" ({f.name})" if f.name else ""),
                     ", ".join(f"{n} {d:.3f}" for n, d in f.nearest), ", ".join(failed) or f"good ({f.quality.size} px)",
                     f.outcome or f.status)
            for col, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if col == 0:
                    item.setIcon(thumbnail_icon(self.recent.snapshot(f.id)))
                self.table.setItem(row, col, item)
            if f.id in chosen:
                self.table.selectRow(row)
        names = [p.name for p in self.gallery.people()]
        current = self.name.currentText()
        self.name.clear()
        self.name.addItems(names)
        self.name.setCurrentText(current or (self.shown[0].nearest[0][0] if self.shown and self.shown[0].nearest else ""))
        self.learned.clear()
        for entry in self.recent.learned():
            line = QListWidgetItem(f"sample {entry['sample']} of {entry['person']}, {local_time(entry['time'])}: "
                                   f"{entry['source']}")
            line.setData(Qt.ItemDataRole.UserRole, entry["sample"])
            self.learned.addItem(line)

    def selected(self) -> list[RecentFace]:
        rows = sorted({i.row() for i in self.table.selectionModel().selectedRows()}) if self.table.selectionModel() else []
        return [self.shown[r] for r in rows if r < len(self.shown)]

    def act(self, action: str) -> list[tuple[int, str | None]]:
        faces = self.selected()
        name = self.name.currentText().strip()
        if not faces:
            self.status.setText("Select one or more faces first")
            return []
        if action != "dismiss" and not name:
            self.status.setText("Choose or type the person")
            return []
        if action != "dismiss" and not require_admin(self, "teach the gallery"):
            return []
        results = self.recent.apply([f.id for f in faces], action, name)
        refused = [f"#{face_id}: {why}" for face_id, why in results if why]
        done = len(results) - len(refused)
        self.reload()
        self.status.setText(f"{done} of {len(results)} done" + ("; refused " + "; ".join(refused) if refused else ""))
        if done and action != "dismiss":
            self.gallery_changed.emit()
        return results

    def set_learning(self, on: bool) -> None:
        if on and not require_admin(self, "switch learning mode on"):
            self.learning.setChecked(False)
            return
        self.recent.settings.learning = on
        try:
            self.recent.settings.save(self.gallery.store)
        except FaceGateError as exc:
            self.status.setText(f"Not saved: {exc}")

    def undo_learned(self) -> None:
        item = self.learned.currentItem()
        if item is None or not require_admin(self, "undo a learned sample"):
            return
        try:
            self.recent.undo_learned(int(item.data(Qt.ItemDataRole.UserRole)))
        except FaceGateError as exc:
            self.status.setText(str(exc))
            return
        self.status.setText("Learned sample removed")
        self.gallery_changed.emit()
        self.reload()
