"""Numpy and Pillow pictures as Qt pixmaps, for the pages that show what core drew or found."""
from __future__ import annotations

import numpy as np
from PIL import Image
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import QLabel


def rgb_pixmap(rgb: np.ndarray) -> QPixmap:
    """A pixmap of an RGB uint8 array (copied: the QImage must not keep pointing at numpy's buffer)."""
    rgb = np.ascontiguousarray(rgb)
    h, w = rgb.shape[:2]
    return QPixmap.fromImage(QImage(rgb.data, w, h, 3 * w, QImage.Format.Format_RGB888).copy())


def pil_pixmap(img: Image.Image) -> QPixmap:
    return rgb_pixmap(np.asarray(img.convert("RGB")))


class FitLabel(QLabel):
    """Shows a pixmap as large as fits, keeping its proportions, and follows the label's size."""

    def __init__(self, text: str = "", parent=None) -> None:
        super().__init__(text, parent)
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setMinimumSize(160, 100)
        self.original: QPixmap | None = None

    def set_picture(self, pixmap: QPixmap) -> None:
        self.original = pixmap
        self._fit()

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._fit()

    def _fit(self) -> None:
        if self.original is not None and not self.original.isNull():
            self.setPixmap(self.original.scaled(self.size(), Qt.AspectRatioMode.KeepAspectRatio,
                                                Qt.TransformationMode.SmoothTransformation))
