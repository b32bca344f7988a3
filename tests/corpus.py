"""A generated bad-input corpus: a folder-per-class dataset full of the files users really have.

``make_corpus(root)`` writes the tree and returns one :class:`Case` per interesting path with what
``read_image`` and ``probe_image`` must do with it. Later tests (scanning, thumbnails, batch jobs,
the CLI) reuse it and assert with :func:`tree_digest` that nothing in it was modified.

Layout (class folders under ``root``)::

    Shepherd’s Purse/   good images, a name with spaces, EXIF-rotated JPEG, CMYK JPEG, 16-bit...
    Ünïcødé 植物/       good images, a byte-identical duplicate, RGBA/palette/grayscale PNGs...
    clover/             good images, broken files, symlinks, a FIFO, a nested sub-folder
    empty class/        nothing

Symlink and FIFO cases are left out where the OS cannot make them (Windows without privileges).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import signal
import stat
import struct
import subprocess
import sys
import zlib
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

SHEPHERD = "Shepherd’s Purse"  # typographic apostrophe U+2019, not '
UNICODE = "Ünïcødé 植物"
CLOVER = "clover"
EMPTY_CLASS = "empty class"
CLASSES = (SHEPHERD, UNICODE, CLOVER, EMPTY_CLASS)

HUGE_SIDE = 20_000
# Orientation-6 test image, stored landscape: a red block in the stored top-left corner.
EXIF_STORED_SIZE = (48, 32)  # (width, height) as stored, before rotation
CORNER = 16


@dataclass(frozen=True)
class Case:
    """One corpus entry.

    Attributes:
        path: Absolute path of the file, folder, link or FIFO.
        kind: What the case is (the dict key), e.g. ``"truncated-png"``.
        expect: ``"ok"``, or the ``ImageReadError.kind`` that ``read_image`` must raise.
        probe_expect: The same for ``probe_image`` (a body damaged before its end marker still
            probes fine; one cut short does not).
        shape: For ``ok`` cases, the (height, width) ``read_image`` must return.
        duplicate_of: For the duplicate, the file it is a byte-identical copy of.
    """

    path: Path
    kind: str
    expect: str
    probe_expect: str
    shape: tuple[int, int] | None = None
    duplicate_of: Path | None = None


def make_corpus(root: Path) -> dict[str, Case]:
    """Writes the corpus into ``root`` (created; must be empty) and returns its cases by kind."""
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    if any(root.iterdir()):
        raise ValueError(f"corpus root {root} is not empty")
    for name in CLASSES:
        (root / name).mkdir()
    rng = np.random.default_rng(20240611)
    cases: dict[str, Case] = {}

    def add(kind: str, path: Path, expect: str, probe: str | None = None, **kw) -> None:
        cases[kind] = Case(path, kind, expect, expect if probe is None else probe, **kw)

    _good_images(root, rng, add)
    _colour_modes(root, rng, add)
    _broken_files(root, rng, add)
    _odd_entries(root, rng, add)
    return cases


def _noise(rng: np.random.Generator, h: int, w: int, c: int = 3) -> np.ndarray:
    return rng.integers(0, 256, (h, w, c), dtype=np.uint8)


def _good_images(root: Path, rng: np.random.Generator, add) -> None:
    """Three small good images per non-empty class, of different sizes and formats."""
    sizes = [(24, 32), (40, 30), (33, 47)]
    formats = [".png", ".jpg", ".bmp"]
    for cls in (SHEPHERD, UNICODE, CLOVER):
        for i, ((h, w), ext) in enumerate(zip(sizes, formats)):
            path = root / cls / f"good_{i}{ext}"
            Image.fromarray(_noise(rng, h, w)).save(path)
            add(f"good-{cls}-{i}", path, "ok", shape=(h, w))
    spaced = root / SHEPHERD / "leaf photo 01.png"
    Image.fromarray(_noise(rng, 20, 28)).save(spaced)
    add("name-with-spaces", spaced, "ok", shape=(20, 28))
    source = root / SHEPHERD / "good_0.png"
    dup = root / UNICODE / "copy of good_0.png"
    shutil.copyfile(source, dup)
    add("duplicate", dup, "ok", shape=(24, 32), duplicate_of=source)


def _broken_files(root: Path, rng: np.random.Generator, add) -> None:
    """Empty, truncated, mislabelled and oversized files."""
    empty = root / CLOVER / "empty.png"
    empty.touch()
    add("zero-byte", empty, "empty-file")
    for fmt, ext in (("PNG", ".png"), ("JPEG", ".jpg")):
        path = root / CLOVER / f"truncated{ext}"
        _save_truncated(path, Image.fromarray(_noise(rng, 64, 64)), fmt)
        add(f"truncated-{ext[1:]}", path, "corrupt")
    # Cut inside the header: Pillow calls the 12-byte PNG unidentifiable and the 10-byte JPEG a
    # truncated read; both are damaged images, not strangers.
    for source, keep in (("good_0.png", 12), ("good_1.jpg", 10)):
        ext = Path(source).suffix
        header_only = root / CLOVER / f"header only{ext}"
        header_only.write_bytes((root / CLOVER / source).read_bytes()[:keep])
        add(f"header-only-{ext[1:]}", header_only, "corrupt")
    text_png = root / CLOVER / "actually text.png"
    text_png.write_text("This is not a PNG, it is a note someone renamed.\n", encoding="utf-8")
    add("text-named-png", text_png, "not-image")
    notes = root / CLOVER / "notes.txt"
    notes.write_text("collected 2024-06-11, field 3\n", encoding="utf-8")
    add("notes-txt", notes, "not-image")
    huge = root / CLOVER / "huge 20000x20000.png"
    huge.write_bytes(_huge_png(HUGE_SIDE, HUGE_SIDE))
    add("huge-20000", huge, "too-large")


def _save_truncated(path: Path, image: Image.Image, fmt: str) -> None:
    """Saves ``image`` and keeps the first 60%: the header parses, the body does not."""
    image.save(path, fmt)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) * 6 // 10])


def _png_chunk(tag: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + tag + body + struct.pack(">I", zlib.crc32(tag + body))


def _huge_png(width: int, height: int) -> bytes:
    """A valid 1-bit grayscale PNG of any size, a few KB, written without a big buffer."""
    row = b"\x00" * (1 + (width + 7) // 8)  # filter byte + packed bits, all black
    packer = zlib.compressobj(9)
    block = row * 500
    parts = [packer.compress(block) for _ in range(height // 500)]
    parts += [packer.compress(row * (height % 500)), packer.flush()]
    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", ihdr)
        + _png_chunk(b"IDAT", b"".join(parts))
        + _png_chunk(b"IEND", b"")
    )


def _colour_modes(root: Path, rng: np.random.Generator, add) -> None:
    """One file per pixel format read_image must normalise to RGB uint8."""
    sp, uni = root / SHEPHERD, root / UNICODE
    rgba = np.zeros((10, 12, 4), np.uint8)
    rgba[...] = (200, 100, 50, 128)
    rgba[:, 6:, 3] = 0
    Image.fromarray(rgba, "RGBA").save(uni / "rgba.png")
    add("rgba-png", uni / "rgba.png", "ok", shape=(10, 12))
    pal = Image.new("P", (8, 6), 1)
    pal.putpalette([0, 0, 0, 255, 0, 0, 0, 255, 0, 0, 0, 255])
    pal.paste(2, (0, 0, 4, 6))  # left half green, right half red (index 1: transparent)
    pal.save(uni / "palette.png", transparency=1)
    add("palette-png", uni / "palette.png", "ok", shape=(6, 8))
    Image.fromarray(rng.integers(0, 256, (14, 9), dtype=np.uint8), "L").save(uni / "gray.png")
    add("grayscale-png", uni / "gray.png", "ok", shape=(14, 9))
    gray16 = np.array([[0, 255, 256, 65535], [4660, 32768, 65280, 1]], np.uint16)
    _write_cv2(sp / "gray16.png", gray16)
    add("gray16-png", sp / "gray16.png", "ok", shape=(2, 4))
    rgb16 = np.zeros((3, 5, 3), np.uint16)
    rgb16[...] = (0x1234, 256, 65535)  # BGR order for cv2: R=65535, G=256, B=0x1234
    _write_cv2(sp / "rgb16.png", rgb16)
    add("rgb16-png", sp / "rgb16.png", "ok", shape=(3, 5))
    rgba16 = np.zeros((4, 4, 4), np.uint16)
    rgba16[:, :2] = (0x1234, 256, 65535, 65535)  # BGRA; right half fully transparent
    _write_cv2(sp / "rgba16.png", rgba16)
    add("rgba16-png", sp / "rgba16.png", "ok", shape=(4, 4))
    Image.new("CMYK", (16, 16), (0, 255, 255, 0)).save(sp / "cmyk red.jpg", quality=95)
    add("cmyk-jpeg", sp / "cmyk red.jpg", "ok", shape=(16, 16))
    _exif_rotated(sp / "rotated_exif6.jpg")
    w, h = EXIF_STORED_SIZE
    add("exif-rotated-6", sp / "rotated_exif6.jpg", "ok", shape=(w, h))
    frames = [Image.new("RGB", (10, 10), c) for c in ((255, 0, 0), (0, 0, 255))]
    frames[0].save(uni / "animated.gif", save_all=True, append_images=frames[1:], duration=50)
    add("animated-gif", uni / "animated.gif", "ok", shape=(10, 10))


def _write_cv2(path: Path, array: np.ndarray) -> None:
    """16-bit PNGs via cv2 (Pillow cannot write 16-bit RGB); imencode keeps unicode paths safe."""
    ok, buf = cv2.imencode(".png", array)
    assert ok, f"cv2 could not encode {path.name}"
    path.write_bytes(buf.tobytes())


def _exif_rotated(path: Path) -> None:
    """A landscape JPEG tagged orientation 6 (display rotated 90° clockwise): red top-left."""
    w, h = EXIF_STORED_SIZE
    pixels = np.zeros((h, w, 3), np.uint8)
    pixels[...] = (0, 160, 0)
    pixels[:CORNER, :CORNER] = (255, 0, 0)
    image = Image.fromarray(pixels)
    exif = image.getexif()
    exif[0x0112] = 6
    image.save(path, quality=95, exif=exif.tobytes())


def _odd_entries(root: Path, rng: np.random.Generator, add) -> None:
    """Folders, links and FIFOs where files are expected."""
    clover = root / CLOVER
    add("empty-class", root / EMPTY_CLASS, "not-a-file")
    nested = clover / "more shots"
    nested.mkdir()
    Image.fromarray(_noise(rng, 16, 16)).save(nested / "nested_0.png")
    add("nested-folder", nested, "not-a-file")
    add("nested-image", nested / "nested_0.png", "ok", shape=(16, 16))
    if _try(lambda: os.symlink("loop_b.png", clover / "loop_a.png")):
        os.symlink("loop_a.png", clover / "loop_b.png")
        add("symlink-loop", clover / "loop_a.png", "unreadable")
    if _try(lambda: os.symlink(".", clover / "self link", target_is_directory=True)):
        add("dir-symlink-to-parent", clover / "self link", "not-a-file")
    if _try(lambda: os.symlink("no such file.png", clover / "broken link.png")):
        add("broken-symlink", clover / "broken link.png", "missing")
    if hasattr(os, "mkfifo") and _try(lambda: os.mkfifo(clover / "x.png")):
        add("fifo", clover / "x.png", "not-a-file")


def _try(make) -> bool:
    """Runs ``make``; False where the OS refuses (symlinks without privilege on Windows)."""
    try:
        make()
    except (OSError, NotImplementedError):
        return False
    return True


def tree_digest(root: Path) -> str:
    """A hash of everything under ``root``: paths, types, modes, file bytes, link targets.

    Never follows symlinks (so loops are fine) and never opens FIFOs, sockets or devices.
    """
    digest = hashlib.sha256()
    _digest_dir(Path(root), Path(root), digest)
    return digest.hexdigest()


def _digest_dir(root: Path, folder: Path, digest) -> None:
    for entry in sorted(os.scandir(folder), key=lambda e: os.fsencode(e.name)):
        path = Path(entry.path)
        rel = os.fsencode(path.relative_to(root).as_posix())
        st = entry.stat(follow_symlinks=False)
        digest.update(b"\0entry\0" + rel + b"\0" + str(st.st_mode).encode())
        if entry.is_symlink():
            digest.update(b"\0link\0" + os.fsencode(os.readlink(path)))
        elif entry.is_dir(follow_symlinks=False):
            _digest_dir(root, path, digest)
        elif stat.S_ISREG(st.st_mode):
            try:
                digest.update(b"\0bytes\0" + hashlib.sha256(path.read_bytes()).digest())
            except PermissionError:  # mode 000 as a normal user: size and mode must do
                digest.update(b"\0unreadable\0" + str(st.st_size).encode())


def make_unreadable(path: Path) -> None:
    """Removes every permission bit; only :func:`run_without_read_permission` then sees EACCES."""
    os.chmod(path, 0)


def run_without_read_permission(code: str, *args: str) -> subprocess.CompletedProcess:
    """Runs ``python -c code *args`` in a process that file modes really apply to.

    Root ignores mode 000 (CAP_DAC_OVERRIDE), and CI runs tests as root; ``setpriv`` drops
    CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH from the bounding set, so the exec'd Python lacks
    them even as uid 0. As a normal user plain chmod already works.
    """
    command = [sys.executable, "-c", code, *args]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        setpriv = shutil.which("setpriv")
        if setpriv is None:
            raise RuntimeError("running as root needs util-linux setpriv to drop DAC override")
        command = [setpriv, "--bounding-set=-dac_override,-dac_read_search", "--", *command]
    env = dict(os.environ)
    desktop = str(Path(__file__).resolve().parents[1] / "desktop")
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [desktop, env.get("PYTHONPATH")]))
    return subprocess.run(command, capture_output=True, text=True, env=env, timeout=60)


@contextlib.contextmanager
def deadline(seconds: float):
    """Turns a hang (a FIFO opened for reading blocks forever) into a failure."""
    if not hasattr(signal, "setitimer"):
        yield
        return

    def fail(*_):
        raise TimeoutError(f"blocked for more than {seconds} s")

    previous = signal.signal(signal.SIGALRM, fail)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
