"""Capture folders: frames of a camera or a video saved as a new dataset, one folder per class.

A capture folder is made by Filterscope and says so: a marker file (``.filterscope-capture.json``,
hidden, so the dataset loader passes over it as it passes over every dot file) is written when it
is created. Frames are only ever written into such a folder, or into a new or empty one that then
becomes one: a folder that already holds anything else (a dataset of the user's) is refused, so a
capture never mixes frames into a dataset or overwrites a file of it. The layout is the loader's
classes layout (``<root>/<class>/frame-000001.png``), so the folder opens in the Dataset tab and
trains like any dataset.

:meth:`CaptureFolder.save` encodes a frame as PNG in memory and writes it atomically; it may be
called from a worker thread (a live loop's per-frame hook) while the GUI thread reads
:meth:`CaptureFolder.counts` (:class:`~filterscope.core.live.held.HeldCapture` is that hook).
:func:`capture` is the ``filterscope capture`` job.
"""

from __future__ import annotations

import json
import re
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from filterscope import __version__
from filterscope.core.base.fileio import atomic_write_bytes, atomic_write_json
from filterscope.core.base.jobs import Cancel, Report, check_cancel
from filterscope.core.data.images import IMAGE_SUFFIXES
from filterscope.core.live.video import Source, frames

MARKER = ".filterscope-capture.json"
MARKER_FORMAT = 1
MAX_NAME = 100  # characters; far below any file system's limit, long enough for any label
_FRAME = re.compile(r"^frame-(\d+)\.png$")
_FORBIDDEN = set('<>:"/\\|?*')  # not allowed in a Windows file name (and / nowhere)
_RESERVED = {"con", "prn", "aux", "nul", *(f"{p}{i}" for p in ("com", "lpt") for i in range(1, 10))}


class CaptureError(Exception):
    """A capture folder or class name that cannot be used; the message says why and what to do."""


def check_class_name(name: object) -> str:
    """``name`` without surrounding spaces, when it can be a class folder's name on every system.

    Raises:
        CaptureError: Empty, too long, a hidden or reserved name, or a character a folder name
            cannot hold (the message names it).
    """
    if not isinstance(name, str) or not name.strip():
        raise CaptureError("a class needs a name")
    name = name.strip()
    bad = sorted({c for c in name if c in _FORBIDDEN or ord(c) < 32})
    if bad:
        shown = " ".join(repr(c) for c in bad)
        raise CaptureError(f"class name {name!r}: a folder name cannot hold {shown}")
    if len(name) > MAX_NAME:
        raise CaptureError(f"class name {name[:20]!r}...: at most {MAX_NAME} characters")
    if name.startswith("."):
        raise CaptureError(f"class name {name!r}: a name starting with '.' is a hidden folder, "
                           "which datasets leave out")
    if name.endswith("."):
        raise CaptureError(f"class name {name!r}: Windows drops a final '.' from folder names")
    if name.split(".")[0].strip().lower() in _RESERVED:
        raise CaptureError(f"class name {name!r}: a name Windows reserves for a device")
    return name


@dataclass
class CaptureResult:
    """What :func:`capture` did.

    Attributes:
        folder: The capture folder.
        class_name: The class the frames went to.
        saved: Frames saved by this capture.
        counts: Frames per class in the folder afterwards.
        files: The files this capture wrote.
        note: A sentence when fewer frames were saved than asked (the video ended).
    """

    folder: Path
    class_name: str
    saved: int
    counts: dict[str, int]
    files: list[Path] = field(default_factory=list, repr=False)
    note: str = ""

    def to_json(self) -> dict:
        """A JSON-able dict (the command's ``--json`` output)."""
        return {"folder": str(self.folder), "class": self.class_name, "saved": self.saved,
                "counts": self.counts, "note": self.note}


class CaptureFolder:
    """A capture folder, opened or created by :meth:`open`."""

    def __init__(self, root: Path, counts: dict[str, int], next_index: dict[str, int]) -> None:
        self.root = root
        self._counts, self._next = counts, next_index
        self._lock = threading.Lock()  # save() in a worker, counts() in the GUI thread

    @classmethod
    def open(cls, root: str | Path) -> CaptureFolder:
        """The capture folder at ``root``, created (with its marker) when there is no folder
        there or an empty one.

        Raises:
            CaptureError: ``root`` is a file, or a folder holding anything without the marker
                (a dataset: frames never go into one), or it cannot be created.
        """
        root = Path(root).expanduser().absolute()
        if root.exists() and not root.is_dir():
            raise CaptureError(f"{root} is a file: choose a folder for the captured frames")
        if not (root / MARKER).is_file():
            _create(root)
        try:
            counts, next_index = _listed(root)
        except OSError as exc:
            raise CaptureError(f"{root}: cannot read the capture folder ({exc.strerror or exc})") from exc
        return cls(root, counts, next_index)

    def classes(self) -> list[str]:
        """The class names, sorted as the dataset loader sorts them (its label order)."""
        with self._lock:
            return sorted(self._counts)

    def counts(self) -> dict[str, int]:
        """Frames per class (a copy, safe to read while another thread saves)."""
        with self._lock:
            return dict(sorted(self._counts.items()))

    def add_class(self, name: str) -> str:
        """Make the folder of class ``name`` (nothing happens when it is there); the checked name.

        Raises:
            CaptureError: A name that cannot be a folder's (see :func:`check_class_name`).
        """
        name = check_class_name(name)
        with self._lock:
            clash = next((c for c in self._counts if c != name and c.casefold() == name.casefold()), None)
            if clash is not None:
                raise CaptureError(f"class name {name!r}: Windows and macOS do not tell it from "
                                   f"{clash!r}; choose another name")
            if name not in self._counts:
                (self.root / name).mkdir(exist_ok=True)
                self._counts[name], self._next[name] = 0, 1
        return name

    def remove_class(self, name: str) -> None:
        """Remove the folder of class ``name`` when it holds no frames (captured frames are never
        deleted by the app: that is the user's to do, in a file manager).

        Raises:
            CaptureError: Not a class here, or it holds frames.
        """
        with self._lock:
            if name not in self._counts:
                raise CaptureError(f"no class {name!r} in {self.root}")
            if self._counts[name]:
                raise CaptureError(f"class {name!r} holds {self._counts[name]} frame(s); delete "
                                   "them in a file manager first")
            (self.root / name).rmdir()
            del self._counts[name], self._next[name]

    def save(self, class_name: str, rgb: np.ndarray) -> Path:
        """Write ``rgb`` (H, W, 3 uint8) as the next PNG of ``class_name`` (made if new), atomically.

        Raises:
            CaptureError: A bad class name or not an RGB uint8 frame.
            OSError: The file cannot be written (full disk, folder removed).
        """
        from filterscope.core.base.opencv import cv2

        rgb = np.asarray(rgb)
        if rgb.dtype != np.uint8 or rgb.ndim != 3 or rgb.shape[2] != 3:
            raise CaptureError(f"a frame must be RGB uint8 (height, width, 3), not {rgb.dtype} "
                               f"{rgb.shape}")
        ok, png = cv2.imencode(".png", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR),
                               [cv2.IMWRITE_PNG_COMPRESSION, 1])  # fast: frames come 15-30 a second
        if not ok:
            raise CaptureError(f"OpenCV could not encode a {rgb.shape} frame as PNG")
        name = self.add_class(class_name)
        with self._lock:
            index = self._next[name]
            self._next[name] = index + 1
        path = self.root / name / f"frame-{index:06d}.png"
        # Atomic (never half a PNG) but not fsynced: a frame costs a few milliseconds less, and
        # frames lost to a power cut are taken again in seconds.
        atomic_write_bytes(path, png.tobytes(), durable=False)
        with self._lock:
            self._counts[name] += 1
        return path


def _listed(root: Path) -> tuple[dict[str, int], dict[str, int]]:
    """Frames per class folder of ``root``, and each class's next frame number."""
    counts, next_index = {}, {}
    for folder in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
        names = [p.name for p in folder.iterdir() if not p.name.startswith(".")]
        counts[folder.name] = sum(1 for n in names if Path(n).suffix.lower() in IMAGE_SUFFIXES)
        next_index[folder.name] = max((int(m.group(1)) for n in names if (m := _FRAME.match(n))), default=0) + 1
    return counts, next_index


def _create(root: Path) -> None:
    """Make ``root`` a capture folder: it must be missing or empty."""
    if root.is_dir() and any(root.iterdir()):
        raise CaptureError(f"{root} already holds files and was not made by Filterscope's capture: "
                           "frames are never written into an existing dataset; choose a new folder")
    try:
        root.mkdir(parents=True, exist_ok=True)
        atomic_write_json(root / MARKER, {"format": MARKER_FORMAT, "made_by": f"filterscope {__version__}",
                                          "created": time.strftime("%Y-%m-%dT%H:%M:%S%z")})
    except OSError as exc:
        raise CaptureError(f"{root}: cannot create the capture folder ({exc.strerror or exc})") from exc


def new_capture_path() -> Path:
    """A new folder's path for captured frames, in the app's data folder (``captures/`` and the
    date and time), for a user who has not chosen one."""
    from filterscope.core.base.paths import data_dir

    parent = data_dir() / "captures"
    stamp = time.strftime("%Y%m%d-%H%M%S")
    path, n = parent / stamp, 2
    while path.exists():
        path, n = parent / f"{stamp}-{n}", n + 1
    return path


def read_marker(root: str | Path) -> dict | None:
    """The marker of a capture folder, or None when ``root`` is not one."""
    try:
        return json.loads((Path(root) / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def capture(source: Source, class_name: str, count: int, out: str | Path, *, report: Report,
            cancel: Cancel) -> CaptureResult:
    """The ``filterscope capture`` job: the next ``count`` frames of ``source`` saved as class
    ``class_name`` of the capture folder ``out`` (created when new).

    Raises:
        CaptureError: ``out`` is not a capture folder (nor new, nor empty), a bad class name,
            ``count`` below 1.
        SourceError: The camera or video cannot be opened or read.
        Cancelled: ``cancel`` was set; the frames saved so far stay.
    """
    if isinstance(count, bool) or not isinstance(count, int) or count < 1:
        raise CaptureError(f"frames: must be a whole number of at least 1 (got {count!r})")
    name = check_class_name(class_name)
    folder = CaptureFolder.open(out)
    report.progress(0.0, f"Capturing {name} from {source}")
    files = []
    for frame in frames(source, limit=count, cancel=cancel):
        files.append(folder.save(name, frame.rgb))
        report.progress(len(files) / count, f"{name}: {len(files)} of {count} frames")
    check_cancel(cancel)
    note = "" if len(files) == count else f"{source} ended after {len(files)} of {count} frames"
    report.progress(1.0, f"Saved {len(files)} frame(s) of {name}")
    return CaptureResult(folder.root, name, len(files), folder.counts(), files, note)
