"""Predicting new images with a trained model: :func:`predict`, a long job writing a CSV.

One image, or every image file in a folder and its sub-folders, is fed as the model's run fed
its training images (:mod:`~filterscope.core.results.feed`), in batches. Each image gets a row:
its path, the predicted class, the confidence (that class's probability), its calibrated
confidence (the run's temperature, :mod:`~filterscope.core.results.policy`), the decision (the
class of least expected cost under the run's error costs, or ``needs_review`` below its
threshold) and the top-k classes with their probabilities; a file that cannot be read gets a row
with the reason instead (and the decision ``needs_review``). The
CSV is written at the end, atomically: a cancelled or failed job leaves no CSV (and an earlier
one of the same name as it was), so a file that is there is complete. It is never written inside
the folder of images predicted, and never over an existing file unless ``overwrite`` says so.

The audit trail (:mod:`~filterscope.core.results.audit`): every row also carries ``run_id`` and
``model_sha256``, so a row copied out of the CSV (into a spreadsheet, a database, a bug report)
still says which model file answered it; 64 hex digits a row is a small price for that. What is
the same for the whole job (the threshold, target accuracy and costs, the temperature, the app's
version, the time, the input, the counts) is written once, in the sidecar ``<csv>.json`` beside
it: a CSV cannot carry a header comment that every reader accepts. The sidecar is renamed into
place first and the CSV last (:func:`~filterscope.core.base.fileio.atomic_write_files`), so the
CSV, what users open, is the commit point; the sidecar holds the CSV's SHA-256, so a CSV and a
sidecar left disagreeing by a power cut between the two renames can be told apart.

Class folders are not needed: any images can be predicted, including ones of classes the model
does not know (the notes name such folders: the model answers one of its own classes for them).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from filterscope.core.base.settings import declaration, declared_default
from filterscope.core.base.jobs import Cancel, Report, SubReport, check_cancel
from filterscope.core.results.audit import Scorer, now_utc
from filterscope.core.results.decisions import NEEDS_REVIEW
from filterscope.core.results.policy import Policy, ensure_fitted, load_policy
from filterscope.core.results.prediction import Prediction, write_prediction
from filterscope.core.results.settings import EvaluateSettings
from filterscope.core.results.targets import PredictError, check_output, list_images, unknown_folders
from filterscope.core.results.feed import BATCH_SIZE, FileImages, predict_images
from filterscope.core.training.saved_model import OpenedModel, open_model

DEFAULT_TOP_K = declared_default(EvaluateSettings, "top_k")


def predict(model_path: str | os.PathLike, target: str | os.PathLike, *,
            out: str | os.PathLike | None = None, which: str = "best", top_k: int = DEFAULT_TOP_K,
            tta: bool = False, report: Report, cancel: Cancel, opened: OpenedModel | None = None,
            decisions: Policy | None = None, batch_size: int = BATCH_SIZE,
            overwrite: bool = False) -> Prediction:
    """Predict one image or a folder of images and write the CSV ``out`` (when given) and its
    audit sidecar ``<out>.json`` (:func:`~filterscope.core.results.audit.sidecar_path`).

    Args:
        model_path: A run folder or a ``.keras`` file (ignored when ``opened`` is given).
        target: An image file or a folder (searched recursively).
        out: The CSV to write; None writes none.
        which: A run's ``best`` or ``last`` model.
        top_k: Classes per row (at most the model's number of classes).
        tta: Test-time augmentation: average each image's probabilities over a few views
            (:mod:`~filterscope.core.results.tta`); its gain is measured by evaluating.
        report: Progress; partials ``{"kind": "predicted", "done", "total", "rows"}`` after
            every batch (rows as in :meth:`Prediction.rows`).
        cancel: Polled between batches; a cancelled job writes nothing.
        opened: An already opened model (the app keeps one loaded between predictions).
        decisions: The threshold and costs to decide with; None: the run's saved policy. The
            temperature is always the run's (fitted on its validation images the first time).
        batch_size: Images per batch.
        overwrite: Replace an existing ``out`` (checked before the model runs, and again before
            writing); False refuses it.

    Raises:
        ModelLoadError: The model cannot be opened or is refused.
        PredictError: Nothing to predict, a CSV inside the folder predicted or over an existing
            file without ``overwrite``, a bad ``top_k``.
        Cancelled: ``cancel`` was set.
        OSError: The CSV cannot be written.
    """
    declaration(EvaluateSettings, "top_k").check("top-k", top_k, PredictError)
    paths = list_images(target)
    if out is not None:
        out = check_output(out, target, overwrite=overwrite)  # before the job, not after it
    if opened is None:
        opened = open_model(model_path, which=which, report=SubReport(report, 0.0, 0.05), cancel=cancel)
    classes = list(opened.classes)
    fitted, not_fitted = ensure_fitted(opened, report=SubReport(report, 0.05, 0.05), cancel=cancel)
    if decisions is None:
        decisions = Policy() if opened.run is None else load_policy(opened.run.run_dir, classes)
    notes = list(opened.notes) + unknown_folders(target, classes) + ([not_fitted] if not_fitted else [])
    result = Prediction(opened.describe(), classes, paths, np.zeros((0, len(classes)), np.float32), {},
                        min(top_k, len(classes)), notes=notes,
                        temperature=fitted.calibration.temperature if fitted else 1.0,
                        threshold=decisions.threshold, tta=tta, target_accuracy=decisions.target_accuracy,
                        costs=None if decisions.costs is None else decisions.costs.for_classes(classes),
                        scorer=Scorer.of(opened), target=Path(target).expanduser().absolute())
    done = [0]

    def partial(indices: np.ndarray, probabilities: np.ndarray, failed: dict) -> None:
        done[0] += len(indices) + len(failed)
        batch = Prediction(result.model, classes, [paths[i] for i in indices], probabilities, {},
                           result.top_k, temperature=result.temperature, threshold=result.threshold,
                           costs=result.costs)
        report.partial({"kind": "predicted", "done": done[0], "total": len(paths),
                        "rows": batch.rows() + [{"path": str(paths[i]), "predicted": None,
                                                 "confidence": None, "calibrated_confidence": None,
                                                 "decision": NEEDS_REVIEW, "top": [], "error": why}
                                                for i, why in failed.items()]})

    predicted = predict_images(opened.model, FileImages(paths), opened.rule,
                               report=SubReport(report, 0.1, 0.88), cancel=cancel,
                               batch_size=batch_size, tta=tta, on_batch=partial)
    result.probabilities, result.errors = predicted.probabilities, predicted.errors
    check_cancel(cancel)
    result.scored_at = now_utc()
    if out is not None:
        report.progress(0.98, f"Writing {out.name}")
        write_prediction(result, out, target, overwrite=overwrite)  # checks `out` again
    report.progress(1.0, f"Predicted {len(paths) - len(result.errors):,} image(s)"
                    + (f"; {len(result.errors):,} could not be read" if result.errors else ""))
    return result
