"""The report's "Calibration and decisions" section: how far the evaluated images' confidence can
be trusted, and what the run's saved threshold and costs decide on them.

Every number is the evaluation's own :class:`~filterscope.core.results.judgement.Judgement`; its
sentences are :meth:`~filterscope.core.results.judgement.Judgement.lines`, the ones
``filterscope evaluate`` prints, never restated here. The picture (a reliability diagram before
and after the temperature, and the coverage / accuracy curve with the saved threshold) is drawn
with a matplotlib ``Figure``, as the report's other pictures are.
"""

from __future__ import annotations

import io

from filterscope.core.base.formats import percent
from filterscope.core.project.report_markup import bullets, e, img
from filterscope.core.results.evaluate import Evaluation
from filterscope.core.results.judgement import Judgement
from filterscope.core.results.tta import tta_sentence

NOT_CALIBRATED = ("This evaluation was saved before calibration existed: it holds no reliability "
                  "figures, coverage curve or decisions. Evaluate the run again to see them.")
PICTURE_WIDTH = 620  # pixels, as the training curves


def calibration_lines(evaluation: Evaluation) -> list[str]:
    """The sentences the report shows for an evaluation's calibration and decisions (the
    judgement's, then the test-time augmentation's), or the plain "not calibrated" one."""
    lines = [NOT_CALIBRATED] if evaluation.judgement is None \
        else evaluation.judgement.lines(evaluation.baseline.name)
    return lines + ([tta_sentence(evaluation.tta)] if evaluation.tta else [])


def calibration_section(evaluation: Evaluation) -> str:
    """The section's HTML: the sentences and, for a calibrated evaluation, the picture."""
    judgement = evaluation.judgement
    items = bullets([e(line[0].upper() + line[1:]) for line in calibration_lines(evaluation)])
    if judgement is None:
        return items
    intro = ("<p>Calibration: when the model says 80 %, is it right 80 % of the time? The temperature "
             "fitted on the run's validation images rescales its confidence without changing any "
             "answer; ECE (expected calibration error) is the mean gap between confidence and "
             "accuracy. The curve shows, for each confidence threshold, the share of photos "
             "accepted and the accuracy on them.</p>")
    picture = img(judgement_png(judgement), "Reliability diagram and coverage / accuracy curve",
                  PICTURE_WIDTH)
    return f"{intro}{items}<p>{picture}</p>"


def judgement_png(judgement: Judgement) -> bytes:
    """The reliability diagram (before and after the temperature) beside the coverage / accuracy
    curve of the calibrated confidence, the saved threshold marked."""
    from matplotlib.figure import Figure

    figure = Figure(figsize=(6.2, 3.2), dpi=150, layout="constrained")
    left, right = figure.subplots(1, 2)
    left.plot([0, 1], [0, 1], ls="--", color="#999999", lw=1, label="perfectly calibrated")
    shown = [("before", judgement.before, "#d9731a", "s")]
    if judgement.fitted is not None:
        shown.append(("after", judgement.after, "#1f5f99", "o"))
    for name, found, colour, marker in shown:
        filled = found.counts > 0
        left.plot(found.confidence[filled], found.accuracy[filled], f"{marker}-", color=colour,
                  label=f"{name} (ECE {percent(found.ece)})")
    left.set(xlim=(0, 1.02), ylim=(-0.02, 1.02), xlabel="confidence", ylabel="accuracy")
    left.set_title("Reliability", fontsize="medium")
    curve = judgement.curve
    right.plot(curve.thresholds, curve.coverage, "-", color="#1f5f99", label="coverage")
    right.plot(curve.thresholds, curve.accuracy, "-", color="#3a9a50", label="accuracy on accepted")
    if judgement.threshold is not None:
        right.axvline(judgement.threshold, color="#b03030", ls=":", lw=1.5,
                      label=f"threshold {percent(judgement.threshold)}")
    right.set(xlim=(0, 1), ylim=(-0.02, 1.02), xlabel="confidence threshold (calibrated)")
    right.set_title("Coverage / accuracy", fontsize="medium")
    for axes in (left, right):  # legends under the axes: the curves may pass anywhere
        axes.grid(alpha=0.3)
        axes.legend(fontsize="x-small", loc="upper center", bbox_to_anchor=(0.5, -0.22), ncol=2,
                    frameon=False)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


def calibration_facts(judgement: Judgement | None) -> dict | None:
    """The judgement's figures for the model card's JSON (its JSON without the diagram's bins and
    the curve's points); None for an evaluation saved before calibration."""
    if judgement is None:
        return None
    found = judgement.to_json()
    calibration = {k: v for k, v in found.pop("calibration").items() if not k.startswith("reliability")}
    found.pop("coverage_curve")
    return {"calibration": calibration, **found}

