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

import csv
import hashlib
import io
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from filterscope.core.base.settings import declaration, declared_default
from filterscope.core.base.fileio import atomic_write_files
from filterscope.core.base.jobs import Cancel, Report, SubReport, check_cancel
from filterscope.core.results.audit import Scorer, audit_record, now_utc, sidecar_path
from filterscope.core.results.calibration import apply_temperature
from filterscope.core.results.decisions import NEEDS_REVIEW, Costs, decide, decision_names
from filterscope.core.results.policy import Policy, ensure_fitted, load_policy
from filterscope.core.results.settings import EvaluateSettings
from filterscope.core.results.targets import PredictError, check_output, list_images, unknown_folders
from filterscope.core.results.feed import BATCH_SIZE, FileImages, predict_images
from filterscope.core.training.saved_model import OpenedModel, open_model

DEFAULT_TOP_K = declared_default(EvaluateSettings, "top_k")


@dataclass
class Prediction:
    """Class probabilities of new images.

    Attributes:
        model: What model predicted (``OpenedModel.describe()``).
        classes: Its classes, in output order.
        paths: Every image file, in the order listed (folders sorted by name).
        probabilities: float32 (N, C); NaN rows for files that could not be read.
        errors: Row index -> why the file could not be read.
        top_k: Classes listed per row.
        out: The CSV written, or None.
        notes: Plain sentences (assumptions about a bare model file, folders of unknown classes).
        temperature: The calibration temperature (1.0: not calibrated).
        threshold: Needs review below this calibrated confidence, or None.
        costs: The error costs deciding, or None.
        tta: Whether the probabilities are averaged over test-time augmentation's views
            (:mod:`~filterscope.core.results.tta`).
        target_accuracy: The accuracy the threshold was chosen for, or None.
        scorer: The run and model file that scored (for the audit trail), or None.
        target: The image or folder predicted.
        scored_at: When the job ended (ISO 8601, UTC).
        csv_sha256: The SHA-256 of the CSV written, or None.
    """

    model: str
    classes: list[str]
    paths: list[Path]
    probabilities: np.ndarray
    errors: dict[int, str]
    top_k: int
    out: Path | None = None
    notes: list[str] = field(default_factory=list)
    temperature: float = 1.0
    threshold: float | None = None
    costs: Costs | None = None
    tta: bool = False
    target_accuracy: float | None = None
    scorer: Scorer | None = None
    target: Path | None = None
    scored_at: str = ""
    csv_sha256: str | None = None

    def audit(self) -> dict:
        """The audit record (:func:`~filterscope.core.results.audit.audit_record`): what the
        sidecar of the CSV holds and ``--json`` prints as ``audit``."""
        return audit_record(self)

    def calibrated(self) -> np.ndarray:
        """(N, C) the calibrated probabilities (NaN rows for unread files)."""
        return apply_temperature(self.probabilities, self.temperature)

    def decisions(self) -> list[str]:
        """Per row: the class decided, or ``needs_review`` (also for a file that could not be read)."""
        return decision_names(decide(self.calibrated(), threshold=self.threshold, costs=self.costs),
                              self.classes)

    def top(self, i: int) -> list[tuple[str, float]]:
        """The ``top_k`` (class, probability) of row ``i``, most probable first ([] if unread)."""
        if i in self.errors:
            return []
        order = np.argsort(-self.probabilities[i], kind="stable")[:self.top_k]
        return [(self.classes[j], float(self.probabilities[i, j])) for j in order]

    def rows(self) -> list[dict]:
        """One dict per image: path, predicted, confidence, calibrated_confidence, decision, top
        (class, probability), error."""
        rows, calibrated, decisions = [], self.calibrated(), self.decisions()
        for i, path in enumerate(self.paths):
            top = self.top(i)
            rows.append({"path": str(path), "predicted": top[0][0] if top else None,
                         "confidence": top[0][1] if top else None,
                         "calibrated_confidence": float(np.max(calibrated[i])) if top else None,
                         "decision": decisions[i],
                         "top": [{"class": c, "probability": p} for c, p in top],
                         "error": self.errors.get(i)})
        return rows

    def counts(self) -> dict[str, int]:
        """Images predicted per class, in class order."""
        read = [i for i in range(len(self.paths)) if i not in self.errors]
        winners = np.bincount(self.probabilities[read].argmax(axis=1), minlength=len(self.classes)) \
            if read else np.zeros(len(self.classes), np.int64)
        return {c: int(n) for c, n in zip(self.classes, winners)}

    def decision_counts(self) -> dict[str, int]:
        """Images per decision (classes in order, then ``needs_review``), unread files left out."""
        decided = [d for i, d in enumerate(self.decisions()) if i not in self.errors]
        return {c: decided.count(c) for c in [*self.classes, NEEDS_REVIEW]}

    def to_csv(self) -> bytes:
        """UTF-8 CSV: path, predicted, confidence, calibrated_confidence, decision, class_1,
        probability_1... class_k, probability_k, error, run_id, model_sha256 (the probabilities
        are the model's own; the last two, the same on every row, trace a row copied elsewhere)."""
        buffer = io.StringIO(newline="")
        writer = csv.writer(buffer)
        ranks = range(1, self.top_k + 1)
        scorer = self.scorer or Scorer()
        trace = [scorer.run_id, scorer.model_sha256 or ""]
        writer.writerow(["path", "predicted", "confidence", "calibrated_confidence", "decision",
                         *(f"{name}_{k}" for k in ranks for name in ("class", "probability")), "error",
                         "run_id", "model_sha256"])
        for row in self.rows():
            top = row["top"]
            cells = [v for t in top for v in (t["class"], f"{t['probability']:.6f}")] or [""] * (2 * self.top_k)
            writer.writerow([row["path"], row["predicted"] or "",
                             f"{row['confidence']:.6f}" if top else "",
                             f"{row['calibrated_confidence']:.6f}" if top else "", row["decision"],
                             *cells, row["error"] or "", *trace])
        return buffer.getvalue().encode("utf-8")

    def to_json(self) -> dict:
        """A JSON-able summary with every row."""
        return {"model": self.model, "classes": list(self.classes), "top_k": self.top_k,
                "n_images": len(self.paths) - len(self.errors), "n_failed": len(self.errors),
                "counts": self.counts(), "decisions": self.decision_counts(), "temperature": self.temperature,
                "threshold": self.threshold, "costs": None if self.costs is None else self.costs.to_json(),
                "out": None if self.out is None else str(self.out),
                "notes": list(self.notes), "tta": self.tta, "rows": self.rows(), "audit": self.audit()}


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
        check_output(out, target, overwrite=overwrite)  # a file made meanwhile is not replaced either
        table = result.to_csv()
        result.out, result.csv_sha256 = out, hashlib.sha256(table).hexdigest()
        audit = (json.dumps(result.audit(), indent=2, ensure_ascii=False) + "\n").encode("utf-8")
        try:
            atomic_write_files([(sidecar_path(out), audit), (out, table)])
        except BaseException:
            result.out = result.csv_sha256 = None
            raise
    report.progress(1.0, f"Predicted {len(paths) - len(result.errors):,} image(s)"
                    + (f"; {len(result.errors):,} could not be read" if result.errors else ""))
    return result
