"""Evaluating a run's model on labelled images: :func:`evaluate`, a long job.

The model (``best.keras`` or ``last.keras``) is opened safely, the evaluation set chosen
(:mod:`~filterscope.core.results.eval_sets`), its images fed exactly as training fed them
(:mod:`~filterscope.core.results.feed`), and the result scored with scikit-learn: accuracy next
to the majority baseline, balanced accuracy, per-class precision, recall, F1 and support, the
confusion matrix in the run's class order, every image's row, and the warnings a careful analyst
would add (:mod:`~filterscope.core.results.advice`). Files that cannot be read are named and
left out. With test-time augmentation (``tta``, :mod:`~filterscope.core.results.tta`) the
result is that of the averaged views, and ``Evaluation.tta`` measures its gain over the identity
view alone on the same images. The probabilities are calibrated with the run's temperature and
decided with its threshold and costs (:mod:`~filterscope.core.results.policy`; the temperature is
fitted on the run's validation images, without test-time augmentation, and saved in the run the
first time). Nothing else is written here: :mod:`~filterscope.core.results.store` saves a result.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from functools import cached_property
from pathlib import Path
from typing import NamedTuple

import numpy as np

from filterscope.core.base.formats import percent
from filterscope.core.base.jobs import Cancel, NullReport, Report, SubReport
from filterscope.core.results import advice
from filterscope.core.results.leakage import leakage_check
from filterscope.core.results.eval_sets import EvalSet, EvalSetError, open_eval_set
from filterscope.core.results.feed import BATCH_SIZE, predict_images
from filterscope.core.results.calibration import apply_temperature
from filterscope.core.results.intervals import Interval, bootstrap_intervals
from filterscope.core.results.judgement import Judgement, judge
from filterscope.core.results.metrics import Baseline, Scores, majority_baseline, score
from filterscope.core.results.policy import Policy, ensure_fitted, load_policy
from filterscope.core.results.rows import EvalRows
from filterscope.core.results.tta import tta_summary
from filterscope.core.training.data_plan import plan
from filterscope.core.training.data_spec import DataSpec, PipelineError, read_manifest
from filterscope.core.training.saved_model import OpenedModel, open_model

EVALUATION_VERSION = 1


@dataclass
class Evaluation:
    """What a model scored on a set of labelled images.

    Attributes:
        run_dir: The run evaluated.
        model: ``best`` or ``last``.
        epoch: The epoch that model file holds.
        classes: The run's classes, in its order (of every per-class list and matrix here).
        eval_set: What the images were (``EvalSet.to_json()``).
        input: How the images were prepared (the run's rule, ``InputRule.to_json()``).
        rows: One row per image evaluated.
        scores: Accuracy, balanced accuracy, per class, confusion matrix.
        baseline: The majority-class baseline.
        warnings: What a careful analyst would say about the result.
        notes: Plain sentences about the set and the run.
        skipped: ``{"path", "reason"}`` of every file of the set that could not be read.
        created: When, as ISO 8601 UTC.
        name: The name it is saved under, once saved.
        intervals: ``accuracy``, ``balanced_accuracy`` and ``macro_f1`` with their bootstrap
            confidence intervals (:func:`~.intervals.bootstrap_intervals`); None in evaluations
            saved before intervals were computed.
        judgement: Calibration on these images, their coverage / accuracy curve, and what the
            threshold and costs decided (:func:`~.judgement.judge`); None in evaluations saved
            before calibration.
        tta: With test-time augmentation, ``{"views", "accuracy_without", "accuracy_with",
            "gain"}`` (:func:`~.tta.tta_summary`; ``accuracy_with`` is ``scores.accuracy``);
            None without it, and in evaluations saved before it existed.
        without_near_copies: Accuracy without the test photos that have a near-copy in training
            (:func:`~.leakage.without_near_copies`); None without a saved near-copy check, or
            without such photos.
    """

    run_dir: Path
    model: str
    epoch: int | None
    classes: list[str]
    eval_set: dict
    input: dict
    rows: EvalRows
    scores: Scores
    baseline: Baseline
    warnings: list[advice.Advice] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    skipped: list[dict] = field(default_factory=list)
    created: str = ""
    name: str = ""
    intervals: dict[str, Interval] | None = None
    judgement: Judgement | None = None
    tta: dict | None = None
    without_near_copies: dict | None = None

    @property
    def n_images(self) -> int:
        """Images evaluated (the unreadable ones are in ``skipped``)."""
        return len(self.rows)

    def temperature(self) -> float:
        """The calibration temperature the judgement applied (1.0 without a judgement)."""
        return 1.0 if self.judgement is None else self.judgement.temperature

    @cached_property
    def calibrated_confidence(self) -> np.ndarray:
        """float32 calibrated probability of each image's predicted class (the model's own
        ``rows.confidence`` when the evaluation has no calibration); temperature scaling keeps
        the predicted class, so it is the answer's calibrated confidence."""
        if self.temperature() == 1.0 or not len(self.rows):
            return self.rows.confidence
        scaled = apply_temperature(self.rows.probabilities, self.temperature())
        return scaled[np.arange(len(self.rows)), self.rows.predicted]

    def to_json(self) -> dict:
        """The result without its rows (those go to the CSV)."""
        return {"version": EVALUATION_VERSION, "name": self.name, "created": self.created,
                "run_dir": str(self.run_dir), "model": self.model, "epoch": self.epoch,
                "set": dict(self.eval_set), "input": dict(self.input), "classes": list(self.classes),
                "n_images": self.n_images, "accuracy": self.scores.accuracy,
                "balanced_accuracy": self.scores.balanced_accuracy,
                "majority_baseline": self.baseline.to_json(),
                "per_class": [c.to_json() for c in self.scores.per_class],
                "confusion_matrix": self.scores.confusion_json(),
                "warnings": [w.to_json() for w in self.warnings], "notes": list(self.notes),
                "skipped": list(self.skipped),
                "intervals": None if self.intervals is None
                else {k: v.to_json() for k, v in self.intervals.items()},
                "tta": None if self.tta is None else dict(self.tta),
                "without_near_copies": self.without_near_copies,
                **({} if self.judgement is None else self.judgement.to_json())}


def evaluate(run_dir: str | os.PathLike, *, data: str | None = None, subset: str | None = None,
             which: str = "best", tta: bool = False, report: Report, cancel: Cancel,
             decisions: Policy | None = None,
             batch_size: int = BATCH_SIZE) -> Evaluation:
    """Evaluate a run's model on labelled images (see :func:`~.eval_sets.open_eval_set` for
    ``data`` and ``subset``).

    Args:
        run_dir: The run folder.
        data: None (the run's dataset), a folder, a split manifest or a built-in dataset id.
        subset: ``val``, ``test`` or None (test where there is one, else validation).
        which: ``best`` or ``last``.
        tta: Test-time augmentation (:mod:`~.tta`): score the averaged views and measure the
            gain (``Evaluation.tta``).
        report: Progress; partials ``{"kind": "evaluated", "done", "total", "correct"}`` after
            every batch.
        cancel: Polled between batches.
        decisions: The threshold and costs to decide with; None: the run's saved policy. The
            temperature is always the run's (fitted on its validation images, and saved, the first
            time a model file is evaluated).
        batch_size: Images per batch.

    Raises:
        ModelLoadError: No model file, a damaged or unsafe one.
        EvalSetError: No such data or subset, classes the run does not know, no readable image.
        Cancelled: ``cancel`` was set.
    """
    return evaluate_keeping(run_dir, data=data, subset=subset, which=which, tta=tta, report=report,
                            cancel=cancel, decisions=decisions, batch_size=batch_size).evaluation


class Evaluated(NamedTuple):
    """An evaluation with the model and the images it was made from (for pictures of them)."""

    evaluation: Evaluation
    opened: OpenedModel
    images: EvalSet


def evaluate_keeping(run_dir: str | os.PathLike, *, data: str | None = None, subset: str | None = None,
                     which: str = "best", tta: bool = False, report: Report, cancel: Cancel,
                     decisions: Policy | None = None, batch_size: int = BATCH_SIZE) -> Evaluated:
    """:func:`evaluate`, keeping the opened model and the evaluation set (the run report shows
    some of the images); same arguments and errors."""
    opened = open_model(run_dir, which=which, report=SubReport(report, 0.0, 0.1), cancel=cancel)
    evaluated = open_eval_set(opened, data, subset, report=SubReport(report, 0.1, 0.2), cancel=cancel)
    return Evaluated(evaluate_model(opened, evaluated, report=SubReport(report, 0.3, 0.7), cancel=cancel,
                                    decisions=decisions, batch_size=batch_size, tta=tta), opened, evaluated)


def evaluate_model(opened: OpenedModel, evaluated: EvalSet, *, report: Report, cancel: Cancel,
                   decisions: Policy | None = None, batch_size: int = BATCH_SIZE,
                   tta: bool = False) -> Evaluation:
    """Evaluate an opened run model on an evaluation set (the second half of :func:`evaluate`)."""
    n, done, correct = len(evaluated.images), [0], [0]

    def partial(indices: np.ndarray, probabilities: np.ndarray, failed: dict) -> None:
        done[0] += len(indices) + len(failed)
        correct[0] += int(np.sum(probabilities.argmax(axis=1) == evaluated.labels[indices]))
        report.partial({"kind": "evaluated", "done": done[0], "total": n, "correct": correct[0]})

    predicted = predict_images(opened.model, evaluated.images, opened.rule,
                               report=SubReport(report, 0.0, 0.75), cancel=cancel,
                               batch_size=batch_size, tta=tta, on_batch=partial)
    unreadable = [{"path": evaluated.images.name(i), "reason": why}
                  for i, why in sorted(predicted.errors.items())]
    read = predicted.read()
    if not len(read):
        raise EvalSetError(f"none of the {n:,} images of {evaluated.description} could be read "
                           f"(first: {unreadable[0]['path']}: {unreadable[0]['reason']})")
    report.progress(0.97, "Scoring")
    probabilities = predicted.probabilities[read]
    rows = EvalRows([evaluated.images.name(int(i)) for i in read], evaluated.labels[read],
                    probabilities.argmax(axis=1).astype(np.int32), probabilities)
    classes = list(opened.classes)
    scores = score(rows.true, rows.predicted, classes)
    measured = None if predicted.plain is None else tta_summary(
        rows.true, predicted.plain[read].argmax(axis=1), rows.predicted)
    counts = training_counts(opened, cancel)
    baseline = majority_baseline(rows.true, classes, counts)
    intervals = bootstrap_intervals(rows.true, rows.predicted, len(classes))
    found = [advice.trained_on_warning(evaluated.trained_on, n),
             advice.chose_epoch_warning(evaluated.to_json(), opened.which,
                                        opened.data_spec().source.to_json()),
             advice.baseline_warning(intervals["accuracy"], baseline),
             *advice.rarely_predicted(scores),
             advice.overfitting_warning(opened.run.history, opened.run.best_epoch),
             advice.few_images_warning(int(opened.info.get("params", 0)), counts, classes,
                                       pretrained=(opened.info.get("weights") or {}).get("choice") == "imagenet")]
    leaks = leakage_check(evaluated.source, evaluated.subset, rows.paths, rows.true, rows.predicted,
                          len(classes))
    found.insert(0, leaks[1])
    notes = list(opened.notes) + list(evaluated.notes)
    own_val = evaluated.kind == "val"
    fitted, not_fitted = ensure_fitted(opened, report=SubReport(report, 0.75, 0.2), cancel=cancel,
                                       **({"probabilities": probabilities, "labels": rows.true,
                                           "description": evaluated.description} if own_val else {}))
    if decisions is None:
        decisions = Policy() if opened.run is None else load_policy(opened.run.run_dir, classes)
    judgement = judge(probabilities, rows.true, classes.index(baseline.name),
                      temperature=fitted.calibration.temperature if fitted else 1.0,
                      fitted=None if fitted is None else fitted.calibration,
                      threshold=decisions.threshold, target_accuracy=decisions.target_accuracy,
                      costs=None if decisions.costs is None else decisions.costs.for_classes(classes),
                      note=None if fitted else not_fitted)
    if fitted and not_fitted:
        notes.append(not_fitted)
    if fitted is not None and own_val:
        notes.append("the calibration temperature was fitted on these same validation images: "
                     "its ECE here is optimistic")
    if counts is None:
        notes.append("the run's training class counts are unknown: the baseline is the largest "
                     "class of these images")
    report.progress(1.0, f"Accuracy {percent(scores.accuracy)} on {len(rows):,} images")
    return Evaluation(opened.run.run_dir, opened.which, opened.epoch, classes, evaluated.to_json(),
                      opened.rule.to_json(), rows, scores, baseline, [w for w in found if w],
                      notes, list(evaluated.skipped) + unreadable,
                      datetime.now(timezone.utc).isoformat(timespec="seconds"), intervals=intervals,
                      judgement=judgement, tta=measured, without_near_copies=leaks[0])


def rejudged(evaluation: Evaluation, policy: Policy) -> Evaluation:
    """The evaluation judged again with a run's (new) policy: its calibration of the evaluated
    model file, threshold and costs; the rows and scores are the same."""
    fitted = policy.fitted.get(evaluation.model)
    classes = list(evaluation.classes)
    before = evaluation.judgement
    judgement = judge(evaluation.rows.probabilities, evaluation.rows.true, classes.index(evaluation.baseline.name),
                      temperature=fitted.calibration.temperature if fitted else 1.0,
                      fitted=None if fitted is None else fitted.calibration,
                      threshold=policy.threshold, target_accuracy=policy.target_accuracy,
                      costs=None if policy.costs is None else policy.costs.for_classes(classes),
                      note=None if fitted else (before.note if before is not None else "not fitted"))
    return replace(evaluation, judgement=judgement)


def training_counts(opened: OpenedModel, cancel: Cancel) -> np.ndarray | None:
    """Training images per class of the run, in its class order (see :func:`run_subset_counts`);
    None when they cannot be known."""
    counts = run_subset_counts(opened.data_spec(), opened.classes, cancel)
    return None if counts is None else counts["train"]


def run_subset_counts(data: DataSpec, classes: list[str], cancel: Cancel) -> dict[str, np.ndarray] | None:
    """Images per class of each subset of a run's split (``train``, ``val``, and ``test`` when a
    manifest lists one), in ``classes`` order: from the split its run.json records (or the
    manifest an older run names), else (a built-in dataset split on the fly) planned again from
    its seed. None when they cannot be known."""
    try:
        manifest = data.split_manifest() or (read_manifest(data.manifest_path())
                                             if data.manifest_path() else None)
        if manifest is not None:
            return {name: np.asarray([len(subset.get(c, [])) for c in classes], np.int64)
                    for name, subset in manifest.subsets.items()}
        planned = plan(data, NullReport(), cancel, 0)
    except PipelineError:
        return None
    counts = {}
    for name in ("train", "val"):
        found = np.bincount(planned.subsets[name][1], minlength=len(planned.classes))
        by_name = dict(zip(planned.classes, found.tolist()))
        counts[name] = np.asarray([by_name.get(c, 0) for c in classes], np.int64)
    return counts
