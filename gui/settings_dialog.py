"""The Settings dialog: the live loop's threshold, detector, smallest face and quality gates
(kept in the gallery: core.live.settings, the same checks and ranges as ``facegate settings``),
and the video source (the recent sources stay per user, in QSettings).

Older FaceGates kept the live loop's choices in QSettings: migrate_settings() moves them into
the gallery once, at start, and removes them from the per-user file.
"""

from __future__ import annotations

import logging
from dataclasses import fields, replace
from typing import Any

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QComboBox, QDialog, QDialogButtonBox, QDoubleSpinBox, QFormLayout, QLabel, QSpinBox, QWidget

from core.errors import FaceGateError
from core.gallery.store import Store
from core.live.settings import RANGES, QualityGates, RecognitionSettings
from core.live.sources import list_cameras
from core.station import StationSettings
from core.vision.detection import METHODS

log = logging.getLogger("facegate.settings")

#: The QSettings keys older versions kept, by their stored group: "recognition/<field>", "quality/<field>".
OLD_GROUPS = (RecognitionSettings, QualityGates)
SOURCE_KEY = "source/last"
RECENT_KEY = "source/recent"


def migrate_settings(qs: QSettings, store: Store) -> list[str]:
    """Move the live loop's choices an older FaceGate kept in ``qs`` into the gallery, once: a
    group the gallery already holds wins; each value is checked as the form checks it, a bad one
    is left out (and said). The keys are removed from ``qs`` either way. Returns what was moved."""
    moved: list[str] = []
    for cls in OLD_GROUPS:
        keys = [f"{cls.KEY}/{f.name}" for f in fields(cls) if qs.contains(f"{cls.KEY}/{f.name}")]
        if not keys:
            continue
        if store.get_setting(cls.KEY) is None:
            settings = cls()
            for key in keys:
                try:
                    settings = settings.with_text(key.partition("/")[2], str(qs.value(key)))
                    moved.append(key.replace("/", "."))
                except ValueError as exc:
                    log.warning("not moved into the gallery: %s", exc)
            try:
                settings.save(store)
            except (ValueError, FaceGateError) as exc:
                log.warning("the saved %s settings were not moved into the gallery: %s", cls.KEY, exc)
                continue
        for key in keys:
            qs.remove(key)
    if moved:
        log.info("moved into the gallery from the per-user settings: %s", ", ".join(moved))
    return moved


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


def _whole(key: str, value: int, **options: Any) -> QSpinBox:
    """A spin box over the key's range (core.live.settings.RANGES: what check() accepts)."""
    low, high = RANGES[key]
    return QSpinBox(minimum=int(low), maximum=int(high), value=int(value), **options)


def _number(key: str, value: float, decimals: int = 0, **options: Any) -> QDoubleSpinBox:
    low, high = RANGES[key]
    return QDoubleSpinBox(minimum=low, maximum=high, decimals=decimals, value=value, **options)


class SettingsDialog(QDialog):
    def __init__(self, qs: QSettings, current: StationSettings, source: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Settings")
        self.qs = qs
        self.current = current
        r, gates = current.recognition, current.quality
        self.threshold = _number("recognition.threshold", r.threshold, decimals=2, singleStep=0.01)
        self.method = QComboBox()
        self.method.addItems(METHODS)
        self.method.setCurrentText(r.method)
        self.min_face = _whole("recognition.min_face", r.min_face, suffix=" px")
        self.min_size = _whole("quality.min_size", gates.min_size, suffix=" px")
        self.min_sharpness = _number("quality.min_sharpness", gates.min_sharpness)
        self.max_yaw = _number("quality.max_yaw", gates.max_yaw, suffix=" °")
        self.max_pitch = _number("quality.max_pitch", gates.max_pitch, suffix=" °")
        self.min_score = _number("quality.min_score", gates.min_score, decimals=2, singleStep=0.05)
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

    def chosen(self) -> StationSettings:
        """The station's settings with the choices made here (checked when the station saves them)."""
        recognition = RecognitionSettings(self.method.currentText(), self.min_face.value(), round(self.threshold.value(), 2))
        quality = QualityGates(
            self.min_size.value(),
            self.min_sharpness.value(),
            self.max_yaw.value(),
            self.max_pitch.value(),
            round(self.min_score.value(), 2),
        )
        return replace(self.current, recognition=recognition, quality=quality)
