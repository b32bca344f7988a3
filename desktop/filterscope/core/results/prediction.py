"""The result of predicting images, :class:`Prediction`, and how it is written: the CSV (one row
per image) and its audit sidecar, atomically (:func:`write_prediction`).

Numpy-only, without TensorFlow: ``filterscope predict`` (:mod:`~filterscope.core.results.predict`,
a Keras model) and ``filterscope-score`` (:mod:`filterscope.score`, an exported ONNX model) build
the same rows, columns and sidecar here, so the two CSVs cannot drift apart.
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

from filterscope.core.base.fileio import atomic_write_files
from filterscope.core.results.audit import Scorer, audit_record, sidecar_path
from filterscope.core.results.calibration import apply_temperature
from filterscope.core.results.decisions import NEEDS_REVIEW, Costs, decide, decision_names
from filterscope.core.results.targets import check_output


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

    def top(self, i: int, *, calibrated: bool = False) -> list[tuple[str, float]]:
        """The ``top_k`` (class, probability) of row ``i``, most probable first ([] if unread): the
        model's own probabilities, or the calibrated ones (the same order)."""
        if i in self.errors:
            return []
        order = np.argsort(-self.probabilities[i], kind="stable")[:self.top_k]
        row = apply_temperature(self.probabilities[i:i + 1], self.temperature)[0] if calibrated \
            else self.probabilities[i]
        return [(self.classes[j], float(row[j])) for j in order]

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



def write_prediction(result: Prediction, out: str | os.PathLike, target: str | os.PathLike, *,
                     overwrite: bool) -> None:
    """Write ``result``'s CSV to ``out`` and its audit sidecar beside it (sidecar renamed into place
    first, the CSV last: a CSV that is there is complete); set ``result.out`` and ``csv_sha256``.

    Raises:
        PredictError: ``out`` inside ``target``, or an existing file without ``overwrite`` (checked
            again here: a file made while the images were scored is not replaced either).
        OSError: The files cannot be written (``result`` is left without ``out``).
    """
    out = check_output(out, target, overwrite=overwrite)
    table = result.to_csv()
    result.out, result.csv_sha256 = out, hashlib.sha256(table).hexdigest()
    audit = (json.dumps(result.audit(), indent=2, ensure_ascii=False) + "\n").encode("utf-8")
    try:
        atomic_write_files([(sidecar_path(out), audit), (out, table)])
    except BaseException:
        result.out = result.csv_sha256 = None
        raise
