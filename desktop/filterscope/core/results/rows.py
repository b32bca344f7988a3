"""Per-image results of an evaluation: columns, quick look-ups and the CSV they are saved as.

Rows are kept as columns (numpy arrays) so that 10,000 images sort and filter in a millisecond:
the misclassified images most confidently wrong first (which finds mislabelled photos), and the
images of one confusion-matrix cell, most confident first, found by binary search in one
precomputed order.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from functools import cached_property

import numpy as np

PROB_PREFIX = "p:"  # the CSV's probability columns: p:<class>


class RowsError(ValueError):
    """A per-image CSV that does not match its evaluation."""


@dataclass
class EvalRows:
    """One row per evaluated image.

    Attributes:
        paths: The file (absolute path) or in-memory key of each image.
        true: int32 true class (index into the evaluation's classes).
        predicted: int32 predicted class (the most probable).
        probabilities: float32 (N, C) the model's class probabilities.
    """

    paths: list[str]
    true: np.ndarray
    predicted: np.ndarray
    probabilities: np.ndarray

    def __len__(self) -> int:
        return len(self.paths)

    @cached_property
    def confidence(self) -> np.ndarray:
        """float32 probability of the predicted class, per image."""
        return self.probabilities[np.arange(len(self)), self.predicted] if len(self) \
            else np.zeros(0, np.float32)

    @cached_property
    def _cell_order(self) -> tuple[np.ndarray, np.ndarray]:
        """Row indices sorted by (true, predicted, confidence descending), and their cell keys."""
        n_classes = self.probabilities.shape[1]
        order = np.lexsort((-self.confidence, self.predicted, self.true))
        return order, (self.true.astype(np.int64) * n_classes + self.predicted)[order]

    def cell(self, true: int, predicted: int) -> np.ndarray:
        """Rows of one confusion-matrix cell, most confident first."""
        order, keys = self._cell_order
        key = true * self.probabilities.shape[1] + predicted
        return order[np.searchsorted(keys, key, "left"):np.searchsorted(keys, key, "right")]

    def wrong(self) -> np.ndarray:
        """Misclassified rows, most confidently wrong first."""
        wrong = np.flatnonzero(self.true != self.predicted)
        return wrong[np.argsort(-self.confidence[wrong], kind="stable")]

    def to_csv(self, classes: list[str]) -> bytes:
        """UTF-8 CSV: path, true, predicted, confidence, correct, then p:<class> per class."""
        buffer = io.StringIO(newline="")
        writer = csv.writer(buffer)
        writer.writerow(["path", "true", "predicted", "confidence", "correct",
                         *(PROB_PREFIX + c for c in classes)])
        for i in range(len(self)):
            writer.writerow([self.paths[i], classes[self.true[i]], classes[self.predicted[i]],
                             f"{self.confidence[i]:.6f}", int(self.true[i] == self.predicted[i]),
                             *(f"{p:.6f}" for p in self.probabilities[i])])
        return buffer.getvalue().encode("utf-8")

    @classmethod
    def from_csv(cls, text: str, classes: list[str]) -> EvalRows:
        """Rows read back from :meth:`to_csv`'s output.

        Raises:
            RowsError: Columns or classes that do not match ``classes``.
        """
        reader = csv.reader(io.StringIO(text, newline=""))
        header = next(reader, None)
        expected = ["path", "true", "predicted", "confidence", "correct",
                    *(PROB_PREFIX + c for c in classes)]
        if header != expected:
            raise RowsError(f"columns {header} are not {expected}")
        index = {c: i for i, c in enumerate(classes)}
        paths, true, predicted, probabilities = [], [], [], []
        try:
            for row in reader:
                paths.append(row[0])
                true.append(index[row[1]])
                predicted.append(index[row[2]])
                probabilities.append([float(v) for v in row[5:]])
        except (KeyError, ValueError, IndexError) as exc:
            raise RowsError(f"row {len(paths) + 1}: {exc!r}") from exc
        probs = np.asarray(probabilities, np.float32).reshape(-1, len(classes))
        return cls(paths, np.asarray(true, np.int32), np.asarray(predicted, np.int32), probs)
