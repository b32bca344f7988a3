"""A few validation images of every class with the run's prediction under each: a class can see
the model at work right after training (the Train tab's example strip).

The images are the run's own validation images, prepared and predicted exactly as evaluation
does (the run's input rule through :func:`~filterscope.core.results.feed.predict_images`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

from filterscope.core.base.jobs import Cancel, Report, SubReport, check_cancel
from filterscope.core.data.thumbnails import thumbnail
from filterscope.core.results.eval_sets import open_eval_set
from filterscope.core.results.feed import DatasetImages, predict_images
from filterscope.core.training.saved_model import open_model

PER_CLASS = 3
THUMB_SIDE = 96


@dataclass
class Example:
    """One validation image and what the model said.

    Attributes:
        name: The image's file (or a built-in dataset's key).
        thumbnail: uint8 RGB (or gray) picture, at most THUMB_SIDE on its longer side.
        true: Its class.
        predicted: The class predicted, or None when the file could not be read.
        probability: The predicted class's probability (0 when unread).
        error: Why the file could not be read, else None.
    """

    name: str
    thumbnail: np.ndarray
    true: str
    predicted: str | None
    probability: float
    error: str | None = None

    @property
    def correct(self) -> bool:
        """True when the prediction is the image's class."""
        return self.predicted == self.true


def class_examples(run_dir: str | os.PathLike, *, per_class: int = PER_CLASS, seed: int = 0,
                   report: Report, cancel: Cancel) -> list[Example]:
    """Up to ``per_class`` of a run's validation images per class (seeded picks), predicted by
    its best model, in class order.

    Raises:
        ModelLoadError: No model file, a damaged or unsafe one.
        EvalSetError: The run has no validation images, or its dataset is gone.
        Cancelled: ``cancel`` was set.
    """
    opened = open_model(run_dir, which="best", report=SubReport(report, 0.0, 0.3), cancel=cancel)
    evaluated = open_eval_set(opened, None, "val", report=SubReport(report, 0.3, 0.5), cancel=cancel)
    rng = np.random.default_rng(seed)
    chosen = []
    for label in range(len(opened.classes)):
        rows = np.flatnonzero(evaluated.labels == label)
        chosen += sorted(rng.choice(rows, size=min(per_class, len(rows)), replace=False).tolist())
    items = evaluated.images.items[np.asarray(chosen, np.int64)]
    images = DatasetImages(evaluated.images.dataset, items)
    predicted = predict_images(opened.model, images, opened.rule,
                               report=SubReport(report, 0.5, 0.4), cancel=cancel)
    examples = []
    for k, row in enumerate(chosen):
        check_cancel(cancel)
        true = opened.classes[int(evaluated.labels[row])]
        error = predicted.errors.get(k)
        picture = np.zeros((THUMB_SIDE, THUMB_SIDE, 3), np.uint8) if error else \
            thumbnail(images.dataset, int(items[k]), THUMB_SIDE)
        best = None if error else int(np.argmax(predicted.probabilities[k]))
        examples.append(Example(images.name(k), picture, true,
                                None if best is None else opened.classes[best],
                                0.0 if best is None else float(predicted.probabilities[k, best]), error))
    report.progress(1.0, f"{sum(e.correct for e in examples)} of {len(examples)} examples right")
    return examples
