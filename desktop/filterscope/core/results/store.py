"""Evaluations saved beside their run, listed with it and read back.

``<run>/evaluations/<name>.json`` holds the result (scores, baseline, warnings, what was
evaluated) and ``<name>.csv`` one row per image; both are written atomically (CSV first, so a
listed JSON always has its rows), and never inside a dataset folder.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import NamedTuple, Sequence

import numpy as np

from filterscope.core.base.fileio import atomic_write_bytes, atomic_write_json, read_json_file, refuse_inside
from filterscope.core.base.jobs import Cancel, Report, check_cancel
from filterscope.core.data.source import FolderSource, Source
from filterscope.core.results.advice import Advice
from filterscope.core.results.evaluate import EVALUATION_VERSION, Evaluation
from filterscope.core.results.intervals import intervals_from_json
from filterscope.core.results.judgement import Judgement
from filterscope.core.results.metrics import Baseline, ClassScores, Scores
from filterscope.core.results.rows import EvalRows, RowsError
from filterscope.core.results.settings import EVALUATIONS
from filterscope.core.training.runs import RunReadError, load_run



class EvaluationReadError(ValueError):
    """A saved evaluation that cannot be read back; the message names the file."""


def default_name(evaluation: Evaluation) -> str:
    """``<YYYYmmdd-HHMMSS>-<model>-<set>``, e.g. ``20250101-120000-best-test``."""
    stamp = datetime.fromisoformat(evaluation.created).astimezone().strftime("%Y%m%d-%H%M%S") \
        if evaluation.created else datetime.now().strftime("%Y%m%d-%H%M%S")
    where = re.sub(r"[^\w.-]+", "-", evaluation.eval_set.get("name", ""), flags=re.ASCII).strip("-.")
    return f"{stamp}-{evaluation.model}-{where or 'images'}"[:100]


def save_evaluation(evaluation: Evaluation, *, out: str | os.PathLike | None = None,
                    name: str | None = None, refuse: Sequence[str | os.PathLike] = ()) -> Path:
    """Write the result's JSON and per-image CSV, atomically.

    Args:
        evaluation: The result; its ``name`` is set to the name saved under.
        out: A ``.json`` path (the CSV goes beside it, same name); None saves in the run's
            ``evaluations`` folder.
        name: The name there (default :func:`default_name`; ``-2``, ``-3``... when taken).
        refuse: More dataset folders nothing may be written into; the evaluated set's folder and
            the run's dataset folder are always refused.

    Returns:
        The JSON file.

    Raises:
        ValueError: ``out`` lies inside a dataset folder.
        OSError: The folder cannot be written.
    """
    roots = [*refuse, *_dataset_folders(evaluation)]
    if out is not None:
        target = Path(out).expanduser()
        if target.suffix.lower() != ".json":
            target = target.with_name(target.name + ".json")
    else:
        folder = Path(evaluation.run_dir) / EVALUATIONS
        stem = name or default_name(evaluation)
        target = folder / f"{stem}.json"
        for n in range(2, 1000):
            if not target.exists():
                break
            target = folder / f"{stem}-{n}.json"
    for root in roots:
        refuse_inside(target, root)
    target.parent.mkdir(parents=True, exist_ok=True)
    evaluation.name = target.stem
    atomic_write_bytes(target.with_suffix(".csv"), evaluation.rows.to_csv(evaluation.classes))
    atomic_write_json(target, {**evaluation.to_json(), "rows": target.with_suffix(".csv").name})
    return target


def _dataset_folders(evaluation: Evaluation) -> list[str]:
    """The evaluated set's folder and the run's dataset folder (as its run.json names it)."""
    sources = [evaluation.eval_set.get("source", "")]
    try:
        sources.append(load_run(evaluation.run_dir).spec["data"]["source"])
    except (RunReadError, KeyError, TypeError):
        pass
    parsed = [Source.parse_or_none(text) for text in sources]
    return [source.path for source in parsed if isinstance(source, FolderSource)]


@dataclass(frozen=True)
class SavedEvaluation:
    """A saved evaluation as a run's list shows it (its rows are not read)."""

    name: str
    path: Path
    created: str
    model: str
    description: str
    n_images: int
    accuracy: float
    baseline: float
    baseline_class: str
    n_warnings: int


class SavedEvaluations(NamedTuple):
    """A run's saved evaluations, oldest first, and a sentence per file that could not be read."""

    evaluations: list[SavedEvaluation]
    problems: list[str]


def list_evaluations(run_dir: str | os.PathLike) -> SavedEvaluations:
    """The evaluations saved in a run's ``evaluations`` folder (none when it has none)."""
    found, problems = [], []
    folder = Path(run_dir) / EVALUATIONS
    for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        try:
            data = read_json_file(path, EvaluationReadError, "evaluation")
            found.append(SavedEvaluation(
                path.stem, path, str(data["created"]), str(data["model"]),
                str(data["set"]["description"]), int(data["n_images"]), float(data["accuracy"]),
                float(data["majority_baseline"]["accuracy"]), str(data["majority_baseline"]["class"]),
                len(data["warnings"])))
        except (EvaluationReadError, KeyError, TypeError, ValueError) as exc:
            problems.append(f"{path}: not an evaluation this app can read ({exc})")
    return SavedEvaluations(sorted(found, key=lambda e: (e.created, e.name)), problems)


def load_evaluation(path: str | os.PathLike, *, report: Report, cancel: Cancel) -> Evaluation:
    """A saved evaluation with its rows (a job: a CSV of 10,000 images takes a moment).

    Raises:
        EvaluationReadError: The JSON or its CSV is missing, unreadable or not an evaluation's.
    """
    path = Path(path)
    check_cancel(cancel)
    report.progress(0.0, f"Reading {path.name}")
    data = read_json_file(path, EvaluationReadError, "evaluation")
    try:
        if data.get("version") != EVALUATION_VERSION:
            raise ValueError(f"version {data.get('version')!r}")
        classes = [str(c) for c in data["classes"]]
        csv_path = path.with_name(data["rows"])
        rows = EvalRows.from_csv(csv_path.read_text(encoding="utf-8"), classes)
        check_cancel(cancel)
        per_class = [ClassScores(str(c["class"]), float(c["precision"]), float(c["recall"]),
                                 float(c["f1"]), int(c["support"]), int(c["predicted"]))
                     for c in data["per_class"]]
        matrix = np.asarray(data["confusion_matrix"]["matrix"], np.int64).reshape(len(classes), -1)
        base = data["majority_baseline"]
        return Evaluation(
            Path(data["run_dir"]), str(data["model"]), data.get("epoch"), classes, dict(data["set"]),
            dict(data["input"]), rows,
            Scores(float(data["accuracy"]), float(data["balanced_accuracy"]), per_class, matrix),
            Baseline.from_json(base),
            [Advice(str(w["kind"]), str(w["message"]), str(w["advice"])) for w in data["warnings"]],
            [str(n) for n in data["notes"]], list(data["skipped"]), str(data["created"]), path.stem,
            intervals_from_json(data.get("intervals")), Judgement.from_json(data, classes),
            _tta_from_json(data.get("tta")), data.get("without_near_copies"))
    except (OSError, UnicodeDecodeError, RowsError, KeyError, TypeError, ValueError,
            AttributeError) as exc:
        raise EvaluationReadError(f"{path}: not an evaluation this app can read ({exc})") from exc


def _tta_from_json(tta: dict | None) -> dict | None:
    """A saved evaluation's test-time augmentation summary (None when off, or saved before it)."""
    if tta is None:
        return None
    return {"views": [str(v) for v in tta["views"]], "accuracy_without": float(tta["accuracy_without"]),
            "accuracy_with": float(tta["accuracy_with"]), "gain": float(tta["gain"])}
