"""Numpy and Pillow pictures as Qt pixmaps, for the pages that show what core drew or found."""
from __future__ import annotations

import numpy as np
from PIL import Image
from PySide6.QtGui import QImage, QPixmap


def rgb_pixmap(rgb: np.ndarray) -> QPixmap:
    """A pixmap of an RGB uint8 array (copied: the QImage must not keep pointing at numpy's buffer)."""
    rgb = np.ascontiguousarray(rgb)
    h, w = rgb.shape[:2]
    return QPixmap.fromImage(QImage(rgb.data, w, h, 3 * w, QImage.Format.Format_RGB888).copy())


def pil_pixmap(img: Image.Image) -> QPixmap:
    return rgb_pixmap(np.asarray(img.convert("RGB")))
