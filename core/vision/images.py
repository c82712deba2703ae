"""Load any image a user may hand us, or refuse it with a clear reason naming the file.

Decoding goes through Pillow because it identifies files by content (no extension needed),
reads the header before the pixels (so an absurdly large image is refused without allocating
it), applies EXIF rotation, and knows the odd modes (16-bit, palette, CMYK, animated GIF).
Everything comes out as a contiguous RGB uint8 array, the one layout dlib and OpenCV share.
"""

from __future__ import annotations

import io
import warnings
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from core.errors import ImageError
from core.records import Box

#: Larger files are refused before reading: no camera or phone photo comes near this.
MAX_FILE_BYTES = 256 * 1024 * 1024
#: Larger images are refused from the header alone (a 60 MP photo is fine; a decompression
#: bomb of 30000x30000 is not).
MAX_PIXELS = 80_000_000

# We check the size ourselves, with a message naming the file.
Image.MAX_IMAGE_PIXELS = None


#: What the core's verbs take as an image: a path, the file's bytes, or an array (RGB, gray, RGBA...).
ImageLike = str | Path | bytes | np.ndarray


def as_rgb(image: ImageLike, label: str | None = None) -> np.ndarray:
    """Any ImageLike as contiguous RGB uint8 (files are read with load_image, arrays normalised)."""
    if isinstance(image, np.ndarray):
        return to_rgb(image, label or "<array>")
    return load_image(image, name=label)


def load_image(source: str | Path | bytes, name: str | None = None) -> np.ndarray:
    """Return the image at ``source`` (a path or the file's bytes) as RGB uint8, H x W x 3.

    Raises ImageError naming the file when it is missing, empty, not an image, truncated,
    damaged or too large.
    """
    if isinstance(source, (bytes, bytearray, memoryview)):
        return decode_image(bytes(source), name or "<bytes>")
    path = Path(source)
    label = name or str(path)
    if not path.exists():
        raise ImageError(label, "file not found")
    if path.is_dir():
        raise ImageError(label, "is a folder, not an image file")
    if not path.is_file():  # reading a FIFO or a device would block or never end
        raise ImageError(label, "is not a regular file (a pipe, socket or device), not an image file")
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise ImageError(label, f"file is too large ({_versus_limit(size, MAX_FILE_BYTES)})")
        data = path.read_bytes()
    except PermissionError:
        raise ImageError(label, "permission denied") from None
    except OSError as exc:
        raise ImageError(label, f"cannot be read ({exc.strerror or exc})") from None
    return decode_image(data, label)


def decode_image(data: bytes, name: str) -> np.ndarray:
    """Decode an image file's bytes (any format Pillow knows) to RGB uint8."""
    if not data:
        raise ImageError(name, "file is empty")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            img: Image.Image = Image.open(io.BytesIO(data))
            width, height = img.size
            if width <= 0 or height <= 0:
                raise ImageError(name, "image has no pixels")
            if width * height > MAX_PIXELS:
                raise ImageError(name, f"image is too large ({width}x{height}; the limit is {MAX_PIXELS / 1e6:.0f} megapixels)")
            img.seek(0)  # first frame of an animated GIF/WebP
            img.load()
            img = ImageOps.exif_transpose(img) or img
    except ImageError:
        raise
    except UnidentifiedImageError:
        kind = _signature(data)
        if kind:
            raise ImageError(name, f"starts like a {kind} file but is damaged and cannot be decoded") from None
        raise ImageError(name, "not an image file FaceGate can read (JPEG, PNG, GIF, BMP, WebP, TIFF)") from None
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        raise ImageError(name, f"image is damaged or truncated ({exc})") from None
    except Image.DecompressionBombError as exc:  # pragma: no cover - MAX_IMAGE_PIXELS is off
        raise ImageError(name, str(exc)) from None
    return to_rgb(np.asarray(_to_8bit_mode(img)), name)


_SIGNATURES = {
    b"\x89PNG\r\n\x1a\n": "PNG",
    b"\xff\xd8\xff": "JPEG",
    b"GIF8": "GIF",
    b"BM": "BMP",
    b"II*\x00": "TIFF",
    b"MM\x00*": "TIFF",
}


def _signature(data: bytes) -> str | None:
    """The image format a file's first bytes claim, if any (to tell 'damaged' from 'not an image')."""
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WebP"
    return next((kind for magic, kind in _SIGNATURES.items() if data.startswith(magic)), None)


def _to_8bit_mode(img: Image.Image) -> Image.Image:
    """Convert any Pillow mode to 'RGB' or 'L', scaling high bit depths instead of clipping."""
    if img.mode in ("RGB", "L"):
        return img
    if img.mode.startswith("I") or img.mode == "F":
        arr = np.asarray(img).astype(np.float64)
        if img.mode.startswith("I;16"):
            top = 65535.0
        else:
            top = float(arr.max()) if arr.size and arr.max() > 255 else 255.0
            if img.mode == "F" and arr.size and arr.max() <= 1.0:
                top = 1.0
        scaled = np.clip(arr * (255.0 / max(top, 1e-9)), 0, 255).astype(np.uint8)
        return Image.fromarray(scaled, "L")
    # RGBA, LA, P, PA, CMYK, YCbCr, 1: alpha is dropped, as face_recognition does, so that
    # distances measured with it carry over.
    return img.convert("RGB")


def to_rgb(array: np.ndarray, name: str = "<array>") -> np.ndarray:
    """Normalise an in-memory image (gray, RGBA, 16-bit, float) to contiguous RGB uint8."""
    arr = np.asarray(array)
    if arr.size == 0 or arr.ndim not in (2, 3):
        raise ImageError(name, f"not an image array (shape {arr.shape})")
    if arr.dtype != np.uint8:
        if arr.dtype == np.uint16:
            arr = (arr >> 8).astype(np.uint8)
        elif np.issubdtype(arr.dtype, np.floating):
            top = 1.0 if float(np.nanmax(arr)) <= 1.0 else 255.0
            arr = np.clip(np.nan_to_num(arr) * (255.0 / top), 0, 255).astype(np.uint8)
        else:
            arr = np.clip(arr, 0, 255).astype(np.uint8)
    if arr.ndim == 2:
        arr = np.repeat(arr[:, :, None], 3, axis=2)
    elif arr.shape[2] == 1:
        arr = np.repeat(arr, 3, axis=2)
    elif arr.shape[2] == 4:
        arr = arr[:, :, :3]
    elif arr.shape[2] != 3:
        raise ImageError(name, f"image has {arr.shape[2]} channels")
    return np.ascontiguousarray(arr)


def encode_jpeg(rgb: np.ndarray, quality: int = 90) -> bytes:
    """JPEG bytes of an RGB image (thumbnails and snapshots stored in SQLite)."""
    buf = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(rgb), "RGB").save(buf, "JPEG", quality=quality)
    return buf.getvalue()


def crop(rgb: np.ndarray, box: Box, pad: float = 0.25, size: int | None = 112) -> np.ndarray:
    """A square crop around ``box`` with ``pad`` of its side on each side, clipped to the image,
    optionally resized to ``size`` (thumbnails, snapshots, search tiles)."""
    half = int(max(box.width, box.height) * (1 + 2 * pad)) // 2
    cx, cy = (box.left + box.right) // 2, (box.top + box.bottom) // 2
    out = Box(cx, cy, cx, cy).padded(half, half).clipped(rgb.shape).cut(rgb)
    if out.size == 0:
        out = np.zeros((8, 8, 3), np.uint8)
    if size:
        out = np.asarray(Image.fromarray(np.ascontiguousarray(out)).resize((size, size), Image.Resampling.BILINEAR))
    return np.ascontiguousarray(out)


def _versus_limit(size: int, limit: int) -> str:
    """'300 MB; the limit is 268 MB', in bytes when MB would print the same number twice."""
    if round(size / 1e6) != round(limit / 1e6):
        return f"{size / 1e6:.0f} MB; the limit is {limit / 1e6:.0f} MB"
    return f"{size:,} bytes; the limit is {limit:,} bytes"
