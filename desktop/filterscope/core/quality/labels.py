"""Suspect labels: images whose class folder disagrees with what the rest of the dataset says.

Every image gets out-of-sample class probabilities by stratified k-fold cross-validation of a
light head on the cached base features (:mod:`.features`): for each fold a standardised
logistic regression is fitted on the other folds' features and predicts the held-out ones, so
no image is scored by a head that saw its label, and the base runs once per image, never per
fold. cleanlab then ranks the images by label quality (the out-of-sample probability of the
given class, "self-confidence": lower is more suspect) and flags the ones it counts as label
issues (confident learning). The dataset is only read.
"""

from __future__ import annotations

import os
import time
import warnings
from dataclasses import asdict, dataclass, field

import numpy as np

from filterscope.core.base.jobs import Cancel, Report, SubReport, check_cancel
from filterscope.core.data.source import Source
from filterscope.core.quality.features import DatasetFeatures, dataset_features

K_FOLDS = 5
HEAD = "standardised logistic regression (scikit-learn, lbfgs, C=0.1, 50 iterations)"
C = 0.1  # strong L2 on 1,280 features: a few hundred images per class must not be memorised
# On the 4,027 seedlings with 5 % of labels moved, 50 iterations rank as well as 300 (precision at
# N 0.71 both) in a third of the time (41 s against 129 s for the five folds on a loaded 2-core box).
MAX_ITER = 50


@dataclass(frozen=True)
class Suspect:
    """One image's label check."""

    key: str
    path: str
    subset: str
    given: str  # the class its folder gives it
    suggested: str  # the out-of-sample argmax
    score: float  # label quality: out-of-sample probability of ``given`` (lower: more suspect)
    suggested_probability: float
    issue: bool  # counted as a label issue by cleanlab


@dataclass
class SuspectLabels:
    """Every image of a dataset, most suspect label first.

    Attributes:
        source: The dataset (``Source.to_json()`` text).
        classes: Class names.
        images: Every scored image, lowest label quality first.
        k: Folds of the cross-validation.
        seed: Seed of the fold assignment.
        head: What predicted each fold.
        accuracy: Out-of-sample accuracy of the head against the given labels.
        seconds: Time of the cross-validation and ranking (not the features).
        skipped: ``{"path", "reason"}`` of the images that could not be read.
        notes: Plain sentences (classes left out, cache notes).
    """

    source: str
    classes: list[str]
    images: list[Suspect]
    k: int
    seed: int
    head: str = HEAD
    accuracy: float = 0.0
    seconds: float = 0.0
    skipped: list[dict] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def n_issues(self) -> int:
        """Images cleanlab counts as label issues."""
        return sum(s.issue for s in self.images)

    def top(self, n: int) -> list[Suspect]:
        """The ``n`` most suspect images."""
        return self.images[:n]

    def to_json(self) -> dict:
        """A JSON-able dict (every image, most suspect first)."""
        return {"source": self.source, "classes": list(self.classes), "k": self.k, "seed": self.seed,
                "head": self.head, "accuracy": self.accuracy, "seconds": self.seconds,
                "n_images": len(self.images), "n_issues": self.n_issues,
                "skipped": list(self.skipped), "notes": list(self.notes),
                "images": [asdict(s) for s in self.images]}

    @classmethod
    def from_json(cls, data: dict) -> SuspectLabels:
        """Read back :meth:`to_json` (KeyError, TypeError or ValueError when it is not one)."""
        return cls(str(data["source"]), [str(c) for c in data["classes"]],
                   [Suspect(str(s["key"]), str(s["path"]), str(s["subset"]), str(s["given"]),
                            str(s["suggested"]), float(s["score"]), float(s["suggested_probability"]),
                            bool(s["issue"])) for s in data["images"]],
                   int(data["k"]), int(data["seed"]), str(data["head"]), float(data["accuracy"]),
                   float(data["seconds"]), list(data.get("skipped", [])), [str(n) for n in data.get("notes", [])])


def out_of_sample_probabilities(features: np.ndarray, labels: np.ndarray, *, k: int = K_FOLDS,
                                seed: int = 0, report: Report, cancel: Cancel) -> np.ndarray:
    """Class probabilities of every row from a head that never saw that row's label.

    Args:
        features: (N, D) feature vectors.
        labels: (N,) labels 0..K-1, every class with at least 2 rows (a class with fewer than
            ``k`` makes the folds fewer: as many as its rows).
        k: Folds (stratified, shuffled with ``seed``).
        report: Progress, a step per fold.
        cancel: Polled between folds.

    Raises:
        ValueError: Fewer than two classes, or a class with a single image.
        Cancelled: ``cancel`` was set.
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    n_classes = int(labels.max()) + 1 if len(labels) else 0
    counts = np.bincount(labels, minlength=n_classes)
    if n_classes < 2 or counts.min() < 2:
        raise ValueError("the label check needs at least two classes of at least two readable images each")
    folds = min(k, int(counts.min()))
    probabilities = np.zeros((len(labels), n_classes), np.float64)
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    for n, (fit_rows, held_out) in enumerate(splitter.split(features, labels)):
        check_cancel(cancel)
        report.progress(n / folds, f"Cross-validating: fold {n + 1} of {folds}")
        head = make_pipeline(StandardScaler(), LogisticRegression(C=C, max_iter=MAX_ITER))
        with warnings.catch_warnings():  # not converged in MAX_ITER: the probabilities are still usable
            warnings.simplefilter("ignore")
            head.fit(features[fit_rows], labels[fit_rows])
        probabilities[np.ix_(held_out, head.classes_)] = head.predict_proba(features[held_out])
    report.progress(1.0, f"Cross-validated in {folds} folds")
    return probabilities


def rank_suspects(found: DatasetFeatures, *, k: int = K_FOLDS, seed: int = 0, report: Report,
                  cancel: Cancel) -> SuspectLabels:
    """Rank every image of ``found`` by label quality (cleanlab), most suspect first.

    Classes with fewer than two images cannot be cross-validated and are left out (a note says so).

    Raises:
        ValueError: Too few images or classes to check.
        Cancelled: ``cancel`` was set.
    """
    from cleanlab.filter import find_label_issues
    from cleanlab.rank import get_label_quality_scores

    started = time.perf_counter()
    counts = np.bincount(found.labels, minlength=len(found.classes))
    kept_classes = [c for c in range(len(found.classes)) if counts[c] >= 2]
    notes = list(found.notes) + [f"Class {found.classes[c]!r} left out: {counts[c]} image(s), at least 2 "
                                 "are needed" for c in range(len(found.classes)) if 0 < counts[c] < 2]
    rows = np.flatnonzero(np.isin(found.labels, kept_classes))
    remap = {c: i for i, c in enumerate(kept_classes)}
    labels = np.asarray([remap[int(c)] for c in found.labels[rows]], np.int64)
    probs = out_of_sample_probabilities(found.features[rows], labels, k=k, seed=seed,
                                        report=SubReport(report, 0.0, 0.9), cancel=cancel)
    check_cancel(cancel)
    report.progress(0.92, "Ranking label issues (cleanlab)")
    scores = get_label_quality_scores(labels, probs, method="self_confidence")
    issues = find_label_issues(labels, probs, n_jobs=1)
    suggested = probs.argmax(axis=1)
    names = [found.classes[c] for c in kept_classes]
    order = np.argsort(scores, kind="stable")
    images = [Suspect(found.keys[rows[i]], found.paths[rows[i]], str(found.subsets[rows[i]]),
                      names[labels[i]], names[suggested[i]], round(float(scores[i]), 6),
                      round(float(probs[i, suggested[i]]), 6), bool(issues[i])) for i in order]
    report.progress(1.0, f"{int(issues.sum()):,} label issue(s) among {len(rows):,} images")
    return SuspectLabels(found.source, list(found.classes), images, min(k, int(np.bincount(labels).min())),
                         seed, HEAD, float(np.mean(suggested == labels)),
                         round(time.perf_counter() - started, 3), list(found.skipped), notes)


def find_suspect_labels(source: str | Source, *, report: Report, cancel: Cancel, k: int = K_FOLDS,
                        seed: int = 0, data_seed: int = 0,
                        cache_dir: str | os.PathLike | None = None) -> SuspectLabels:
    """The features of every image of a dataset (cached), then :func:`rank_suspects`.

    Args:
        source: A dataset folder, a built-in dataset or a split manifest.
        report: Progress: the features (most of it the first time), then the folds.
        cancel: Polled between feature batches and folds.
        k: Folds of the cross-validation.
        seed: Seed of the fold assignment.
        data_seed: Seed of the split that names the validation images (a run's seed).
        cache_dir: The feature cache (default: the app's).

    Raises:
        PipelineError, WeightsUnavailable, WeightsError, FeatureCacheError: As
            :func:`~filterscope.core.quality.features.dataset_features`.
        ValueError: Too few images or classes to check.
        Cancelled: ``cancel`` was set.
    """
    found = dataset_features(source, report=SubReport(report, 0.0, 0.7), cancel=cancel,
                             cache_dir=cache_dir, seed=data_seed)
    return rank_suspects(found, k=k, seed=seed, report=SubReport(report, 0.75, 0.25), cancel=cancel)
