"""Test photos with a near-copy in training: the warning, and accuracy without them.

Evaluation never hashes a dataset itself (the check reads every image: a job the user starts in
the Dataset tab or with ``filterscope duplicates``). It reads the last saved check of the
evaluated dataset (:func:`~filterscope.core.quality.duplicates.load_near_copies`, kept in the
app's feature cache) and, when there is one, names the test photos that have a near-copy among
the training or validation photos and scores the model without them. Without a saved check it
says nothing: no check is not the same as no leakage, and the Dataset tab offers the check.
Only a ``test`` set is checked: a run's validation images are a seeded split the saved check may
have drawn with another seed.
"""

from __future__ import annotations

import os

import numpy as np

from filterscope.core.quality.duplicates import NearCopies, load_near_copies
from filterscope.core.results.advice import Advice
from filterscope.core.results.intervals import Interval, bootstrap_intervals


def without_near_copies(names: list[str], true: np.ndarray, predicted: np.ndarray, n_classes: int,
                        check: NearCopies) -> dict | None:
    """Accuracy on the evaluated images that have no near-copy in training.

    Args:
        names: The path of each evaluated image (``EvalRows.names``).
        true: Their true classes.
        predicted: The model's answers.
        n_classes: Classes of the run.
        check: The dataset's near-copy check.

    Returns:
        None when no evaluated image has a near-copy in training; else ``{"n_removed", "n_left",
        "accuracy", "interval", "checked"}`` (``accuracy`` and ``interval`` None when every image
        had one; ``checked`` is when the check was made).
    """
    leaked = check.leaked()
    removed = np.array([os.path.abspath(n) in leaked for n in names], bool)
    if not removed.any():
        return None
    keep = ~removed
    accuracy, interval = None, None
    if keep.any():
        found = bootstrap_intervals(np.asarray(true)[keep], np.asarray(predicted)[keep], n_classes)
        accuracy, interval = float(found["accuracy"].value), found["accuracy"].to_json()
    return {"n_removed": int(removed.sum()), "n_left": int(keep.sum()), "accuracy": accuracy,
            "interval": interval, "checked": check.created}


def near_copy_warning(summary: dict | None, n_images: int) -> Advice | None:
    """"N test photos have a near-copy in training", with the accuracy without them."""
    if not summary:
        return None
    if summary["interval"] is not None:
        without = f"Without them accuracy is {Interval.from_json(summary['interval']).describe()} " \
                  f"on {summary['n_left']:,} photos."
    else:
        without = "No test photo is left without one."
    return Advice("near-copies",
                  f"{summary['n_removed']:,} of the {n_images:,} test photos have a near-copy in "
                  f"training (near-copy check of {summary['checked'] or 'an unknown date'}): the "
                  f"model may remember them rather than recognise them, so the test figures flatter "
                  f"it. {without}",
                  "move or delete one photo of each pair so that no test photo has a near-copy in "
                  "train/ or val/ (the Dataset tab's Near-copies list or `filterscope duplicates "
                  "DATA --out groups.csv` name them), then train and evaluate again; until then "
                  "quote the accuracy without them.")


def leakage_check(source, subset: str | None, names: list[str], true: np.ndarray,
                  predicted: np.ndarray, n_classes: int,
                  cache_dir: str | os.PathLike | None = None) -> tuple[dict | None, Advice | None]:
    """The summary and warning for an evaluated set, from the dataset's saved near-copy check
    (``(None, None)`` without a check, for a set other than ``test``, or without leakage)."""
    if subset != "test":
        return None, None
    check = load_near_copies(source, cache_dir)
    if check is None:
        return None, None
    summary = without_near_copies(names, true, predicted, n_classes, check)
    return summary, near_copy_warning(summary, len(names))
