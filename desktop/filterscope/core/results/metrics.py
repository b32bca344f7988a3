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
    """

    name: str
    accuracy: float
    basis: str
    count: int

    def to_json(self) -> dict:
        """A JSON-able dict (``class`` for the name)."""
        return {"class": self.name, "accuracy": self.accuracy, "basis": self.basis, "count": self.count}

    def describe(self) -> str:
        """``"always 'minor', the largest class in training (412 images)"``."""
        where = "in training" if self.basis == "training" else "of these images"
        return f"always '{self.name}', the largest class {where} ({self.count:,} images)"


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
    """Always answering the largest class in training (ties: the first), scored on ``true``.

    Without training counts the set's own largest class is taken, and ``basis`` says so.
    """
    basis = "training" if training_counts is not None else "evaluated"
    counts = training_counts if training_counts is not None \
        else np.bincount(true, minlength=len(classes))
    biggest = int(np.argmax(counts))
    accuracy = float(np.mean(true == biggest)) if len(true) else 0.0
    return Baseline(classes[biggest], accuracy, basis, int(counts[biggest]))
