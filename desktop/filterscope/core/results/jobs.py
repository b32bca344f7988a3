"""Jobs the Results tab runs: evaluate and save in one go, and thumbnails of evaluated images.

Thumbnails are keyed by the evaluation's row number, so a gallery of 10,000 rows asks only for
the rows on screen; an image of a built-in dataset held in memory is read from that dataset
(opened once, in the job); an image that cannot be read (a moved folder) gets the reason instead.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Sequence

from filterscope.core.base.formats import percent
from filterscope.core.base.jobs import Cancel, Report, SubReport, check_cancel
from filterscope.core.data.images import ImageReadError
from filterscope.core.data.item_images import item_thumbnail
from filterscope.core.data.source import Source
from filterscope.core.data.thumbnails import Thumbnail
from filterscope.core.results.decisions import Costs
from filterscope.core.results.evaluate import Evaluation, evaluate, rejudged
from filterscope.core.results.policy import KEEP, choose_policy
from filterscope.core.results.settings import EVALUATIONS
from filterscope.core.results.store import SavedEvaluations, list_evaluations, save_evaluation
from filterscope.core.training.saved_model import open_model

_BATCH_SECONDS = 0.04  # hand over what is ready at least this often, so the gallery fills smoothly


def evaluate_and_save(run_dir: str | os.PathLike, *, data: str | None = None,
                      subset: str | None = None, which: str = "best", tta: bool = False,
                      report: Report, cancel: Cancel) -> Evaluation:
    """Job: :func:`~.evaluate.evaluate`, then save it beside the run (its ``name`` is set)."""
    result = evaluate(run_dir, data=data, subset=subset, which=which, tta=tta,
                      report=SubReport(report, 0.0, 0.97), cancel=cancel)
    check_cancel(cancel)
    report.progress(0.98, "Saving the evaluation")
    save_evaluation(result)
    report.progress(1.0, f"Accuracy {percent(result.scores.accuracy)} on {result.n_images:,} images")
    return result


def decide_and_rejudge(evaluation: Evaluation, *, threshold: float | None | object = KEEP,
                       target_accuracy: float | None | object = KEEP, costs: Costs | None | object = KEEP,
                       report: Report, cancel: Cancel) -> Evaluation:
    """Job: save the evaluated run's policy (:func:`~.policy.choose_policy`, same arguments and
    errors), then judge the evaluation again with it and save it under its own name (its rows
    and scores do not change; what it records being decided does)."""
    opened = open_model(evaluation.run_dir, which=evaluation.model, report=SubReport(report, 0.0, 0.2),
                        cancel=cancel)
    policy = choose_policy(opened, threshold=threshold, target_accuracy=target_accuracy, costs=costs,
                           report=SubReport(report, 0.2, 0.7), cancel=cancel)
    check_cancel(cancel)
    result = rejudged(evaluation, policy)
    if evaluation.name:
        save_evaluation(result, out=Path(evaluation.run_dir) / EVALUATIONS / f"{evaluation.name}.json")
    report.progress(1.0, f"Saved with the run: {policy.describe()}")
    return result


def row_thumbnails(paths: Sequence[str], rows: Sequence[int], size: int, *,
                   source: Source | str | None = None, report: Report, cancel: Cancel) -> int:
    """Job: thumbnails of ``paths[row]`` for each of ``rows`` (most wanted first), reported as
    partial lists of :class:`~filterscope.core.data.thumbnails.Thumbnail` keyed by row.

    ``source`` is the evaluated set's (``evaluation.eval_set["source"]``): a row that is no file
    but an item of that in-memory dataset is read from it
    (:func:`~filterscope.core.data.item_images.item_thumbnail`).

    Returns:
        How many rows were handled (failures included).
    """
    batch: list[Thumbnail] = []
    last = time.monotonic()
    for row in rows:
        check_cancel(cancel)
        try:
            batch.append(Thumbnail(row, item_thumbnail(paths[row], source, size, report=report,
                                                       cancel=cancel), None))
        except ImageReadError as err:
            batch.append(Thumbnail(row, None, err.reason))
        if time.monotonic() - last >= _BATCH_SECONDS:
            report.partial(batch)
            batch, last = [], time.monotonic()
    if batch:
        report.partial(batch)
    return len(rows)


def saved_evaluations(run_dir: str | os.PathLike, *, report: Report, cancel: Cancel) -> SavedEvaluations:
    """Job: :func:`~.store.list_evaluations` (the runs folder may be a slow network drive)."""
    check_cancel(cancel)
    report.progress(0.0, "Listing the evaluations")
    return list_evaluations(run_dir)
