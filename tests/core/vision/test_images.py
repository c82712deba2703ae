"""Every kind of image a user may hand FaceGate: the odd ones load, the bad ones are refused
with a message naming the file."""

from __future__ import annotations

import io
import shutil

import numpy as np
import pytest
from PIL import Image

from core.errors import ImageError
from core.records import Box
from core.vision.images import MAX_PIXELS, crop, load_image
from tests.support.data import IMAGES


def _save(tmp_path, name, img: Image.Image, fmt: str, **kw):
    path = tmp_path / name
    img.save(path, fmt, **kw)
    return path


@pytest.fixture
def obama():
    return Image.open(IMAGES / "obama.jpg").convert("RGB")


@pytest.mark.parametrize(
    "fmt,ext", [("JPEG", "jpg"), ("PNG", "png"), ("GIF", "gif"), ("BMP", "bmp"), ("WEBP", "webp"), ("TIFF", "tif")]
)
def test_formats_decode_to_rgb(tmp_path, obama, fmt, ext):
    arr = load_image(_save(tmp_path, f"x.{ext}", obama, fmt))
    assert arr.dtype == np.uint8 and arr.shape == (obama.height, obama.width, 3)


def test_file_without_extension_is_decoded_by_content(tmp_path):
    path = tmp_path / "photo"
    shutil.copy(IMAGES / "obama.jpg", path)
    assert load_image(path).shape == (1137, 910, 3)


def test_grayscale(tmp_path, obama):
    arr = load_image(_save(tmp_path, "g.png", obama.convert("L"), "PNG"))
    assert arr.shape[2] == 3 and np.array_equal(arr[..., 0], arr[..., 1])


def test_rgba_png():
    arr = load_image(IMAGES / "32bit.png")
    assert arr.shape == (1200, 626, 3)


def test_16bit_gray_is_scaled_not_clipped(tmp_path):
    ramp = (np.linspace(0, 65535, 256 * 64).reshape(64, 256)).astype(np.uint16)
    path = tmp_path / "deep.png"
    Image.fromarray(ramp).save(path)
    arr = load_image(path)
    assert arr.dtype == np.uint8
    assert arr[..., 0].min() == 0 and arr[..., 0].max() == 255
    assert len(np.unique(arr[..., 0])) > 200  # a real ramp, not a clipped block of 255


def test_exif_rotation_is_applied(tmp_path, obama):
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise on display
    path = tmp_path / "rotated.jpg"
    obama.save(path, "JPEG", exif=exif.tobytes())
    assert load_image(path).shape == (obama.width, obama.height, 3)


def test_palette_and_cmyk(tmp_path, obama):
    assert load_image(_save(tmp_path, "p.png", obama.convert("P"), "PNG")).shape[2] == 3
    assert load_image(_save(tmp_path, "c.jpg", obama.convert("CMYK"), "JPEG")).shape[2] == 3


def test_bytes_input():
    arr = load_image((IMAGES / "obama.jpg").read_bytes(), name="upload")
    assert arr.shape == (1137, 910, 3)


@pytest.mark.parametrize(
    "content,reason",
    [
        (b"", "empty"),
        (b"hello, I am a text file\n" * 10, "not an image"),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 40, "damaged"),
    ],
)
def test_bad_files_are_refused_naming_the_file(tmp_path, content, reason):
    path = tmp_path / "bad.jpg"
    path.write_bytes(content)
    with pytest.raises(ImageError) as err:
        load_image(path)
    assert str(path) in str(err.value) and reason in str(err.value)


def test_truncated_jpeg(tmp_path):
    data = (IMAGES / "obama.jpg").read_bytes()
    path = tmp_path / "cut.jpg"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ImageError, match="cut.jpg.*(damaged|truncated)"):
        load_image(path)


def test_absurdly_large_image_is_refused_from_its_header(tmp_path):
    # a 20000 x 20000 PNG header: refused before 1.2 GB of pixels are allocated
    side = int(MAX_PIXELS**0.5) + 1000
    buf = io.BytesIO()
    Image.new("1", (side, side)).save(buf, "PNG")
    path = tmp_path / "bomb.png"
    path.write_bytes(buf.getvalue())
    with pytest.raises(ImageError, match="bomb.png.*too large"):
        load_image(path)


def test_missing_file_and_folder(tmp_path):
    with pytest.raises(ImageError, match="not found"):
        load_image(tmp_path / "nope.jpg")
    with pytest.raises(ImageError, match="folder"):
        load_image(tmp_path)


def test_no_face_and_many_faces_when_enrolling(gallery, tmp_path):
    from core.errors import NoFaceError

    blank = tmp_path / "wall.png"
    Image.new("RGB", (400, 300), (200, 190, 180)).save(blank)
    with pytest.raises(NoFaceError, match="wall.png: no face"):
        gallery.enroll("nobody", [str(blank)])
    with pytest.raises(NoFaceError, match="2 faces"):
        gallery.enroll("pair", [str(IMAGES / "two_people.jpg")])
    assert gallery.people() == []
    # usable photos are kept, the others reported
    result = gallery.enroll("obama", [str(blank), str(IMAGES / "obama.jpg")])
    assert len(result.sample_ids) == 1 and result.skipped[0][0] == str(blank)


def test_boxes_pad_clip_and_crop_within_the_image():
    rgb = np.arange(60 * 80 * 3, dtype=np.uint8).reshape(60, 80, 3)
    box = Box(70, -5, 90, 10)  # over the right and top edges
    assert box.padded(2, 3) == Box(68, -8, 92, 13)
    assert box.clipped(rgb.shape) == Box(70, 0, 80, 10)
    assert np.array_equal(box.clipped(rgb.shape).cut(rgb), rgb[0:10, 70:80])
    assert Box(100, 100, 120, 120).clipped(rgb.shape).cut(rgb).size == 0  # wholly outside
    inside = crop(rgb, Box(30, 20, 50, 40), pad=0.25, size=None)  # 20 px face, 30 px square around it
    assert inside.shape == (30, 30, 3) and np.array_equal(inside, rgb[15:45, 25:55])
    edge = crop(rgb, box, pad=0.25, size=None)
    assert edge.shape[:2] == (17, 15) and np.array_equal(edge, rgb[0:17, 65:80])  # a 30 px square, cut at two edges
    assert crop(rgb, Box(200, 200, 220, 220)).shape == (112, 112, 3)  # nothing there: a blank tile
