"""What an evaluation says about decisions: calibration before and after on the evaluated images,
their coverage / accuracy curve, and, with a threshold or costs, the accuracy and coverage of what
is accepted and what the decisions cost, each next to the majority baseline.

:func:`judge` is the one function computing these from an evaluation's rows and the run's policy;
the CLI, the Results tab and the report show its numbers.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from filterscope.core.base.formats import percent
from filterscope.core.results.calibration import Calibration, Reliability, apply_temperature, reliability
from filterscope.core.results.decisions import (Accepted, Costs, CostSummary, CoverageCurve, accepted,
                                                coverage_curve, decide, expected_cost)


@dataclass(frozen=True)
class Judgement:
    """Calibration and decisions on an evaluation's images.

    Attributes:
        temperature: The temperature applied (1.0 when the run is not calibrated).
        fitted: The run's calibration (where it was fitted), or None.
        before: Reliability of the model's own probabilities on these images.
        after: Reliability of the calibrated ones.
        curve: Coverage / accuracy of the calibrated confidence on these images.
        threshold: The needs-review threshold applied, or None.
        target_accuracy: The accuracy the threshold was chosen for on validation, or None.
        costs: The error costs applied, or None.
        accepted: Accuracy and coverage of the accepted images (with a threshold or costs).
        cost: What the decisions cost against the baseline (with a threshold or costs).
        note: Why the run is not calibrated, when it is not.
    """

    temperature: float
    fitted: Calibration | None
    before: Reliability
    after: Reliability
    curve: CoverageCurve
    threshold: float | None = None
    target_accuracy: float | None = None
    costs: Costs | None = None
    accepted: Accepted | None = None
    cost: CostSummary | None = None
    note: str | None = None

    def to_json(self) -> dict:
        """The evaluation JSON's ``calibration``, ``coverage_curve`` and decision keys."""
        data = {"calibration": {"temperature": self.temperature, "ece_before": self.before.ece,
                                "ece_after": self.after.ece,
                                "fitted": None if self.fitted is None else self.fitted.to_json(),
                                "reliability_before": self.before.to_json(),
                                "reliability_after": self.after.to_json(), "note": self.note},
                "coverage_curve": self.curve.to_json(), "threshold": self.threshold,
                "target_accuracy": self.target_accuracy,
                "costs": None if self.costs is None else self.costs.to_json()}
        if self.accepted is not None:
            found = self.accepted.to_json()
            data.update({"accepted_accuracy": found["accepted_accuracy"], "coverage": found["coverage"],
                         "n_accepted": found["n_accepted"],
                         "baseline_accepted_accuracy": found["baseline_accuracy"]})
        if self.cost is not None:
            data["expected_cost"] = self.cost.to_json()
        return data

    @classmethod
    def from_json(cls, data: dict, classes: list[str]) -> Judgement | None:
        """Read back from an evaluation's JSON; None for evaluations saved before calibration."""
        found = data.get("calibration")
        if not found:
            return None
        costs = data.get("costs")
        accepted_json = None if data.get("coverage") is None else Accepted(
            data.get("threshold"), int(data["n_images"]), int(data["n_accepted"]),
            _nan(data["accepted_accuracy"]), _nan(data["baseline_accepted_accuracy"]))
        cost = data.get("expected_cost")
        return cls(float(found["temperature"]),
                   None if found.get("fitted") is None else Calibration.from_json(found["fitted"]),
                   Reliability.from_json(found["reliability_before"]),
                   Reliability.from_json(found["reliability_after"]),
                   CoverageCurve.from_json(data["coverage_curve"]), data.get("threshold"),
                   data.get("target_accuracy"), None if costs is None else Costs.from_json(costs, classes),
                   accepted_json, None if cost is None else CostSummary(**cost), found.get("note"))

    def lines(self, baseline_name: str) -> list[str]:
        """The sentences the CLI, the Results tab and the report show."""
        if self.fitted is not None:
            lines = [f"calibration: {self.fitted.describe()}; on these images ECE "
                     f"{percent(self.before.ece)} → {percent(self.after.ece)}"]
        else:
            lines = [f"calibration: none ({self.note or 'not fitted'}); ECE {percent(self.before.ece)}"]
        if self.accepted is not None:
            a = self.accepted
            rule = f"below {percent(self.threshold)} calibrated confidence" if self.threshold is not None \
                else "by costs"
            lines.append(f"needs review {rule}: {a.n_images - a.n_accepted:,} of {a.n_images:,}; "
                         f"accepted {percent(a.coverage)} of the images, accuracy on them "
                         f"{_pct(a.accuracy)} (majority baseline {_pct(a.baseline_accuracy)} on them)")
        if self.cost is not None:
            c = self.cost
            unit = "" if self.costs is not None and not self.costs.is_default() else " (no costs set: each error costs 1)"
            lines.append(f"error cost{unit}: {c.total:,.2f} in all, {c.per_image:.3f} per image over "
                         f"{c.n_costed:,} decided (always '{baseline_name}': {c.baseline_total:,.2f}, "
                         f"{c.baseline_per_image:.3f} per image)")
        return lines


def _nan(value: float | None) -> float:
    return float("nan") if value is None else float(value)


def _pct(value: float) -> str:
    return "n/a" if np.isnan(value) else percent(value)


def judge(probabilities: np.ndarray, true: np.ndarray, baseline_class: int, *, temperature: float = 1.0,
          fitted: Calibration | None = None, threshold: float | None = None,
          target_accuracy: float | None = None, costs: Costs | None = None,
          note: str | None = None) -> Judgement:
    """Calibration and decisions of an evaluation (see :class:`Judgement`).

    Args:
        probabilities: (N, C) the model's probabilities of the evaluated images.
        true: (N,) their true classes.
        baseline_class: The majority baseline's class index.
        temperature: The run's calibration temperature.
        fitted, target_accuracy, note: Recorded as they are.
        threshold: Needs review below this calibrated confidence.
        costs: Error costs deciding the answers.
    """
    scaled = apply_temperature(probabilities, temperature)
    curve = coverage_curve(scaled.max(axis=1), scaled.argmax(axis=1) == np.asarray(true))
    found_accepted = found_cost = None
    if threshold is not None or costs is not None:
        decisions = decide(scaled, threshold=threshold, costs=costs)
        found_accepted = accepted(decisions, true, baseline_class, threshold)
        found_cost = expected_cost(decisions, true, costs or Costs.default([str(i) for i in range(scaled.shape[1])]),
                                   baseline_class)
    return Judgement(temperature, fitted, reliability(probabilities, true), reliability(scaled, true), curve,
                     threshold, target_accuracy, costs, found_accepted, found_cost, note)
