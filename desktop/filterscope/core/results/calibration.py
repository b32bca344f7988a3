"""Whether "89 %" means 89 %: temperature scaling and the reliability of a model's confidence.

A network's softmax is often over-confident. Temperature scaling (Guo et al. 2017) divides the
logits by one scalar ``T`` fitted on held-out predictions by log-loss: it changes no answer (the
order of the classes is kept) and only how sure the answers are. A softmax model's logits are its
log-probabilities up to a constant per image, so the probabilities a run saved are enough.

Reliability is measured as the chapter of the calibration literature does: predictions binned by
confidence (15 equal-width bins), each bin's mean confidence against its accuracy; the expected
calibration error (ECE) is the image-weighted mean gap. One function per number, used by
evaluation, prediction, the Results tab, the CLI and the report alike.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

BINS = 15
LOG_T_RANGE = (-4.0, 4.0)  # T from 1/55 to 55: far outside what a trained network needs
_FLOOR = 1e-12


def apply_temperature(probabilities: np.ndarray, temperature: float) -> np.ndarray:
    """The probabilities a softmax over ``logits / temperature`` gives (float32, rows sum to 1);
    rows of NaN (images that could not be read) stay NaN."""
    p = np.asarray(probabilities, np.float64)
    if temperature == 1.0 or not p.size:
        return p.astype(np.float32)
    z = np.log(np.clip(p, _FLOOR, 1.0)) / temperature
    z -= np.max(z, axis=1, keepdims=True)
    e = np.exp(z)
    return (e / e.sum(axis=1, keepdims=True)).astype(np.float32)


def log_loss(probabilities: np.ndarray, labels: np.ndarray) -> float:
    """Mean negative log-probability of the true class."""
    p = np.asarray(probabilities, np.float64)[np.arange(len(labels)), np.asarray(labels, np.int64)]
    return float(-np.mean(np.log(np.clip(p, _FLOOR, 1.0))))


def fit_temperature(probabilities: np.ndarray, labels: np.ndarray) -> float:
    """The temperature minimising the log-loss of ``labels`` under the scaled probabilities
    (a bounded one-dimensional search over log T; 1.0 for no images).

    Args:
        probabilities: (N, C) the model's softmax outputs.
        labels: (N,) true class indices.
    """
    from scipy.optimize import minimize_scalar  # here: scipy costs the app's start-up 0.3 s

    labels = np.asarray(labels, np.int64)
    if not len(labels):
        return 1.0
    logits = np.log(np.clip(np.asarray(probabilities, np.float64), _FLOOR, 1.0))
    rows = np.arange(len(labels))

    def loss(log_t: float) -> float:
        z = logits / np.exp(log_t)
        z -= z.max(axis=1, keepdims=True)
        return float(np.mean(np.log(np.exp(z).sum(axis=1)) - z[rows, labels]))


    found = minimize_scalar(loss, bounds=LOG_T_RANGE, method="bounded", options={"xatol": 1e-4})
    return float(np.exp(found.x))


@dataclass(frozen=True)
class Reliability:
    """A reliability diagram's numbers.

    Attributes:
        edges: (bins + 1,) the confidence bins' edges, 0 to 1.
        confidence: (bins,) mean confidence in each bin (NaN for an empty bin).
        accuracy: (bins,) accuracy in each bin (NaN for an empty bin).
        counts: (bins,) images in each bin.
        ece: The expected calibration error: sum over bins of count/N * |accuracy - confidence|.
    """

    edges: np.ndarray
    confidence: np.ndarray
    accuracy: np.ndarray
    counts: np.ndarray
    ece: float

    def to_json(self) -> dict:
        """A JSON-able dict (empty bins' means as None)."""
        def plain(values: np.ndarray) -> list:
            return [None if np.isnan(v) else float(v) for v in values]
        return {"edges": [float(e) for e in self.edges], "confidence": plain(self.confidence),
                "accuracy": plain(self.accuracy), "counts": [int(c) for c in self.counts],
                "ece": self.ece}

    @classmethod
    def from_json(cls, data: dict) -> Reliability:
        """The inverse of :meth:`to_json`."""
        def array(values: list) -> np.ndarray:
            return np.asarray([np.nan if v is None else v for v in values], np.float64)
        return cls(np.asarray(data["edges"], np.float64), array(data["confidence"]),
                   array(data["accuracy"]), np.asarray(data["counts"], np.int64), float(data["ece"]))


def reliability(probabilities: np.ndarray, labels: np.ndarray, bins: int = BINS) -> Reliability:
    """Bin the top-class confidence of each image into ``bins`` equal-width bins and compare each
    bin's mean confidence with its accuracy."""
    p = np.asarray(probabilities, np.float64)
    labels = np.asarray(labels, np.int64)
    edges = np.linspace(0.0, 1.0, bins + 1)
    if not len(labels):
        empty = np.full(bins, np.nan)
        return Reliability(edges, empty, empty.copy(), np.zeros(bins, np.int64), 0.0)
    confidence = p.max(axis=1)
    correct = (p.argmax(axis=1) == labels).astype(np.float64)
    which = np.clip(np.searchsorted(edges, confidence, side="left") - 1, 0, bins - 1)
    counts = np.bincount(which, minlength=bins)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_conf = np.bincount(which, confidence, minlength=bins) / counts
        mean_acc = np.bincount(which, correct, minlength=bins) / counts
    gaps = np.where(counts > 0, np.abs(np.nan_to_num(mean_acc) - np.nan_to_num(mean_conf)), 0.0)
    return Reliability(edges, mean_conf, mean_acc, counts, float(np.sum(counts * gaps) / len(labels)))


def expected_calibration_error(probabilities: np.ndarray, labels: np.ndarray, bins: int = BINS) -> float:
    """The ECE of :func:`reliability`."""
    return reliability(probabilities, labels, bins).ece


@dataclass(frozen=True)
class Calibration:
    """A temperature fitted for one model file of a run, and what it did there.

    Attributes:
        temperature: Divides the logits (> 1 softens over-confident answers).
        model: ``best`` or ``last``.
        fitted_on: What images the temperature was fitted on (a description).
        n_images: How many.
        log_loss_before: Their log-loss with the model's own probabilities.
        log_loss_after: With the scaled ones.
        ece_before: Their expected calibration error before.
        ece_after: After.
        model_sha256: The model file's SHA-256: a temperature belongs to one file, and is fitted
            again when the file changes.
    """

    temperature: float
    model: str
    fitted_on: str
    n_images: int
    log_loss_before: float
    log_loss_after: float
    ece_before: float
    ece_after: float
    model_sha256: str = ""

    def to_json(self) -> dict:
        """A JSON-able dict."""
        return dict(self.__dict__)

    @classmethod
    def from_json(cls, data: dict) -> Calibration:
        """The inverse of :meth:`to_json`."""
        return cls(float(data["temperature"]), str(data["model"]), str(data["fitted_on"]),
                   int(data["n_images"]), float(data["log_loss_before"]), float(data["log_loss_after"]),
                   float(data["ece_before"]), float(data["ece_after"]), str(data.get("model_sha256", "")))

    def describe(self) -> str:
        """``"temperature 1.84, fitted on the run's validation images (92; ECE there 12.1 % → 3.0 %)"``."""
        return (f"temperature {self.temperature:.2f}, fitted on {self.fitted_on} ({self.n_images:,} images; "
                f"ECE there {100 * self.ece_before:.1f} % → {100 * self.ece_after:.1f} %)")


def calibrate(probabilities: np.ndarray, labels: np.ndarray, *, model: str, fitted_on: str,
              model_sha256: str = "") -> Calibration:
    """Fit the temperature on these predictions and measure it there."""
    t = fit_temperature(probabilities, labels)
    after = apply_temperature(probabilities, t)
    return Calibration(t, model, fitted_on, int(len(labels)), log_loss(probabilities, labels),
                       log_loss(after, labels), expected_calibration_error(probabilities, labels),
                       expected_calibration_error(after, labels), model_sha256)
