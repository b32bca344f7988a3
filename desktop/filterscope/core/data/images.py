"""The one image reader: any file in, RGB uint8 out, or an ImageReadError that says why.

Every image the app shows, trains on or thumbnails comes through :func:`read_image`,
:func:`read_thumbnail` or :func:`probe_image`, so a user's messy folder (empty files, FIFOs,
truncated downloads, 16-bit scans, CMYK JPEGs, phone photos with EXIF rotation, unicode names)
turns into either pixels or one readable sentence, never a crash, a hang or a silently grey image.
Files are opened read-only through Python file objects (``cv2.imread`` cannot open non-ASCII
paths on Windows) and never written.
"""

from __future__ import annotations

import errno
import functools
import os
import stat
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import numpy as np
from PIL import Image, ImageFile, UnidentifiedImageError

from filterscope.core.data.image_headers import HEADER_BYTES, TAIL_BYTES, ends_whole, plain_image, read_header

IMAGE_SUFFIXES: frozenset[str] = frozenset(
    {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp", ".ppm", ".pgm", ".pbm"}
)
# Pillow's own hard limit (it raises above twice MAX_IMAGE_PIXELS): about 179 MP.
MAX_PIXELS: int = 2 * int(Image.MAX_IMAGE_PIXELS or 89_478_485)

# This module enforces MAX_PIXELS itself from the header; Pillow's warning between its soft and
# hard limits would only repeat a decision already made.
warnings.filterwarnings("ignore", category=Image.DecompressionBombWarning)

# Leading bytes of formats Pillow reads: a file that starts like a PNG but does not parse is a
# damaged PNG ("corrupt"), not a stranger ("not-image").
_MAGIC = {
    b"\x89PNG\r\n\x1a\n": "PNG",
    b"\xff\xd8\xff": "JPEG",
    b"GIF8": "GIF",
    b"II*\x00": "TIFF",
    b"MM\x00*": "TIFF",
    b"BM": "BMP",
}
# EXIF orientation -> the numpy equivalent of the Image.Transpose that ImageOps.exif_transpose uses.
_ORIENT = {
    2: lambda a: a[:, ::-1],
    3: lambda a: a[::-1, ::-1],
    4: lambda a: a[::-1],
    5: lambda a: a.swapaxes(0, 1),
    6: lambda a: np.rot90(a, -1),
    7: lambda a: np.rot90(a, 2).swapaxes(0, 1),
    8: lambda a: np.rot90(a, 1),
}
_EXIF_ORIENTATION = 0x0112


class ImageReadError(Exception):
    """A file that cannot be read as an image, with a reason a user can act on.

    Attributes:
        path: The file.
        reason: One plain sentence, e.g. ``"empty file (0 bytes)"``.
        kind: A stable category: ``missing``, ``empty-file``, ``not-image``, ``unreadable``,
            ``corrupt``, ``too-large`` or ``not-a-file``.
    """

    def __init__(self, path: str | os.PathLike, reason: str, kind: str) -> None:
        self.path = Path(path)
        self.reason = reason
        self.kind = kind
        super().__init__(f"{self.path}: {reason}")

    def __reduce__(self):  # Exception pickles only args; keep all three across processes.
        return type(self), (self.path, self.reason, self.kind)


@dataclass(frozen=True)
class ImageInfo:
    """What the header says, with width and height as displayed (after EXIF orientation)."""

    width: int
    height: int
    mode: str
    format: str


def probe_image(path: str | os.PathLike, *, max_pixels: int = MAX_PIXELS) -> ImageInfo:
    """Reads an image's header and last bytes, fast enough to scan 50,000 files.

    A PNG or JPEG that does not end with its end marker (a truncated download, usually) is
    decoded to decide, as training would decode it, so a file cut short is refused here rather
    than skipped by training later. A file that probes fine can still fail :func:`read_image`
    when its body is damaged in the middle.

    Args:
        path: The image file.
        max_pixels: Images with more pixels are refused as ``too-large``.

    Raises:
        ImageReadError: Any kind; ``corrupt`` for bodies only when the end marker is missing.
    """
    p = Path(path)
    with _open_regular_file(p) as fh:
        head = fh.read(HEADER_BYTES)
        tail = head[-TAIL_BYTES:]
        if len(head) == HEADER_BYTES:  # small files were read whole by the header read
            fh.seek(-TAIL_BYTES, os.SEEK_END)
            tail = fh.read()
    fast = read_header(head)
    if fast is not None and fast[0] * fast[1] <= max_pixels:
        info = ImageInfo(*fast)
    else:
        info = _probe_with_pillow(p, max_pixels)
    if ends_whole(info.format, tail) is False:
        read_image(p, max_pixels=max_pixels)  # raises when cut short; trailing bytes are fine
    return info


def _probe_with_pillow(path: Path, max_pixels: int) -> ImageInfo:
    with _opened(path, max_pixels) as im:
        width, height = im.size
        if _orientation(im, loaded=False) >= 5:
            width, height = height, width
        return ImageInfo(width, height, im.mode, im.format or "")


def read_image(path: str | os.PathLike, *, max_pixels: int = MAX_PIXELS) -> np.ndarray:
    """Decodes an image to RGB uint8, upright per its EXIF orientation.

    Multi-frame files give their first frame. Transparent pixels are composited over black,
    matching the black background the mask tab puts behind masked-out pixels, so a cut-out
    PNG and a masked photo look alike to a model.

    Args:
        path: The image file.
        max_pixels: Images with more pixels are refused from the header, before decoding.

    Returns:
        A new C-contiguous (H, W, 3) uint8 array.

    Raises:
        ImageReadError: With ``kind`` and a ``reason`` sentence; see the class.
    """
    p = Path(path)
    with _open_regular_file(p) as fh:
        rgb = _decode_plain(fh, max_pixels)
        if rgb is not None:
            return rgb
        fh.seek(0)
        with _checked(p, _identify(p, fh), max_pixels) as im:
            return _decode(p, im)


def read_thumbnail(
    path: str | os.PathLike, size: int, *, max_pixels: int = MAX_PIXELS
) -> np.ndarray:
    """Decodes a small RGB uint8 copy whose longest side is at most ``size`` (never upscaled).

    JPEGs are decoded at 1/2, 1/4 or 1/8 scale by libjpeg (``Image.draft``), which is several
    times faster than decoding in full and shrinking.

    Args:
        path: The image file.
        size: Longest side of the result, in pixels.
        max_pixels: As for :func:`read_image` (checked against the full-size header).

    Raises:
        ValueError: ``size`` is below 1.
        ImageReadError: As :func:`read_image`.
    """
    if size < 1:
        raise ValueError(f"thumbnail size must be at least 1, got {size}")
    with _opened(path, max_pixels) as im:
        if im.format == "JPEG":
            # Mode None keeps CMYK/L as they are; draft never goes below the requested box.
            im.draft(None, (size, size))
        rgb = _decode(path, im)
    if max(rgb.shape[:2]) <= size:
        return rgb
    small = Image.fromarray(rgb)
    small.thumbnail((size, size), Image.Resampling.LANCZOS, reducing_gap=2.0)
    return np.array(small)


def to_rgb(array: np.ndarray) -> np.ndarray:
    """Converts an in-memory image array to RGB uint8 by the same rules as :func:`read_image`.

    Rules: uint8 as is; uint16 shifted right by 8 (65535 -> 255, 256 -> 1); other integers
    taken as 8-bit when within 0..255, as 16-bit within 0..65535, else min-max scaled; floats
    within [0, 1] times 255 (a normalised image should not be contrast-stretched), other floats
    min-max scaled (NaN -> 0); bool as 0/255. Alpha (2 or 4 channels) composites over black.

    Args:
        array: (H, W), (H, W, 1), (H, W, 2), (H, W, 3) or (H, W, 4); never modified.

    Raises:
        ValueError: Another shape, or a non-numeric dtype.
    """
    arr = np.asarray(array)
    if arr.ndim == 2:
        arr = arr[:, :, None]
    if arr.ndim != 3 or arr.shape[2] not in (1, 2, 3, 4):
        raise ValueError(f"expected (H, W) or (H, W, 1|2|3|4) image array, got {arr.shape}")
    arr = _to_uint8(arr)
    if arr.shape[2] in (2, 4):
        alpha = arr[:, :, -1:].astype(np.uint16)
        arr = ((arr[:, :, :-1].astype(np.uint16) * alpha + 127) // 255).astype(np.uint8)
    if arr.shape[2] == 1:
        arr = np.repeat(arr, 3, axis=2)
    return np.array(arr, dtype=np.uint8, order="C", copy=True)


def _to_uint8(arr: np.ndarray) -> np.ndarray:
    """Maps any numeric dtype onto 0..255 per the rules in :func:`to_rgb`."""
    if arr.dtype == np.uint8:
        return arr
    if arr.dtype == np.bool_:
        return arr.astype(np.uint8) * 255
    if arr.dtype == np.uint16:
        return (arr >> 8).astype(np.uint8)
    if np.issubdtype(arr.dtype, np.integer):
        lo, hi = (int(arr.min()), int(arr.max())) if arr.size else (0, 0)
        if lo >= 0 and hi <= 255:
            return arr.astype(np.uint8)
        if lo >= 0 and hi <= 65535:
            return (arr >> 8).astype(np.uint8)
        return _min_max(arr.astype(np.float64))
    if np.issubdtype(arr.dtype, np.floating):
        arr = np.nan_to_num(arr.astype(np.float64), nan=0.0, posinf=0.0, neginf=0.0)
        if arr.size and arr.min() >= 0.0 and arr.max() <= 1.0:
            return np.rint(arr * 255.0).astype(np.uint8)
        return _min_max(arr)
    raise ValueError(f"unsupported image dtype {arr.dtype}")


def _min_max(arr: np.ndarray) -> np.ndarray:
    """Stretches ``arr`` linearly onto 0..255; a constant array becomes 0."""
    lo, hi = (float(arr.min()), float(arr.max())) if arr.size else (0.0, 0.0)
    if hi <= lo:
        return np.zeros(arr.shape, np.uint8)
    return np.rint((arr - lo) * (255.0 / (hi - lo))).astype(np.uint8)


@contextmanager
def _opened(path: str | os.PathLike, max_pixels: int) -> Iterator[ImageFile.ImageFile]:
    """Checks the file, opens it read-only and parses the header, refusing oversized images."""
    p = Path(path)
    with _open_regular_file(p) as fh, _checked(p, _identify(p, fh), max_pixels) as im:
        yield im


@contextmanager
def _checked(path: Path, im: ImageFile.ImageFile, max_pixels: int) -> Iterator[ImageFile.ImageFile]:
    """Closes ``im`` afterwards; refuses it first when it has more than ``max_pixels``."""
    with im:
        width, height = im.size
        if width * height > max_pixels:
            reason = (
                f"image is {width}x{height} ({width * height / 1e6:.0f} MP), "
                f"above the {max_pixels / 1e6:.0f} MP safety limit"
            )
            raise ImageReadError(path, reason, "too-large")
        yield im


@functools.cache
def _opencv():
    """cv2, imported on first use (the scan and the Dataset tab never need it) and told to keep
    its warnings to itself: a file it cannot decode goes on to Pillow, which names the fault."""
    from filterscope.core.base.opencv import cv2

    cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_ERROR)
    return cv2


def _decode_plain(fh: IO[bytes], max_pixels: int) -> np.ndarray | None:
    """RGB uint8 through OpenCV for a plain PNG or JPEG (see ``plain_image``), else None.

    OpenCV decodes these to the same pixels as Pillow, about 1.5x faster, and releases the GIL
    while it does, so the training pipeline's decoding threads run in parallel (about 2x faster
    than Pillow on two cores). None hands the file to Pillow: any other kind, oversized images
    (refused there by name), a PNG with a late eXIf chunk, a JPEG cut short (OpenCV would fill
    the rest with grey where Pillow reports it) and anything OpenCV fails to decode, so that
    Pillow names the fault.
    """
    head = fh.read(HEADER_BYTES)
    plain = plain_image(head)
    if plain is None or plain[0] * plain[1] > max_pixels:
        return None
    width, height, fmt = plain
    data = head + fh.read()
    if b"eXIf" in data if fmt == "PNG" else not data.rstrip(b"\0").endswith(b"\xff\xd9"):
        return None
    cv2 = _opencv()
    arr = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
    if arr is None or arr.dtype != np.uint8 or arr.shape[:2] != (height, width):
        return None
    if arr.ndim == 2:
        return cv2.cvtColor(arr, cv2.COLOR_GRAY2RGB)
    if arr.shape[2] == 3:
        return cv2.cvtColor(arr, cv2.COLOR_BGR2RGB)
    return to_rgb(cv2.cvtColor(arr, cv2.COLOR_BGRA2RGBA))  # alpha over black, as Pillow's path


def _open_regular_file(path: Path) -> IO[bytes]:
    """Opens a non-empty regular file read-only; anything else is refused without opening it.

    The stat comes first so that a FIFO is never opened (open() would block until a writer came);
    O_NONBLOCK plus fstat also covers a file swapped for a FIFO between the two calls.
    """
    flags = os.O_RDONLY | getattr(os, "O_BINARY", 0) | getattr(os, "O_NONBLOCK", 0)
    try:
        _refuse_irregular(path, path.stat())
        fd = os.open(path, flags)
    except FileNotFoundError:
        reason = "broken symbolic link" if path.is_symlink() else "file not found"
        raise ImageReadError(path, reason, "missing") from None
    except OSError as exc:  # EACCES reads "permission denied"; ELOOP deserves plainer words.
        loop = exc.errno == getattr(errno, "ELOOP", None)
        reason = "symbolic link loop (too many levels of links)" if loop else exc.strerror
        raise ImageReadError(path, (reason or str(exc)).lower(), "unreadable") from None
    try:
        _refuse_irregular(path, os.fstat(fd))
    except ImageReadError:
        os.close(fd)
        raise
    return os.fdopen(fd, "rb")


def _refuse_irregular(path: Path, st: os.stat_result) -> None:
    """Raises ``not-a-file`` for folders, pipes, sockets and devices, ``empty-file`` for 0 bytes."""
    if stat.S_ISDIR(st.st_mode):
        raise ImageReadError(path, "a folder, not a file", "not-a-file")
    if not stat.S_ISREG(st.st_mode):
        raise ImageReadError(path, "not a regular file (pipe, socket or device)", "not-a-file")
    if st.st_size == 0:
        raise ImageReadError(path, "empty file (0 bytes)", "empty-file")


def _identify(path: Path, fh: IO[bytes]) -> ImageFile.ImageFile:
    """Parses the header with Pillow, turning each failure into a typed error."""
    try:
        return Image.open(fh)
    except Image.DecompressionBombError as exc:
        # Pillow's fixed limit must not override ours (a caller may allow more): reopen past it
        # so _opened applies max_pixels and names the size.
        im = _open_past_pillow_limit(fh)
        if im is None:
            reason = f"image too large to open safely ({exc})"
            raise ImageReadError(path, reason, "too-large") from None
        return im
    except UnidentifiedImageError:
        fmt = _sniff(fh)
        if fmt:
            raise ImageReadError(path, f"truncated or corrupt {fmt} header", "corrupt") from None
        reason = "not an image Pillow can read (cannot identify image file)"
        raise ImageReadError(path, reason, "not-image") from None
    except Exception as exc:  # Plugins raise OSError, SyntaxError, struct.error... on bad headers.
        reason = f"truncated or corrupt {_sniff(fh) or 'image'} header ({exc})"
        raise ImageReadError(path, reason, "corrupt") from None


def _open_past_pillow_limit(fh: IO[bytes]) -> ImageFile.ImageFile | None:
    """Image.open's format loop (Pillow's public plugin registry) minus its bomb check."""
    fh.seek(0)
    prefix = fh.read(16)
    for fmt in Image.ID:
        factory, accept = Image.OPEN[fmt]
        verdict = accept(prefix) if accept else True
        if not verdict or isinstance(verdict, str):
            continue
        fh.seek(0)
        try:
            return factory(fh, "")
        except Exception:  # A wrong guess, or a plugin with its own size check: try the next.
            continue
    return None


def _sniff(fh: IO[bytes]) -> str | None:
    """The format a file's first bytes claim, or None."""
    try:
        fh.seek(0)
        head = fh.read(16)
    except OSError:
        return None
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "WEBP"
    return next((fmt for magic, fmt in _MAGIC.items() if head.startswith(magic)), None)


def _decode(path: str | os.PathLike, im: ImageFile.ImageFile) -> np.ndarray:
    """Loads the pixels and converts them to upright RGB uint8; decode failures are typed."""
    fmt = im.format or "image"
    too_large = f"{im.size[0]}x{im.size[1]} image too large to decode"
    try:
        im.load()
    except (Image.DecompressionBombError, MemoryError) as exc:
        raise ImageReadError(path, f"{too_large} ({exc})", "too-large") from None
    except Exception as exc:  # Decoders raise OSError, SyntaxError, zlib/struct errors...
        reason = f"truncated or corrupt {fmt} data ({exc})"
        raise ImageReadError(path, reason, "corrupt") from None
    try:
        rgb = to_rgb(_pixels(im))
    except MemoryError:
        raise ImageReadError(path, f"{too_large} (out of memory)", "too-large") from None
    except Exception as exc:  # Exotic modes: convert() and np.asarray refuse in various ways.
        reason = f"unsupported {fmt} pixel mode {im.mode} ({exc})"
        raise ImageReadError(path, reason, "not-image") from None
    turn = _ORIENT.get(_orientation(im, loaded=True))
    return np.ascontiguousarray(turn(rgb)) if turn else rgb


# Modes whose arrays to_rgb takes directly, and modes Pillow must first convert to keep alpha.
_AS_IS = frozenset({"L", "LA", "RGB", "RGBA", "F"})
_TO_ALPHA = {"LA": "LA", "La": "LA", "PA": "RGBA", "RGBa": "RGBA"}


def _pixels(im: Image.Image) -> np.ndarray:
    """The pixel array in a form :func:`to_rgb` understands, keeping 16-bit and float depth."""
    mode = im.mode
    if "transparency" in im.info and mode in ("1", "L", "P", "RGB"):
        # A tRNS colour or palette entries: Pillow turns them into a real alpha channel.
        return np.asarray(im.convert("LA" if mode in ("1", "L") else "RGBA"))
    if mode.startswith("I;16"):
        return np.asarray(im).astype(np.int32 if "S" in mode else np.uint16)
    if mode == "I":
        # Mode I holds 16-bit PNG/TIFF data in practice: keep it on the 16-bit scale (>> 8).
        arr = np.asarray(im)
        in_range = arr.size == 0 or (arr.min() >= 0 and arr.max() <= 65535)
        return arr.astype(np.uint16) if in_range else arr
    if mode in _AS_IS:
        return np.asarray(im)
    if mode in _TO_ALPHA:
        return np.asarray(im.convert(_TO_ALPHA[mode]))
    if mode == "1":
        return np.asarray(im.convert("L"))
    if mode == "P":
        # A palette can carry alpha itself (an RGBA palette) without a tRNS entry.
        has_alpha = im.palette is not None and "A" in im.palette.mode
        return np.asarray(im.convert("RGBA" if has_alpha else "RGB"))
    # CMYK (Pillow undoes Adobe's inverted CMYK while decoding), YCbCr, LAB, HSV, RGBX...
    return np.asarray(im.convert("RGB"))


def _orientation(im: Image.Image, *, loaded: bool) -> int:
    """EXIF orientation 1-8; 1 when absent or unparsable (bad EXIF must not lose the image)."""
    if not loaded and im.format == "PNG" and "exif" not in im.info:
        # PngImageFile.getexif() decodes the whole image to find a late eXIf chunk.
        return 1
    try:
        value = int(im.getexif().get(_EXIF_ORIENTATION, 1))
    except Exception:  # Malformed EXIF blocks raise anything from struct.error to KeyError.
        return 1
    return value if 1 <= value <= 8 else 1

