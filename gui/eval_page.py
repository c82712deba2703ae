"""Evaluation: how well recognition works on a folder of people or on the enrolled gallery.

Describing the photos runs on a job thread (progress, cancel, skipped files with reasons); the
page shows p@k, the no-face share, who cannot be split, the FAR/GAR/FRR table, core's plot and
the recommended threshold, and saves the table (CSV) and the plot (PNG). The same folder can
also be enrolled into the gallery from here, on a job thread as well.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QDoubleSpinBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from core.gallery.api import Gallery
from core.tools.evaluate import (
    DEFAULT_TARGET_FAR,
    EvalReport,
    describe_folder,
    evaluate,
    evaluate_gallery,
    report_summary,
    save_table,
)
from core.tools.folder_enroll import FolderEnrollResult, enroll_folder
from core.tools.plots import plot_image, save_plot
from core.vision.describe import Describer
from core.vision.detection import Detector
from gui.admin_dialog import require_admin
from gui.jobs import JobPanel, page_layout
from gui.widgets import FitLabel, pil_pixmap

if TYPE_CHECKING:
    from gui.jobs import Progress, ShouldStop


class EvalPage(QWidget):
    evaluated = Signal(object)  # the EvalReport shown
    enrolled = Signal(object)  # FolderEnrollResult of a folder enroll
    gallery_changed = Signal()

    def __init__(self, gallery: Gallery, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.gallery = gallery
        self.describer: Describer | None = None  # the job thread's own, made on first use
        self.detector = Detector(gallery.detector.settings.method, gallery.detector.settings.min_face)
        self.report: EvalReport | None = None
        self.folder: Path | None = None

        self.folder_button = QPushButton("Evaluate a folder of people…")
        self.folder_button.clicked.connect(self.choose_folder)
        self.gallery_button = QPushButton("Evaluate my gallery")
        self.gallery_button.clicked.connect(self.evaluate_gallery)
        self.enroll_button = QPushButton("Enroll this folder…")
        self.enroll_button.setEnabled(False)
        self.enroll_button.clicked.connect(lambda: self.enroll_folder(self.folder))
        self.rounds = QSpinBox()
        self.rounds.setRange(1, 100)
        self.rounds.setValue(5)
        self.rounds.setPrefix("rounds ")
        self.seed = QSpinBox()
        self.seed.setRange(0, 1_000_000)
        self.seed.setPrefix("seed ")
        self.target = QDoubleSpinBox()
        self.target.setDecimals(3)
        self.target.setRange(0.0, 0.5)
        self.target.setSingleStep(0.005)
        self.target.setValue(DEFAULT_TARGET_FAR)
        self.target.setPrefix("target FAR ")
        bar = QHBoxLayout()
        for w in (self.folder_button, self.gallery_button, self.enroll_button, self.rounds, self.seed, self.target):
            bar.addWidget(w)
        bar.addStretch(1)

        self.jobs = JobPanel()
        self.summary = QLabel(
            "Pick a folder with one subfolder per person (or files named person.jpg), or evaluate the enrolled gallery."
        )
        self.summary.setWordWrap(True)
        self.summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.table = QTableWidget(0, 4)
        self.table.setHorizontalHeaderLabels(["threshold", "FAR", "GAR", "FRR"])
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        self.plot = FitLabel()
        self.skipped = QPlainTextEdit()
        self.skipped.setReadOnly(True)
        self.skipped.setPlaceholderText("files that could not be used, with the reason, show here")
        self.save_table_button = QPushButton("Save table (CSV)…")
        self.save_plot_button = QPushButton("Save plot (PNG)…")
        for b in (self.save_table_button, self.save_plot_button):
            b.setEnabled(False)
        self.save_table_button.clicked.connect(self._choose_table_path)
        self.save_plot_button.clicked.connect(self._choose_plot_path)

        right = QWidget()
        col = QVBoxLayout(right)
        col.addWidget(self.plot, 3)
        saves = QHBoxLayout()
        saves.addWidget(self.save_table_button)
        saves.addWidget(self.save_plot_button)
        saves.addStretch(1)
        col.addLayout(saves)
        col.addWidget(self.skipped, 1)
        split = QSplitter()
        split.addWidget(self.table)
        split.addWidget(right)
        split.setStretchFactor(1, 3)
        page_layout(self, bar, self.jobs, self.summary, split)

    # -- evaluating -----------------------------------------------------------------------------
    def choose_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "A folder of people")
        if folder:
            self.evaluate_folder(folder)

    def _busy(self) -> bool:
        if self.jobs.busy:
            self.summary.setText("A job is still running; wait for it or cancel it.")
        return self.jobs.busy

    def evaluate_folder(self, folder: str | Path) -> None:
        if self._busy():
            return
        self.folder = Path(folder)
        self.enroll_button.setEnabled(True)
        rounds, seed, target = self.rounds.value(), self.seed.value(), self.target.value()

        def work(progress: Progress, should_stop: ShouldStop) -> EvalReport:
            if self.describer is None:
                self.describer = Describer()
            photos = describe_folder(
                folder,
                self.describer,
                self.detector,
                should_stop=should_stop,
                on_progress=lambda i, n, f: progress(i, n, f"describing {Path(f).name} ({i}/{n})"),
            )
            return evaluate(photos, rounds=rounds, seed=seed, target_far=target)

        self.jobs.start(f"evaluating {self.folder.name}…", work, self.show_report, self._failed, self._cancelled)

    def evaluate_gallery(self) -> None:
        if self._busy():
            return
        target = self.target.value()
        self.jobs.start(
            "evaluating the gallery…",
            lambda progress, stop: evaluate_gallery(self.gallery.store, target),
            self.show_report,
            self._failed,
            self._cancelled,
        )

    def _failed(self, why: str) -> None:
        self.summary.setText(why)

    def _cancelled(self) -> None:
        self.summary.setText("Cancelled; nothing was changed.")

    def show_report(self, report: EvalReport) -> None:
        self.report = report
        where = self.folder.name if report.mode == "split" and self.folder else "the gallery"
        lines = report_summary(report)
        lines[0] = f"{where}: {lines[0]}"
        lines.append(f"threshold in use: {self.gallery.threshold:.2f}")
        self.summary.setText("\n".join(lines))
        self.table.setRowCount(len(report.thresholds))
        for r, row in enumerate(report.thresholds):
            values = (row.threshold, row.false_accept_rate, row.genuine_accept_rate, row.false_reject_rate)
            for c, v in enumerate(values):
                self.table.setItem(r, c, QTableWidgetItem(f"{v:.2f}" if c == 0 else f"{v:.3f}"))
        self.plot.set_picture(pil_pixmap(plot_image(report, current=self.gallery.threshold)))
        self.table.resizeColumnsToContents()
        self.skipped.setPlainText("\n".join(f"{f}: {why}" for f, why in report.skipped))
        for b in (self.save_table_button, self.save_plot_button):
            b.setEnabled(True)
        self.evaluated.emit(report)

    # -- saving ---------------------------------------------------------------------------------
    def _choose_table_path(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Save the threshold table", "evaluation.csv", "CSV (*.csv)")
        if path:
            self.save_table(path)

    def _choose_plot_path(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Save the FAR/FRR plot", "far_frr.png", "PNG (*.png)")
        if path:
            self.save_plot(path)

    def save_table(self, path: str | Path) -> bool:
        if self.report is None:
            return False
        try:
            save_table(self.report, path)
        except OSError as exc:
            self.summary.setText(f"{path}: cannot be saved ({exc.strerror or exc})")
            return False
        return True

    def save_plot(self, path: str | Path) -> bool:
        if self.report is None:
            return False
        try:
            save_plot(self.report, path, current=self.gallery.threshold)
        except OSError as exc:
            self.summary.setText(f"{path}: cannot be saved ({exc.strerror or exc})")
            return False
        return True

    # -- enrolling a folder ---------------------------------------------------------------------
    def enroll_folder(self, folder: str | Path | None) -> None:
        if folder is None or self._busy() or not require_admin(self, "enroll a folder of people"):
            return

        def work(progress: Progress, should_stop: ShouldStop) -> FolderEnrollResult:
            return enroll_folder(
                self.gallery,
                folder,
                should_stop=should_stop,
                on_progress=lambda i, n, f: progress(i, n, f"enrolling {Path(f).name} ({i}/{n})"),
            )

        self.jobs.start(f"enrolling {Path(folder).name}…", work, self._enrolled, self._failed)

    def _enrolled(self, result: FolderEnrollResult) -> None:
        state = " (cancelled: the people listed were enrolled whole, the rest not at all)" if result.cancelled else ""
        self.summary.setText(
            f"Enrolled {len(result.enrolled)} people, {result.samples} samples ({result.views} of them the faces as "
            f"a door camera sees them) from {result.images} photos{state}: " + ", ".join(result.enrolled)
        )
        self.skipped.setPlainText("\n".join([f"{f}: {why}" for f, why in result.skipped] + list(result.advice.values())))
        if result.enrolled:
            self.gallery_changed.emit()
        self.enrolled.emit(result)

    def shutdown(self) -> None:
        self.jobs.stop()
