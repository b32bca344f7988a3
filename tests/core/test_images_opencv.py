"""The reader's OpenCV path: plain PNG and JPEG files decode through OpenCV to exactly the pixels
Pillow gives; every other file is left to Pillow, which names the fault."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from filterscope.core.data import images
from filterscope.core.data.images import MAX_PIXELS, ImageReadError, read_image
from PIL import Image

from tests.corpus import Case, make_corpus


@pytest.fixture(scope="module")
def cases(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Case]:
    return make_corpus(tmp_path_factory.mktemp("corpus") / "dataset")

def _pillow_read(path: Path) -> np.ndarray:
    """What read_image gives without its OpenCV path."""
    with images._opened(path, MAX_PIXELS) as im:
        return images._decode(path, im)


def _plain_read(path: Path) -> np.ndarray | None:
    with open(path, "rb") as fh:
        return images._decode_plain(fh, MAX_PIXELS)


def _photo(rng: np.random.Generator, height: int, width: int) -> np.ndarray:
    """Smooth colour with noise: JPEG's chroma subsampling and IDCT rounding both show."""
    yy, xx = np.mgrid[0:height, 0:width]
    base = np.stack([xx * 255 // width, yy * 255 // height, (xx + yy) % 256], axis=2)
    return np.clip(base + rng.integers(-30, 31, base.shape), 0, 255).astype(np.uint8)


@pytest.mark.parametrize(("mode", "fmt", "options"), [
    ("L", "PNG", {}), ("RGB", "PNG", {}), ("RGBA", "PNG", {}),
    ("L", "JPEG", {"quality": 90}), ("RGB", "JPEG", {"quality": 75}),
    ("RGB", "JPEG", {"quality": 95, "subsampling": 0}), ("RGB", "JPEG", {"progressive": True}),
])
def test_plain_files_decode_through_opencv_to_pillows_pixels(tmp_path, mode, fmt, options):
    rng = np.random.default_rng(7)
    rgba = np.dstack([_photo(rng, 61, 83), rng.integers(0, 256, (61, 83), np.uint8)])
    path = tmp_path / f"plain-{mode}.{fmt.lower()}"
    Image.fromarray(rgba, "RGBA").convert(mode).save(path, fmt, **options)
    fast = _plain_read(path)
    assert fast is not None, "a plain file must take the OpenCV path"
    np.testing.assert_array_equal(fast, _pillow_read(path))
    np.testing.assert_array_equal(read_image(path), fast)
    assert fast.dtype == np.uint8 and fast.shape == (61, 83, 3) and fast.flags.c_contiguous


@pytest.mark.parametrize("name", ["rgba16-png", "gray16-png", "rgb16-png", "palette-png",
                                  "cmyk-jpeg", "exif-rotated-6", "truncated-jpg", "huge-20000"])
def test_other_files_are_left_to_pillow(cases, name):
    assert _plain_read(cases[name].path) is None


def test_png_with_exif_after_its_data_is_left_to_pillow(tmp_path):
    path = tmp_path / "late-exif.png"
    exif = Image.Exif()
    exif[0x0112] = 6
    Image.fromarray(_photo(np.random.default_rng(1), 20, 30)).save(path, exif=exif.tobytes())
    data = path.read_bytes()
    assert data.index(b"eXIf") < data.index(b"IDAT")
    # Move the eXIf chunk behind IDAT, where a header-only check cannot see it.
    start = data.index(b"eXIf") - 4
    length = int.from_bytes(data[start:start + 4], "big")
    chunk, rest = data[start:start + 12 + length], data[:start] + data[start + 12 + length:]
    end = rest.index(b"IEND") - 4
    path.write_bytes(rest[:end] + chunk + rest[end:])
    assert _plain_read(path) is None
    assert read_image(path).shape == (30, 20, 3)  # turned upright by Pillow's path


def test_damaged_plain_png_is_named_by_pillow(tmp_path):
    path = tmp_path / "bad-crc.png"
    Image.fromarray(_photo(np.random.default_rng(2), 40, 40)).save(path)
    data = bytearray(path.read_bytes())
    data[data.index(b"IDAT") + 20] ^= 0xFF  # compressed data no longer matches its CRC
    path.write_bytes(bytes(data))
    assert _plain_read(path) is None
    with pytest.raises(ImageReadError) as info:
        read_image(path)
    assert info.value.kind == "corrupt" and "PNG" in info.value.reason
