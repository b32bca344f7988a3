"""The audit trail of a prediction: what scored the images, with which rule, when.

A predictions CSV ``preds.csv`` gets a sidecar ``preds.csv.json`` (the CSV's full name plus
``.json``, never ``preds.json``: ``filterscope evaluate --out eval.json`` writes ``eval.json``
beside ``eval.csv``, and a predictions sidecar named by swapping the suffix could replace such an
evaluation). :func:`audit_record` builds it, the one record the CLI (``--json``'s ``audit``), the
app and the sidecar share: the run (its folder's name, run.json's ``id`` if it has one), the
model file with its SHA-256, which file (best/last) and its epoch, the classes, the calibration
temperature, the threshold (with the target accuracy it was chosen for) and the costs, test-time
augmentation, top-k, the app's version, the time (ISO 8601, UTC), the input, the counts, and the
CSV's own SHA-256 so that a sidecar and a CSV can be checked to belong together.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

from filterscope import __version__
from filterscope.core.base.fileio import file_sha256

if TYPE_CHECKING:  # types only: saved_model reaches Keras, and filterscope-score runs without it
    from filterscope.core.results.prediction import Prediction
    from filterscope.core.training.saved_model import OpenedModel

AUDIT_FORMAT = "filterscope-predictions-audit"
AUDIT_VERSION = 1
SIDECAR_SUFFIX = ".json"


@dataclass(frozen=True)
class Scorer:
    """What scored: a run's model file, a bare ``.keras`` file or an ImageNet model.

    Attributes:
        run_name: The run folder's name (None: not a run's model).
        run_json_id: The ``id`` in the run's run.json, if it has one.
        run_dir: The run folder.
        model_path: The model (or weights) file, None when there is none (random weights).
        model_sha256: That file's SHA-256 (hex), None without a file.
        which: ``best``, ``last`` or ``file``.
        epoch: The epoch the file holds, when known.
    """

    run_name: str | None = None
    run_json_id: str | None = None
    run_dir: str | None = None
    model_path: str | None = None
    model_sha256: str | None = None
    which: str = "file"
    epoch: int | None = None

    @classmethod
    def of(cls, opened: OpenedModel) -> Scorer:
        """The scorer of an opened model (hashing its file: cached by path, size and time)."""
        path = Path(opened.path)
        has_file = path.is_file()
        run = opened.run
        run_id = opened.info.get("id") if isinstance(opened.info, dict) else None
        return cls(run_name=None if run is None or run.run_dir is None else run.run_dir.name,
                   run_json_id=None if run_id is None else str(run_id),
                   run_dir=None if run is None or run.run_dir is None else str(run.run_dir),
                   model_path=str(path.absolute()) if has_file else None,
                   model_sha256=file_sha256(path) if has_file else None,
                   which=opened.which, epoch=opened.epoch)

    @property
    def run_id(self) -> str:
        """The id a CSV row carries: run.json's id, else the run folder's name ("" for no run)."""
        return self.run_json_id or self.run_name or ""


def now_utc() -> str:
    """The time now, ISO 8601 in UTC to the second (``2025-01-31T12:00:00+00:00``)."""
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def sidecar_path(csv_path: str | os.PathLike) -> Path:
    """The audit sidecar of a predictions CSV: ``preds.csv`` -> ``preds.csv.json``."""
    path = Path(csv_path)
    return path.with_name(path.name + SIDECAR_SUFFIX)


def audit_record(prediction: Prediction) -> dict:
    """The audit record of a prediction (JSON-able), as the sidecar and ``--json`` carry it."""
    scorer = prediction.scorer or Scorer()
    n = len(prediction.paths)
    target = prediction.target
    return {
        "format": AUDIT_FORMAT, "version": AUDIT_VERSION,
        "time": prediction.scored_at, "app_version": __version__,
        "run": None if scorer.run_name is None else {"name": scorer.run_name, "id": scorer.run_json_id,
                                                     "dir": scorer.run_dir},
        "model": {"description": prediction.model, "path": scorer.model_path,
                  "sha256": scorer.model_sha256, "which": scorer.which, "epoch": scorer.epoch},
        "classes": list(prediction.classes),
        "temperature": prediction.temperature, "threshold": prediction.threshold,
        "target_accuracy": prediction.target_accuracy,
        "costs": None if prediction.costs is None else prediction.costs.to_json(),
        "tta": prediction.tta, "top_k": prediction.top_k,
        "input": None if target is None else {"path": str(target),
                                              "kind": "folder" if Path(target).is_dir() else "image"},
        "counts": {"images": n, "predicted": n - len(prediction.errors),
                   "unreadable": len(prediction.errors), "decisions": prediction.decision_counts()},
        "csv": None if prediction.out is None else {"path": str(prediction.out),
                                                    "sha256": prediction.csv_sha256},
    }
