"""Where FaceGate keeps its data: the platform's per-user data folder, readable by the owner only."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import platformdirs

APP = "FaceGate"


def data_dir() -> Path:
    """The per-user data folder ($FACEGATE_HOME overrides it), created mode 0700."""
    path = Path(os.environ.get("FACEGATE_HOME") or platformdirs.user_data_dir(APP, appauthor=False))
    path.mkdir(parents=True, exist_ok=True)
    if os.name != "nt":
        os.chmod(path, 0o700)
    return path


def default_db() -> Path:
    return data_dir() / "gallery.db"


def resource_path(name: str) -> Path:
    """A file shipped in resources/: inside the frozen bundle (sys._MEIPASS) or the source tree.

    The frozen app has no source tree; PyInstaller unpacks resources/ under sys._MEIPASS
    (packaging/facegate.spec puts them there), so one lookup serves both.
    """
    base = getattr(sys, "_MEIPASS", None)
    root = Path(base) if base else Path(__file__).resolve().parent.parent
    return root / "resources" / name
