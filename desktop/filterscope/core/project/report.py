"""A run's report: one self-contained HTML file to keep, send or print.

:func:`write_report` is a long job (the CLI runs it with a progress bar, the Results tab through
a JobRunner): it reads the run, shows the evaluation the analyst ran (the saved one open in the
Results tab) or, when none was, the Results tab's default (the ``test/`` folder where there is
one, else the validation images), as :func:`~.report_eval.report_evaluation` decides: accuracy
with its interval next to the majority-class baseline, per-class figures, the confusion matrix,
the most confidently wrong images, what the figures are measured on, and the evaluation's
calibration and decisions (:mod:`.report_calibration`); a short model card (:mod:`.model_card`,
its intended use saved with the run) heads the page. It shows the mask and
chain on a few of the evaluated images, and writes the page atomically. A run whose model file is missing or whose
dataset has moved still gets a report: the data it recorded, the model, the curves and the
environment, with a plain note saying why the evaluation was skipped.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from filterscope.core.base.fileio import atomic_write_bytes, read_json_file, refuse_inside
from filterscope.core.base.jobs import Cancel, Report, SubReport, check_cancel
from filterscope.core.data.folder_layout import Problem
from filterscope.core.project.model_card import ModelCardError, model_card, read_intended_use, save_intended_use
from filterscope.core.project.report_parts import (
    Sample,
    WrongImage,
    curves_png,
    environment,
    samples,
    wrong_images,
)
from filterscope.core.project.report_eval import report_evaluation
from filterscope.core.results import advice
from filterscope.core.results.advice import Advice
from filterscope.core.results.eval_sets import EvalSetError
from filterscope.core.results.evaluate import Evaluation, run_subset_counts
from filterscope.core.results.settings import EvaluateSettings
from filterscope.core.results.store import EvaluationReadError
from filterscope.core.training.data_spec import DataSpec, PipelineError
from filterscope.core.training.model_build import plan_rows
from filterscope.core.training.model_spec import ModelSpec, ModelSpecError
from filterscope.core.training.runs import RunReadError, RunResult, load_run
from filterscope.core.training.saved_model import ModelLoadError


class ReportError(ValueError):
    """A report that cannot be written: not a run folder, an output inside the dataset folder, a
    folder that cannot be written. The message names the folder or file."""


@dataclass
class ReportContent:
    """Everything a report shows (pictures as PNG bytes); ``evaluation`` is None when skipped.

    Attributes:
        run: The run, without its model.
        info: Its ``run.json`` (image counts, parameters, how it was split).
        data: Its data spec, or None when run.json's is unreadable.
        created: When the report was made, ISO 8601 UTC.
        counts: Images per class of each subset of the split, when known.
        layers: The layer table (the Train tab's rows); ``layers_note`` says why it is empty.
        curves: PNG of the training curves (None before a first epoch).
        environment: (name, value) rows: versions and the machine.
        evaluation: The evaluation shown (``report_evaluation``'s), or None.
        saved: The name of the saved evaluation shown, "" when the report ran the default one.
        skipped_why: Why the evaluation was skipped.
        samples: A few images through the mask and chain; ``samples_note`` says why none.
        wrong: The most confidently wrong images; ``wrong_note`` says why none are shown.
        problems: What the scan of the evaluated dataset found wrong.
        intended_use: The run's intended-use text (:mod:`.model_card`), "" when none.
    """

    run: RunResult
    info: dict
    data: DataSpec | None
    created: str
    counts: dict[str, np.ndarray] | None
    layers: list[dict]
    layers_note: str
    curves: bytes | None
    environment: list[tuple[str, str]]
    evaluation: Evaluation | None = None
    saved: str = ""
    skipped_why: str = ""
    samples: list[Sample] = field(default_factory=list)
    samples_note: str = ""
    wrong: list[WrongImage] = field(default_factory=list)
    wrong_note: str = ""
    problems: list[Problem] = field(default_factory=list)
    intended_use: str = ""


@dataclass
class ReportResult:
    """A written report.

    Attributes:
        path: The HTML file.
        sections: The headings of the sections it has, in order.
        html: The page itself (the Results tab prints it to PDF).
        accuracy: On the evaluated images, None when the evaluation was skipped.
        baseline: The majority-class baseline's accuracy on them.
        baseline_class: The class the baseline always answers.
        n_images: Images evaluated.
        evaluation_skipped: Why there is no evaluation, else None.
        intervals: The evaluation's bootstrap intervals (``core.results.intervals``), when it has
            them.
        evaluated: What the figures are measured on (:func:`evaluated_json`), None when skipped.
        model_card: The model card's facts (``ModelCard.to_json()``).
    """

    path: Path
    sections: list[str]
    html: str = field(repr=False)
    accuracy: float | None = None
    baseline: float | None = None
    baseline_class: str | None = None
    n_images: int = 0
    evaluation_skipped: str | None = None
    intervals: dict | None = None
    evaluated: dict | None = None
    model_card: dict | None = None

    def to_json(self) -> dict:
        """A JSON-able summary (without the page)."""
        return {"path": str(self.path), "sections": list(self.sections), "accuracy": self.accuracy,
                "baseline": self.baseline, "baseline_class": self.baseline_class,
                "n_images": self.n_images, "evaluation_skipped": self.evaluation_skipped,
                "intervals": None if not self.intervals else
                {name: interval.to_json() for name, interval in self.intervals.items()},
                "evaluated": self.evaluated, "model_card": self.model_card}


def evaluated_json(evaluation: Evaluation, saved: str) -> dict:
    """What a report's figures are measured on: the set (``EvalSet.to_json()`` without its
    source), the images, the model, the baseline, the saved evaluation's name ("" when the report ran it) and
    whether these images also chose the epoch of best.keras."""
    described = {k: v for k, v in evaluation.eval_set.items() if k != "source"}
    return {**described, "n_images": evaluation.n_images, "model": evaluation.model,
            "epoch": evaluation.epoch, "majority_baseline": evaluation.baseline.to_json(),
            "saved_evaluation": saved or None,
            "chose_epoch": chose_epoch(evaluation) is not None}


def chose_epoch(evaluation: Evaluation) -> Advice | None:
    """The ``chose-epoch`` warning of an evaluation (recomputed for one saved before it existed)."""
    found = [w for w in evaluation.warnings if w.kind == "chose-epoch"]
    if found:
        return found[0]
    try:
        run_source = load_run(evaluation.run_dir).spec["data"]["source"]
    except (RunReadError, KeyError, TypeError):
        run_source = None
    return advice.chose_epoch_warning(evaluation.eval_set, evaluation.model, run_source)


def write_report(run_dir: str | os.PathLike, out: str | os.PathLike, *,
                 settings: EvaluateSettings | None = None, which: str = "best",
                 intended_use: str | None = None, report: Report, cancel: Cancel) -> ReportResult:
    """Write the HTML report of a run (a job).

    Args:
        run_dir: The run folder.
        out: The HTML file to write (its folder is made if needed; never inside the dataset).
        settings: The Results tab's settings: the saved evaluation open there is shown (see
            :func:`~.report_eval.report_evaluation`); None evaluates ``which`` by default.
        which: The model evaluated when ``settings`` is None: ``best`` or ``last``.
        intended_use: The model card's intended use, saved with the run first (None: the run's
            saved text is shown).
        report: Progress.
        cancel: Polled between the steps and by the evaluation between batches.

    Raises:
        ReportError: Not a run folder, an output inside the dataset, a folder that cannot be
            written, a model card that cannot be read or written.
        Cancelled: ``cancel`` was set (nothing is written).
    """
    from filterscope.core.project.report_html import render_html

    run_dir = Path(run_dir).expanduser()
    report.progress(0.0, f"Reading {run_dir.name}")
    try:
        run = load_run(run_dir)
        info = read_json_file(run_dir / "run.json", RunReadError, "run description")
    except RunReadError as exc:
        raise ReportError(f"{run_dir} is not a run folder this app can read: {exc}") from exc
    target = Path(out).expanduser()
    data = _data_spec(run)
    if data is not None and data.folder() is not None:
        try:
            refuse_inside(target, data.folder())
        except ValueError as exc:
            raise ReportError(str(exc)) from exc
    _write(target, None)  # a folder that cannot be written fails before the evaluation
    try:
        if intended_use is not None:
            save_intended_use(run_dir, intended_use)
        use = read_intended_use(run_dir)
    except ModelCardError as exc:
        raise ReportError(str(exc)) from exc
    settings = settings or EvaluateSettings(run=str(run_dir), model=which)
    content = gather(run, info, data, settings, report=SubReport(report, 0.02, 0.93), cancel=cancel)
    content.intended_use = use
    card = model_card(content)
    page, sections = render_html(content, card)
    check_cancel(cancel)
    report.progress(0.97, f"Writing {target.name}")
    _write(target, page)
    ev = content.evaluation
    report.progress(1.0, f"Wrote {target.name}")
    return ReportResult(target, sections, page, ev and ev.scores.accuracy, ev and ev.baseline.accuracy,
                        ev and ev.baseline.name, 0 if ev is None else ev.n_images,
                        None if ev is not None else content.skipped_why, ev and ev.intervals,
                        None if ev is None else evaluated_json(ev, content.saved), card.to_json())


def _write(target: Path, page: str | None) -> None:
    """Make the folder of ``target`` (``page`` None), or write the page there atomically."""
    try:
        if page is None:
            target.parent.mkdir(parents=True, exist_ok=True)
        else:
            atomic_write_bytes(target, page.encode("utf-8"))
    except OSError as exc:
        raise ReportError(f"cannot write {target}: {exc.strerror or exc}") from exc


def _data_spec(run: RunResult) -> DataSpec | None:
    try:
        return DataSpec.from_json(run.spec.get("data"))
    except PipelineError:
        return None


def gather(run: RunResult, info: dict, data: DataSpec | None, settings: EvaluateSettings, *,
           report: Report, cancel: Cancel) -> ReportContent:
    """What the report of ``run`` shows; the evaluation and the pictures when they can be made."""
    report.progress(0.0, "Counting the split")
    counts = None if data is None else run_subset_counts(data, run.classes, cancel)
    layers, layers_note = _layers(run)
    content = ReportContent(run, info, data, datetime.now(timezone.utc).isoformat(timespec="seconds"),
                            counts, layers, layers_note, curves_png(run.history, run.best_epoch),
                            environment())
    _evaluate(content, settings, report, cancel)
    report.progress(1.0, "Laying out the report")
    return content


def _layers(run: RunResult) -> tuple[list[dict], str]:
    """The Train tab's layer table of the run's model (planned from its spec, no Keras)."""
    try:
        spec = ModelSpec.from_json(run.spec.get("model"))
        return plan_rows(spec, run.input_shape, len(run.classes)), ""
    except ModelSpecError as exc:
        return [], f"the layer table cannot be made from run.json: {exc}"


def _evaluate(content: ReportContent, settings: EvaluateSettings, report: Report, cancel: Cancel) -> None:
    """The evaluation :func:`report_evaluation` chooses, then the pictures of its images."""
    run = content.run
    try:
        shown = report_evaluation(run.run_dir, settings, report=SubReport(report, 0.05, 0.7), cancel=cancel)
    except (ModelLoadError, EvalSetError, EvaluationReadError) as exc:
        content.skipped_why = str(exc)
        content.samples_note = "the pictures need the run's dataset and model, like the evaluation"
        return
    content.evaluation, content.saved = shown.evaluation, shown.saved
    if shown.images is None or shown.opened is None:
        content.samples_note = content.wrong_note = shown.images_note
        return
    evaluated = shown.images
    report.progress(0.76, "Finding the most confidently wrong images")
    content.wrong = wrong_images(content.evaluation, evaluated, cancel)
    content.problems = list(evaluated.images.dataset.problems)
    report.progress(0.8, "Applying the mask and the chain to a few images")
    try:
        content.samples = samples(evaluated, list(shown.opened.classes), shown.opened.data_spec(),
                                  int(run.spec.get("seed", 0)), cancel)
    except PipelineError as exc:
        content.samples_note = f"the pictures could not be made: {exc}"
