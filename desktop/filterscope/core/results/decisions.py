"""Decisions an analyst can sign: "needs review" below a confidence threshold, and error costs.

Every answer is decided from the calibrated probabilities (:mod:`.calibration`):

- **Costs** (optional): a matrix, rows the true class and columns the class answered (0 on the
  diagonal and 1 elsewhere by default, which makes the decision the most probable class). The
  decision is the class of least expected cost, ``argmin_j sum_i p_i * cost[i, j]``.
- **Threshold** (optional): when the calibrated probability of the class decided is below it, the
  answer is ``needs_review``: a person looks at the photo.

The coverage / accuracy curve shows what a threshold buys: for each threshold, the share of photos
accepted and the accuracy on them. A target ("95 % accurate on what is accepted") becomes the
lowest threshold that reaches it on the run's validation images. Both are saved with the run
(:mod:`.policy`).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

NEEDS_REVIEW = "needs_review"
REVIEW = -1  # the decision index of "needs review"
CURVE_POINTS = 101  # thresholds 0.00, 0.01 ... 1.00 in a saved curve


LOWEST_COST = 0.0  # a cost is a finite number of at least this


def valid_costs(values: object) -> bool:
    """True when every value is a cost (finite, at least :data:`LOWEST_COST`)."""
    found = np.asarray(values, np.float64)
    return bool(np.all(np.isfinite(found)) and np.all(found >= LOWEST_COST))


class CostsError(ValueError):
    """A cost matrix that cannot be used; the message names the file and what is wrong."""


@dataclass(frozen=True)
class Costs:
    """What each kind of error costs.

    Attributes:
        classes: The classes, in the order of the rows and columns.
        matrix: (C, C) float64, rows the true class, columns the class answered; >= 0.
        where: Where they were read from (a file's path), for messages.
    """

    classes: tuple[str, ...]
    matrix: np.ndarray
    where: str = field(default="costs", compare=False)

    @classmethod
    def default(cls, classes: list[str] | tuple[str, ...]) -> Costs:
        """0 for a right answer, 1 for any wrong one."""
        n = len(classes)
        return cls(tuple(classes), np.ones((n, n)) - np.eye(n))

    def is_default(self) -> bool:
        """True when every error costs the same (the decision is the most probable class)."""
        return bool(np.allclose(self.matrix, Costs.default(self.classes).matrix))

    def for_classes(self, classes: list[str]) -> Costs:
        """The same costs in a model's class order.

        Raises:
            CostsError: Classes that are not the model's.
        """
        return self if list(self.classes) == list(classes) else Costs.from_json(self.to_json(), classes, self.where)

    def to_json(self) -> dict:
        """``{"classes": [...], "matrix": [[...], ...]}`` (rows true, columns answered)."""
        return {"classes": list(self.classes), "matrix": self.matrix.tolist()}

    @classmethod
    def from_json(cls, data: object, classes: list[str] | None = None, where: str = "costs") -> Costs:
        """Costs read from their JSON form, in ``classes`` order when given.

        Raises:
            CostsError: Not a square non-negative matrix of numbers, or classes that are not the
                model's (named).
        """
        try:
            names = [str(c) for c in data["classes"]]  # type: ignore[index]
            matrix = np.asarray(data["matrix"], np.float64)  # type: ignore[index]
        except (TypeError, KeyError, ValueError) as exc:
            raise CostsError(f"{where}: needs \"classes\" (a list of names) and \"matrix\" (rows: true "
                             f"class, columns: class answered) ({exc})") from exc
        n = len(names)
        if len(set(names)) != n:
            raise CostsError(f"{where}: a class is named twice in {names}")
        if matrix.shape != (n, n):
            raise CostsError(f"{where}: the matrix is {'x'.join(map(str, matrix.shape))}, not {n}x{n} "
                             f"for {n} classes")
        if not valid_costs(matrix):
            raise CostsError(f"{where}: costs must be numbers of {LOWEST_COST:g} or more")
        if classes is None:
            return cls(tuple(names), matrix, where)
        if set(names) != set(classes):
            missing, unknown = sorted(set(classes) - set(names)), sorted(set(names) - set(classes))
            raise CostsError(f"{where}: its classes are not the model's"
                             + (f"; missing {', '.join(missing)}" if missing else "")
                             + (f"; unknown {', '.join(unknown)}" if unknown else ""))
        order = [names.index(c) for c in classes]
        return cls(tuple(classes), matrix[np.ix_(order, order)], where)


def read_costs(path: str | os.PathLike, classes: list[str] | None = None) -> Costs:
    """A cost matrix from a JSON file, in the model's class order (the file's when None).

    Raises:
        CostsError: The file cannot be read or is not a cost matrix of these classes.
    """
    path = Path(path).expanduser()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CostsError(f"{path}: cannot read a cost matrix ({exc})") from exc
    return Costs.from_json(data, classes, str(path))


def decide(probabilities: np.ndarray, *, threshold: float | None = None,
           costs: Costs | None = None) -> np.ndarray:
    """The decision per image: a class index, or :data:`REVIEW`.

    Args:
        probabilities: (N, C) calibrated probabilities (NaN rows, unread images, give REVIEW).
        threshold: Below this calibrated probability of the class decided: needs review.
        costs: The class of least expected cost is decided; None: the most probable class.
    """
    p = np.asarray(probabilities, np.float64)
    if not len(p):
        return np.zeros(0, np.int64)
    unread = np.isnan(p).any(axis=1)
    safe = np.nan_to_num(p)
    choice = np.argmin(safe @ costs.matrix, axis=1) if costs is not None else np.argmax(safe, axis=1)
    choice = choice.astype(np.int64)
    if threshold is not None:
        choice[safe[np.arange(len(p)), choice] < threshold] = REVIEW
    choice[unread] = REVIEW
    return choice


def decision_names(decisions: np.ndarray, classes: list[str]) -> list[str]:
    """Class names, with :data:`NEEDS_REVIEW` for REVIEW."""
    return [NEEDS_REVIEW if d == REVIEW else classes[d] for d in decisions]


@dataclass(frozen=True)
class CoverageCurve:
    """For each confidence threshold, the share of images accepted and the accuracy on them.

    Attributes:
        thresholds: Increasing thresholds (an image is accepted when its confidence >= one).
        coverage: Share of images accepted at each threshold.
        accuracy: Accuracy on the accepted ones (NaN where none is accepted).
    """

    thresholds: np.ndarray
    coverage: np.ndarray
    accuracy: np.ndarray

    def to_json(self) -> list[dict]:
        """``[{"threshold", "coverage", "accuracy"}, ...]`` (accuracy None where nothing is accepted)."""
        return [{"threshold": round(float(t), 6), "coverage": float(c), "accuracy": None if np.isnan(a) else float(a)}
                for t, c, a in zip(self.thresholds, self.coverage, self.accuracy)]

    @classmethod
    def from_json(cls, points: list[dict]) -> CoverageCurve:
        """The inverse of :meth:`to_json`."""
        return cls(np.asarray([p["threshold"] for p in points], np.float64),
                   np.asarray([p["coverage"] for p in points], np.float64),
                   np.asarray([np.nan if p["accuracy"] is None else p["accuracy"] for p in points], np.float64))


def coverage_curve(confidence: np.ndarray, correct: np.ndarray,
                   thresholds: np.ndarray | None = None) -> CoverageCurve:
    """The coverage / accuracy curve at ``thresholds`` (default 0.00, 0.01 ... 1.00).

    Args:
        confidence: (N,) calibrated probability of each image's answer.
        correct: (N,) whether the answer is right.
    """
    confidence = np.asarray(confidence, np.float64)
    correct = np.asarray(correct, bool)
    thresholds = np.linspace(0.0, 1.0, CURVE_POINTS) if thresholds is None else np.asarray(thresholds, np.float64)
    order = np.argsort(confidence)
    sorted_conf, sorted_right = confidence[order], correct[order]
    # right answers among the images at or above each position of the sorted confidences
    right_from = np.concatenate([np.cumsum(sorted_right[::-1])[::-1], [0]])
    start = np.searchsorted(sorted_conf, thresholds, side="left")
    accepted = len(confidence) - start
    with np.errstate(invalid="ignore", divide="ignore"):
        accuracy = np.where(accepted > 0, right_from[start] / np.maximum(accepted, 1), np.nan)
    coverage = accepted / max(len(confidence), 1)
    return CoverageCurve(thresholds, coverage.astype(np.float64), accuracy.astype(np.float64))


def threshold_for_target(confidence: np.ndarray, correct: np.ndarray, target: float) -> float | None:
    """The lowest threshold at which the accepted images are at least ``target`` accurate (the
    most images accepted for that accuracy); None when no threshold reaches it."""
    confidence = np.asarray(confidence, np.float64)
    candidates = np.unique(confidence)
    if not len(candidates):
        return None
    curve = coverage_curve(confidence, correct, candidates)
    reached = np.flatnonzero(np.nan_to_num(curve.accuracy, nan=-1.0) >= target - 1e-12)
    return float(candidates[reached[0]]) if len(reached) else None


@dataclass(frozen=True)
class Accepted:
    """What a threshold (and costs) did on labelled images.

    Attributes:
        threshold: The threshold, or None (nothing set aside unless costs say so).
        n_images: Images decided.
        n_accepted: Images given a class (not ``needs_review``).
        accuracy: Accuracy on the accepted images (NaN when none).
        baseline_accuracy: The majority baseline's accuracy on those same images.
    """

    threshold: float | None
    n_images: int
    n_accepted: int
    accuracy: float
    baseline_accuracy: float

    @property
    def coverage(self) -> float:
        """Share of the images accepted."""
        return self.n_accepted / self.n_images if self.n_images else 0.0

    def to_json(self) -> dict:
        """A JSON-able dict (``accepted_accuracy`` None when nothing is accepted)."""
        return {"threshold": self.threshold, "n_images": self.n_images, "n_accepted": self.n_accepted,
                "coverage": self.coverage,
                "accepted_accuracy": None if np.isnan(self.accuracy) else self.accuracy,
                "baseline_accuracy": None if np.isnan(self.baseline_accuracy) else self.baseline_accuracy}


def accepted(decisions: np.ndarray, true: np.ndarray, baseline_class: int,
             threshold: float | None) -> Accepted:
    """Accuracy and coverage of decisions on labelled images, next to the baseline's accuracy on
    the same accepted images."""
    decisions, true = np.asarray(decisions), np.asarray(true)
    keep = decisions != REVIEW
    n = int(keep.sum())
    accuracy = float(np.mean(decisions[keep] == true[keep])) if n else float("nan")
    baseline = float(np.mean(true[keep] == baseline_class)) if n else float("nan")
    return Accepted(threshold, int(len(true)), n, accuracy, baseline)


@dataclass(frozen=True)
class CostSummary:
    """What the decisions cost on labelled images, against the majority baseline's answers.

    Attributes:
        total: Sum of the costs of the accepted decisions.
        per_image: ``total`` per accepted image.
        baseline_total: What always answering the majority class costs on the same images.
        baseline_per_image: Per image.
        n_costed: Images costed (those sent to review are not).
    """

    total: float
    per_image: float
    baseline_total: float
    baseline_per_image: float
    n_costed: int

    def to_json(self) -> dict:
        """A JSON-able dict."""
        return dict(self.__dict__)


def expected_cost(decisions: np.ndarray, true: np.ndarray, costs: Costs, baseline_class: int) -> CostSummary:
    """The cost of each accepted decision (``costs.matrix[true, decided]``) summed, and the majority
    baseline's cost on the same images."""
    decisions, true = np.asarray(decisions), np.asarray(true, np.int64)
    keep = decisions != REVIEW
    n = int(keep.sum())
    total = float(costs.matrix[true[keep], decisions[keep]].sum())
    base = float(costs.matrix[true[keep], baseline_class].sum())
    return CostSummary(total, total / n if n else 0.0, base, base / n if n else 0.0, n)
