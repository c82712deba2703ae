"""Are the model files FaceGate loads where it looks for them? Asked by the self-test (and by anyone
checking an installation from a prompt) before the first face needs them.

    >>> check_models()   # ModelError names what is missing
    InstalledModels(folder=PosixPath('.../models'), files=(...), megabytes=99.7, haar_cascade='...')
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from core.errors import ModelError
from core.vision.describe import MODEL_FILES, default_model_dir
from core.vision.detection import Detector, haar_cascade_path, yunet_model_path
from core.vision.texture import TextureModel


@dataclass(frozen=True)
class InstalledModels:
    """Where the dlib models are, which files, their total size, the Haar cascade's path, the
    YuNet detector's and the screen and print check's (MiniFASNetV2-SE)."""

    folder: Path
    files: tuple[str, ...]
    megabytes: float
    haar_cascade: str
    yunet: Path
    texture: Path


def check_models() -> InstalledModels:
    """Every dlib model core may load, the Haar cascade, YuNet and the screen and print check's
    model (the last two loaded, so an unreadable file shows too), found; ModelError naming what
    is missing."""
    folder = default_model_dir()
    files = tuple(MODEL_FILES.values())
    missing = [name for name in files if not (folder / name).is_file()]
    if missing:
        raise ModelError(f"dlib model files missing from {folder}: {', '.join(missing)}")
    cascade = haar_cascade_path()
    if not os.path.isfile(cascade):
        raise ModelError(f"the Haar cascade is missing: {cascade}")
    Detector("yunet").warm_up()
    texture = TextureModel().path
    size = sum((folder / name).stat().st_size for name in files) / 2**20
    return InstalledModels(folder, files, size, cascade, yunet_model_path(), texture)
