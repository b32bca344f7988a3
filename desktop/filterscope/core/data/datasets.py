"""Labelled image datasets: the in-memory model, scanning, statistics and problems.

A dataset is a list of items, each with a class label and a key. Folder datasets (one sub-folder
per class, or train/val/test folders of class folders: see
:mod:`filterscope.core.data.folder_layout`) key items by their POSIX path relative to the root;
in-memory datasets (the built-in MNIST) key them ``"<subset>/<index>"`` into an array. Scanning
reads headers and each file's last bytes, so it stays fast on 50,000 files; it decodes only a PNG
or JPEG that lacks its end marker, to tell a truncated file from one with bytes after its end.
"""

from __future__ import annotations

import functools
import hashlib
import os
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from filterscope.core.base.jobs import Cancel, Report, check_cancel
from filterscope.core.data.folder_layout import SUBSETS, DatasetError, Problem, list_folder
from filterscope.core.data.images import ImageReadError, probe_image, read_image, to_rgb
from filterscope.core.data.source import DatasetSource, FolderSource

IMBALANCE_RATIO = 3.0


@dataclass
class Dataset:
    """A labelled image collection, columnar so that 50,000 items stay cheap.

    Attributes:
        name: Display name.
        source: Its folder (absolute) or built-in id; manifests record it.
        classes: Class names in label order.
        keys: One key per item (relative POSIX path, or ``subset/index`` for arrays).
        labels: int32 label per item.
        sizes: int32 (N, 2) width and height per item.
        root: The folder of a folder dataset.
        pixels: For in-memory datasets, uint8 (N, H, W) or (N, H, W, 3).
        problems: What the scan found wrong.
        synthetic: True for generated demo data (the UI labels it).
        note: A line for the UI about where the data comes from.
        split_folders: For a folder that comes split (``train/``, ``val/``, ``test/``), subset ->
            its folder name, the first part of its items' keys; None otherwise.
    """

    name: str
    source: DatasetSource
    classes: list[str]
    keys: list[str]
    labels: np.ndarray
    sizes: np.ndarray
    root: Path | None = None
    pixels: np.ndarray | None = None
    problems: list[Problem] = field(default_factory=list)
    synthetic: bool = False
    note: str = ""
    split_folders: dict[str, str] | None = None

    def __len__(self) -> int:
        return len(self.keys)

    def counts(self, subset: str | None = None) -> np.ndarray:
        """Number of items per class (of one subset of split folders, when given), in label order."""
        labels = self.labels if subset is None else self.labels[self.select(subset=subset)]
        return np.bincount(labels, minlength=len(self.classes))

    def subset_of(self, path: str) -> str | None:
        """The subset (``train``, ``val``, ``test``) a key or problem path lies in; None without
        split folders or outside them."""
        if not self.split_folders:
            return None
        top = path.split("/", 1)[0]
        return next((s for s, folder in self.split_folders.items() if folder == top), None)

    def select(self, label: int | None = None, subset: str | None = None) -> np.ndarray:
        """Indices of the items of class ``label`` in ``subset`` (None: any)."""
        keep = np.ones(len(self), bool) if label is None else self.labels == label
        if subset is not None:
            folder = (self.split_folders or {}).get(subset)
            if folder is None:
                return np.zeros(0, np.int64)
            keep &= np.fromiter((k.startswith(f"{folder}/") for k in self.keys), bool, len(self))
        return np.flatnonzero(keep)

    def subsets(self) -> list[str]:
        """The subsets its split folders give, in train, val, test order ([] without)."""
        return [subset for subset in SUBSETS if subset in (self.split_folders or {})]

    def missing(self) -> dict[str, list[str]]:
        """Per subset of split folders, the classes with no images in it."""
        return {subset: [c for c, n in zip(self.classes, self.counts(subset)) if n == 0]
                for subset in self.subsets()}

    def split_warnings(self) -> list[str]:
        """A sentence per subset of split folders that lacks classes."""
        warnings = []
        for subset, names in self.missing().items():
            if names:
                listed = ", ".join(f"'{n}'" for n in names)
                why = ": a model cannot learn them" if subset == "train" else ""
                warnings.append(f"{self.split_folders[subset]}/ has no images of {listed}{why}")
        return warnings

    def path(self, index: int) -> Path | None:
        """The file behind item ``index``, or None for in-memory items."""
        return None if self.root is None else self.root / self.keys[index]

    def load(self, index: int) -> np.ndarray:
        """Item ``index`` as RGB uint8 (H, W, 3); raises ImageReadError for a bad file."""
        if self.pixels is not None:
            return to_rgb(self.pixels[index])
        return read_image(self.root / self.keys[index])

    def size_summary(self) -> dict:
        """Width/height range and the most common size, over the items whose header was read.

        Computed once per dataset (a dataset's items do not change after its scan): the Train
        and Augment tabs ask on every settings change, and on 50,000 items it takes ~25 ms.
        """
        return dict(self._size_summary)

    @functools.cached_property
    def _size_summary(self) -> dict:
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

    def overview(self) -> list[tuple[str, str]]:
        """What the Dataset tab says of it, as (kind, sentence): ``title``, ``synthetic`` or
        ``note``, ``sizes``, then a ``warning`` each (classes missing from a subset, imbalance)."""
        lines = [("title", f"{self.name}: {len(self):,} images in {len(self.classes)} classes")]
        if self.synthetic:
            lines.append(("synthetic", "Synthetic demo data, generated by Filterscope (not real photos)."))
        elif self.note:
            lines.append(("note", self.note))
        sizes = self.size_summary()
        if sizes.get("known"):
            width, height = sizes["most_common"]
            lines.append(("sizes", f"Sizes {sizes['min_width']}–{sizes['max_width']} × {sizes['min_height']}–"
                                   f"{sizes['max_height']} px; most common {width}×{height}"))
        lines += [("warning", w) for w in (*self.split_warnings(), self.imbalance_warning()) if w]
        return lines

    def summary(self) -> dict:
        """A JSON-able description: classes with counts, totals, sizes, warnings, problems."""
        counts = self.counts()
        summary = {
            "name": self.name,
            "source": self.source.to_json(),
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
            "layout": "split-folders" if self.split_folders else "classes",
        }
        if self.split_folders:
            summary["subsets"] = {subset: _subset_summary(self, subset) for subset in self.subsets()}
            summary["missing"] = self.missing()
        return summary


def _subset_summary(dataset: Dataset, subset: str) -> dict:
    counts = dataset.counts(subset)
    return {"folder": dataset.split_folders[subset], "total": int(counts.sum()),
            "classes": [{"name": n, "count": int(c)} for n, c in zip(dataset.classes, counts)]}


def _find_duplicates(root: Path, keys: list[str], split: bool, cancel: Cancel) -> list[Problem]:
    """Byte-identical files: grouped by size, then by their first 4 KB, and only then hashed.
    With ``split`` (keys ``subset/class/file``) a copy in another subset is named as such: the
    subsets overlap, so a validation or test score counts images the model trained on."""
    groups: dict[object, list[str]] = defaultdict(list)
    base = str(root) + os.sep
    for key in keys:
        try:
            groups[os.stat(base + key).st_size].append(key)
        except OSError:
            continue
    problems = []
    class_part = 1 if split else 0
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
            a, b = first.split("/"), key.split("/")
            if split and a[0] != b[0]:
                where = f"in {a[0]}/ and {b[0]}/: the subsets overlap"
            else:
                where = "in another class" if a[class_part] != b[class_part] else "in the same class"
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
    """Scan a dataset folder, reading image headers (and ends: see :func:`probe_image`).

    Args:
        root: The dataset folder: each sub-folder a class, or train/val/test folders of class
            folders (see :func:`~filterscope.core.data.folder_layout.list_folder`).
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
    listing = list_folder(root)
    candidates, problems = listing.candidates, listing.problems
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
    problems.extend(_find_duplicates(root, keys, listing.split_folders is not None, cancel))
    report.progress(1.0, f"{len(keys):,} images in {len(listing.classes)} classes")
    return Dataset(
        name=name or root.name,
        source=FolderSource(str(root)),
        classes=listing.classes,
        keys=keys,
        labels=np.asarray(labels, dtype=np.int32),
        sizes=np.asarray(sizes, dtype=np.int32).reshape(-1, 2),
        root=root,
        problems=problems,
        split_folders=listing.split_folders,
    )
