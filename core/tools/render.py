"""Small Pillow drawing helpers shared by the pictures core saves (search comparison, FAR/FRR plot).

Pillow, not Qt: core must stay Qt-free so the CLI draws exactly what the window shows.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from PIL import ImageFont

#: Side of a face thumbnail in saved pictures (the size thumbnails are stored at).
TILE = 112


@lru_cache(maxsize=8)
def font(size: int = 12) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    """Pillow's bundled font at ``size`` px (no system font needed, same look everywhere)."""
    return ImageFont.load_default(size)


def text_width(text: str, f: ImageFont.FreeTypeFont | ImageFont.ImageFont) -> int:
    return int(round(f.getlength(text)))


def blank_tile() -> np.ndarray:
    """A grey tile standing in for a missing thumbnail."""
    return np.full((TILE, TILE, 3), 200, np.uint8)
