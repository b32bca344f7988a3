"""Folder-per-class datasets: the in-memory model, scanning, statistics and problems.

A dataset is a list of items, each with a class label and a key. Folder datasets (the layout of
Keras's ``flow_from_directory``: one sub-folder per class) key items by their POSIX path relative to
the root; in-memory datasets (the built-in MNIST) key them ``"<subset>/<index>"`` into an array.
Scanning never decodes an image: it reads headers only, so it stays fast on 50,000 files.
"""

from __future__ import annotations

import hashlib
import os
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from filterscope.core.base.jobs import Cancel, Report, check_cancel
from filterscope.core.data.images import (
    IMAGE_SUFFIXES,
    ImageReadError,
    probe_image,
    read_image,
    to_rgb,
)

# Files that operating systems and photo tools drop into folders; not worth a problem line.
_SYSTEM_FILES = frozenset({"thumbs.db", "desktop.ini", ".ds_store"})
IMBALANCE_RATIO = 3.0


@dataclass(frozen=True)
class Problem:
    """Something wrong with a dataset, as a user would want to read it.

    Attributes:
        path: The file or folder, relative to the dataset root where possible.
        kind: A stable machine-readable category (``empty-file``, ``not-image``, ``unreadable``,
            ``corrupt``, ``too-large``, ``duplicate``, ``empty-class``, ``nested-folder``,
            ``not-a-file``).
        reason: One plain sentence saying what is wrong and what the app does about it.
    """

    path: str
    kind: str
    reason: str


@dataclass
class Dataset:
    """A labelled image collection, columnar so that 50,000 items stay cheap.

    Attributes:
        name: Display name.
        source: ``folder:<abs path>`` or ``builtin:<id>``; manifests record it.
        classes: Class names in label order.
        keys: One key per item (relative POSIX path, or ``subset/index`` for arrays).
        labels: int32 label per item.
        sizes: int32 (N, 2) width and height per item.
        root: The folder of a folder dataset.
        pixels: For in-memory datasets, uint8 (N, H, W) or (N, H, W, 3).
        problems: What the scan found wrong.
        synthetic: True for generated demo data (the UI labels it).
        note: A line for the UI about where the data comes from.
    """

    name: str
    source: str
    classes: list[str]
    keys: list[str]
    labels: np.ndarray
    sizes: np.ndarray
    root: Path | None = None
    pixels: np.ndarray | None = None
    problems: list[Problem] = field(default_factory=list)
    synthetic: bool = False
    note: str = ""

    def __len__(self) -> int:
        return len(self.keys)

    def counts(self) -> np.ndarray:
        """Number of items per class, in label order."""
        return np.bincount(self.labels, minlength=len(self.classes))

    def path(self, index: int) -> Path | None:
        """The file behind item ``index``, or None for in-memory items."""
        return None if self.root is None else self.root / self.keys[index]

    def load(self, index: int) -> np.ndarray:
        """Item ``index`` as RGB uint8 (H, W, 3); raises ImageReadError for a bad file."""
        if self.pixels is not None:
            return to_rgb(self.pixels[index])
        return read_image(self.root / self.keys[index])

    def size_summary(self) -> dict:
        """Width/height range and the most common size, over the items whose header was read."""
        known = self.sizes[(self.sizes > 0).all(axis=1)] if len(self.sizes) else self.sizes
        if len(known) == 0:
            return {"known": 0}
        uniq, freq = np.unique(known, axis=0, return_counts=True)
        common = uniq[int(np.argmax(freq))]
        return {
            "known": int(len(known)),
            "min_width": int(known[:, 0].min()),
            "max_width": int(known[:, 0].max()),
            "min_height": int(known[:, 1].min()),
            "max_height": int(known[:, 1].max()),
            "most_common": [int(common[0]), int(common[1])],
            "most_common_count": int(freq.max()),
            "distinct": int(len(uniq)),
        }

    def imbalance_warning(self) -> str | None:
        """A sentence when the largest class has IMBALANCE_RATIO times the smallest non-empty."""
        counts = self.counts()
        nonzero = counts[counts > 0]
        if len(nonzero) < 2 or nonzero.max() < IMBALANCE_RATIO * nonzero.min():
            return None
        big, small = int(np.argmax(counts)), int(np.argmin(np.where(counts > 0, counts, np.inf)))
        return (
            f"Classes are imbalanced: '{self.classes[big]}' has {counts[big]} images, "
            f"'{self.classes[small]}' only {counts[small]} "
            f"({counts[big] / counts[small]:.1f}x). Accuracy alone will flatter a model."
        )

    def summary(self) -> dict:
        """A JSON-able description: classes with counts, totals, sizes, warnings, problems."""
        counts = self.counts()
        return {
            "name": self.name,
            "source": self.source,
            "synthetic": self.synthetic,
            "total": len(self),
            "classes": [
                {"name": name, "count": int(n)} for name, n in zip(self.classes, counts)
            ],
            "sizes": self.size_summary(),
            "imbalance": self.imbalance_warning(),
            "problems": [
                {"path": p.path, "kind": p.kind, "reason": p.reason} for p in self.problems
            ],
        }


class DatasetError(Exception):
    """The dataset as a whole cannot be opened (missing or unreadable root)."""


def _entries(folder: Path) -> list[os.DirEntry]:
    with os.scandir(folder) as it:
        return sorted(it, key=lambda e: e.name)


def _is_dir(entry: os.DirEntry) -> bool:
    try:
        return entry.is_dir()  # follows symlinks; a looping link is simply not a directory
    except OSError:
        return False


def _ignored(name: str) -> bool:
    return name.startswith(".") or name.lower() in _SYSTEM_FILES


def _list_tree(root: Path) -> tuple[list[str], list[tuple[int, str]], list[Problem]]:
    """Class names, (label, relative key) candidates and structural problems; no file is opened."""
    try:
        top = _entries(root)
    except OSError as exc:
        raise DatasetError(f"{root}: cannot read the folder ({exc.strerror or exc})") from exc
    classes: list[str] = []
    candidates: list[tuple[int, str]] = []
    problems: list[Problem] = []
    for entry in top:
        if _ignored(entry.name):
            continue
        if not _is_dir(entry):
            problems.append(Problem(entry.name, "not-in-class",
                                    "file at the top level ignored: images belong in a class folder"))
            continue
        try:
            inside = _entries(Path(entry.path))
        except OSError as exc:
            problems.append(Problem(entry.name, "unreadable",
                                    f"class folder cannot be read ({exc.strerror or exc}); skipped"))
            continue
        label = len(classes)
        classes.append(entry.name)
        before = len(candidates)
        for item in inside:
            rel = f"{entry.name}/{item.name}"
            if _ignored(item.name):
                continue
            if _is_dir(item):
                problems.append(Problem(rel, "nested-folder",
                                        "sub-folder ignored: only images directly in a class folder count"))
            elif Path(item.name).suffix.lower() not in IMAGE_SUFFIXES:
                problems.append(Problem(rel, "not-image",
                                        f"not an image file type ({Path(item.name).suffix or 'no extension'}); ignored"))
            else:
                candidates.append((label, rel))
        if len(candidates) == before:
            problems.append(Problem(entry.name, "empty-class", "class folder has no images"))
    return classes, candidates, problems


def _find_duplicates(root: Path, keys: list[str], cancel: Cancel) -> list[Problem]:
    """Byte-identical files: grouped by size, then by their first 4 KB, and only then hashed."""
    groups: dict[object, list[str]] = defaultdict(list)
    base = str(root) + os.sep
    for key in keys:
        try:
            groups[os.stat(base + key).st_size].append(key)
        except OSError:
            continue
    problems = []
    for stage in (_head, _digest):
        refined: dict[object, list[str]] = defaultdict(list)
        for signature, group in groups.items():
            if len(group) < 2:
                continue
            check_cancel(cancel)
            for key in group:
                try:
                    refined[(signature, stage(base + key))].append(key)
                except OSError:
                    continue
        groups = refined
    for group in groups.values():
        first = group[0]
        for key in group[1:]:
            where = "in another class" if first.split("/")[0] != key.split("/")[0] else "in the same class"
            problems.append(Problem(key, "duplicate", f"same content as {first} ({where})"))
    return problems


def _head(path: str) -> bytes:
    with open(path, "rb") as handle:
        return handle.read(4096)


def _digest(path: str) -> bytes:
    with open(path, "rb") as handle:
        return hashlib.blake2b(handle.read(), digest_size=16).digest()


def scan_folder(root: str | os.PathLike, *, report: Report, cancel: Cancel,
                name: str | None = None) -> Dataset:
    """Scan a folder-per-class tree, reading image headers only.

    Args:
        root: The dataset folder; each sub-folder is a class.
        report: Receives progress while headers are read.
        cancel: Polled between files.
        name: Display name; defaults to the folder name.

    Returns:
        The dataset: one item per readable image, problems for everything else.

    Raises:
        DatasetError: The root does not exist, is not a folder or cannot be listed.
        Cancelled: ``cancel`` was set.
    """
    root = Path(root).expanduser().absolute()
    if not root.exists():
        raise DatasetError(f"{root}: folder does not exist")
    if not root.is_dir():
        raise DatasetError(f"{root}: not a folder")
    report.progress(0.0, f"Listing {root.name}")
    classes, candidates, problems = _list_tree(root)
    keys, labels, sizes = [], [], []
    total = max(len(candidates), 1)
    for i, (label, key) in enumerate(candidates):
        if i % 256 == 0:
            check_cancel(cancel)
            report.progress(0.9 * i / total, f"Reading headers {i:,}/{len(candidates):,}")
        try:
            info = probe_image(root / key)
        except ImageReadError as err:
            problems.append(Problem(key, err.kind, f"{err.reason}; skipped"))
            continue
        keys.append(key)
        labels.append(label)
        sizes.append((info.width, info.height))
    check_cancel(cancel)
    report.progress(0.9, "Looking for duplicate files")
    problems.extend(_find_duplicates(root, keys, cancel))
    report.progress(1.0, f"{len(keys):,} images in {len(classes)} classes")
    return Dataset(
        name=name or root.name,
        source=f"folder:{root}",
        classes=classes,
        keys=keys,
        labels=np.asarray(labels, dtype=np.int32),
        sizes=np.asarray(sizes, dtype=np.int32).reshape(-1, 2),
        root=root,
        problems=problems,
    )
