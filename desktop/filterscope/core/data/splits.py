"""Validation splits as manifests: nothing is ever moved out of a dataset folder.

The chapter builds its validation set by moving 12 images per class out of the training folder
with ``os.rename``; that destroys the user's dataset layout and cannot be repeated with another
seed. Here a split is a JSON manifest naming the items of each subset per class; later tabs read
datasets through it. A dataset that comes split into train/val/test folders has its own split
(:func:`folder_split`) and is never split again.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields, replace
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from filterscope import __version__
from filterscope.core.base.fileio import atomic_write_json, read_json_file
from filterscope.core.base.jobs import Cancel, Report, check_cancel
from filterscope.core.data.datasets import Dataset
from filterscope.core.data.source import DatasetSource, Source, SourceError

MANIFEST_VERSION = 1


class SplitError(ValueError):
    """Bad split arguments or an unusable manifest file."""


@dataclass
class SplitManifest:
    """Which items of a dataset are for training and which for validation.

    Attributes:
        source: The dataset's ``source`` (its folder or built-in id).
        classes: Class names in label order.
        method: ``per-class`` (N validation items per class), ``fraction``, ``folders`` (the
            dataset's own train/val/test folders) or ``folders+fraction`` (its folders, with
            validation a fraction of its train folder, as it has none).
        value: N or the fraction (0 for ``folders``).
        seed: The random seed; the same seed gives the same split.
        subsets: ``{"train": {class: [keys]}, "val": {class: [keys]}}``, and ``"test"`` for
            split folders with a test folder.
        warnings: Classes that could not give what was asked, in plain words.
    """

    source: DatasetSource
    classes: list[str]
    method: str
    value: float
    seed: int
    subsets: dict[str, dict[str, list[str]]]
    warnings: list[str] = field(default_factory=list)
    version: int = MANIFEST_VERSION
    created: str = ""
    app_version: str = __version__

    def counts(self) -> dict[str, dict[str, int]]:
        """``{class: {"train": n, "val": n}}`` in class order."""
        return {
            name: {subset: len(self.subsets[subset].get(name, [])) for subset in self.subsets}
            for name in self.classes
        }

    def to_json(self) -> dict:
        """The manifest as a JSON-able dict (a copy of its lists).

        Not ``dataclasses.asdict``: it copies every file name one by one, 0.3 s for 60,000.
        """
        data = {f.name: getattr(self, f.name) for f in fields(self)}
        data.update(source=self.source.to_json(), classes=list(self.classes), warnings=list(self.warnings),
                    subsets={subset: {name: list(keys) for name, keys in per_class.items()}
                             for subset, per_class in self.subsets.items()})
        return data


def _n_val(n: int, val_per_class: int | None, val_fraction: float | None) -> int:
    if n < 2:
        return 0
    wanted = val_per_class if val_per_class is not None else int(val_fraction * n + 0.5)
    if val_fraction is not None and val_fraction > 0:
        wanted = max(wanted, 1)
    return min(wanted, n - 1)


def _check_sizes(val_per_class: int | None, val_fraction: float | None) -> None:
    if (val_per_class is None) == (val_fraction is None):
        raise SplitError("give exactly one of val_per_class or val_fraction")
    if val_per_class is not None and val_per_class < 1:
        raise SplitError(f"val_per_class must be at least 1 (got {val_per_class})")
    if val_fraction is not None and not 0 < val_fraction < 1:
        raise SplitError(f"val_fraction must be between 0 and 1 (got {val_fraction})")


def split_counts(dataset: Dataset, *, val_per_class: int | None = None,
                 val_fraction: float | None = None) -> tuple[dict[str, dict[str, int]], list[str]]:
    """The per-class counts and warnings :func:`make_split` will give, without splitting.

    Instant on any dataset and free of scikit-learn, so a dialog can follow every change.

    Returns:
        ``({class: {"train": n, "val": n}}, warnings)`` in class order.

    Raises:
        SplitError: As :func:`make_split`.
    """
    _check_sizes(val_per_class, val_fraction)
    if dataset.split_folders:
        folders = ", ".join(f"{dataset.split_folders[s]}/" for s in dataset.subsets())
        raise SplitError(f"{dataset.name} comes split into {folders} folders: training uses them as "
                         "they are, so it needs no other split")
    sizes = np.bincount(np.asarray(dataset.labels, np.int64), minlength=len(dataset.classes))
    counts: dict[str, dict[str, int]] = {}
    warnings = []
    for name, n in zip(dataset.classes, sizes.tolist()):
        n_val = _n_val(n, val_per_class, val_fraction)
        if n < 2:
            warnings.append(f"'{name}' has {n} image(s): none left for validation")
        elif val_per_class is not None and n_val < val_per_class:
            warnings.append(f"'{name}' has only {n} images: {n_val} for validation")
        counts[name] = {"train": n - n_val, "val": n_val}
    return counts, warnings


def make_split(dataset: Dataset, *, val_per_class: int | None = None,
               val_fraction: float | None = None, seed: int = 0) -> SplitManifest:
    """Split each class separately (stratified), seeded, keeping one training item per class.

    Args:
        dataset: The scanned dataset.
        val_per_class: Exactly this many validation items per class (the chapter uses 12).
        val_fraction: Or this fraction of each class, in (0, 1).
        seed: Random seed.

    Returns:
        The manifest; classes too small for the request are noted in ``warnings``.

    Raises:
        SplitError: Neither or both of the size arguments, or one out of range, or a dataset
            with split folders (see :func:`folder_split`).
    """
    counts, warnings = split_counts(dataset, val_per_class=val_per_class, val_fraction=val_fraction)
    from sklearn.model_selection import train_test_split  # lazy: 0.4-1.3 s, never at start-up

    rng = np.random.RandomState(seed)
    keys = np.asarray(dataset.keys, dtype=object)
    train: dict[str, list[str]] = {}
    val: dict[str, list[str]] = {}
    for label, name in enumerate(dataset.classes):
        members = sorted(keys[dataset.labels == label].tolist())
        n_val = counts[name]["val"]
        if n_val:
            tr, va = train_test_split(members, test_size=n_val, random_state=rng)
        else:
            tr, va = members, []
        train[name], val[name] = sorted(tr), sorted(va)
    return SplitManifest(
        source=dataset.source,
        classes=list(dataset.classes),
        method="per-class" if val_per_class is not None else "fraction",
        value=val_per_class if val_per_class is not None else val_fraction,
        seed=seed,
        subsets={"train": train, "val": val},
        warnings=warnings,
        created=datetime.now(timezone.utc).isoformat(timespec="seconds"),
    )


def folder_split(dataset: Dataset, *, val_fraction: float, seed: int = 0) -> SplitManifest:
    """The split a dataset's own train/val/test folders make.

    Validation is the val folder. Without one (or with an empty one), it is a stratified, seeded
    ``val_fraction`` of the train folder, never the test folder (method ``folders+fraction``).
    The test folder is listed, for evaluation, and used for nothing else.

    Raises:
        SplitError: The dataset has no split folders, or it needs ``val_fraction`` and that is
            out of range.
    """
    if not dataset.split_folders:
        raise SplitError(f"{dataset.name} has no train/val/test folders")
    keys = np.asarray(dataset.keys, dtype=object)
    subsets = {}
    for subset in dataset.subsets():
        items = dataset.select(subset=subset)
        subsets[subset] = {name: sorted(keys[items[dataset.labels[items] == label]].tolist())
                           for label, name in enumerate(dataset.classes)}
    method, value, warnings = "folders", 0.0, []
    if not any(subsets.get("val", {}).values()):
        train = dataset.select(subset="train")
        drawn = make_split(replace(dataset, keys=keys[train].tolist(), labels=dataset.labels[train],
                                   sizes=dataset.sizes[train], split_folders=None),
                           val_fraction=val_fraction, seed=seed)
        subsets = {"train": drawn.subsets["train"], "val": drawn.subsets["val"],
                   **{s: lists for s, lists in subsets.items() if s == "test"}}
        method, value, warnings = "folders+fraction", val_fraction, drawn.warnings
    return SplitManifest(
        source=dataset.source,
        classes=list(dataset.classes),
        method=method,
        value=value,
        seed=seed,
        subsets=subsets,
        warnings=warnings,
        created=datetime.now(timezone.utc).isoformat(timespec="seconds"),
    )


def split_job(dataset: Dataset, *, val_per_class: int | None = None,
              val_fraction: float | None = None, seed: int = 0, save_to: Path | None = None,
              report: Report, cancel: Cancel) -> SplitManifest:
    """Job form of :func:`make_split` (its first call imports scikit-learn), saving the manifest
    to ``save_to`` when given."""
    check_cancel(cancel)
    report.progress(0.0, "Splitting")
    manifest = make_split(dataset, val_per_class=val_per_class, val_fraction=val_fraction, seed=seed)
    check_cancel(cancel)
    if save_to is not None:
        save_manifest(manifest, save_to)
    return manifest


def save_manifest(manifest: SplitManifest, path: str | os.PathLike) -> Path:
    """Write the manifest atomically as JSON."""
    return atomic_write_json(path, manifest.to_json())


def load_manifest(path: str | os.PathLike) -> SplitManifest:
    """Read and validate a manifest file.

    Raises:
        SplitError: The file is missing, not JSON, of a newer version or malformed.
    """
    path = Path(path)
    data = read_json_file(path, SplitError, "manifest")  # its errors name the file already
    try:
        return manifest_from_json(data)
    except SplitError as exc:
        raise SplitError(f"{path}: {exc}") from exc


def manifest_from_json(data: object) -> SplitManifest:
    """Validate a manifest's JSON (as :meth:`SplitManifest.to_json` writes it) and build it.

    Raises:
        SplitError: Not a manifest, of a newer version or malformed.
    """
    version = data.get("version", 0) if isinstance(data, dict) else None
    if not isinstance(version, int) or version > MANIFEST_VERSION:
        raise SplitError(f"not a Filterscope split manifest of version <= {MANIFEST_VERSION}")
    try:
        manifest = SplitManifest(**{**data, "source": dataset_source(data.get("source"))})
        _check_lists(manifest.classes, manifest.subsets)
    except TypeError as exc:
        raise SplitError(f"malformed manifest ({exc})") from exc
    return manifest


def dataset_source(text: object) -> DatasetSource:
    """The dataset a manifest's stored ``source`` names.

    Raises:
        SplitError: Not a folder or built-in source.
    """
    try:
        source = Source.parse(text)
    except SourceError as exc:
        raise SplitError(f"source: {exc}") from exc
    if not isinstance(source, DatasetSource):
        raise SplitError(f"source: a split is made of a folder or a built-in dataset, not {source}")
    return source


def _check_lists(classes: object, subsets: object) -> None:
    """TypeError unless ``classes`` is a list of names and ``subsets`` maps 'train' and 'val'
    (and perhaps 'test', for a dataset split into folders) to ``{class: [keys]}`` over those
    classes."""
    if not isinstance(classes, list) or not all(isinstance(c, str) for c in classes) \
            or not isinstance(subsets, dict) or not {"train", "val"} <= set(subsets) <= {"train", "val", "test"} \
            or not all(isinstance(s, dict) for s in subsets.values()):
        raise TypeError("expected a list of classes and 'train' and 'val' subsets (and perhaps 'test')")
    for subset in subsets.values():
        for name, keys in subset.items():
            if name not in classes or not isinstance(keys, list) \
                    or not all(isinstance(k, str) for k in keys):
                raise TypeError(f"bad entry for class {name!r}")


def split_to_json(manifest: SplitManifest) -> dict:
    """A split's file lists and how they were drawn, as a training run records them.

    Without the manifest's source, date and warnings: the run names its dataset itself, so
    that moving the dataset changes only that one field. Only what the run trains and validates
    on is recorded: a test subset is not the run's to check.
    """
    return {"classes": list(manifest.classes), "method": manifest.method, "value": manifest.value,
            "seed": manifest.seed,
            "subsets": {s: {c: list(keys) for c, keys in manifest.subsets[s].items()}
                        for s in ("train", "val")}}


def split_from_json(source: DatasetSource, data: object) -> SplitManifest:
    """The manifest of a split recorded by :func:`split_to_json`, for the dataset ``source``.

    Raises:
        SplitError: Not such a record; the message names the field at fault.
    """
    if not isinstance(data, dict):
        raise SplitError("must be an object with classes, method, value, seed and subsets")
    fields = {"classes", "method", "value", "seed", "subsets"}
    if set(data) != fields:
        wrong = sorted(set(map(str, data)) ^ fields)
        raise SplitError(f"unknown or missing field(s): {', '.join(wrong)}")
    if not isinstance(data["method"], str) or isinstance(data["value"], bool) \
            or not isinstance(data["value"], (int, float)) \
            or isinstance(data["seed"], bool) or not isinstance(data["seed"], int):
        raise SplitError("method must be text, value a number and seed a whole number")
    try:
        _check_lists(data["classes"], data["subsets"])
    except TypeError as exc:
        raise SplitError(str(exc)) from exc
    return SplitManifest(source, list(data["classes"]), data["method"], data["value"], data["seed"],
                         {s: dict(per_class) for s, per_class in data["subsets"].items()})
