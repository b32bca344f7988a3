"""A fast path for the two commonest formats: PNG and JPEG sizes straight from their headers.

Pillow's ``Image.open`` costs about 70 us a file in Python; on 50,000 small images that is most
of a scan. These readers answer only when the header is plain and complete (PNG: a valid IHDR
with its CRC and no eXIf/tRNS before the image data; JPEG: a frame header reached before any
EXIF or Adobe block) and return None otherwise, so that Pillow, with all its error handling and
EXIF orientation, decides every other case. :func:`plain_image` narrows that to the files OpenCV
decodes to exactly Pillow's pixels. :func:`ends_whole` tells from a file's last bytes whether a PNG
or JPEG reaches its end marker, so a scan finds truncated downloads without decoding them.
"""

from __future__ import annotations

import struct
import zlib

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
HEADER_BYTES = 4096
TAIL_BYTES = 64
_PNG_END = b"\x00\x00\x00\x00IEND\xaeB`\x82"  # the IEND chunk: no data, a fixed CRC
_JPEG_END = b"\xff\xd9"  # EOI; 0xFF inside entropy-coded data is always followed by 0x00 or RSTn
_PNG_MODES = {(0, 1): "1", (0, 2): "L", (0, 4): "L", (0, 8): "L", (0, 16): "I;16",
              (2, 8): "RGB", (2, 16): "RGB", (3, 1): "P", (3, 2): "P", (3, 4): "P", (3, 8): "P",
              (4, 8): "LA", (4, 16): "LA", (6, 8): "RGBA", (6, 16): "RGBA"}
_JPEG_FRAMES = frozenset({0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD,
                          0xCE, 0xCF})
_JPEG_MODES = {1: "L", 3: "RGB", 4: "CMYK"}


def read_header(head: bytes) -> tuple[int, int, str, str] | None:
    """``(width, height, mode, format)`` from the first HEADER_BYTES of a file, or None."""
    if head.startswith(PNG_SIGNATURE):
        return _png(head)
    if head[:3] == b"\xff\xd8\xff":
        return _jpeg(head)
    return None


def ends_whole(fmt: str, tail: bytes) -> bool | None:
    """Whether a PNG's or JPEG's last bytes are its end marker (IEND, EOI); None for other formats.

    False is a suspicion, not a verdict: a file cut short ends without the marker, but so does one
    with bytes after it (a camera's trailer, zero padding beyond ``tail``), which decodes fine.
    Callers decode a False file to decide.

    Args:
        fmt: ``"PNG"`` or ``"JPEG"`` (anything else gives None).
        tail: The file's last TAIL_BYTES (or the whole file when shorter).
    """
    if fmt == "PNG":
        return tail.endswith(_PNG_END)
    if fmt == "JPEG":
        return tail.rstrip(b"\0").endswith(_JPEG_END)  # some writers pad after EOI with zeros
    return None


def plain_image(head: bytes) -> tuple[int, int, str] | None:
    """``(width, height, format)`` when OpenCV decodes the file to the pixels Pillow gives, or None.

    Plain means: an 8-bit grayscale, RGB or RGBA PNG without tRNS or eXIf before its image data,
    or a grayscale or YCbCr JPEG without EXIF or Adobe blocks. Both libraries run the same
    libpng/libjpeg-turbo code on these, so no orientation, transparency or colour-transform rule
    can differ (tests/core/test_images.py compares them pixel for pixel).
    """
    found = read_header(head)
    if found is None:
        return None
    width, height, mode, fmt = found
    if fmt == "PNG" and (mode not in ("L", "RGB", "RGBA") or head[24] != 8):
        return None
    if fmt == "JPEG" and mode not in ("L", "RGB"):
        return None
    return width, height, fmt


def _png(head: bytes) -> tuple[int, int, str, str] | None:
    if len(head) < 33 or head[12:16] != b"IHDR" or struct.unpack(">I", head[8:12])[0] != 13:
        return None
    if zlib.crc32(head[12:29]) != struct.unpack(">I", head[29:33])[0]:
        return None
    width, height, depth, colour = struct.unpack(">IIBB", head[16:26])
    mode = _PNG_MODES.get((colour, depth))
    if not width or not height or mode is None:
        return None
    pos = 33
    while pos + 8 <= len(head):
        length, chunk = struct.unpack(">I4s", head[pos:pos + 8])
        if chunk == b"IDAT":
            return width, height, mode, "PNG"
        if chunk in (b"eXIf", b"tRNS"):  # orientation, transparency: Pillow knows best
            return None
        pos += 12 + length
    return None


def _jpeg(head: bytes) -> tuple[int, int, str, str] | None:
    pos = 2
    while pos + 4 <= len(head):
        if head[pos] != 0xFF:
            return None
        marker = head[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker == 0xE1 and head[pos + 4:pos + 10] == b"Exif\0\0":
            return None  # EXIF orientation may swap width and height
        if marker == 0xEE:
            return None  # Adobe block: CMYK/YCCK subtleties
        if marker in _JPEG_FRAMES:
            if pos + 10 > len(head):
                return None
            height, width, components = struct.unpack(">HHB", head[pos + 5:pos + 10])
            mode = _JPEG_MODES.get(components)
            if not width or not height or mode is None:
                return None
            return width, height, mode, "JPEG"
        pos += 2 + struct.unpack(">H", head[pos + 2:pos + 4])[0]
    return None
