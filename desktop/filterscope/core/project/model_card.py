"""A run's model card (after Mitchell et al. 2019, short): what the model is for, the data it
learned from, its figures with their intervals, its calibration, threshold and costs, and what is
known to limit it.

The intended use is the analyst's text and belongs to the run: ``<run>/model_card.json``, written
atomically by :func:`save_intended_use` and read by :func:`read_intended_use` (the CLI's
``report --intended-use`` and the report export's text box both go through them). Everything
else on the card is a fact the report already holds (:class:`ModelCard` is built from a
:class:`~.report.ReportContent`): the data section's counts, the evaluation's intervals, warnings
and judgement, never figures computed again another way.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from filterscope.core.base.fileio import atomic_write_json, read_json_file
from filterscope.core.base.formats import percent
from filterscope.core.results.intervals import METRICS, Interval

if TYPE_CHECKING:
    from filterscope.core.project.report import ReportContent
    from filterscope.core.results.evaluate import Evaluation
    from filterscope.core.training.data_spec import DataSpec

CARD_FILE = "model_card.json"
CARD_VERSION = 1
SMALL_SET = 100  # below this many evaluated images, the interval is the figure's honest width
METRIC_NAMES = {"accuracy": "Accuracy", "balanced_accuracy": "Balanced accuracy", "macro_f1": "Macro-F1"}


class ModelCardError(ValueError):
    """A model_card.json that cannot be read or written; the message names the file."""


def card_path(run_dir: str | os.PathLike) -> Path:
    """Where a run keeps its model card's own text."""
    return Path(run_dir).expanduser() / CARD_FILE


def read_intended_use(run_dir: str | os.PathLike) -> str:
    """The run's intended-use text ("" when none was written).

    Raises:
        ModelCardError: The file exists but is not a model card this app can read.
    """
    path = card_path(run_dir)
    if not path.is_file():
        return ""
    data = read_json_file(path, ModelCardError, "model card")
    if not isinstance(data, dict) or data.get("version") != CARD_VERSION \
            or not isinstance(data.get("intended_use", ""), str):
        raise ModelCardError(f"{path}: not a model card this app can read")
    return data.get("intended_use", "")


def save_intended_use(run_dir: str | os.PathLike, text: str) -> Path:
    """Write the run's intended-use text (surrounding blank space removed), atomically.

    Raises:
        ModelCardError: The run folder cannot be written.
    """
    path = card_path(run_dir)
    try:
        return atomic_write_json(path, {"version": CARD_VERSION, "intended_use": text.strip()})
    except OSError as exc:
        raise ModelCardError(f"cannot write {path}: {exc.strerror or exc}") from exc


def dataset_where(data: DataSpec | None) -> str:
    """Where a run's data is, as the report's Data section and the model card name it."""
    if data is None:
        return "unknown (run.json's data cannot be read)"
    return str(data.folder() or data.manifest_path() or data.source)


@dataclass
class ModelCard:
    """The card's facts (sentences are plain text; the HTML escapes them).

    Attributes:
        intended_use: The analyst's text ("" when not written yet).
        model: The model file and epoch.
        dataset: Where the data is.
        classes: The classes, in the run's order.
        counts: Subset (``train``, ``val``, ``test``) -> class -> images, as the Data section
            counts them; None when unknown.
        evaluated: What the figures are measured on ("" when the evaluation was skipped).
        metrics: Figure name -> its interval (or its bare value for an evaluation saved before
            intervals).
        baseline: The majority baseline's sentence.
        calibration: The judgement's calibration sentence (or why there is none).
        decisions: The judgement's sentences on the threshold and the costs, or what is unset.
        judgement: The judgement's figures (``report_calibration.calibration_facts``).
        limits: What is known to limit the model.
    """

    intended_use: str
    model: str
    dataset: str
    classes: list[str]
    counts: dict[str, dict[str, int]] | None
    evaluated: str = ""
    metrics: dict[str, Interval | float] = field(default_factory=dict)
    baseline: str = ""
    calibration: str = ""
    decisions: list[str] = field(default_factory=list)
    judgement: dict | None = None
    limits: list[str] = field(default_factory=list)

    def to_json(self) -> dict:
        """A JSON-able dict (``filterscope report --json``'s ``model_card``)."""
        return {**self.__dict__, "metrics": {k: v.to_json() if isinstance(v, Interval) else {"value": v}
                                             for k, v in self.metrics.items()}}


def model_card(content: ReportContent) -> ModelCard:
    """The card of a report's run, from the facts the report shows."""
    from filterscope.core.project.report_calibration import NOT_CALIBRATED, calibration_facts

    run, ev = content.run, content.evaluation
    counts = None if content.counts is None else \
        {subset: dict(zip(run.classes, map(int, found))) for subset, found in content.counts.items()}
    epoch = f", epoch {ev.epoch}" if ev is not None and ev.epoch else ""
    card = ModelCard(content.intended_use, f"{run.run_dir.name}: {ev.model if ev else 'best'}.keras{epoch}",
                     dataset_where(content.data), list(run.classes), counts)
    if ev is None:
        card.limits = [f"Not evaluated: {content.skipped_why}"]
        return card
    intervals = ev.intervals or {}
    values = {"accuracy": ev.scores.accuracy, "balanced_accuracy": ev.scores.balanced_accuracy}
    card.metrics = {name: intervals.get(name, values.get(name)) for name in METRICS
                    if name in intervals or name in values}
    card.evaluated = f"{ev.n_images:,} images: {ev.eval_set.get('description', '')}"
    card.baseline = f"{percent(ev.baseline.accuracy)}: {ev.baseline.describe()}"
    lines = ev.judgement.lines(ev.baseline.name) if ev.judgement is not None else [NOT_CALIBRATED]
    card.calibration, card.decisions = lines[0], _decisions(ev, lines[1:])
    card.judgement = calibration_facts(ev.judgement)
    card.limits = _limits(content)
    return card


def _decisions(ev: Evaluation, lines: list[str]) -> list[str]:
    """The judgement's sentences on the threshold and the costs, and a plain one for each unset."""
    judgement = ev.judgement
    if judgement is None:
        return []
    found = list(lines)
    if judgement.threshold is None:
        found.insert(0, "no needs-review threshold is set: every photo gets an answer")
    elif judgement.target_accuracy is not None:
        found.insert(0, f"threshold chosen for {100 * judgement.target_accuracy:.1f} % accuracy on the "
                        "accepted validation images")
    if judgement.costs is None:
        found.append("no error costs are set: every error costs the same")
    return found


def _limits(content: ReportContent) -> list[str]:
    """What is known to limit the model: the evaluation's warnings, a small evaluated set, a
    missing calibration, and that it only knows its own classes."""
    from filterscope.core.project.report import chose_epoch

    ev = content.evaluation
    chosen = chose_epoch(ev)  # recomputed for an evaluation saved before the warning existed
    limits = [w.message for w in ev.warnings if w.kind != "chose-epoch"] + ([chosen.message] if chosen else [])
    if ev.n_images < SMALL_SET:
        accuracy = (ev.intervals or {}).get("accuracy")
        width = f" (accuracy {accuracy.describe()}): a larger test set narrows the interval" if accuracy else ""
        limits.append(f"The figures rest on only {ev.n_images:,} images{width}.")
    if ev.judgement is not None and ev.judgement.fitted is None:
        limits.append(f"Its confidence is not calibrated ({ev.judgement.note or 'not fitted'}).")
    limits.append(f"It knows only its {len(content.run.classes)} classes: a photo of anything else "
                  "still gets one of them.")
    return limits
