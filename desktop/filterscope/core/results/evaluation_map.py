"""The map of an evaluation's photos (:mod:`filterscope.core.quality.embedding`), coloured by
prediction or right/wrong: the features of the evaluated set's dataset, from the feature cache."""

from __future__ import annotations

import os

from filterscope.core.base.jobs import Cancel, Report, SubReport
from filterscope.core.quality.embedding import DataMap, evaluation_map
from filterscope.core.quality.features import dataset_features
from filterscope.core.results.evaluate import Evaluation


def evaluation_points(evaluation: Evaluation, *, report: Report, cancel: Cancel,
                      cache_dir: str | os.PathLike | None = None, seed: int = 0) -> DataMap:
    """The map of an evaluation's photos (``DataMap.eval_rows`` are their evaluation rows).

    Raises:
        PipelineError, WeightsUnavailable, WeightsError, FeatureCacheError: As
            :func:`~filterscope.core.quality.features.dataset_features`.
        Cancelled: ``cancel`` was set.
    """
    found = dataset_features(str(evaluation.eval_set["source"]), report=SubReport(report, 0.0, 0.5),
                             cancel=cancel, cache_dir=cache_dir, seed=seed)
    rows = evaluation.rows
    return evaluation_map(found, list(rows.paths), rows.true, rows.predicted, evaluation.classes,
                          report=SubReport(report, 0.5, 1.0), cancel=cancel, seed=seed, name=evaluation.name)
