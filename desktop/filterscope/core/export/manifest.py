"""The sidecar of an exported model: what a scorer needs to prepare images and decide as the run did.

An export ``model.onnx`` gets ``model.onnx.filterscope.json`` beside it (the model file's full name
plus :data:`SIDECAR_SUFFIX`), versioned::

    {"format": "filterscope-export", "version": 1, "model_format": "onnx",
     "classes": [...], "input": InputRule.to_json(), "input_name": "...", "output_name": "...",
     "calibration": {"temperature": T}, "threshold": float | null, "target_accuracy": ...,
     "costs": Costs.to_json() | null, "run": {"id", "dir", "which", "epoch"},
     "model_sha256": "<the exported file's SHA-256>", "app_version": "...", "created": "...",
     "verification": {...}}

The model's input is float32 NHWC after the run's scaling (:meth:`InputRule.to_model`), exactly
what the Keras model is fed. Written by the export, read by ``filterscope-score``; Qt-free and
TensorFlow-free (numpy, the input rule and the costs only).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from filterscope.core.base.fileio import atomic_write_json, read_json_file
from filterscope.core.results.decisions import Costs, CostsError
from filterscope.core.training.model_input import InputRule

FORMAT = "filterscope-export"
VERSION = 1
SIDECAR_SUFFIX = ".filterscope.json"
MODEL_FORMATS = ("onnx", "tflite", "savedmodel")


class ManifestError(ValueError):
    """A sidecar that is missing, damaged, of another format or a newer version; the message names it."""


def manifest_path(model_path: str | os.PathLike) -> Path:
    """The sidecar of an exported model: ``model.onnx`` -> ``model.onnx.filterscope.json``."""
    path = Path(model_path)
    return path.with_name(path.name + SIDECAR_SUFFIX)


@dataclass
class ExportManifest:
    """What an export carries besides its weights (see the module's docstring for the JSON).

    Attributes:
        model_format: ``onnx``, ``tflite`` or ``savedmodel``.
        classes: Class names in the model's output order.
        rule: How images are prepared (size, channels, mask, scaling).
        input_name: The model's input tensor.
        output_name: Its output (softmax probabilities).
        temperature: The run's calibration temperature (1.0: not calibrated).
        threshold: Needs review below this calibrated confidence, or None.
        target_accuracy: The accuracy the threshold was chosen for, or None.
        costs: The run's error costs, or None.
        run: ``{"id", "dir", "which", "epoch"}`` of the run exported.
        model_sha256: The exported model file's SHA-256.
        app_version: The app that exported.
        created: When (ISO 8601, UTC).
        verification: The export's own check (classes identical, largest probability difference...).
    """

    model_format: str
    classes: list[str]
    rule: InputRule
    input_name: str
    output_name: str
    temperature: float = 1.0
    threshold: float | None = None
    target_accuracy: float | None = None
    costs: Costs | None = None
    run: dict = field(default_factory=dict)
    model_sha256: str = ""
    app_version: str = ""
    created: str = ""
    verification: dict = field(default_factory=dict)

    def to_json(self) -> dict:
        """The sidecar's JSON."""
        return {"format": FORMAT, "version": VERSION, "model_format": self.model_format,
                "classes": list(self.classes), "input": self.rule.to_json(),
                "input_name": self.input_name, "output_name": self.output_name,
                "calibration": {"temperature": float(self.temperature)}, "threshold": self.threshold,
                "target_accuracy": self.target_accuracy,
                "costs": None if self.costs is None else self.costs.to_json(), "run": dict(self.run),
                "model_sha256": self.model_sha256, "app_version": self.app_version,
                "created": self.created, "verification": dict(self.verification)}

    @classmethod
    def from_json(cls, data: object, where: str = "manifest") -> ExportManifest:
        """Read the sidecar's JSON.

        Raises:
            ManifestError: Another format, a newer version, a missing or malformed field.
        """
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise ManifestError(f"{where}: not a Filterscope export manifest (format {FORMAT!r})")
        version = data.get("version")
        if not isinstance(version, int) or not 1 <= version <= VERSION:
            raise ManifestError(f"{where}: manifest version {version!r}; this scorer reads versions "
                                f"1 to {VERSION} (a newer app exported it: update filterscope-score)")
        try:
            classes = [str(c) for c in data["classes"]]
            costs = data.get("costs")
            return cls(model_format=_choice(data["model_format"]), classes=classes,
                       rule=InputRule.from_json(data["input"]), input_name=str(data["input_name"]),
                       output_name=str(data["output_name"]),
                       temperature=float((data.get("calibration") or {}).get("temperature", 1.0)),
                       threshold=_number(data.get("threshold")),
                       target_accuracy=_number(data.get("target_accuracy")),
                       costs=None if costs is None else Costs.from_json(costs, classes, where),
                       run=dict(data.get("run") or {}), model_sha256=str(data.get("model_sha256") or ""),
                       app_version=str(data.get("app_version") or ""), created=str(data.get("created") or ""),
                       verification=dict(data.get("verification") or {}))
        except (KeyError, TypeError, ValueError, CostsError) as exc:
            raise ManifestError(f"{where}: {exc}") from exc


def _choice(model_format: object) -> str:
    if model_format not in MODEL_FORMATS:
        raise ValueError(f"model_format must be one of {', '.join(MODEL_FORMATS)}, not {model_format!r}")
    return str(model_format)


def _number(value: object) -> float | None:
    return None if value is None else float(value)  # type: ignore[arg-type]


def write_manifest(model_path: str | os.PathLike, manifest: ExportManifest) -> Path:
    """Write the sidecar of ``model_path`` atomically; its path."""
    path = manifest_path(model_path)
    atomic_write_json(path, manifest.to_json())
    return path


def read_manifest(model_path: str | os.PathLike) -> ExportManifest:
    """The sidecar of ``model_path``.

    Raises:
        ManifestError: No sidecar, not JSON, or not a manifest this version reads.
    """
    path = manifest_path(model_path)
    if not path.is_file():
        raise ManifestError(f"{path}: no manifest beside {Path(model_path).name}; export the run "
                            "with `filterscope export`, which writes both")
    return ExportManifest.from_json(read_json_file(path, ManifestError, "export manifest"), str(path))
