"""Video scan: scan a file for faces (job thread, progress, cancel), browse what was found, click
a face (or load a photo) for the most similar faces in every scanned video with near-duplicates
folded, see the frame with the box, and enroll a person from a found face."""

from __future__ import annotations

import contextlib
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSpinBox,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from core.errors import FaceGateError
from core.gallery.api import Gallery
from core.tools.scan import ScanChoices, ScanLibrary, ScanResult, ScanSettings, SimilarFace
from core.tools.search import poor_warning
from core.vision.detection import METHODS, Detector
from gui.admin_dialog import require_admin
from gui.drops import accept_file_drops
from gui.jobs import JobPanel, page_layout
from gui.widgets import IMAGE_FILTER, THUMB, VIDEO_FILTER, FitLabel, ask_yes, rgb_pixmap, thumbnail_icon

if TYPE_CHECKING:
    from core.records import Face
    from gui.jobs import Progress, ShouldStop

ICON = QSize(THUMB, THUMB)


def _icon_list() -> QListWidget:
    view = QListWidget()
    view.setViewMode(QListWidget.ViewMode.IconMode)
    view.setIconSize(ICON)
    view.setResizeMode(QListWidget.ResizeMode.Adjust)
    view.setMovement(QListWidget.Movement.Static)
    view.setSpacing(4)
    return view


class ScanPage(QWidget):
    gallery_changed = Signal()  # a person was enrolled from a found face
    scanned = Signal(object)  # the ScanResult of a finished (or cancelled) scan
    listed = Signal()  # the similar-faces list was refilled

    def __init__(self, gallery: Gallery, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.gallery = gallery
        self.library = ScanLibrary(gallery)
        self.detector = Detector(gallery.detector.settings.method, gallery.detector.settings.min_face)
        self.similar: list[SimilarFace] = []
        self.choices, _ = ScanChoices.load_or_default(gallery.store)  # what was chosen last time

        self.scan_button = QPushButton("Scan a video…")
        self.scan_button.clicked.connect(self.choose_video)
        self.every = QSpinBox()
        self.every.setRange(1, 1000)
        self.every.setPrefix("every ")
        self.every.setSuffix(" frames")
        self.every.setValue(self.choices.every)
        self.method = QComboBox()
        self.method.addItems(METHODS)
        self.method.setToolTip(
            "yunet finds faces from 40 px at a few ms a frame; hog finds them too, about "
            "50x slower; haar+hog and haar miss most small faces"
        )
        self.method.setCurrentText(self.choices.method)
        self.fold = QDoubleSpinBox()
        self.fold.setRange(0.0, 1.0)
        self.fold.setSingleStep(0.05)
        self.fold.setPrefix("fold under ")
        self.fold.setValue(self.choices.fold)
        self.fold.valueChanged.connect(self._refold)
        self.hide_poor = QCheckBox("Hide poor faces")
        self.hide_poor.setToolTip(
            "Leave out faces kept from a poor view only (too small, blurred, turned away); "
            "listed otherwise, in amber, with what is wrong with them"
        )
        self.hide_poor.toggled.connect(self._refold)
        self.photo_button = QPushButton("Search with a photo…")
        self.photo_button.clicked.connect(self.choose_photo)
        self.remove_button = QPushButton("Remove scan")
        self.remove_button.clicked.connect(self.remove_video)
        bar = QHBoxLayout()
        for w in (self.scan_button, self.every, self.method, self.fold, self.hide_poor, self.photo_button, self.remove_button):
            bar.addWidget(w)
        bar.addStretch(1)

        self.jobs = JobPanel()
        self.summary = QLabel("Scan a video file (or drop one here) to find and keep every face in it.")
        self.summary.setWordWrap(True)
        self.videos = QListWidget()
        self.videos.currentRowChanged.connect(self._show_faces)
        self.faces = _icon_list()
        self.faces.itemClicked.connect(lambda item: self.search_face(item.data(Qt.ItemDataRole.UserRole)))
        self.results = _icon_list()
        self.results.currentItemChanged.connect(self._result_chosen)
        self.frame = FitLabel("the frame of the chosen face shows here")
        self.enroll_button = QPushButton("Enroll this face as…")
        self.enroll_button.setEnabled(False)
        self.enroll_button.clicked.connect(self.ask_enroll)

        left = QSplitter(Qt.Orientation.Vertical)
        left.addWidget(self.videos)
        left.addWidget(self.faces)
        right = QWidget()
        col = QVBoxLayout(right)
        col.addWidget(QLabel("Most similar found faces (× count = near-duplicates folded in):"))
        col.addWidget(self.results, 1)
        col.addWidget(self.frame, 2)
        col.addWidget(self.enroll_button)
        split = QSplitter()
        split.addWidget(left)
        split.addWidget(right)
        split.setStretchFactor(1, 2)
        page_layout(self, bar, self.jobs, self.summary, split)
        accept_file_drops(self, lambda paths: self.scan(paths[0]))
        self._query: np.ndarray | None = None  # the descriptor the similar list was made for
        self.reload()

    # -- scanning -------------------------------------------------------------------------------
    def choose_video(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Scan a video", "", VIDEO_FILTER)
        if path:
            self.scan(path)

    def scan(self, path: str | Path) -> None:
        if self.jobs.busy:
            self.summary.setText("A scan is already running; cancel it first.")
            return
        every, method = self.every.value(), self.method.currentText()
        self._remember(every=every, method=method)
        name = Path(path).name

        def work(progress: Progress, should_stop: ShouldStop) -> ScanResult:
            return self.library.scan(
                path,
                ScanSettings(every=every, method=method),
                should_stop=should_stop,
                on_progress=lambda i, n, found: progress(i, n, f"{name}: frame {i} of {n}, {found} face(s)"),
            )

        self.jobs.start(f"scanning {name}…", work, self._scanned, self._failed)

    def _scanned(self, result: ScanResult) -> None:
        state = "cancelled; what was found so far is kept" if result.cancelled else "done"
        self.summary.setText(
            f"{Path(result.path).name}: {result.faces} face(s) kept of {result.seen} seen in "
            f"{result.frames_scanned} scanned frames of {result.frames_read} "
            f"({result.frames_per_second:.1f} frames/s), {state}."
        )
        self.reload(select=result.video_id)
        self.scanned.emit(result)

    def _failed(self, why: str) -> None:
        self.summary.setText(why)

    def _remember(self, **changes: Any) -> None:
        self.choices = replace(self.choices, **changes)
        with contextlib.suppress(FaceGateError):  # a read-only gallery: the choice lasts for this session
            self.choices.save(self.gallery.store)

    # -- browsing -------------------------------------------------------------------------------
    def reload(self, select: int | None = None) -> None:
        self.videos.blockSignals(True)
        self.videos.clear()
        for v in self.library.videos():
            item = QListWidgetItem(f"{v.name}: {v.faces} face(s), every {v.every}" + ("" if v.complete else " (incomplete)"))
            item.setData(Qt.ItemDataRole.UserRole, v.id)
            item.setToolTip(v.path)
            self.videos.addItem(item)
            if v.id == select:
                self.videos.setCurrentItem(item)
        self.videos.blockSignals(False)
        self._show_faces(self.videos.currentRow())

    def _show_faces(self, row: int) -> None:
        self.faces.clear()
        item = self.videos.item(row) if row >= 0 else None
        if item is None:
            return
        for f in self.library.faces(item.data(Qt.ItemDataRole.UserRole)):
            face_item = QListWidgetItem(thumbnail_icon(self.library.thumbnail(f.id)), f"{f.frame}")
            face_item.setData(Qt.ItemDataRole.UserRole, f.id)
            face_item.setToolTip(f"frame {f.frame} ({f.time:.2f} s), box {f.box.as_tuple()}")
            self.faces.addItem(face_item)

    def remove_video(self) -> None:
        """Forget a scanned video and the faces found in it (confirmed; the admin PIN if set)."""
        item = self.videos.currentItem()
        if item is None:
            return
        if ask_yes(self, "Remove", f"Remove {item.text()} and the faces found in it?") and require_admin(
            self, "remove a scanned video"
        ):
            self.library.remove_video(item.data(Qt.ItemDataRole.UserRole))
            self.results.clear()
            self.reload()

    # -- searching ------------------------------------------------------------------------------
    def search_face(self, face_id: int) -> None:
        self._query = self.library.descriptor(face_id)
        self._refold()

    def choose_photo(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Search the scanned videos with a photo", "", IMAGE_FILTER)
        if path:
            self.search_photo(path)

    def search_photo(self, path: str | Path) -> None:
        if self.jobs.busy:
            self.summary.setText("Wait for the running job to end, or cancel it.")
            return

        def work(progress: Progress, should_stop: ShouldStop) -> list[Face]:
            progress(0, 1, f"finding faces in {Path(path).name}…")
            return self.gallery.query_faces(str(path), self.detector)

        self.jobs.start(f"searching with {Path(path).name}…", work, self._photo_faces, self._failed)

    def _photo_faces(self, faces: list[Face]) -> None:
        if not faces:
            self.summary.setText("No face found in that photo.")
            return
        face = max(faces, key=lambda f: f.box.area)
        self._query = face.descriptor
        self.summary.setText(
            f"Searching with the largest of {len(faces)} face(s) in the photo."
            + (f" Warning: {poor_warning(face.problems)}." if face.problems else "")
        )
        self._refold()

    def _refold(self) -> None:
        self._remember(fold=self.fold.value())
        if self._query is None:
            return
        self.similar = self.library.similar(
            self._query, top=40, fold_distance=self.fold.value(), hide_poor=self.hide_poor.isChecked()
        )
        self.results.clear()
        for hit in self.similar:
            f = hit.face
            text = f"{hit.distance:.2f}" + (f" ×{hit.count}" if hit.count > 1 else "") + (" (poor)" if f.poor else "")
            item = QListWidgetItem(thumbnail_icon(self.library.thumbnail(f.id)), text)
            item.setData(Qt.ItemDataRole.UserRole, f.id)
            if f.poor:
                item.setForeground(QColor(200, 120, 0))
            item.setToolTip(
                (f"poor view ({f.poor}): less sure; " if f.poor else "")
                + f"{f.video}, frame {f.frame} ({f.time:.2f} s), distance {hit.distance:.3f}"
                + (
                    f"; {hit.count - 1} near-duplicate(s) folded in: frames " + ", ".join(str(x.frame) for x in hit.folded[:20])
                    if hit.folded
                    else ""
                )
            )
            self.results.addItem(item)
        self.listed.emit()

    def _result_chosen(self, item: QListWidgetItem | None, _previous: QListWidgetItem | None) -> None:
        if item is not None:
            self.show_frame(item.data(Qt.ItemDataRole.UserRole))

    def show_frame(self, face_id: int) -> None:
        try:
            rgb = self.library.frame(face_id)
        except FaceGateError as exc:
            self.frame.setText(str(exc))
            self.enroll_button.setEnabled(True)
            return
        self.frame.set_picture(rgb_pixmap(rgb))
        self.enroll_button.setEnabled(True)

    # -- enrolling ------------------------------------------------------------------------------
    def ask_enroll(self) -> None:
        item = self.results.currentItem()
        if item is None or not require_admin(self, "enroll a person"):
            return
        name, ok = QInputDialog.getText(self, "Enroll from a found face", "Name of the person:")
        if ok and name.strip():
            self.enroll(item.data(Qt.ItemDataRole.UserRole), name)

    def enroll(self, face_id: int, name: str) -> bool:
        try:
            person, _ = self.library.enroll([face_id], name)
        except FaceGateError as exc:
            self.summary.setText(str(exc))
            return False
        self.summary.setText(f"{person.name} enrolled from a found face ({person.sample_count} sample(s) now).")
        self.gallery_changed.emit()
        return True

    def shutdown(self) -> None:
        self.jobs.stop()
