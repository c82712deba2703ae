"""Search by photo: every face in an image against the enrolled samples, and a picture of the result.

Samples, not people, are listed: an operator checking a gallery wants to see *which* photo of a
person a face resembles (a bad enrollment sample shows up as a hit on the wrong person).
The comparison picture is drawn with Pillow so the CLI and the window save the same file
(core cannot use Qt).

    >>> result = search_photo(gallery, "door.jpg", top=5, within=0.5)
    >>> save_comparison(result, "compare.png")
"""

from __future__ import annotations

import io
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

import numpy as np
from PIL import Image, ImageDraw

from core.errors import FaceGateError
from core.gallery.api import Gallery
from core.records import Box, Candidate, Face
from core.tools.render import TILE, blank_tile, font, text_width
from core.vision.detection import Detector
from core.vision.images import ImageLike, as_rgb, crop

if TYPE_CHECKING:
    from PIL import ImageFont

#: Space between tiles and around the picture, and the band under each tile for its caption.
GAP = 8
CAPTION = 34


@dataclass
class SearchHit:
    """One enrolled sample near the query: whose it is, how far, and its thumbnail (RGB)."""

    candidate: Candidate
    thumbnail: np.ndarray | None = field(default=None, repr=False)


class QueryFace(NamedTuple):
    """A face to search with; ``problems``: the quality gates it fails (searched all the same)."""

    box: Box
    descriptor: np.ndarray
    problems: tuple[str, ...] = ()


@dataclass
class FaceSearch:
    """One face of the query photo, its thumbnail, its hits (nearest first) and the lookup time."""

    box: Box
    thumbnail: np.ndarray = field(repr=False)
    hits: list[SearchHit]
    search_ms: float
    problems: tuple[str, ...] = ()  # a poor query face: the hits are less sure

    @property
    def warning(self) -> str:
        return poor_warning(self.problems)


def poor_warning(problems: tuple[str, ...] | list[str]) -> str:
    """What to tell the operator about a poor query face ("" for a good one)."""
    return f"poor query face ({', '.join(problems)}): searched anyway, the distances are less sure" if problems else ""


@dataclass
class SearchResult:
    """Everything found for one photo; ``seconds`` includes detection and descriptors."""

    source: str
    faces: list[FaceSearch]
    seconds: float
    top: int
    within: float | None


def search_photo(
    gallery: Gallery,
    image: ImageLike,
    top: int = 5,
    within: float | None = None,
    label: str | None = None,
    detector: Detector | None = None,
) -> SearchResult:
    """Search every face in ``image``: its ``top`` nearest samples, or (with ``within``) every
    sample within that distance, nearest first (``top`` then caps a ``within`` list).

    ``detector`` lets a background thread use its own (a dlib detector is not shared across threads).
    """
    source = label or (str(image) if isinstance(image, (str, Path)) else "<image>")
    started = time.perf_counter()
    rgb = as_rgb(image, source)
    result = search_faces(gallery, rgb, searchable(gallery.query_faces(rgb, detector)), top, within, source)
    result.seconds = time.perf_counter() - started
    return result


def searchable(faces: list[Face]) -> list[QueryFace]:
    """The faces that have a descriptor (Gallery.query_faces gives every face one), with the gates
    each fails."""
    return [QueryFace(face.box, face.descriptor, tuple(face.problems)) for face in faces if face.descriptor is not None]


def search_faces(
    gallery: Gallery, rgb: np.ndarray, faces: list[QueryFace], top: int = 5, within: float | None = None, source: str = "<image>"
) -> SearchResult:
    """Search faces already found in ``rgb`` (box, descriptor): cheap, so a window can re-run it
    at once when K or the maximum distance changes."""
    if top < 1:
        raise FaceGateError("--top must be at least 1")
    if within is not None and within <= 0:
        raise FaceGateError("the maximum distance (--within) must be above 0")
    started = time.perf_counter()
    out = []
    for box, descriptor, problems in faces:
        t0 = time.perf_counter()
        found = gallery.within(descriptor, within)[:top] if within is not None else gallery.top_k(descriptor, top)
        ms = (time.perf_counter() - t0) * 1000
        hits = [SearchHit(c, _thumbnail(gallery, c.sample_id)) for c in found]
        out.append(FaceSearch(box, crop(rgb, box, size=TILE), hits, ms, tuple(problems)))
    return SearchResult(source, out, time.perf_counter() - started, top, within)


def _thumbnail(gallery: Gallery, sample_id: int) -> np.ndarray | None:
    blob = gallery.store.thumbnail(sample_id)
    if not blob:
        return None
    with Image.open(io.BytesIO(blob)) as img:
        return np.asarray(img.convert("RGB").resize((TILE, TILE)))


def comparison_size(rows: int, columns: int) -> tuple[int, int]:
    """(width, height) of a comparison picture: ``rows`` query faces, ``columns`` tiles per row
    (the query plus its hits)."""
    return (GAP + max(1, columns) * (TILE + GAP), GAP + max(1, rows) * (TILE + CAPTION + GAP))


def comparison_image(result: SearchResult) -> Image.Image:
    """One picture: a row per query face, the query first (framed), then its hits, captions under each."""
    columns = 1 + max(1, max((len(f.hits) for f in result.faces), default=0))
    width, height = comparison_size(len(result.faces), columns)
    img = Image.new("RGB", (width, height), (250, 250, 250))
    draw = ImageDraw.Draw(img)
    small = font(12)
    if not result.faces:
        draw.text((GAP, GAP + TILE // 2), "no face found", fill=(150, 0, 0), font=small)
        return img
    for row, face in enumerate(result.faces):
        y = GAP + row * (TILE + CAPTION + GAP)
        tiles: list[tuple[np.ndarray | None, str, str, tuple[int, int, int]]] = [
            (face.thumbnail, "query", f"{face.search_ms:.2f} ms", (30, 90, 200))
            if not face.problems
            else (face.thumbnail, "poor query", face.problems[0], (200, 120, 0))
        ]
        for hit in face.hits:
            c = hit.candidate
            tiles.append((hit.thumbnail, c.name, f"{c.distance:.3f}", (40, 40, 40)))
        if not face.hits:
            reach = f"nothing within {result.within:.2f}" if result.within is not None else "gallery empty"
            draw.text((2 * GAP + TILE, y + TILE // 2), reach, fill=(150, 0, 0), font=small)
        for col, (thumb, line1, line2, colour) in enumerate(tiles):
            x = GAP + col * (TILE + GAP)
            img.paste(Image.fromarray(thumb if thumb is not None else blank_tile()), (x, y))
            if col == 0:
                draw.rectangle([x - 2, y - 2, x + TILE + 1, y + TILE + 1], outline=colour, width=2)
            for k, line in enumerate((line1, line2)):
                line = _fit(line, small)
                draw.text((x + (TILE - text_width(line, small)) // 2, y + TILE + 3 + k * 15), line, fill=colour, font=small)
    return img


def _fit(text: str, f: ImageFont.FreeTypeFont | ImageFont.ImageFont) -> str:
    """Shorten a caption with an ellipsis until it fits under a tile."""
    while len(text) > 1 and text_width(text, f) > TILE:
        text = text[:-2] + "…"
    return text


def save_comparison(result: SearchResult, path: str | Path) -> Path:
    """Save the comparison picture as PNG (whatever the file name says); the path written."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    comparison_image(result).save(path, "PNG")
    return path


def result_json(result: SearchResult) -> dict:
    """The result as plain JSON-able data (for ``facegate search --json``)."""
    return {
        "source": result.source,
        "seconds": round(result.seconds, 3),
        "top": result.top,
        "within": result.within,
        "faces": [
            {
                "box": list(f.box.as_tuple()),
                "search_ms": round(f.search_ms, 3),
                "poor": list(f.problems),
                "warning": f.warning,
                "hits": [
                    {"name": h.candidate.name, "distance": round(h.candidate.distance, 4), "sample_id": h.candidate.sample_id}
                    for h in f.hits
                ],
            }
            for f in result.faces
        ],
    }
