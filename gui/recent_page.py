"""The Recent faces page: the review queue (core.door.review). The last faces seen at this door,
newest first, with their verdict, nearest people and quality; select one or several and add them
as samples of a person, say "not this person", enroll a new person, or dismiss them. Learning mode
and its learned samples (each undone in one click) are here too. Every guard lives in core; this
page shows what core refused and why, and for a face too far from the person's samples shows
both faces side by side (gui.compare_dialog) before the operator confirms or an admin forces it.

The list holds still while the operator chooses: with a face selected or the pointer on the list,
new faces wait behind a "Show N new faces" button instead of pushing the rows down (a click
aimed at one face must not land on the next). The last add (or enrollment) is undone from the page
in one click. An undo runs on the job thread (gui.jobs.ask_site): at a site it withdraws the door's
proposal there too, and an unreachable site must not freeze the live video or the door meanwhile.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QItemSelection, QItemSelectionModel, QObject, QSignalBlocker, QSize, Qt, Signal
from PySide6.QtGui import QIcon
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
from core.door.review import Implausible, RecentFace, RecentFaces, Refused
from core.errors import FaceGateError
from core.site.people import withdrawal_note
from core.vision.quality import problems
from gui.admin_dialog import require_admin
from gui.compare_dialog import go_on_anyway
from gui.jobs import JobPanel, ask_site
from gui.widgets import row_table, thumbnail_icon

if TYPE_CHECKING:
    from core.gallery.api import Gallery

COLUMNS = ("Face", "Time", "Verdict", "Nearest people", "Quality", "Status")
STATUS = COLUMNS.index("Status")
FACE_SIDE = 96  # px: thumbnails large enough to tell two faces apart
SHOWN = 100  # faces listed


class RecentPage(QWidget):
    gallery_changed = Signal()  # samples or marks changed: the live view must re-identify

    def __init__(self, gallery: Gallery, recent: RecentFaces, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.gallery, self.recent = gallery, recent
        self.shown: list[RecentFace] = []
        self.last_added: list[int] = []  # the faces the last action added: what Undo removes
        self._icons: dict[int, QIcon] = {}
        self._names: list[str] = []
        self.table = row_table(COLUMNS, multi=True)
        self.table.setIconSize(QSize(FACE_SIDE, FACE_SIDE))
        self.table.verticalHeader().setDefaultSectionSize(FACE_SIDE + 8)
        self.table.verticalHeader().hide()
        for col, width in enumerate((FACE_SIDE + 70, 150, 170, 260, 130)):  # the nearest people on one line
            self.table.setColumnWidth(col, width)
        self.table.itemSelectionChanged.connect(self._selection_changed)
        self.new_faces = QPushButton("No new faces waiting")  # always there (disabled): the list never jumps
        self.new_faces.setEnabled(False)
        self.new_faces.setToolTip(
            "new faces wait here while a face is selected or the pointer is on the list, so the rows do not move under you"
        )
        self.new_faces.clicked.connect(lambda: self.reload(everything=True))
        self.table.viewport().installEventFilter(self)
        self.name = QComboBox(editable=True)
        self.name.setToolTip("the person to add the faces to, mark them not, or enroll them as")
        self.pending = QCheckBox("only faces not yet reviewed")
        self.pending.toggled.connect(lambda _on: self.reload(everything=True))
        buttons = {
            "add": "Add as a sample of",
            "not": "Not this person",
            "enroll": "Enroll as a new person",
            "dismiss": "Dismiss",
        }
        self.buttons: dict[str, QPushButton] = {}
        for action, text in buttons.items():
            button = self.buttons[action] = QPushButton(text)
            button.clicked.connect(lambda _checked=False, a=action: self.act(a))
        self.undo_add = QPushButton("Undo the last add")
        self.undo_add.setEnabled(False)
        self.undo_add.clicked.connect(self.undo_last)
        self.learning = QCheckBox(
            f"Learning mode: add samples after confident live grants (at most {recent.settings.learn_per_week} per person a week)"
        )
        self.learning.setChecked(recent.settings.learning)
        self.learning.toggled.connect(self.set_learning)
        self.learned = QListWidget()
        self.learned.setMaximumHeight(90)
        undo = self.buttons["undo"] = QPushButton("Undo the learned sample")
        undo.clicked.connect(self.undo_learned)
        self.status = QLabel(wordWrap=True)
        self.jobs = JobPanel()

        actions = QHBoxLayout()
        actions.addWidget(self.buttons["add"])
        actions.addWidget(self.name, 1)
        for action in ("not", "enroll", "dismiss"):
            actions.addWidget(self.buttons[action])
        actions.addWidget(self.undo_add)
        actions.addWidget(self.pending)
        learned_row = QHBoxLayout()
        learned_row.addWidget(self.learned, 1)
        learned_row.addWidget(undo)
        layout = QVBoxLayout(self)
        layout.addWidget(self.new_faces)
        layout.addWidget(self.table, 1)
        layout.addLayout(actions)
        layout.addWidget(self.jobs)
        layout.addWidget(self.status)
        layout.addWidget(self.learning)
        layout.addLayout(learned_row)
        self.reload(everything=True)

    # -- the list -------------------------------------------------------------------------------
    def holding(self) -> bool:
        """The operator is choosing: a face is selected, or the pointer is on the list."""
        return self.table.selectionModel().hasSelection() or self.table.viewport().underMouse()

    def reload(self, everything: bool = False) -> None:
        """Show the queue again (on every logged visit, and after each action). While holding, the
        rows stay where they are (only their status changes) and new faces wait for ``everything``."""
        faces = self.recent.recent(SHOWN, pending=self.pending.isChecked())
        if everything or not self.shown or not self.holding():
            self._fill(faces)
        else:
            self._update(faces)
        self._fill_names()
        self.learned.clear()
        for entry in self.recent.learned():
            line = QListWidgetItem(
                f"sample {entry['sample']} of {entry['person']}, {local_time(entry['time'])}: {entry['source']}"
            )
            line.setData(Qt.ItemDataRole.UserRole, entry["sample"])
            self.learned.addItem(line)

    def _fill(self, faces: list[RecentFace]) -> None:
        """Every row afresh, newest first; the faces that were selected stay selected."""
        chosen = {f.id for f in self.selected()}
        blocker = QSignalBlocker(self.table)  # the selection is put back below, not changed by the operator
        self.shown = faces
        self.table.setRowCount(len(faces))
        self.table.clearSelection()
        keep = QItemSelection()
        for row, f in enumerate(faces):
            failed = problems(f.quality)
            cells = (
                f"#{f.id}",
                local_time(f.time),
                f.verdict + (f" ({f.name})" if f.name else ""),
                ", ".join(f"{n} {d:.3f}" for n, d in f.nearest),
                ", ".join(failed) or f"good ({f.quality.size} px)",
                f.outcome or f.status,
            )
            for col, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if col == 0:
                    item.setIcon(self._icon(f.id))
                self.table.setItem(row, col, item)
            if f.id in chosen:
                keep.select(self.table.model().index(row, 0), self.table.model().index(row, len(COLUMNS) - 1))
        self.table.selectionModel().select(keep, QItemSelectionModel.SelectionFlag.Select)
        blocker.unblock()
        self._icons = {f.id: self._icons[f.id] for f in faces if f.id in self._icons}
        self.new_faces.setText("No new faces waiting")
        self.new_faces.setEnabled(False)

    def _update(self, faces: list[RecentFace]) -> None:
        """The rows stay put: each shown face gets its new status; newer faces are only counted."""
        now = {f.id: f for f in self.recent.faces([f.id for f in self.shown])}
        for row, old in enumerate(self.shown):
            face = now.get(old.id)
            cell = self.table.item(row, STATUS)
            if face is not None and cell is not None:
                self.shown[row] = face
                cell.setText(face.outcome or face.status)
        newest = max((f.id for f in self.shown), default=0)
        waiting = sum(1 for f in faces if f.id > newest)
        if waiting:
            self.new_faces.setText(f"Show {waiting} new face{'s' if waiting != 1 else ''}")
            self.new_faces.setEnabled(True)

    def _icon(self, face_id: int) -> QIcon:
        if face_id not in self._icons:
            self._icons[face_id] = thumbnail_icon(self.recent.snapshot(face_id), FACE_SIDE)
        return self._icons[face_id]

    def _fill_names(self) -> None:
        """The people to choose from, refilled only when they change (never under the typing hand)."""
        names = [p.name for p in self.gallery.people()]
        if names != self._names:
            self._names = names
            current = self.name.currentText()
            self.name.clear()
            self.name.addItems(names)
            self.name.setCurrentText(current)
        if not self.name.currentText() and self.shown and self.shown[0].nearest:
            self.name.setCurrentText(self.shown[0].nearest[0][0])

    def _selection_changed(self) -> None:
        if not self.holding() and self.new_faces.isEnabled():
            self.reload(everything=True)  # nothing chosen any more: the waiting faces come in

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """The pointer left the list with nothing selected: the waiting faces come in."""
        if event.type() == QEvent.Type.Leave and watched is self.table.viewport():
            self._selection_changed()
        return super().eventFilter(watched, event)

    def selected(self) -> list[RecentFace]:
        rows = sorted({i.row() for i in self.table.selectionModel().selectedRows()}) if self.table.selectionModel() else []
        return [self.shown[r] for r in rows if r < len(self.shown)]

    # -- acting ---------------------------------------------------------------------------------
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
        results = [
            (face_id, self._settle(face_id, name, why)) for face_id, why in self.recent.apply([f.id for f in faces], action, name)
        ]
        refused = [f"#{face_id}: {why}" for face_id, why in results if why]
        done = [face_id for face_id, why in results if why is None]
        added = [face_id for face_id in done if self.recent.face(face_id).status in ("added", "enrolled")]
        if added:
            self.last_added = added
            self.undo_add.setText(f"Undo: {', '.join(f'#{i}' for i in added)} into {name}")
            self.undo_add.setEnabled(True)
        self.reload()
        self.status.setText(f"{len(done)} of {len(results)} done" + ("; refused " + "; ".join(refused) if refused else ""))
        if done and action != "dismiss":
            self.gallery_changed.emit()
        return results

    def _settle(self, face_id: int, name: str, why: Refused | str | None) -> str | None:
        """A face refused only for its distance: show both faces; add it if the operator confirms
        (or, beyond the different-people distance, an admin gives the PIN now). None once added."""
        if not isinstance(why, Implausible):
            return None if why is None else str(why)
        flags = go_on_anyway(self, why, self.recent.snapshot(face_id), self.gallery.store.thumbnail(why.sample_id))
        if flags is None:
            return f"{why} (cancelled)"
        try:
            self.recent.add(face_id, name, **flags)
        except FaceGateError as exc:
            return str(exc)
        return None

    def undo_last(self) -> None:
        """Remove the samples the last action added (one click, on the job thread), and say so."""
        if not self.last_added or not require_admin(self, "undo an add"):
            return
        faces = list(self.last_added)

        def work() -> tuple[list[str], list[str]]:
            undone, failed = [], []
            for face_id in faces:
                try:
                    self.recent.undo(face_id)
                    undone.append(f"#{face_id}")
                except FaceGateError as exc:
                    failed.append(f"#{face_id}: {exc}")
            return undone, failed

        ask_site(self.jobs, self.status.setText, work, self._undone, buttons=self._undo_buttons())

    def _undo_buttons(self) -> list[QWidget]:
        return [self.undo_add, self.buttons["undo"]]

    def _undone(self, said: tuple[list[str], list[str]]) -> None:
        undone, failed = said
        self.last_added = []
        self.undo_add.setText("Undo the last add")
        self.undo_add.setEnabled(False)
        self.reload()
        self.status.setText(
            f"Undone: {', '.join(undone) or 'nothing'}"
            + ("; " + "; ".join(failed) if failed else "")
            + withdrawal_note(self.gallery)
        )
        if undone:
            self.gallery_changed.emit()

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
        """Remove the chosen learned sample (on the job thread), and say so."""
        item = self.learned.currentItem()
        if item is None or not require_admin(self, "undo a learned sample"):
            return
        sample_id = int(item.data(Qt.ItemDataRole.UserRole))
        ask_site(
            self.jobs,
            self.status.setText,
            lambda: self.recent.undo_sample(sample_id),
            lambda _: self._learned_undone(),
            buttons=self._undo_buttons(),
        )

    def _learned_undone(self) -> None:
        self.status.setText(f"Learned sample removed{withdrawal_note(self.gallery)}")
        self.gallery_changed.emit()
        self.reload()

    def shutdown(self) -> None:
        self.jobs.stop()
