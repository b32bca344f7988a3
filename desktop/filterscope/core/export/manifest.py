"""The sidecar of an exported model, ``<PATH>.filterscope.json``: the one declaration of what an
export carries, shared with the light scorer.

Plain Python only (no TensorFlow, Keras or Qt, at module level or later): a scorer that has
nothing but ONNX Runtime and numpy reads it. It says how to prepare an image exactly as training
did (``input``: :meth:`~filterscope.core.training.model_input.InputRule.to_json`: size, channels,
the mask or null, the preprocessing mode), the classes in output order, the run's decision policy
(calibration temperature, threshold, target accuracy, costs), which run and model file it came
from, and how the export was verified. ``input_name`` / ``output_name`` name the model's input
(float32 NHWC, after scaling: what ``InputRule.to_model`` gives) and its output (softmax
probabilities, one column per class). An ONNX export carries the same JSON text in its
``metadata_props`` under :data:`ONNX_METADATA_KEY`.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

FORMAT = "filterscope-export"
VERSION = 1
MODEL_FORMATS = ("onnx", "tflite", "savedmodel")
SUFFIXES = {"onnx": ".onnx", "tflite": ".tflite", "savedmodel": ""}  # a SavedModel is a folder
SIDECAR_SUFFIX = ".filterscope.json"
ONNX_METADATA_KEY = "filterscope"
INPUT_NAME = "image"
ONNX_OUTPUT_NAME = "probabilities"


class ManifestError(ValueError):
    """A sidecar that is not a Filterscope export this version can read (the message says why)."""


def sidecar_path(model_path: str | os.PathLike) -> Path:
    """``model.onnx`` -> ``model.onnx.filterscope.json`` (a SavedModel folder: beside it)."""
    path = Path(model_path)
    return path.with_name(path.name + SIDECAR_SUFFIX)


@dataclass(frozen=True)
class Verification:
    """How an export was checked: loaded back in ``runtime`` and run on ``n_images`` images.

    Attributes:
        n_images: Images compared.
        max_abs_diff: The largest difference of any class probability from the Keras model's.
        classes_identical: Whether every image got the same class.
        runtime: ``onnxruntime``, ``tflite`` (TensorFlow's interpreter) or ``tensorflow``.
        runtime_version: Its version.
        images: Which images (``validation images of the run`` or a seeded random sample).
        tolerance: The largest difference allowed.
    """

    n_images: int
    max_abs_diff: float
    classes_identical: bool
    runtime: str
    runtime_version: str
    images: str = ""
    tolerance: float = 1e-4

    @property
    def passed(self) -> bool:
        """Classes identical and every probability within the tolerance."""
        return self.n_images > 0 and self.classes_identical and self.max_abs_diff <= self.tolerance


@dataclass(frozen=True)
class ExportManifest:
    """What ``<PATH>.filterscope.json`` holds (version :data:`VERSION`).

    Attributes:
        model_format: One of MODEL_FORMATS.
        classes: Class names in output order.
        input: The run's ``InputRule.to_json()``.
        input_name: The model's input (float32 NHWC batch, scaled as ``input["preprocessing"]``).
        output_name: Its output (probabilities, (N, len(classes))).
        temperature: The calibration temperature of the model file (1.0: not calibrated).
        threshold: Needs review below this calibrated confidence, or None.
        target_accuracy: The accuracy the threshold was chosen for, or None.
        costs: ``Costs.to_json()`` or None.
        run: ``{"id", "dir", "which", "epoch"}``.
        model_sha256: SHA-256 of the source ``.keras`` file.
        app_version: Filterscope's version.
        created: When (ISO 8601, UTC).
        verification: How it was verified.
        onnxruntime: For an ONNX export, how ONNX Runtime runs it fastest, as measured when it
            was exported (:func:`~filterscope.core.export.onnx_session.fastest_level`):
            ``{"graph_optimization": level, "cpu_ms_per_image": {level: ms}}``; None for other
            formats and for exports made before it was measured.
    """

    model_format: str
    classes: list[str]
    input: dict
    input_name: str
    output_name: str
    temperature: float
    threshold: float | None
    target_accuracy: float | None
    costs: dict | None
    run: dict
    model_sha256: str
    app_version: str
    created: str
    verification: Verification | None = None
    onnxruntime: dict | None = None
    extra: dict = field(default_factory=dict)

    def to_json(self) -> dict:
        """The sidecar's JSON object."""
        return {"format": FORMAT, "version": VERSION, "model_format": self.model_format,
                "classes": list(self.classes), "input": self.input, "input_name": self.input_name,
                "output_name": self.output_name, "calibration": {"temperature": self.temperature},
                "threshold": self.threshold, "target_accuracy": self.target_accuracy,
                "costs": self.costs, "run": self.run, "model_sha256": self.model_sha256,
                "app_version": self.app_version, "created": self.created,
                "verification": None if self.verification is None else asdict(self.verification),
                **({} if self.onnxruntime is None else {"onnxruntime": self.onnxruntime}), **self.extra}

    def dumps(self) -> str:
        """The sidecar's text (also the ONNX metadata's)."""
        return json.dumps(self.to_json(), indent=2)

    @classmethod
    def from_json(cls, data: Any, where: str = "export manifest") -> ExportManifest:
        """The inverse of :meth:`to_json`.

        Raises:
            ManifestError: Not a Filterscope export, a newer version, or a field missing or wrong.
        """
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise ManifestError(f"{where}: not a Filterscope export (no \"format\": \"{FORMAT}\")")
        if data.get("version") != VERSION:
            raise ManifestError(f"{where}: export version {data.get('version')!r}; this version "
                                f"reads version {VERSION}")
        try:
            if data["model_format"] not in MODEL_FORMATS:
                raise ValueError(f"model_format {data['model_format']!r}")
            check = data.get("verification")
            known = {"format", "version", "model_format", "classes", "input", "input_name", "output_name",
                     "calibration", "threshold", "target_accuracy", "costs", "run", "model_sha256",
                     "app_version", "created", "verification", "onnxruntime"}
            return cls(str(data["model_format"]), [str(c) for c in data["classes"]], dict(data["input"]),
                       str(data["input_name"]), str(data["output_name"]),
                       float(data["calibration"]["temperature"]),
                       None if data["threshold"] is None else float(data["threshold"]),
                       None if data["target_accuracy"] is None else float(data["target_accuracy"]),
                       data["costs"], dict(data["run"]), str(data["model_sha256"]),
                       str(data["app_version"]), str(data["created"]),
                       None if check is None else Verification(**check),
                       None if data.get("onnxruntime") is None else dict(data["onnxruntime"]),
                       {k: v for k, v in data.items() if k not in known})
        except (KeyError, TypeError, ValueError) as exc:
            raise ManifestError(f"{where}: not an export manifest this app can read ({exc!r})") from exc

    @classmethod
    def read(cls, model_path: str | os.PathLike) -> ExportManifest:
        """The manifest beside an exported model (``model_path`` or the sidecar itself).

        Raises:
            ManifestError: No sidecar, unreadable, or not a manifest.
        """
        path = Path(model_path)
        side = path if path.name.endswith(SIDECAR_SUFFIX) else sidecar_path(path)
        try:
            data = json.loads(side.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ManifestError(f"{side}: cannot read the export's manifest ({exc})") from exc
        return cls.from_json(data, str(side))
