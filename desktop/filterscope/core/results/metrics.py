"""Scores of a classifier on labelled images (scikit-learn), and the majority-class baseline.

Every per-class figure and the confusion matrix use the run's class order, all of its classes,
so a class without images in the set still has its row (empty) and its column. The baseline is
the chapter's sanity check in its simplest form: always answering the class the run saw most
often in training; a model must beat it clearly to have learned anything from the pictures.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from filterscope.core.base.formats import percent


@dataclass(frozen=True)
class ClassScores:
    """One class's figures; precision is 0 for a class never predicted, recall 0 without images."""

    name: str
    precision: float
    recall: float
    f1: float
    support: int  # images of the class in the set
    predicted: int  # images predicted as the class

    def to_json(self) -> dict:
        """A JSON-able dict (``class`` for the name)."""
        return {"class": self.name, "precision": self.precision, "recall": self.recall,
                "f1": self.f1, "support": self.support, "predicted": self.predicted}


@dataclass(frozen=True)
class Baseline:
    """Always answering one class: the majority-class baseline.

    Attributes:
        name: The class (the largest in training).
        accuracy: Its accuracy on the evaluated set: the share of the set in that class.
        basis: Where "largest" comes from: ``training`` (the run's training class counts) or
            ``evaluated`` (the set's own, when the training counts are unknown).
        count: Its number of images there.
        tied: How many classes have that many images (1: it is the largest alone); the
            baseline answers the first of them.
        n_classes: How many classes there are (0: not recorded, in evaluations saved before).
    """

    name: str
    accuracy: float
    basis: str
    count: int
    tied: int = 1
    n_classes: int = 0

    def to_json(self) -> dict:
        """A JSON-able dict (``class`` for the name)."""
        return {"class": self.name, "accuracy": self.accuracy, "basis": self.basis, "count": self.count,
                "tied": self.tied, "n_classes": self.n_classes}

    @classmethod
    def from_json(cls, data: dict) -> Baseline:
        """The inverse of :meth:`to_json`; evaluations saved before ties were recorded read as
        untied."""
        return cls(str(data["class"]), float(data["accuracy"]), str(data["basis"]), int(data["count"]),
                   int(data.get("tied", 1)), int(data.get("n_classes", 0)))

    def describe(self) -> str:
        """``"always 'minor', the largest class in training (412 images)"``; with a tie, that the
        classes tie (``"all 12 classes tie in training (263 images each): always 'Black-grass',
        the first"``), since "the largest" would then be false."""
        where = "in training" if self.basis == "training" else "of these images"
        if self.tied <= 1:
            return f"always '{self.name}', the largest class {where} ({self.count:,} images)"
        who = f"all {self.tied} classes" if self.tied == self.n_classes else f"{self.tied} classes"
        return f"always '{self.name}', the first of {who}, which tie as largest {where} " \
               f"({self.count:,} images each)"


@dataclass(frozen=True)
class Scores:
    """Accuracy, balanced accuracy, per-class scores and the confusion matrix.

    Attributes:
        confusion: int64 (C, C): rows are true classes, columns predicted ones, run class order.
    """

    accuracy: float
    balanced_accuracy: float
    per_class: list[ClassScores]
    confusion: np.ndarray

    def confusion_json(self) -> dict:
        """``{"classes", "rows": "true", "columns": "predicted", "matrix"}``."""
        return {"classes": [c.name for c in self.per_class], "rows": "true", "columns": "predicted",
                "matrix": self.confusion.tolist()}


def score(true: np.ndarray, predicted: np.ndarray, classes: list[str]) -> Scores:
    """Scores of ``predicted`` against ``true`` (class indices into ``classes``).

    Balanced accuracy is the mean recall over the classes that have images in the set
    (scikit-learn's definition).

    Raises:
        ValueError: No images.
    """
    from sklearn.metrics import (  # lazy: 0.4-1.3 s, never at start-up
        accuracy_score,
        balanced_accuracy_score,
        confusion_matrix,
        precision_recall_fscore_support,
    )

    if not len(true):
        raise ValueError("no images to score")
    labels = list(range(len(classes)))
    precision, recall, f1, support = precision_recall_fscore_support(
        true, predicted, labels=labels, zero_division=0)
    matrix = confusion_matrix(true, predicted, labels=labels).astype(np.int64)
    with warnings.catch_warnings():  # "y_pred contains classes not in y_true": expected here
        warnings.simplefilter("ignore", UserWarning)
        balanced = float(balanced_accuracy_score(true, predicted))
    per_class = [ClassScores(name, float(p), float(r), float(f), int(s), int(n))
                 for name, p, r, f, s, n in zip(classes, precision, recall, f1, support,
                                                matrix.sum(axis=0))]
    return Scores(float(accuracy_score(true, predicted)), balanced, per_class, matrix)


def majority_baseline(true: np.ndarray, classes: list[str],
                      training_counts: np.ndarray | None) -> Baseline:
    """Always answering the largest class in training (ties: the first, and the baseline says
    how many tie), scored on ``true``.

    Without training counts the set's own largest class is taken, and ``basis`` says so.
    """
    basis = "training" if training_counts is not None else "evaluated"
    counts = training_counts if training_counts is not None \
        else np.bincount(true, minlength=len(classes))
    biggest = int(np.argmax(counts))
    accuracy = float(np.mean(true == biggest)) if len(true) else 0.0
    tied = int(np.count_nonzero(counts == counts[biggest]))
    return Baseline(classes[biggest], accuracy, basis, int(counts[biggest]), tied, len(classes))


SHORT_NAME = 4  # class names up to this long head a confusion matrix's columns themselves


@dataclass(frozen=True)
class MatrixLabels:
    """The headings of a confusion matrix's rows and columns, as the CLI, the Results tab and the
    report show them.

    Attributes:
        rows: One per true class: its name, or its key and name (``"1 Black-grass"``).
        columns: One per predicted class: its name, or its key.
        keyed: How the columns are headed when not by name (``"numbered as the rows"``), else "".
    """

    rows: list[str]
    columns: list[str]
    keyed: str


def matrix_labels(classes: list[str]) -> MatrixLabels:
    """Short class names (digits, "cat") head the columns themselves; longer ones get a key per
    class (numbers, else letters, else ``#1``...) that no class is called, so a key can never be
    read as another class's name (classes ``0``-``9`` numbered 1-10 would be)."""
    if all(len(name) <= SHORT_NAME for name in classes):
        return MatrixLabels(list(classes), list(classes), "")
    n, taken = len(classes), set(classes)
    schemes = [("numbered", [str(k) for k in range(1, n + 1)]),
               ("lettered", [chr(ord("A") + k) for k in range(n)] if n <= 26 else []),
               ("numbered", [f"#{k}" for k in range(1, n + 1)])]
    for how, keys in schemes:
        if keys and taken.isdisjoint(keys):
            return MatrixLabels([f"{key} {name}" for key, name in zip(keys, classes)], keys,
                                f"{how} as the rows")
    return MatrixLabels(list(classes), list(classes), "")  # every key is a class's name: use names


def accuracy_sentence(accuracy: float, interval: object, baseline: Baseline) -> str:
    """``"accuracy 50.0 % (95 % CI 43.4–56.8 %) (majority baseline 45.0 %: always 'cat', the
    largest class in training (8 images))"``: the one wording of accuracy against the baseline,
    shared by ``filterscope evaluate``, ``filterscope report`` and the report's page.

    Args:
        accuracy: The accuracy.
        interval: Its :class:`~.intervals.Interval`, or None (evaluations saved before intervals).
        baseline: The majority-class baseline.
    """
    from filterscope.core.results.intervals import with_interval

    return f"accuracy {with_interval(accuracy, interval)} (majority baseline {percent(baseline.accuracy)}: " \
           f"{baseline.describe()})"
