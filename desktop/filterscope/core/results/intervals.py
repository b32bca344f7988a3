"""How sure the figures are: seeded bootstrap confidence intervals for accuracy, balanced accuracy
and macro-F1, one function (:func:`bootstrap_intervals`) used by evaluation, the CLI, the Results
tab and the report alike.

Every one of these figures depends on the images only through the confusion matrix, so drawing
``n`` images with replacement is the same as drawing the matrix's cells from a multinomial with
the observed cell shares: each resample costs O(classes²), not O(images), and 1,000 resamples of
10,000 images take milliseconds. The interval is the percentile interval of the resampled figures.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from filterscope.core.base.formats import percent

LEVEL = 0.95
RESAMPLES = 1000
SEED = 0
METRICS = ("accuracy", "balanced_accuracy", "macro_f1")


@dataclass(frozen=True)
class Interval:
    """A figure with its bootstrap confidence interval.

    Attributes:
        value: The figure on the evaluated images.
        low: The interval's lower end (the ``(1 - level) / 2`` quantile of the resamples).
        high: Its upper end.
        level: Its confidence level (0.95).
        resamples: Bootstrap resamples drawn.
        seed: The random seed, so the same images always give the same interval.
    """

    value: float
    low: float
    high: float
    level: float = LEVEL
    resamples: int = RESAMPLES
    seed: int = SEED

    def to_json(self) -> dict:
        """A JSON-able dict."""
        return {"value": self.value, "low": self.low, "high": self.high, "level": self.level,
                "resamples": self.resamples, "seed": self.seed}

    @classmethod
    def from_json(cls, data: dict) -> Interval:
        """The inverse of :meth:`to_json`."""
        return cls(float(data["value"]), float(data["low"]), float(data["high"]),
                   float(data["level"]), int(data["resamples"]), int(data["seed"]))

    def describe(self) -> str:
        """``"50.0 % (95 % CI 43.4–56.8 %)"``."""
        return f"{percent(self.value)} ({percent(self.level, 0)} CI " \
               f"{percent(self.low).removesuffix(' %')}–{percent(self.high)})"


def with_interval(value: float, interval: Interval | None) -> str:
    """``value`` as a percentage, followed by its interval when there is one (evaluations saved
    before intervals have none)."""
    return interval.describe() if interval is not None else percent(value)


def intervals_from_json(data: dict | None) -> dict[str, Interval] | None:
    """A saved ``intervals`` mapping read back; None (nothing saved) stays None."""
    return None if data is None else {name: Interval.from_json(d) for name, d in data.items()}


def bootstrap_intervals(true: np.ndarray, predicted: np.ndarray, n_classes: int, *,
                        resamples: int = RESAMPLES, seed: int = SEED,
                        level: float = LEVEL) -> dict[str, Interval]:
    """Percentile bootstrap intervals of accuracy, balanced accuracy and macro-F1.

    Balanced accuracy is the mean recall over the classes with images (scikit-learn's
    ``balanced_accuracy_score``); macro-F1 the mean F1 over the classes with images or
    predictions (``f1_score(average="macro")``), both recomputed on every resample.

    Args:
        true: Class indices of the images' labels.
        predicted: Class indices predicted, one per image.
        n_classes: How many classes there are (indices lie below it).
        resamples: Bootstrap resamples of the images.
        seed: The random seed.
        level: The confidence level.

    Returns:
        ``{"accuracy", "balanced_accuracy", "macro_f1"}`` -> :class:`Interval`.

    Raises:
        ValueError: No images, or labels and predictions of different lengths.
    """
    true, predicted = np.asarray(true, np.int64), np.asarray(predicted, np.int64)
    if not len(true) or len(true) != len(predicted):
        raise ValueError(f"need as many predictions as labels, at least one "
                         f"({len(true)} labels, {len(predicted)} predictions)")
    cells = np.bincount(true * n_classes + predicted, minlength=n_classes * n_classes)
    observed = _figures(cells.reshape(1, n_classes, n_classes))
    rng = np.random.default_rng(seed)
    drawn = rng.multinomial(len(true), cells / cells.sum(), size=resamples)
    figures = _figures(drawn.reshape(resamples, n_classes, n_classes))
    tail = (1 - level) / 2
    return {name: Interval(float(observed[name][0]), *map(float, np.quantile(figures[name], [tail, 1 - tail])),
                           level, resamples, seed)
            for name in METRICS}


def _figures(matrices: np.ndarray) -> dict[str, np.ndarray]:
    """The three figures of each confusion matrix of ``matrices`` (B, C, C; rows true)."""
    hits = np.diagonal(matrices, axis1=1, axis2=2).astype(np.float64)
    support, answered = matrices.sum(axis=2), matrices.sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        recall = np.where(support > 0, hits / support, 0.0)
        f1 = np.where(support + answered > 0, 2 * hits / (support + answered), 0.0)
    has_images, present = support > 0, (support + answered) > 0
    return {"accuracy": hits.sum(axis=1) / matrices.sum(axis=(1, 2)),
            "balanced_accuracy": recall.sum(axis=1) / has_images.sum(axis=1),
            "macro_f1": f1.sum(axis=1) / present.sum(axis=1)}
