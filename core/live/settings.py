"""The live loop's settings the operator chooses, stored in the gallery like every other setting:
the detector, the smallest face it looks for and the match threshold (``recognition``), and the
quality gates a face must pass before it is described (``quality``).

They used to live in each user's QSettings file, so ``facegate replay`` (and a second user on the
same door PC) decided with other values than the window. RANGES is what the Settings dialog
offers and what check() accepts, so the window's form and ``facegate settings set`` refuse the
same values.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import ClassVar

from core.gallery.match import DEFAULT_THRESHOLD
from core.gallery.stored_settings import StoredSettings
from core.live.loop import LiveSettings
from core.vision.detection import DEFAULT_METHOD, METHODS
from core.vision.quality import QualitySettings

#: (smallest, largest) value of each numeric field, "<group>.<field>": the form's spin boxes and check().
RANGES: dict[str, tuple[float, float]] = {
    "recognition.threshold": (0.2, 0.8),
    "recognition.min_face": (20, 400),
    "quality.min_size": (20, 400),
    "quality.min_sharpness": (0, 500),
    "quality.max_yaw": (5, 90),
    "quality.max_pitch": (5, 90),
    "quality.min_score": (0, 1),
}


def _in_ranges(settings: StoredSettings) -> None:
    for f in fields(settings):
        key = f"{settings.KEY}.{f.name}"
        if key in RANGES:
            low, high = RANGES[key]
            value = getattr(settings, f.name)
            if not low <= value <= high:
                raise ValueError(f"{key} {value:g} must be between {low:g} and {high:g}")


@dataclass
class RecognitionSettings(StoredSettings):
    """The detector, the smallest face it reports, and the live labels' match threshold."""

    KEY: ClassVar[str] = "recognition"

    method: str = DEFAULT_METHOD
    min_face: int = LiveSettings.min_face
    threshold: float = DEFAULT_THRESHOLD

    def check(self) -> None:
        if self.method not in METHODS:
            raise ValueError(f"recognition.method {self.method!r} is not one of {', '.join(METHODS)}")
        _in_ranges(self)


@dataclass
class QualityGates(QualitySettings, StoredSettings):
    """The quality gates (core.vision.quality.QualitySettings, the same fields), stored."""

    KEY: ClassVar[str] = "quality"

    def check(self) -> None:
        QualitySettings.check(self)
        _in_ranges(self)

    def gates(self) -> QualitySettings:
        return QualitySettings(**{f.name: getattr(self, f.name) for f in fields(QualitySettings)})
