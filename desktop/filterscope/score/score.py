"""Scoring images with an exported model: :func:`score`, the same job as ``filterscope predict``.

The rows, the CSV, its audit sidecar and their atomic writing are
:mod:`~filterscope.core.results.prediction`'s; the images are read, masked, resized and scaled by
:mod:`~filterscope.core.results.feed` (the app's feed, decoding in background threads), with the
run's input rule, temperature, threshold and costs taken from the export's manifest.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from filterscope.core.base.settings import declaration, declared_default
from filterscope.core.base.jobs import Cancel, Report, SubReport, check_cancel
from filterscope.core.results.audit import now_utc
from filterscope.core.results.decisions import Costs
from filterscope.core.results.feed import FileImages, predict_images
from filterscope.core.results.prediction import Prediction, write_prediction
from filterscope.core.results.settings import EvaluateSettings
from filterscope.core.results.targets import PredictError, check_output, list_images, unknown_folders
from filterscope.core.training.model_input import InputRule
from filterscope.score.onnx_model import OnnxModel, open_onnx

DEFAULT_TOP_K = declared_default(EvaluateSettings, "top_k")  # `filterscope predict`'s
# Smaller than the app's 64: ONNX Runtime's convolutions stay in cache (the chapter's ConvNet at
# 150 px, one thread: about 0.24 s of CPU for 512 images by 8, 0.26 by 16, 0.33 by 32, 0.39 by
# 64); whole jobs by 8, 16 and 32 were within the noise of a shared machine.
BATCH_SIZE = 16
_KEEP = object()


def score(model_path: str | os.PathLike, target: str | os.PathLike, *, out: str | os.PathLike | None = None,
          top_k: int = DEFAULT_TOP_K, report: Report, cancel: Cancel, opened: OnnxModel | None = None,
          threshold: float | None | object = _KEEP, costs: Costs | None | object = _KEEP,
          batch_size: int = BATCH_SIZE, overwrite: bool = False) -> Prediction:
    """Score one image or a folder with an exported ONNX model; write the CSV ``out`` (when given)
    and its audit sidecar ``<out>.json``, as :func:`~filterscope.core.results.predict.predict`.

    Args:
        model_path: The ``.onnx`` file (its manifest beside it); ignored when ``opened`` is given.
        target: An image file or a folder (searched recursively).
        out: The CSV to write; None writes none.
        top_k: Classes per row (at most the model's number of classes).
        report: Progress, one step a batch.
        cancel: Polled between batches; a cancelled job writes nothing.
        opened: An already opened model.
        threshold: Needs review below this calibrated confidence; default: the manifest's.
        costs: Error costs; default: the manifest's.
        batch_size: Images per batch.
        overwrite: Replace an existing ``out``.

    Raises:
        ModelError: The export cannot be opened.
        PredictError: Nothing to score, a bad ``top_k``, ``out`` inside the folder or over an
            existing file without ``overwrite``.
        Cancelled: ``cancel`` was set.
        OSError: The CSV cannot be written.
    """
    declaration(EvaluateSettings, "top_k").check("top-k", top_k, PredictError)
    paths = list_images(target)
    if out is not None:
        out = check_output(out, target, overwrite=overwrite)  # before the model runs
    report.progress(0.0, "Opening the model")
    model = opened or open_onnx(model_path)
    check_cancel(cancel)
    result = empty_prediction(model, paths, target, top_k, threshold, costs)
    manifest = model.manifest
    predicted = predict_images(model, FileImages(paths), InputRule.from_json(manifest.input), report=SubReport(report, 0.02, 0.96),
                               cancel=cancel, batch_size=batch_size, pad=False)
    result.probabilities, result.errors = predicted.probabilities, predicted.errors
    check_cancel(cancel)
    return finish(result, out, target, overwrite=overwrite, report=report)


def finish(result: Prediction, out: str | os.PathLike | None, target: str | os.PathLike, *, overwrite: bool,
           report: Report, failed: str = "could not be read") -> Prediction:
    """The end of a scoring, on one machine or a cluster: the time it was scored, the CSV and
    its sidecar written when ``out`` is given, and how many images were scored (and ``failed``)."""
    result.scored_at = now_utc()
    if out is not None:
        report.progress(0.98, f"Writing {Path(out).name}")
        write_prediction(result, out, target, overwrite=overwrite)
    report.progress(1.0, f"Scored {len(result.paths) - len(result.errors):,} image(s)"
                    + (f"; {len(result.errors):,} {failed}" if result.errors else ""))
    return result


def empty_prediction(model: OnnxModel, paths: list[Path], target: str | os.PathLike, top_k: int,
                     threshold: float | None | object, costs: Costs | None | object) -> Prediction:
    """The result a scoring starts from, before any image is scored: the model, its classes, the
    manifest's temperature, and its threshold and costs unless given (``_KEEP``: the manifest's)."""
    manifest = model.manifest
    classes = list(manifest.classes)
    saved = None if manifest.costs is None else Costs.from_json(manifest.costs, classes, str(model.path))
    chosen = saved if costs is _KEEP else costs
    return Prediction(model.describe(), classes, paths, np.zeros((0, len(classes)), np.float32), {},
                      min(top_k, len(classes)), notes=unknown_folders(target, classes),
                      temperature=manifest.temperature,
                      threshold=manifest.threshold if threshold is _KEEP else threshold,
                      target_accuracy=manifest.target_accuracy if threshold is _KEEP else None,
                      costs=None if chosen is None else chosen.for_classes(classes),
                      scorer=model.scorer(), target=Path(target).expanduser().absolute())
