"""Recognition settings the operator may change (threshold, detector, smallest face, the quality
gates, source), kept in QSettings so they survive a restart. The values mean what
core.live.loop.LiveSettings and core.vision.quality.QualitySettings say."""
from __future__ import annotations

from dataclasses import fields
from typing import TYPE_CHECKING

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QComboBox, QDialog, QDialogButtonBox, QDoubleSpinBox, QFormLayout, QLabel, QSpinBox

from core.live.loop import LiveSettings
from core.live.sources import list_cameras
from core.vision.detection import METHODS
from core.vision.quality import QualitySettings

if TYPE_CHECKING:
    from PySide6.QtWidgets import QWidget

#: QSettings keys -> LiveSettings fields the dialog edits.
KEYS = {"recognition/threshold": "threshold", "recognition/method": "method", "recognition/min_face": "min_face"}
#: QSettings keys of the quality gates: "quality/<QualitySettings field>".
QUALITY = "quality/"
SOURCE_KEY = "source/last"
RECENT_KEY = "source/recent"


def live_settings(qs: QSettings) -> LiveSettings:
    """LiveSettings with the operator's saved choices over the defaults (core ignores bad values)."""
    saved = {field: qs.value(key) for key, field in KEYS.items() if qs.contains(key)}
    saved.update({f"quality.{f.name}": qs.value(QUALITY + f.name) for f in fields(QualitySettings)
                  if qs.contains(QUALITY + f.name)})
    return LiveSettings().with_saved(saved)


def remember_source(qs: QSettings, source: str, keep: int = 8) -> None:
    recent = [s for s in recent_sources(qs) if s != source]
    qs.setValue(SOURCE_KEY, source)
    qs.setValue(RECENT_KEY, [source, *recent][:keep])


def recent_sources(qs: QSettings) -> list[str]:
    """The sources used last, newest first (an INI file gives a single one back as plain text)."""
    value = qs.value(RECENT_KEY, [])
    if isinstance(value, str):
        return [value]
    return [str(v) for v in value] if isinstance(value, (list, tuple)) else []


class SettingsDialog(QDialog):
    def __init__(self, qs: QSettings, current: LiveSettings, source: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Settings")
        self.qs = qs
        self.threshold = QDoubleSpinBox(minimum=0.2, maximum=0.8, singleStep=0.01, decimals=2, value=current.threshold)
        self.method = QComboBox()
        self.method.addItems(METHODS)
        self.method.setCurrentText(current.method)
        self.min_face = QSpinBox(minimum=20, maximum=400, suffix=" px", value=current.min_face)
        gates = current.quality
        self.min_size = QSpinBox(minimum=20, maximum=400, suffix=" px", value=gates.min_size)
        self.min_sharpness = QDoubleSpinBox(minimum=0, maximum=500, decimals=0, value=gates.min_sharpness)
        self.max_yaw = QDoubleSpinBox(minimum=5, maximum=90, decimals=0, suffix=" °", value=gates.max_yaw)
        self.max_pitch = QDoubleSpinBox(minimum=5, maximum=90, decimals=0, suffix=" °", value=gates.max_pitch)
        self.min_score = QDoubleSpinBox(minimum=0, maximum=1, singleStep=0.05, decimals=2, value=gates.min_score)
        self.source = QComboBox(editable=True)
        self.source.addItems([*(str(i) for i in list_cameras()), *recent_sources(qs)])
        self.source.setCurrentText(source)
        self.source.setToolTip("a camera number, an rtsp:// or http:// URL, or a video file")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form = QFormLayout(self)
        form.addRow("Match threshold", self.threshold)
        hint = QLabel("lower is stricter; 0.4 recommended")
        hint.setStyleSheet("color: gray;")
        form.addRow("", hint)
        form.addRow("Detector", self.method)
        form.addRow("Smallest face", self.min_face)
        gates_hint = QLabel("faces are recognised only when all of these hold; others are boxed and told why")
        gates_hint.setStyleSheet("color: gray;")
        form.addRow("", gates_hint)
        form.addRow("Recognise faces from", self.min_size)
        form.addRow("Sharpness needed", self.min_sharpness)
        form.addRow("Head turned at most", self.max_yaw)
        form.addRow("Head tilted up/down at most", self.max_pitch)
        form.addRow("Detector confidence needed", self.min_score)
        form.addRow("Source", self.source)
        form.addRow(buttons)

    def changes(self) -> dict:
        """The LiveSettings fields as chosen here (to pass to LiveRecognizer.update_settings)."""
        return {"threshold": round(self.threshold.value(), 2), "method": self.method.currentText(),
                "min_face": self.min_face.value(),
                "quality": QualitySettings(self.min_size.value(), self.min_sharpness.value(), self.max_yaw.value(),
                                           self.max_pitch.value(), round(self.min_score.value(), 2))}

    def accept(self) -> None:
        values = self.changes()
        for key, field in KEYS.items():
            self.qs.setValue(key, values[field])
        for f in fields(QualitySettings):
            self.qs.setValue(QUALITY + f.name, getattr(values["quality"], f.name))
        super().accept()
