"""Search by photo: each face of a chosen photo beside its nearest enrolled samples.

Finding the faces (detection + descriptors, about a second for a large photo) runs on a job
thread; changing K or the maximum distance re-queries the index at once on the faces already
found. The picture shown is the one core draws, so "Save comparison" writes exactly what is seen.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QDoubleSpinBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QWidget,
)

from core.errors import FaceGateError
from core.gallery.api import Gallery
from core.site.config import SiteConfig
from core.tools.search import QueryFace, SearchResult, comparison_image, save_comparison, search_faces, searchable
from core.vision.detection import Detector
from core.vision.images import as_rgb
from gui.drops import accept_file_drops
from gui.jobs import JobPanel, page_layout
from gui.widgets import IMAGE_FILTER, pil_pixmap

if TYPE_CHECKING:
    import numpy as np

    from core.site.search import SiteSearch
    from gui.jobs import Progress, ShouldStop


class SearchPage(QWidget):
    searched = Signal(object)  # the SearchResult shown (for tests and other pages)

    def __init__(self, gallery: Gallery, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.gallery = gallery
        self.detector = Detector(gallery.detector.settings.method, gallery.detector.settings.min_face)
        self.result: SearchResult | None = None
        self._photo: tuple[str, np.ndarray, list[QueryFace]] | None = None  # (source, rgb, [(box, descriptor)]) of the last photo

        self.open_button = QPushButton("Open a photo…")
        self.open_button.clicked.connect(self.choose_photo)
        self.top = QSpinBox()
        self.top.setRange(1, 100)
        self.top.setValue(5)
        self.top.setPrefix("top ")
        self.use_within = QCheckBox("only within")
        self.use_within.setToolTip("list every sample within this distance (at most 'top' of them)")
        self.within = QDoubleSpinBox()
        self.within.setRange(0.05, 2.0)
        self.within.setSingleStep(0.05)
        self.within.setValue(0.5)
        for signal in (self.top.valueChanged, self.within.valueChanged, self.use_within.toggled):
            signal.connect(self.requery)
        self.whole_site = QCheckBox("whole site")  # shown by enable_site() when the gallery has a site
        self.whole_site.setToolTip("search every door's people and access log at the site (PostgreSQL + pgvector)")
        self.whole_site.setVisible(False)
        self.whole_site.toggled.connect(self.requery)
        self.site_config: SiteConfig | None = None
        self.save_button = QPushButton("Save comparison…")
        self.save_button.setEnabled(False)
        self.save_button.clicked.connect(self.choose_save)
        bar = QHBoxLayout()
        for w in (self.open_button, self.top, self.use_within, self.within, self.whole_site, self.save_button):
            bar.addWidget(w)
        bar.addStretch(1)

        self.jobs = JobPanel()
        self.summary = QLabel("Open a photo (or drop one here) to search every face in it among the enrolled samples.")
        self.picture = QLabel()
        self.picture.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        scroll = QScrollArea()
        scroll.setWidget(self.picture)
        scroll.setWidgetResizable(True)
        self.table = QTableWidget(0, 5)
        self.table.setHorizontalHeaderLabels(["face", "rank", "person", "distance", "sample"])
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        results = QSplitter()
        results.addWidget(scroll)
        results.addWidget(self.table)
        results.setStretchFactor(0, 3)
        page_layout(self, bar, self.jobs, self.summary, results)
        accept_file_drops(self, lambda paths: self.search_file(paths[0]))

    # -- actions --------------------------------------------------------------------------------
    def choose_photo(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Search with a photo", "", IMAGE_FILTER)
        if path:
            self.search_file(path)

    def search_file(self, path: str | Path) -> None:
        """Find the faces of ``path`` on a job thread, then search them."""
        if self.jobs.busy:
            self.summary.setText("A search is still running.")
            return
        path = str(path)

        def work(progress: Progress, should_stop: ShouldStop) -> tuple[str, np.ndarray, list[QueryFace]]:
            rgb = as_rgb(path, path)
            progress(0, 1, f"finding faces in {Path(path).name}…")
            faces = searchable(self.gallery.query_faces(rgb, self.detector))
            return path, rgb, faces

        self.jobs.start(f"searching {Path(path).name}…", work, self._found, self._failed)

    def _found(self, photo: tuple[str, np.ndarray, list[QueryFace]]) -> None:
        self._photo = photo
        self.requery()

    def _failed(self, why: str) -> None:
        self.summary.setText(why)

    def requery(self) -> None:
        """Search the faces already found with the current K and maximum distance."""
        if self._photo is None:
            return
        source, rgb, faces = self._photo
        within = self.within.value() if self.use_within.isChecked() else None
        if self.whole_site.isChecked():
            self._search_site(source, faces, within)
            return
        try:
            self.result = search_faces(self.gallery, rgb, faces, self.top.value(), within, source)
        except FaceGateError as exc:
            self.summary.setText(str(exc))
            return
        self._show(self.result)

    def _show(self, result: SearchResult) -> None:
        self.picture.setPixmap(pil_pixmap(comparison_image(result)))
        rows = [(i + 1, rank + 1, h.candidate) for i, f in enumerate(result.faces) for rank, h in enumerate(f.hits)]
        self.table.setRowCount(len(rows))
        for r, (face, rank, c) in enumerate(rows):
            for col, value in enumerate((face, rank, c.name, f"{c.distance:.3f}", c.sample_id)):
                self.table.setItem(r, col, QTableWidgetItem(str(value)))
        self.table.resizeColumnsToContents()
        ms = sum(f.search_ms for f in result.faces)
        warnings = "".join(f"; face {i + 1}: {f.warning}" for i, f in enumerate(result.faces) if f.problems)
        self.summary.setText(
            f"{Path(result.source).name}: {len(result.faces)} face(s); index searched in {ms:.2f} ms{warnings}"
            if result.faces
            else f"{Path(result.source).name}: no face found"
        )
        self.save_button.setEnabled(bool(result.faces))
        self.searched.emit(result)

    # -- the whole site (core.site.search, on a job thread: it goes over the network) -------------
    def enable_site(self, config: SiteConfig) -> None:
        self.site_config = config
        self.whole_site.setVisible(True)

    def _search_site(self, source: str, faces: list[QueryFace], within: float | None) -> None:
        if self.site_config is None:
            return
        if self.jobs.busy:  # the face-finding job is still winding down: ask again in a moment
            QTimer.singleShot(50, self.requery)
            return
        top, config = self.top.value(), self.site_config

        def work(progress: Progress, should_stop: ShouldStop) -> tuple[str, list[SiteSearch]]:
            from core.site.admin import SiteAdmin
            from core.site.search import search_site

            with SiteAdmin.from_config(config) as admin:
                return source, [search_site(admin.conn, q.descriptor, top, within) for q in faces]

        self.jobs.start("searching the whole site…", work, self._show_site, self._failed)

    def _show_site(self, found: tuple[str, list[SiteSearch]]) -> None:
        source, results = found
        rows: list[tuple] = [
            (i + 1, rank + 1, h.person, f"{h.distance:.3f}", f"enrolled at {h.enrolled_at or '?'}")
            for i, r in enumerate(results)
            for rank, h in enumerate(r.hits)
        ]
        rows += [
            (i + 1, "seen", s.name or "unknown", f"{s.distance:.3f}", f"{s.time[:19]} at {s.door}: {s.verdict}")
            for i, r in enumerate(results)
            for s in r.sightings
        ]
        self.table.setRowCount(len(rows))
        for r, row in enumerate(rows):
            for col, value in enumerate(row):
                self.table.setItem(r, col, QTableWidgetItem(str(value)))
        self.table.resizeColumnsToContents()
        ms = sum(r.search_ms for r in results)
        seen = sum(len(r.sightings) for r in results)
        self.summary.setText(
            f"{Path(source).name}: {len(results)} face(s); the whole site searched in {ms:.1f} ms; "
            f"seen {seen} time(s) at the doors"
        )
        self.site_results = results
        self.searched.emit(results)

    def choose_save(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Save the comparison", "comparison.png", "PNG (*.png)")
        if path:
            self.save(path)

    def save(self, path: str | Path) -> Path | None:
        if self.result is None:
            return None
        try:
            saved = save_comparison(self.result, path)
        except OSError as exc:
            self.summary.setText(f"{path}: cannot be saved ({exc.strerror or exc})")
            return None
        self.summary.setText(f"comparison saved to {saved}")
        return saved

    def shutdown(self) -> None:
        self.jobs.stop()
