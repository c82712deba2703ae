"""Before a camera face farther than the match threshold becomes someone's sample: both faces side
by side, large, with their distance and what core.gallery.plausible says of it. Cancel is the
default; the operator confirms ("Yes, it is NAME") or, beyond the distance at which two faces are
different people, an admin forces it (the page then asks the PIN afresh)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QGridLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from core.door.review import Implausible
from gui.admin_dialog import admin_vouches

SIDE = 260  # px: each face, large enough to tell two people apart


class CompareDialog(QDialog):
    def __init__(
        self, refusal: Implausible, face_jpeg: bytes | None, sample_jpeg: bytes | None, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.refusal = refusal
        name, distance = refusal.name, refusal.plausible.distance
        forcing = refusal.needs == "force"
        self.setWindowTitle(f"Is this {name}?")
        grid = QGridLayout()
        self.faces = []
        for col, (jpeg, caption) in enumerate(
            ((face_jpeg, f"{refusal.what.capitalize()}, from the camera"), (sample_jpeg, f"{name}'s nearest sample"))
        ):
            picture = QLabel(alignment=Qt.AlignmentFlag.AlignCenter)
            picture.setFixedSize(SIDE, SIDE)
            picture.setStyleSheet("background: #222; color: #ddd;")
            pixmap = QPixmap()
            if jpeg and pixmap.loadFromData(jpeg):
                picture.setPixmap(
                    pixmap.scaled(SIDE, SIDE, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation)
                )
            else:
                picture.setText("no picture kept")
            self.faces.append(picture)
            grid.addWidget(picture, 0, col)
            grid.addWidget(QLabel(caption, alignment=Qt.AlignmentFlag.AlignCenter), 1, col)
        self.distance = QLabel(
            f"{distance:.3f} apart" + (": different people" if forcing else ""), alignment=Qt.AlignmentFlag.AlignCenter
        )
        self.distance.setStyleSheet(f"font-size: 20px; font-weight: bold; color: {'#c62828' if forcing else '#b36b00'};")
        why = refusal.plausible.refusal(name) or ""
        self.why = QLabel(f"{refusal.what.capitalize()}: {why}.", wordWrap=True)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.go = QPushButton(f"Force: add to {name} (admin PIN)…" if forcing else f"Yes, it is {name}: add")
        self.go.setAutoDefault(False)
        self.buttons.addButton(self.go, QDialogButtonBox.ButtonRole.AcceptRole)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        cancel = self.buttons.button(QDialogButtonBox.StandardButton.Cancel)
        cancel.setDefault(True)
        cancel.setFocus()
        layout = QVBoxLayout(self)
        layout.addLayout(grid)
        layout.addWidget(self.distance)
        layout.addWidget(self.why)
        layout.addWidget(self.buttons)


def go_on_anyway(
    parent: QWidget, refusal: Implausible, face_jpeg: bytes | None, sample_jpeg: bytes | None
) -> dict[str, bool] | None:
    """Show both faces; the flags to add with ({"confirm": True, "force": …}) once the operator
    confirms (and, to force, an admin gives the PIN now), else None."""
    if CompareDialog(refusal, face_jpeg, sample_jpeg, parent).exec() != QDialog.DialogCode.Accepted:
        return None
    forcing = refusal.needs == "force"
    if forcing and not admin_vouches(parent, f"force {refusal.what} into {refusal.name}'s samples"):
        return None
    return {"confirm": True, "force": forcing}
