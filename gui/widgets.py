"""What several pages share, written once: the application object, file-dialog filters, the
yes/no question, face thumbnails, a read-only table of rows, a snapshot in a label, a line of
text that ends in "…" when short of room, and numpy or Pillow pictures as Qt images (copied off
numpy's buffer)."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

import numpy as np
from PIL import Image
from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QIcon, QImage, QPainter, QPaintEvent, QPixmap
from PySide6.QtWidgets import QAbstractItemView, QApplication, QLabel, QMessageBox, QSizePolicy, QTableWidget, QWidget

if TYPE_CHECKING:
    from PySide6.QtGui import QResizeEvent

IMAGE_FILTER = "Images (*.jpg *.jpeg *.png *.bmp *.webp *.gif *.tif *.tiff);;All files (*)"
VIDEO_FILTER = "Videos (*.mp4 *.avi *.mkv *.mov *.webm *.m4v *.mpg *.mpeg);;All files (*)"
#: Side of a face thumbnail in lists (px).
THUMB = 64


def application() -> QApplication:
    """The running QApplication, made now if there is none (a test or the self-test may have one)."""
    app = QApplication.instance()
    if app is None:
        return QApplication([sys.argv[0]])
    assert isinstance(app, QApplication), "a QCoreApplication is running: FaceGate needs widgets"
    return app


def ask_yes(parent: QWidget, title: str, text: str) -> bool:
    """A Yes/No question (No by default); True for Yes."""
    answer = QMessageBox.question(
        parent, title, text, QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No, QMessageBox.StandardButton.No
    )
    return answer == QMessageBox.StandardButton.Yes


def thumbnail_icon(jpeg: bytes | None, side: int = THUMB) -> QIcon:
    """An icon of a stored JPEG thumbnail, at most ``side`` px (a view shows it at its iconSize);
    an empty icon without one."""
    image = QImage.fromData(jpeg) if jpeg else QImage()
    if image.isNull():
        return QIcon()
    return QIcon(
        QPixmap.fromImage(
            image.scaled(side, side, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation)
        )
    )


def rgb_qimage(rgb: np.ndarray) -> QImage:
    """A QImage of an RGB uint8 array that owns its pixels: copied, so it may cross threads and
    outlive the numpy buffer it was made over."""
    rgb = np.ascontiguousarray(rgb)
    h, w = rgb.shape[:2]
    return QImage(rgb.data, w, h, 3 * w, QImage.Format.Format_RGB888).copy()


def rgb_pixmap(rgb: np.ndarray) -> QPixmap:
    return QPixmap.fromImage(rgb_qimage(rgb))


def pil_pixmap(img: Image.Image) -> QPixmap:
    return rgb_pixmap(np.asarray(img.convert("RGB")))


class FitLabel(QLabel):
    """Shows a pixmap as large as fits, keeping its proportions, and follows the label's size."""

    def __init__(self, text: str = "", parent: QWidget | None = None) -> None:
        super().__init__(text, parent)
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setMinimumSize(160, 100)
        self.original: QPixmap | None = None

    def set_picture(self, pixmap: QPixmap) -> None:
        self.original = pixmap
        self._fit()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._fit()

    def _fit(self) -> None:
        if self.original is not None and not self.original.isNull():
            self.setPixmap(
                self.original.scaled(self.size(), Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation)
            )


class ElidedLabel(QLabel):
    """One line of text that gives way when room is short: it asks for its whole text, makes do
    with less, and then ends in "…" instead of being cut off mid-letter (the status bar's texts
    at the kiosk's size were clipped: "Door locked (simulate")."""

    def __init__(self, text: str = "", parent: QWidget | None = None) -> None:
        super().__init__(text, parent)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Preferred)

    def minimumSizeHint(self) -> QSize:
        return QSize(0, super().minimumSizeHint().height())

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        rect = self.contentsRect().adjusted(self.margin(), self.margin(), -self.margin(), -self.margin())
        text = self.fontMetrics().elidedText(self.text(), Qt.TextElideMode.ElideRight, rect.width())
        painter.drawText(rect, int(self.alignment() | Qt.AlignmentFlag.AlignVCenter), text)


def row_table(columns: tuple[str, ...], multi: bool = False) -> QTableWidget:
    """A read-only table whose rows are selected whole (one at a time unless ``multi``)."""
    table = QTableWidget(0, len(columns))
    table.setHorizontalHeaderLabels(columns)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setSelectionMode(
        QAbstractItemView.SelectionMode.ExtendedSelection if multi else QAbstractItemView.SelectionMode.SingleSelection
    )
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.horizontalHeader().setStretchLastSection(True)
    return table


def show_jpeg(label: QLabel, jpeg: bytes | None, missing: str) -> None:
    """Show a stored JPEG snapshot scaled into ``label``, or the text ``missing`` without one."""
    if jpeg:
        pixmap = QPixmap()
        pixmap.loadFromData(jpeg, "JPG")
        label.setPixmap(pixmap.scaled(label.size(), Qt.AspectRatioMode.KeepAspectRatio))
    else:
        label.clear()
        label.setText(missing)
