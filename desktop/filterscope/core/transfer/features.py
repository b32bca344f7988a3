"""The feature cache: a frozen base's output for every image, computed once, kept on disk.

The chapter runs VGG16 over each image with a ``predict`` call per image and saves the outputs
with bcolz (no longer maintained). Here the base runs over decoded batches (decoding in threads
while the base computes) and the outputs go into numpy memory-mapped ``.npy`` files, one row per
image. A cache folder holds one entry per key; the key is everything the features depend on:
the dataset's files (name, size and modification time of each), the base, its weights (the
file's path, size and time; the seed of random ones), the input size, the mask, the
preprocessing and whether the head's average pooling was applied. An entry is used only for its
exact key, and entries of the same dataset made differently are named in ``notes``, never
reused. Each batch is flushed before it is marked done, so a cancelled (or killed) extraction
resumes where it stopped. Nothing is written inside the dataset folder.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from filterscope.core.base.fileio import atomic_write_json, make_temp_dir, refuse_inside
from filterscope.core.base.jobs import Cancel, Report, check_cancel
from filterscope.core.data.images import ImageReadError, read_image
from filterscope.core.training.data_plan import Plan
from filterscope.core.training.model_input import prepare_image, preprocess

FORMAT = 1
OK, UNREADABLE = 1, 2  # row status; 0 is "not computed yet"
_DIFFERENCES = (("base", "base"), ("weights", "weights"), ("input_size", "input size"),
                ("mask", "mask"), ("preprocessing", "preprocessing"), ("pooled", "pooling"),
                ("dataset", "dataset files"))


class FeatureCacheError(ValueError):
    """A cache folder that cannot be used; the message names it."""


@dataclass
class FeatureSet:
    """A dataset's features through a frozen base, on disk.

    Attributes:
        path: The cache entry's folder.
        key: What the features depend on (see the module's docstring).
        features: float32 (rows, *feature_shape), memory-mapped read-only.
        status: uint8 (rows,): 1 computed, 2 the image could not be read.
        rows: Dataset item index -> row.
        feature_shape: One image's features: the base's output maps, or a vector when pooled.
        pooled: True when the head's global average pooling was applied before caching.
        skipped: ``{"path", "reason"}`` of unreadable images.
        reused: Rows found computed already (by an earlier or interrupted extraction).
        computed: Rows computed by this call.
        notes: Entries of the same dataset made differently, and why they were not used.
        seconds: Time spent computing.
    """

    path: Path
    key: dict
    features: np.ndarray = field(repr=False)
    status: np.ndarray = field(repr=False)
    rows: dict[int, int] = field(repr=False)
    feature_shape: tuple[int, ...]
    pooled: bool
    skipped: list[dict] = field(default_factory=list)
    reused: int = 0
    computed: int = 0
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def describe(self) -> dict:
        """What a run records about the features it trained on."""
        return {"path": str(self.path), "images": len(self.rows), "feature_shape": list(self.feature_shape),
                "pooled": self.pooled, "reused": self.reused, "computed": self.computed}

    def to_json(self) -> dict:
        """A JSON-able summary (for ``filterscope features --json``)."""
        rate = self.computed / self.seconds if self.seconds > 0 else None
        return {**self.describe(), "skipped": list(self.skipped), "notes": list(self.notes),
                "seconds": round(self.seconds, 3), "images_per_second": rate,
                "bytes": int(self.features.nbytes), "key": self.key}


def feature_key(planned: Plan, base: str, weights: dict, pooled: bool, seed: int) -> tuple[dict, list[int]]:
    """The cache key of a plan's images (train and validation alike) and their row order.

    A split does not change the key: the same files give the same features whichever are
    validated on.
    """
    items = sorted(int(i) for subset in planned.subsets.values() for i in subset[0])
    digest = hashlib.sha256()
    dataset = planned.dataset
    if dataset.pixels is not None:
        digest.update(np.ascontiguousarray(dataset.pixels[items]).tobytes())
    else:
        for i in items:
            stat = os.stat(dataset.path(i))
            digest.update(f"{dataset.keys[i]}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
    mask = planned.data.mask if planned.data is not None else None
    weights = {k: weights.get(k) for k in ("choice", "file", "size", "mtime_ns")}
    if weights["choice"] == "random":
        weights["seed"] = seed  # random weights are the seed's
    key = {"format": FORMAT, "dataset": {"source": dataset.source.to_json(), "images": len(items),
                                         "digest": digest.hexdigest()},
           "base": base, "weights": weights, "input_size": list(planned.size), "mask": mask,
           "preprocessing": planned.preprocessing, "pooled": pooled}
    return key, items


def _entry_name(key: dict) -> str:
    digest = hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:16]
    h, w = key["input_size"]
    return f"{key['base']}-{h}x{w}-{digest}"


def _read_key(folder: Path) -> dict | None:
    try:
        data = json.loads((folder / "key.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _notes(cache_dir: Path, key: dict, name: str) -> list[str]:
    """One sentence per entry of the same dataset made differently: why it is not used."""
    notes = []
    for folder in sorted(p for p in cache_dir.iterdir()
                         if p.is_dir() and p.name != name and not p.name.startswith(".")):  # not temp
        other = _read_key(folder)
        if other is None or (other.get("dataset") or {}).get("source") != key["dataset"]["source"]:
            continue
        differ = [label for field_name, label in _DIFFERENCES if other.get(field_name) != key[field_name]]
        if "input size" in differ:
            size = "x".join(map(str, other.get("input_size") or []))
            differ[differ.index("input size")] = f"input size ({size}, now {'x'.join(map(str, key['input_size']))})"
        notes.append(f"{folder.name}: made with another {', '.join(differ) or 'format'}; not used")
    return notes


def open_entry(cache_dir: Path, key: dict, rows: int, shape: tuple[int, ...]) -> tuple[Path, list[str]]:
    """The entry folder of ``key`` in ``cache_dir``, made (whole, then renamed) if missing, and
    notes on other entries. A damaged entry (a file cut short) is made again and said so."""
    cache_dir.mkdir(parents=True, exist_ok=True)
    name = _entry_name(key)
    entry, notes = cache_dir / name, _notes(cache_dir, key, name)
    if entry.is_dir():
        if _read_key(entry) != key:
            raise FeatureCacheError(f"{entry}: holds features of another key; remove the folder")
        try:
            _open_arrays(entry, rows, shape, "r")
            return entry, notes
        except (OSError, ValueError):
            shutil.rmtree(entry, ignore_errors=True)
            notes.append(f"{name}: was damaged (a file cut short?); made again")
    temp = make_temp_dir(cache_dir, f".{name}.")
    try:
        atomic_write_json(temp / "key.json", key)
        for file, dtype, full in (("features.npy", np.float32, (rows, *shape)), ("status.npy", np.uint8, (rows,))):
            array = np.lib.format.open_memmap(temp / file, mode="w+", dtype=dtype, shape=full)
            array.flush()
            del array
        os.replace(temp, entry)
    except BaseException:
        shutil.rmtree(temp, ignore_errors=True)
        raise
    return entry, notes


def _open_arrays(entry: Path, rows: int, shape: tuple[int, ...], mode: str) -> tuple[np.ndarray, np.ndarray]:
    features = np.load(entry / "features.npy", mmap_mode=mode)
    status = np.load(entry / "status.npy", mmap_mode=mode)
    if features.shape != (rows, *shape) or features.dtype != np.float32 or status.shape != (rows,):
        raise ValueError(f"{entry}: arrays of shape {features.shape}, expected {(rows, *shape)}")
    return features, status


class _Images:
    """Decoded, masked, resized uint8 images of a plan's items, as the training pipeline makes
    them (in-memory datasets from the plan's prepared arrays)."""

    def __init__(self, planned: Plan) -> None:
        self.plan = planned
        self.memory: dict[int, np.ndarray] = {}
        if planned.arrays is not None:
            for subset, (items, _labels) in planned.subsets.items():
                for pos, item in enumerate(items):
                    self.memory[int(item)] = planned.arrays[subset][pos]

    def load(self, item: int) -> np.ndarray | ImageReadError:
        if item in self.memory:
            return self.memory[item]
        try:
            image = read_image(self.plan.dataset.path(item))
        except ImageReadError as err:
            return err
        return prepare_image(image, self.plan.size, self.plan.masker)


def extract(planned: Plan, base_model: Any, key: dict, items: list[int], cache_dir: Path, *,
            batch_size: int, report: Report, cancel: Cancel) -> FeatureSet:
    """Compute the missing rows of the entry of ``key`` and return the whole set.

    Args:
        planned: The images (``training.data_plan.plan`` with the base's preprocessing).
        base_model: The frozen base (with the head's pooling when ``key["pooled"]``).
        key: From :func:`feature_key`; ``items`` its row order.
        cache_dir: The cache folder (never inside the dataset).
        batch_size: Images per forward pass.
        report: Progress in images, with the rate.
        cancel: Polled between batches; computed batches stay, and the next call resumes.

    Raises:
        FeatureCacheError: The cache folder is inside the dataset or holds a clashing entry.
        Cancelled: ``cancel`` was set.
    """
    import tensorflow as tf

    cache_dir = Path(cache_dir)
    if planned.dataset.root is not None:
        try:
            refuse_inside(cache_dir, planned.dataset.root)
        except ValueError as exc:
            raise FeatureCacheError(str(exc)) from exc
    shape = tuple(int(n) for n in base_model.output.shape[1:])
    entry, notes = open_entry(cache_dir, key, len(items), shape)
    features, status = _open_arrays(entry, len(items), shape, "r+")
    skipped = _read_skipped(entry)
    pending = np.flatnonzero(status == 0)
    reused = len(items) - len(pending)
    images = _Images(planned)
    forward = tf.function(lambda x: base_model(x, training=False), reduce_retracing=True)
    batches = [pending[i:i + batch_size] for i in range(0, len(pending), batch_size)]
    started, done = time.monotonic(), 0
    with ThreadPoolExecutor(max_workers=max(2, os.cpu_count() or 2)) as pool:
        loading = [pool.submit(images.load, items[r]) for r in batches[0]] if batches else []
        for n, rows in enumerate(batches):
            check_cancel(cancel)
            loaded = [f.result() for f in loading]
            if n + 1 < len(batches):  # decode the next batch while the base computes this one
                loading = [pool.submit(images.load, items[r]) for r in batches[n + 1]]
            good = np.array([isinstance(x, np.ndarray) for x in loaded])
            if good.any():
                batch = preprocess(np.stack([x for x, ok in zip(loaded, good) if ok]).astype(np.float32),
                                   planned.preprocessing)
                features[rows[good]] = np.asarray(forward(tf.constant(batch)))
                features.flush()  # before the rows are marked done: a kill leaves them to redo
            if not good.all():
                skipped += [{"path": planned.dataset.keys[items[r]], "reason": x.reason}
                            for r, x, ok in zip(rows, loaded, good) if not ok]
                atomic_write_json(entry / "skipped.json", skipped)
            status[rows] = np.where(good, OK, UNREADABLE)
            status.flush()
            done += len(rows)
            rate = done / max(time.monotonic() - started, 1e-6)
            report.progress((reused + done) / len(items),
                            f"Features: {reused + done:,} of {len(items):,} images ({rate:.0f}/s)")
    seconds = time.monotonic() - started
    del features, status
    features, status = _open_arrays(entry, len(items), shape, "r")
    return FeatureSet(entry, key, features, status, {item: row for row, item in enumerate(items)}, shape,
                      bool(key["pooled"]), skipped, reused, done, notes, seconds)


def _read_skipped(entry: Path) -> list[dict]:
    try:
        data = json.loads((entry / "skipped.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    return data if isinstance(data, list) else []
