"""A map of the data: every photo of a dataset (or of an evaluation) as a point in 2-D.

The points are a t-SNE embedding (scikit-learn, Barnes-Hut, seeded) of the base's pooled features
(:mod:`.features`) after PCA to 50 dimensions. t-SNE is already a dependency and meets the target
as measured below, so no new one was added.

UMAP, measured against it (umap-learn 0.5.12 in a throwaway ``pip install --target``, same PCA-50
input, seeded, n_neighbors 15; two shared cores at load 7-9, so the seconds are rough): 10,000
synthetic 1280-d points (12 classes): UMAP 77 s on its first call (numba compiling; plus 28 s to
import it the first time ever, 3.5 s once numba's disk cache exists; a second process's first fit
took 186 s at load 9), 27 s on the next call, against this module's t-SNE path 45 s; 10-nearest-
neighbour class agreement in 2-D UMAP 0.948, t-SNE 0.778. The 4,027 real seedling photos (cached
features): UMAP 49 s (agreement 0.622), t-SNE 67 s (0.626; plain PCA to 2-D 0.231). UMAP would add
numba + llvmlite + pynndescent, ~214 MB installed (llvmlite alone 173 MB), to every installer, and
a first call per process of over a minute; on the real photos it keeps the classes no better. Not
adopted; the synthetic clusters' better agreement is noted should maps of well-separated data
matter more than installer size.

Barnes-Hut t-SNE of all 10,000 points of a synthetic set took 135 s at 500 iterations on the two
shared cores (load ~6), over the 60 s target, so beyond :data:`LANDMARKS` points a seeded sample
of that many is embedded and every other photo is placed at the distance-weighted mean of its 10
nearest sample photos (in PCA space). The t-SNE of the sample dominates and stops early on easy
data: 10,000 synthetic points took 37 s at load ~6 and 4 s at load 2.7; the 4,027 shared
seedling photos 26 s at load 5.5 (tests/benchmarks/test_data_map.py).

Cancel is checked between the stages (PCA, t-SNE, placement). scikit-learn's t-SNE has no
callback, so a cancel during the t-SNE stage takes effect when that stage ends (at most the time
of one embedding of :data:`LANDMARKS` points, ~35 s on two cores); the result is then dropped.

The last map of a dataset is saved in the app's feature cache folder, keyed by the dataset as the
near-copy check is (:func:`~.saved.saved_file`), never in the dataset: the run report draws it
from there (:func:`saved_map`) and never computes one.
"""

from __future__ import annotations

import csv
import io
import json
import os
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from filterscope.core.base.fileio import atomic_write_bytes, atomic_write_json, refuse_inside
from filterscope.core.base.jobs import Cancel, Cancelled, Report, SubReport
from filterscope.core.quality.features import DatasetFeatures, dataset_features
from filterscope.core.quality.saved import saved_file

PCA_DIMS = 50
LANDMARKS = 3000
NEIGHBOURS = 10
MAX_ITER = 500
PERPLEXITY = 30.0
CSV_COLUMNS = ("x", "y", "path", "subset", "label", "predicted")
FOLDER = "data-maps"
VERSION = 1


@dataclass
class DataMap:
    """Photos as points.

    Attributes:
        xy: float32 (N, 2) the points, scaled into [0, 1] on both axes (aspect kept).
        paths: The file (or in-memory key) of each point.
        labels: int32 (N,) the class each photo is filed under (index into ``classes``).
        subsets: (N,) ``train``, ``val`` or ``test`` (``eval`` for an evaluation's photos).
        classes: Class names.
        predicted: int32 (N,) the evaluated model's class per photo, or None for a dataset map.
        source: What was mapped (a dataset source or an evaluation's name).
        notes: Plain sentences (how the map was made).
        eval_rows: int64 (N,) the evaluation row of each point (None for a dataset map).
        created: When a saved map was made (ISO 8601, UTC); "" until saved.
    """

    xy: np.ndarray
    paths: list[str]
    labels: np.ndarray
    subsets: np.ndarray
    classes: list[str]
    predicted: np.ndarray | None = None
    source: str = ""
    notes: list[str] = field(default_factory=list)
    eval_rows: np.ndarray | None = None
    created: str = ""

    def __len__(self) -> int:
        return len(self.paths)

    def rows(self, points: np.ndarray | None = None) -> list[dict]:
        """One dict per point (of ``points``, default all) with the :data:`CSV_COLUMNS` (predicted is
        "" for a dataset map)."""
        if points is not None:
            every = self.rows()
            return [every[i] for i in np.asarray(points, np.int64)]
        return [{"x": round(float(x), 6), "y": round(float(y), 6), "path": p, "subset": str(s),
                 "label": self.classes[int(lab)],
                 "predicted": "" if self.predicted is None else self.classes[int(self.predicted[i])]}
                for i, ((x, y), p, s, lab) in enumerate(zip(self.xy, self.paths, self.subsets, self.labels))]


def embed(features: np.ndarray, *, report: Report, cancel: Cancel, seed: int = 0,
          landmarks: int = LANDMARKS, max_iter: int = MAX_ITER) -> np.ndarray:
    """2-D points of feature vectors: PCA, t-SNE of (a sample of) them, then placement of the rest.

    Args:
        features: (N, D) vectors.
        report: Progress by stage.
        cancel: Checked between stages (not inside t-SNE).
        seed: Seeds the PCA, the sample and t-SNE: the same input gives the same map.
        landmarks: At most this many points go through t-SNE; the others are placed by their
            nearest ones.
        max_iter: t-SNE iterations (at least 350: the first 250 are the early-exaggeration phase).

    Returns:
        float32 (N, 2) scaled into [0, 1] (aspect kept).

    Raises:
        Cancelled: ``cancel`` was set.
    """
    from sklearn.decomposition import PCA
    from sklearn.manifold import TSNE
    from sklearn.neighbors import NearestNeighbors

    x = np.asarray(features, np.float32)
    n = len(x)
    if n < 3:
        return _scaled(np.zeros((n, 2), np.float32) + np.arange(n, dtype=np.float32)[:, None])
    _check(cancel)
    report.progress(0.0, f"Reducing {n:,} vectors to {PCA_DIMS} dimensions")
    dims = min(PCA_DIMS, n - 1, x.shape[1])
    reduced = PCA(dims, random_state=seed, svd_solver="randomized").fit_transform(x).astype(np.float32)
    _check(cancel)
    rng = np.random.default_rng(seed)
    sample = np.arange(n) if n <= landmarks else np.sort(rng.choice(n, landmarks, replace=False))
    report.progress(0.1, f"t-SNE of {len(sample):,} points")
    tsne = TSNE(2, perplexity=min(PERPLEXITY, (len(sample) - 1) / 3), init="pca", random_state=seed,
                max_iter=max(350, max_iter), learning_rate="auto", n_jobs=2)
    placed = tsne.fit_transform(reduced[sample]).astype(np.float32)
    _check(cancel)
    if len(sample) == n:
        report.progress(1.0, f"Map of {n:,} points")
        return _scaled(placed)
    report.progress(0.9, f"Placing {n - len(sample):,} more points by their nearest")
    near = NearestNeighbors(n_neighbors=NEIGHBOURS).fit(reduced[sample])
    distance, index = near.kneighbors(reduced)
    weight = 1.0 / (distance + 1e-6)
    xy = (placed[index] * weight[..., None]).sum(1) / weight.sum(1)[:, None]
    xy[sample] = placed
    report.progress(1.0, f"Map of {n:,} points")
    return _scaled(xy.astype(np.float32))


def features_map(found: DatasetFeatures, *, report: Report, cancel: Cancel, seed: int = 0,
                 landmarks: int = LANDMARKS) -> DataMap:
    """The map of a dataset's features (already computed)."""
    xy = embed(found.features, report=report, cancel=cancel, seed=seed, landmarks=landmarks)
    how = f"t-SNE of {found.base} features (PCA to {PCA_DIMS})"
    if len(found) > landmarks:
        how += f"; {landmarks:,} photos embedded, the rest placed by their {NEIGHBOURS} nearest"
    return DataMap(xy, list(found.paths), np.asarray(found.labels, np.int32), np.asarray(found.subsets),
                   list(found.classes), None, found.source, [how, *found.notes])


def dataset_map(source: str, *, report: Report, cancel: Cancel,
                cache_dir: str | os.PathLike | None = None, seed: int = 0, save: bool = True) -> DataMap:
    """The map of every readable photo of a dataset (features from the cache, computed if missing),
    saved (``save``) in the cache folder for the report to find (:func:`saved_map`).

    Raises:
        PipelineError, WeightsUnavailable, WeightsError, FeatureCacheError: As
            :func:`~.features.dataset_features`.
        Cancelled: ``cancel`` was set.
    """
    found = dataset_features(source, report=SubReport(report, 0.0, 0.5), cancel=cancel,
                             cache_dir=cache_dir, seed=seed)
    result = features_map(found, report=SubReport(report, 0.5, 1.0), cancel=cancel, seed=seed)
    if save:
        save_map(result, cache_dir)
    return result


def save_map(data_map: DataMap, cache_dir: str | os.PathLike | None = None) -> Path:
    """Save a dataset's map (stamped with the time now) where :func:`saved_map` finds it: the
    feature cache, one file per dataset, never the dataset."""
    data_map.created = datetime.now(timezone.utc).isoformat(timespec="seconds")
    path = saved_file(data_map.source, FOLDER, cache_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    return atomic_write_json(path, {
        "version": VERSION, "source": data_map.source, "created": data_map.created,
        "classes": list(data_map.classes), "x": data_map.xy[:, 0].tolist(), "y": data_map.xy[:, 1].tolist(),
        "labels": np.asarray(data_map.labels).tolist(), "subsets": [str(s) for s in data_map.subsets],
        "paths": list(data_map.paths), "notes": list(data_map.notes)})


def saved_map(source, cache_dir: str | os.PathLike | None = None) -> DataMap | None:
    """The last saved map of a dataset (a ``Source`` or its text), or None when there is none or it
    cannot be read (a damaged file is the same as no map: the report then has no map section)."""
    try:
        data = json.loads(saved_file(source, FOLDER, cache_dir).read_text(encoding="utf-8"))
        if data["version"] != VERSION or not len(data["x"]) == len(data["y"]) == len(data["labels"]) \
                == len(data["subsets"]) == len(data["paths"]):
            return None
        return DataMap(np.column_stack([data["x"], data["y"]]).astype(np.float32).reshape(-1, 2),
                       [str(p) for p in data["paths"]], np.asarray(data["labels"], np.int32),
                       np.asarray(data["subsets"], str), [str(c) for c in data["classes"]], None,
                       str(data["source"]), [str(n) for n in data["notes"]], created=str(data["created"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def class_agreement(xy: np.ndarray, labels: np.ndarray, k: int = NEIGHBOURS) -> float | None:
    """Share of points whose ``k`` nearest other points on the map mostly carry their class (how
    well the map keeps the classes apart), or None with too few points."""
    from sklearn.neighbors import NearestNeighbors

    labels = np.asarray(labels, np.int64)
    if len(labels) <= k:
        return None
    index = NearestNeighbors(n_neighbors=k + 1).fit(xy).kneighbors(xy, return_distance=False)[:, 1:]
    votes = np.array([np.bincount(labels[row], minlength=labels.max() + 1).argmax() for row in index])
    return float((votes == labels).mean())


def evaluation_map(found: DatasetFeatures, paths: list[str], true: np.ndarray, predicted: np.ndarray,
                   classes: list[str], *, report: Report, cancel: Cancel, seed: int = 0,
                   name: str = "") -> DataMap:
    """The map of an evaluation's photos (``Evaluation.rows``), coloured by prediction.

    ``found`` holds the features of the dataset the photos come from; photos it lacks are left out
    (said in the notes).
    """
    row_of = {os.path.normcase(os.path.abspath(p)): i for i, p in enumerate(found.paths)}
    keep = [(i, row_of.get(os.path.normcase(os.path.abspath(p)))) for i, p in enumerate(paths)]
    keep = [(i, r) for i, r in keep if r is not None]
    ours = np.asarray([i for i, _ in keep], np.int64)
    rows = np.asarray([r for _, r in keep], np.int64)
    xy = embed(found.features[rows], report=report, cancel=cancel, seed=seed)
    notes = [f"t-SNE of {found.base} features of {len(ours):,} evaluated photos"]
    if len(ours) < len(paths):
        notes.append(f"{len(paths) - len(ours):,} evaluated photos have no features and are not on the map")
    return DataMap(xy, [paths[i] for i in ours], np.asarray(true, np.int32)[ours],
                   np.full(len(ours), "eval"), list(classes), np.asarray(predicted, np.int32)[ours], name, notes,
                   ours)


def inside(xy: np.ndarray, polygon: np.ndarray) -> np.ndarray:
    """Indices of the points inside a closed polygon ((M, 2) vertices, same space as ``xy``), by
    the even-odd rule: one vectorised pass per edge (a lasso of 300 edges on 10,000 points: ~15 ms)."""
    points, vertices = np.asarray(xy, float).reshape(-1, 2), np.asarray(polygon, float).reshape(-1, 2)
    if len(vertices) < 3 or not len(points):
        return np.zeros(0, np.int64)
    x, y = points[:, 0], points[:, 1]
    odd = np.zeros(len(points), bool)
    for (x1, y1), (x2, y2) in zip(vertices, np.roll(vertices, -1, axis=0)):
        if y1 == y2:  # a horizontal edge is never crossed by the horizontal ray
            continue
        crosses = (y1 > y) != (y2 > y)
        odd ^= crosses & (x < x1 + (y - y1) * (x2 - x1) / (y2 - y1))
    return np.flatnonzero(odd)


def write_map_csv(data_map: DataMap, path: str | os.PathLike, points: np.ndarray | None = None) -> Path:
    """Write the points (``points``, default all) as CSV (:data:`CSV_COLUMNS`), atomically.

    Raises:
        ValueError: ``path`` lies inside the dataset folder or the folder holding the photos.
        OSError: It cannot be written.
    """
    from filterscope.core.data.source import Source

    source = Source.parse_or_none(data_map.source)
    roots = [source.folder()] if source is not None and source.folder() is not None else []
    files = [os.path.dirname(p) for p in data_map.paths if os.path.isabs(p)]
    for root in roots + ([os.path.commonpath(files)] if files else []):
        refuse_inside(path, root)
    text = io.StringIO(newline="")
    writer = csv.DictWriter(text, CSV_COLUMNS)
    writer.writeheader()
    writer.writerows(data_map.rows(points))
    return atomic_write_bytes(path, text.getvalue().encode("utf-8"))


def _scaled(xy: np.ndarray) -> np.ndarray:
    low = xy.min(0) if len(xy) else np.zeros(2, np.float32)
    span = float((xy.max(0) - low).max()) if len(xy) else 0.0
    out = (xy - low) / (span if span > 0 else 1.0)
    return out.astype(np.float32)


def _check(cancel: Cancel) -> None:
    if cancel.is_set():
        raise Cancelled()


def point_thumbnail(path: str, size: int, source: object = None, *, report: Report,
                    cancel: Cancel) -> tuple[str, np.ndarray]:
    """``(path, RGB uint8 thumbnail)`` of a point's photo, for the map's hover preview: a file, or
    an item of the in-memory dataset ``source`` (a built-in's key).

    Raises:
        ImageReadError: The image cannot be read.
    """
    from filterscope.core.data.item_images import item_thumbnail

    _check(cancel)
    return path, item_thumbnail(path, source, size, report=report, cancel=cancel)
