"""The PNG/JPEG header fast path agrees with Pillow, and steps aside whenever it should."""

from __future__ import annotations

import io

import numpy as np
import pytest
from filterscope.core.data.image_headers import HEADER_BYTES, read_header
from PIL import Image


def encode(image: Image.Image, fmt: str, **kwargs) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **kwargs)
    return buffer.getvalue()


rng = np.random.default_rng(0)
RGB = Image.fromarray(rng.integers(0, 256, (37, 53, 3), dtype=np.uint8))


@pytest.mark.parametrize("image, fmt, kwargs", [
    (RGB, "PNG", {}),
    (RGB.convert("L"), "PNG", {}),
    (RGB.convert("RGBA"), "PNG", {}),
    (RGB.convert("P"), "PNG", {}),
    (RGB.convert("1"), "PNG", {}),
    (Image.fromarray(rng.integers(0, 65535, (20, 30), dtype=np.uint16)), "PNG", {}),
    (RGB, "JPEG", {}),
    (RGB, "JPEG", {"progressive": True}),
    (RGB.convert("L"), "JPEG", {}),
])
def test_agrees_with_pillow(image, fmt, kwargs) -> None:
    data = encode(image, fmt, **kwargs)
    pillow = Image.open(io.BytesIO(data))
    assert read_header(data[:HEADER_BYTES]) == (*pillow.size, pillow.mode, pillow.format)


def test_leaves_exif_adobe_transparency_and_damage_to_pillow() -> None:
    exif = Image.Exif()
    exif[0x0112] = 6
    assert read_header(encode(RGB, "JPEG", exif=exif.tobytes())[:HEADER_BYTES]) is None
    assert read_header(encode(RGB.convert("CMYK"), "JPEG")[:HEADER_BYTES]) is None  # Adobe
    palette = RGB.convert("P")
    palette.info["transparency"] = 0
    assert read_header(encode(palette, "PNG", transparency=0)[:HEADER_BYTES]) is None
    png = bytearray(encode(RGB, "PNG"))
    png[20] ^= 0xFF  # width byte: the IHDR CRC no longer matches
    assert read_header(bytes(png[:HEADER_BYTES])) is None
    assert read_header(encode(RGB, "PNG")[:30]) is None  # cut inside IHDR
    assert read_header(b"GIF89a" + bytes(100)) is None
