"""The images a run is evaluated on, with their true classes in the run's class order.

An evaluation set is one of:

* the run's own validation split, as its ``run.json`` records it (planned by training's own
  :func:`~filterscope.core.training.data_plan.plan`, so the very files it validated on);
* the ``test/`` (or ``val/``) subset of a dataset split into folders: the run's, or another;
* another folder with one sub-folder per class, or a built-in dataset (with the ``val`` subset:
  the run's validation files found in that folder, a dataset that has moved);
* a split manifest (its ``val`` subset, or ``test`` when it lists one).

Classes are matched by name. A class the run does not know, with images in the set, is refused
(a model cannot answer it: predict such images instead); a run's class without images in the
set is named in the notes (its row of the confusion matrix stays empty).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from filterscope.core.base.jobs import Cancel, Report, SubReport
from filterscope.core.data.builtin import BuiltinUnavailable
from filterscope.core.data.datasets import Dataset, DatasetError
from filterscope.core.data.folder_layout import list_folder
from filterscope.core.data.source import FolderSource, ManifestSource, Source, SourceError
from filterscope.core.data.sources import open_source
from filterscope.core.data.splits import SplitError, load_manifest
from filterscope.core.results.feed import DatasetImages
from filterscope.core.training.data_plan import plan
from filterscope.core.training.data_spec import DataSpec, PipelineError
from filterscope.core.training.saved_model import OpenedModel

# Scan problems that are not an image left out (structure, duplicates): never listed as skipped.
_NOT_SKIPS = frozenset({"duplicate", "empty-class", "nested-folder", "not-in-class", "not-a-subset",
                        "empty-subset"})


class EvalSetError(ValueError):
    """Images that cannot be evaluated on: the message names the folder, classes or files."""


@dataclass
class EvalSet:
    """Images with their true classes.

    Attributes:
        kind: ``val`` (the run's validation split), ``subset`` (a split folder's subset),
            ``folder`` (all of a dataset) or ``manifest``.
        name: Short, for file names: ``val``, ``test``, a folder's name.
        description: What the set is, in words.
        source: The dataset's source.
        subset: ``val`` or ``test`` when the set is one, else None.
        images: The images, read as training reads them.
        labels: int32 true class per image, in the run's class order.
        skipped: ``{"path", "reason"}`` of files of the set the scan could not read.
        notes: Plain sentences (classes without images in the set...).
        trained_on: How many of the images the run trained on (0 when none or unknown).
    """

    kind: str
    name: str
    description: str
    source: Source
    subset: str | None
    images: DatasetImages
    labels: np.ndarray
    skipped: list[dict] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    trained_on: int = 0

    def to_json(self) -> dict:
        """What the set was, without its images."""
        return {"kind": self.kind, "name": self.name, "description": self.description,
                "source": self.source.to_json(), "subset": self.subset, "trained_on": self.trained_on}


def open_eval_set(opened: OpenedModel, data: str | None = None, subset: str | None = None, *,
                  report: Report, cancel: Cancel) -> EvalSet:
    """The evaluation set of a run's model.

    Args:
        opened: The run's model (a bare ``.keras`` file has no run to evaluate against).
        data: None for the run's own dataset; else a folder (with class folders, or split into
            train/val/test folders), a split manifest (``.json``) or a built-in dataset id. A
            folder of class folders with ``subset="val"`` is the run's dataset moved there: its
            recorded validation files are evaluated.
        subset: ``val`` or ``test``; None takes ``test`` where there is a test folder (or a
            manifest lists one), else the validation images.
        report: Progress of scanning.
        cancel: Polled while scanning.

    Raises:
        EvalSetError: No such data, no such subset, classes the run does not know, no images.
        Cancelled: ``cancel`` was set.
    """
    if opened.run is None:
        raise EvalSetError(f"{opened.path}: evaluating needs a run (its classes and data); "
                           "give a run folder, or predict with this model file")
    if subset not in (None, "val", "test"):
        raise EvalSetError(f"subset: choose val or test, not {subset!r}")
    run_data = opened.data_spec()
    if data is None:
        folder = run_data.folder()
        if subset is None:
            subset = "test" if folder is not None and _has_test(Path(folder)) else "val"
        if subset == "val":
            return _run_validation(opened, run_data, report, cancel)
        return _subset_set(opened, _open(run_data.source, report, cancel), "test", run_data)
    try:
        source = Source.parse(data, bare=True)
    except SourceError as exc:
        raise EvalSetError(f"data: {exc}") from exc
    if isinstance(source, ManifestSource):
        return _manifest_set(opened, Path(source.path), subset, run_data, report, cancel)
    dataset = _open(source, report, cancel)
    if dataset.split_folders:
        chosen = subset or ("test" if "test" in dataset.split_folders else "val")
        return _subset_set(opened, dataset, chosen, run_data)
    if subset == "val" and isinstance(source, FolderSource):
        # the run's own validation files, in a dataset that has moved here
        try:
            return _run_validation(opened, run_data.relocated(source.path), report, cancel)
        except PipelineError as exc:
            raise EvalSetError(f"{data}: {exc}") from exc
    if subset is not None:
        raise EvalSetError(f"{data} is not split into train/, val/ and test/ folders: it is "
                           "evaluated whole, or with the val subset as the run's validation "
                           "images found there")
    where = dataset.root or dataset.source
    return _finish(opened, dataset, np.arange(len(dataset)), "folder", dataset.name,
                   f"all images of {where}", None, run_data)


def _has_test(folder: Path) -> bool:
    try:
        return "test" in (list_folder(folder.expanduser()).split_folders or {})
    except DatasetError:
        return False


def _open(source: Source, report: Report, cancel: Cancel) -> Dataset:
    try:
        return open_source(source, report=report, cancel=cancel)
    except (DatasetError, BuiltinUnavailable) as exc:
        raise EvalSetError(str(exc)) from exc


def _run_validation(opened: OpenedModel, run_data: DataSpec, report: Report, cancel: Cancel) -> EvalSet:
    """The files the run validated on, found by training's own planning of its recorded data."""
    try:
        planned = plan(run_data, SubReport(report, 0.0, 1.0), cancel, 0)
    except PipelineError as exc:
        raise EvalSetError(f"the run's validation images: {exc} (if the dataset has moved, give "
                           "its new place as the data to evaluate, with the val subset)") from exc
    items, labels = planned.subsets["val"]
    if not len(items):
        raise EvalSetError(f"{opened.run.run_dir}: the run has no validation images; evaluate on "
                           "other images (a test folder, a folder, a manifest)")
    order = _class_map(planned.classes, opened.classes)
    recorded = run_data.split_manifest()
    val_keys = set() if recorded is None else {k for keys in recorded.subsets["val"].values() for k in keys}
    skipped = [s for s in planned.skipped if s["path"] in val_keys]
    where = planned.dataset.root or planned.dataset.source
    how = {"folders": "its val folder", "folders+fraction": "a seeded part of its train folder",
           "fraction": "a seeded fraction of each class", "per-class": "a seeded number per class",
           "manifest": "a split manifest"}.get(planned.validation, planned.validation)
    return EvalSet("val", "val", f"the run's validation images ({how} of {where})",
                   planned.dataset.source, "val", DatasetImages(planned.dataset, items),
                   order[labels].astype(np.int32), skipped)


def _subset_set(opened: OpenedModel, dataset: Dataset, subset: str, run_data: DataSpec) -> EvalSet:
    folders = dataset.split_folders or {}
    if subset not in folders:
        have = ", ".join(f"{f}/" for f in folders.values()) or "no subset folders"
        raise EvalSetError(f"{dataset.root or dataset.source} has no {subset} folder ({have}); "
                           + ("evaluate on the run's validation images (subset val) or give "
                              "other data" if subset == "test" else "choose the test subset"))
    return _finish(opened, dataset, dataset.select(subset=subset), "subset", subset,
                   f"{folders[subset]}/ of {dataset.root}", subset, run_data)


def _manifest_set(opened: OpenedModel, path: Path, subset: str | None, run_data: DataSpec,
                  report: Report, cancel: Cancel) -> EvalSet:
    try:
        manifest = load_manifest(path)
    except SplitError as exc:
        raise EvalSetError(str(exc)) from exc
    chosen = subset or ("test" if manifest.subsets.get("test") else "val")
    if chosen not in manifest.subsets:
        raise EvalSetError(f"{path} lists no {chosen} subset")
    dataset = _open(manifest.source, report, cancel)
    index = {key: i for i, key in enumerate(dataset.keys)}
    keys = [k for per_class in manifest.subsets[chosen].values() for k in per_class]
    refused = {p.path: p.reason for p in dataset.problems}
    gone = [k for k in keys if k not in index and k not in refused]
    if gone:
        raise EvalSetError(f"{path}: {len(gone)} file(s) it lists are gone from {dataset.root or dataset.source}: "
                           f"{', '.join(gone[:5])}{', ...' if len(gone) > 5 else ''}")
    items = np.asarray([index[k] for k in keys if k in index], np.int64)
    evaluated = _finish(opened, dataset, items, "manifest", chosen,
                        f"the {chosen} images of the manifest {path}", chosen, run_data)
    evaluated.skipped = [{"path": k, "reason": refused[k]} for k in keys if k in refused]
    return evaluated


def _finish(opened: OpenedModel, dataset: Dataset, items: np.ndarray, kind: str, name: str,
            description: str, subset: str | None, run_data: DataSpec) -> EvalSet:
    """Check the classes, map the labels and list what the scan left out of ``items``."""
    where = dataset.root or dataset.source
    present = np.bincount(dataset.labels[items], minlength=len(dataset.classes)) if len(items) \
        else np.zeros(len(dataset.classes), np.int64)
    known = set(opened.classes)
    extra = [(c, int(n)) for c, n in zip(dataset.classes, present) if n and c not in known]
    if extra:
        listed = ", ".join(f"'{c}' ({n} images)" for c, n in extra)
        raise EvalSetError(f"{where}: class(es) the model was not trained on: {listed}. The model "
                           f"knows {', '.join(repr(c) for c in opened.classes)}; evaluate on those "
                           "classes only, or predict these images instead")
    if not len(items):
        raise EvalSetError(f"{where}: no images to evaluate in {description}")
    labels = _class_map(dataset.classes, opened.classes)[dataset.labels[items]].astype(np.int32)
    folder = (dataset.split_folders or {}).get(subset) if subset else None
    skipped = [{"path": p.path, "reason": p.reason} for p in dataset.problems
               if p.kind not in _NOT_SKIPS and (folder is None or p.path.split("/", 1)[0] == folder)]
    evaluated = EvalSet(kind, name, description, dataset.source, subset,
                        DatasetImages(dataset, items), labels, skipped)
    missing = [c for c in opened.classes if not np.any(labels == opened.classes.index(c))]
    if missing:
        evaluated.notes.append(f"no images of {', '.join(repr(c) for c in missing)} in this set: "
                               "their rows of the confusion matrix are empty")
    evaluated.trained_on = _trained_on(evaluated, dataset, run_data, int(opened.info.get("n_train", 0)))
    return evaluated


def _class_map(names: list[str], run_classes: list[str]) -> np.ndarray:
    """Label in ``names`` -> label in the run's classes (-1 for a class the run lacks)."""
    index = {c: i for i, c in enumerate(run_classes)}
    return np.asarray([index.get(c, -1) for c in names], np.int64)


def _trained_on(evaluated: EvalSet, dataset: Dataset, run_data: DataSpec, n_train: int) -> int:
    """How many images of the set are files the run trained on (its recorded split); for the
    run's own built-in dataset, whole, its ``n_train`` training images are among them."""
    if dataset.root is None:
        return n_train if dataset.source == run_data.source else 0
    manifest = run_data.split_manifest()
    folder = run_data.folder()
    if manifest is None or folder is None:
        return 0
    base = os.path.realpath(folder)
    trained = {os.path.join(base, *k.split("/")) for per_class in manifest.subsets["train"].values()
               for k in per_class}
    root = os.path.realpath(dataset.root)
    return sum(os.path.join(root, *dataset.keys[int(i)].split("/")) in trained
               for i in evaluated.images.items)
