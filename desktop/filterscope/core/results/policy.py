"""A run's decision policy, saved with it: the calibration temperature of each model file, the
"needs review" threshold (or the accuracy target it was chosen for) and the error costs.

``<run>/decisions.json`` is written atomically; a run without one decides as before (temperature
1, no threshold, every error costing the same). The temperature is fitted on the run's validation
images (:func:`fit_policy_calibration`), whose calibrated confidences and right/wrong answers are
kept beside it, so a new target accuracy becomes a threshold without running the model again.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from filterscope.core.base.fileio import atomic_write_json, file_sha256, read_json_file
from filterscope.core.base.jobs import Cancel, Report, SubReport
from filterscope.core.base.settings import declaration, like
from filterscope.core.results.calibration import Calibration, apply_temperature, calibrate
from filterscope.core.results.decisions import (Costs, CostsError, CoverageCurve, coverage_curve,
                                                threshold_for_target)
from filterscope.core.results.eval_sets import EvalSetError, open_eval_set
from filterscope.core.results.feed import predict_images
from filterscope.core.results.settings import DecisionLimits
from filterscope.core.training.saved_model import OpenedModel

POLICY_FILE = "decisions.json"
POLICY_VERSION = 1


class PolicyError(ValueError):
    """A decisions.json that cannot be read, or a threshold / target out of range."""


@dataclass(frozen=True)
class Fitted:
    """The calibration of one model file and its validation answers, calibrated.

    Attributes:
        calibration: The temperature and what it did on the validation images.
        confidence: (N,) calibrated probability of each validation image's answer.
        correct: (N,) whether that answer is right.
    """

    calibration: Calibration
    confidence: np.ndarray
    correct: np.ndarray

    def curve(self) -> CoverageCurve:
        """The coverage / accuracy curve on the validation images."""
        return coverage_curve(self.confidence, self.correct)

    def threshold_for(self, target: float) -> float | None:
        """The lowest threshold reaching ``target`` accuracy on the validation images."""
        return threshold_for_target(self.confidence, self.correct, target)

    def to_json(self) -> dict:
        """A JSON-able dict."""
        return {"calibration": self.calibration.to_json(),
                "confidence": [round(float(c), 6) for c in self.confidence],
                "correct": [int(c) for c in self.correct]}

    @classmethod
    def from_json(cls, data: dict) -> Fitted:
        """The inverse of :meth:`to_json`."""
        return cls(Calibration.from_json(data["calibration"]), np.asarray(data["confidence"], np.float64),
                   np.asarray(data["correct"], bool))


@dataclass(frozen=True)
class Policy:
    """How a run's answers become decisions.

    Attributes:
        fitted: ``best`` / ``last`` -> its calibration (absent: not fitted yet).
        threshold: Calibrated confidence below which an answer needs review; None: none.
        target_accuracy: The accuracy on accepted images the threshold was chosen for, or None
            when the threshold was set directly.
        costs: The error costs, or None (every error costs the same).
    """

    fitted: dict[str, Fitted] = field(default_factory=dict)
    threshold: float | None = like(DecisionLimits, "threshold")
    target_accuracy: float | None = like(DecisionLimits, "target_accuracy")
    costs: Costs | None = None

    def temperature(self, which: str) -> float:
        """The temperature of a model file (1.0 when not fitted)."""
        found = self.fitted.get(which)
        return found.calibration.temperature if found else 1.0

    def to_json(self) -> dict:
        """A JSON-able dict."""
        return {"version": POLICY_VERSION, "fitted": {k: v.to_json() for k, v in self.fitted.items()},
                "threshold": self.threshold, "target_accuracy": self.target_accuracy,
                "costs": None if self.costs is None else self.costs.to_json()}

    def describe(self) -> str:
        """One sentence: the threshold (and target) and whether costs are set."""
        parts = []
        if self.threshold is not None:
            target = (f", chosen for {100 * self.target_accuracy:.1f} % accuracy on accepted "
                      f"validation images") if self.target_accuracy is not None else ""
            parts.append(f"needs review below {100 * self.threshold:.1f} % calibrated confidence{target}")
        if self.costs is not None and not self.costs.is_default():
            parts.append("error costs set")
        return "; ".join(parts) or "no threshold, every error costs the same"


def check_threshold(value: float | None, name: str = "threshold") -> float | None:
    """A threshold or target (``name``: ``threshold`` or ``target accuracy``) within its declared
    limits, or None.

    Raises:
        PolicyError: Out of range.
    """
    spec = declaration(DecisionLimits, name.replace(" ", "_"))
    if value is not None and not spec.low <= value <= spec.high:
        raise PolicyError(f"{name} must lie between {spec.low:g} and {spec.high:g} (a share, e.g. 0.95), "
                          f"not {value}")
    return value


def policy_path(run_dir: str | os.PathLike) -> Path:
    """Where a run keeps its policy."""
    return Path(run_dir) / POLICY_FILE


def load_policy(run_dir: str | os.PathLike, classes: list[str] | None = None) -> Policy:
    """The run's policy (the default one when it has none).

    Raises:
        PolicyError: The file exists but cannot be read (named).
    """
    path = policy_path(run_dir)
    if not path.is_file():
        return Policy()
    data = read_json_file(path, PolicyError, "decision policy")
    try:
        if data.get("version") != POLICY_VERSION:
            raise ValueError(f"version {data.get('version')!r}")
        costs = data.get("costs")
        return Policy({str(k): Fitted.from_json(v) for k, v in data.get("fitted", {}).items()},
                      check_threshold(data.get("threshold")), check_threshold(data.get("target_accuracy"), "target accuracy"),
                      None if costs is None else Costs.from_json(costs, classes, str(path)))
    except (CostsError, PolicyError) as exc:
        raise PolicyError(str(exc)) from exc
    except (AttributeError, KeyError, TypeError, ValueError) as exc:
        raise PolicyError(f"{path}: not a decision policy this app can read ({exc})") from exc


def save_policy(run_dir: str | os.PathLike, policy: Policy) -> Path:
    """Write the run's policy atomically."""
    return atomic_write_json(policy_path(run_dir), policy.to_json())


def fit_calibration(opened: OpenedModel, *, report: Report, cancel: Cancel,
                    probabilities: np.ndarray | None = None, labels: np.ndarray | None = None,
                    description: str | None = None) -> Fitted:
    """Fit the temperature of an opened run model on its validation images (predicted here unless
    their ``probabilities`` and ``labels`` are given, from an evaluation on them).

    Raises:
        EvalSetError: The run's validation images cannot be found or read.
        Cancelled: ``cancel`` was set.
    """
    if probabilities is None or labels is None:
        val = open_eval_set(opened, None, "val", report=SubReport(report, 0.0, 0.1), cancel=cancel)
        predicted = predict_images(opened.model, val.images, opened.rule,
                                   report=SubReport(report, 0.1, 0.85), cancel=cancel)
        read = predicted.read()
        if not len(read):
            raise EvalSetError(f"none of {val.description} could be read: nothing to calibrate on")
        probabilities, labels, description = predicted.probabilities[read], val.labels[read], val.description
    calibration = calibrate(probabilities, labels, model=opened.which, fitted_on=description or "validation images",
                            model_sha256=file_sha256(opened.path))
    scaled = apply_temperature(probabilities, calibration.temperature)
    report.progress(1.0, f"Calibrated: {calibration.describe()}")
    # rounded as saved, so a threshold chosen now equals the one chosen from the saved policy
    return Fitted(calibration, np.round(scaled.max(axis=1).astype(np.float64), 6), scaled.argmax(axis=1) == labels)


def ensure_fitted(opened: OpenedModel, *, report: Report, cancel: Cancel,
                  **given) -> tuple[Fitted | None, str | None]:
    """The opened run model's calibration, fitted on its validation images and saved in the run's
    policy when it has none yet (``given``: see :func:`fit_calibration`).

    A calibration fitted for another version of the model file (its SHA-256 differs) is fitted
    again. A model file that is not a run's (no validation images), or a run whose validation
    images cannot be read, is not calibrated: the second item says why (its temperature stays 1).
    A run folder that cannot be written keeps its calibration in this result only (noted).

    Raises:
        PolicyError: The run's decisions.json cannot be read.
        Cancelled: ``cancel`` was set.
    """
    if opened.run is None:
        return None, "not calibrated: only a run has validation images to fit a temperature on"
    stored = load_policy(opened.run.run_dir, list(opened.classes))
    found = stored.fitted.get(opened.which)
    if found is not None and found.calibration.model_sha256 == file_sha256(opened.path):
        return found, None
    try:
        fitted = fit_calibration(opened, report=report, cancel=cancel, **given)
    except EvalSetError as exc:
        return None, f"not calibrated: {exc}"
    try:
        save_policy(opened.run.run_dir, replace(stored, fitted={**stored.fitted, opened.which: fitted}))
    except OSError as exc:
        return fitted, f"the calibration could not be saved in the run ({exc.strerror or exc}): it is fitted again next time"
    return fitted, None


KEEP = object()  # choose_policy: leave this part of the stored policy as it is


def choose_policy(opened: OpenedModel, *, threshold: float | None | object = KEEP,
                  target_accuracy: float | None | object = KEEP, costs: Costs | None | object = KEEP,
                  report: Report, cancel: Cancel) -> Policy:
    """Set a run's threshold (directly, or as the lowest one reaching ``target_accuracy`` on its
    calibrated validation images) and costs, and save the policy. ``None`` clears a part,
    :data:`KEEP` leaves it.

    Raises:
        PolicyError: A value out of range, a target no threshold reaches, a model that is not a
            run's, or a run that cannot be calibrated (its validation images are gone).
        Cancelled: ``cancel`` was set.
    """
    if opened.run is None:
        raise PolicyError("a decision policy is saved with a run: give a run folder, not a model file")
    for name, value in (("threshold", threshold), ("target accuracy", target_accuracy)):
        if value is not KEEP:
            check_threshold(value, name)  # type: ignore[arg-type]
    fitted, note = ensure_fitted(opened, report=report, cancel=cancel)
    stored = load_policy(opened.run.run_dir, list(opened.classes))
    changes: dict = {}
    if target_accuracy is not KEEP and target_accuracy is not None:
        if fitted is None:
            raise PolicyError(f"a target needs the run's validation images ({note})")
        found = fitted.threshold_for(float(target_accuracy))  # type: ignore[arg-type]
        if found is None:
            best = np.nanmax(fitted.curve().accuracy)
            raise PolicyError(f"no threshold makes the accepted validation images "
                              f"{100 * float(target_accuracy):.1f} % accurate (at most "  # type: ignore[arg-type]
                              f"{100 * best:.1f} %): choose a lower target")
        changes.update(threshold=found, target_accuracy=float(target_accuracy))  # type: ignore[arg-type]
    elif threshold is not KEEP:
        changes.update(threshold=threshold, target_accuracy=None)
    elif target_accuracy is None:
        changes.update(threshold=None, target_accuracy=None)
    if costs is not KEEP:
        changes["costs"] = costs
    policy = replace(stored, **changes)
    save_policy(opened.run.run_dir, policy)
    return policy
