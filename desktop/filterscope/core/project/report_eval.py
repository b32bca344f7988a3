"""Which evaluation a run report shows: :func:`report_evaluation`, one decision for the Results
tab's "Export report…" and ``filterscope report`` alike.

The report shows the evaluation the analyst ran: the saved evaluation open in the Results tab
(``EvaluateSettings.evaluation``, read from the run's ``evaluations`` folder, not computed
again). When none is open, it runs the Results tab's default through :func:`evaluate`'s own
path: the run's ``test/`` folder where its dataset has one, else its validation images. The
report never scores images of its own choosing.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from filterscope.core.base.jobs import Cancel, Report, SubReport
from filterscope.core.results.eval_sets import EvalSet, EvalSetError, open_eval_set
from filterscope.core.results.evaluate import Evaluation, evaluate_keeping
from filterscope.core.results.settings import EvaluateSettings
from filterscope.core.results.store import load_evaluation
from filterscope.core.training.data_spec import PipelineError
from filterscope.core.training.saved_model import ModelLoadError, OpenedModel, open_model


@dataclass
class ShownEvaluation:
    """The evaluation a report shows, with what its pictures need.

    Attributes:
        evaluation: The evaluation.
        saved: Its name in the run's ``evaluations`` folder when it is the analyst's saved one,
            "" when the report ran the default evaluation.
        opened: The run's model, None when it cannot be opened (a saved evaluation still shows).
        images: The evaluated images found again, None when they cannot be (``images_note`` says
            why): the pictures of the report need them, its figures do not.
        images_note: Why there are no ``images``.
    """

    evaluation: Evaluation
    saved: str = ""
    opened: OpenedModel | None = None
    images: EvalSet | None = None
    images_note: str = ""


def report_evaluation(run_dir: str | os.PathLike, settings: EvaluateSettings | None = None, *,
                      report: Report, cancel: Cancel) -> ShownEvaluation:
    """The evaluation the report of ``run_dir`` shows.

    Args:
        run_dir: The run folder.
        settings: The Results tab's settings (a project's, or the CLI's flags): the saved
            evaluation open there is shown when it is of this run; else ``settings.model`` is
            evaluated on the default images (``test/`` if any, else validation). None: best.keras.
        report: Progress.
        cancel: Polled while evaluating.

    Raises:
        ModelLoadError: No model file, a damaged or unsafe one (evaluating).
        EvalSetError: The images cannot be evaluated on (evaluating).
        EvaluationReadError: The saved evaluation open cannot be read.
        Cancelled: ``cancel`` was set.
    """
    settings = settings or EvaluateSettings(run=str(run_dir))
    saved = settings.saved_file()
    if saved is not None and _same(settings.run, run_dir):
        evaluation = load_evaluation(saved, report=SubReport(report, 0.0, 0.2), cancel=cancel)
        shown = ShownEvaluation(evaluation, evaluation.name)
        _find_images(shown, Path(run_dir), SubReport(report, 0.2, 0.8), cancel)
        return shown
    kept = evaluate_keeping(run_dir, which=settings.model, report=report, cancel=cancel)
    return ShownEvaluation(kept.evaluation, "", kept.opened, kept.images)


def _same(a: str | os.PathLike, b: str | os.PathLike) -> bool:
    return os.path.realpath(Path(a).expanduser()) == os.path.realpath(Path(b).expanduser())


def _find_images(shown: ShownEvaluation, run_dir: Path, report: Report, cancel: Cancel) -> None:
    """Open the model and the images of a saved evaluation again, for the pictures only."""
    ev, described = shown.evaluation, shown.evaluation.eval_set
    try:
        shown.opened = open_model(run_dir, which=ev.model, report=SubReport(report, 0.0, 0.5),
                                  cancel=cancel)
        run_source = shown.opened.data_spec().source.to_json()
        source, kind, subset = described.get("source"), described.get("kind"), described.get("subset")
        if kind == "manifest":
            raise EvalSetError("a manifest's images are not found again from a saved evaluation")
        data = None if kind == "val" and source == run_source else source
        images = open_eval_set(shown.opened, data, subset, report=SubReport(report, 0.5, 0.5),
                               cancel=cancel)
    except (ModelLoadError, EvalSetError, PipelineError) as exc:
        shown.images_note = f"the evaluated images cannot be found again: {exc}"
        return
    names = {images.images.name(i) for i in range(len(images.images))}
    if not set(ev.rows.paths) <= names:
        shown.images_note = "the evaluated images have changed since the evaluation was saved"
        return
    shown.images = images
