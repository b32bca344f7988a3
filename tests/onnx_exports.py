"""A run exported to ONNX for the scorer's tests, before (and independently of) ``filterscope
export``: Keras 3's own ``model.export(format="onnx")``, and the manifest written with
:mod:`filterscope.core.export.manifest`, from the run as ``filterscope predict`` opens it (its
input rule, calibration temperature, threshold and costs)."""

from __future__ import annotations

import threading
import warnings
from pathlib import Path

import numpy as np

from filterscope import __version__
from filterscope.core.base.fileio import file_sha256
from filterscope.core.base.jobs import NullReport
from filterscope.core.export.manifest import ExportManifest, write_manifest


def export_onnx(run_dir: Path, dest: Path, which: str = "best") -> Path:
    """``dest/model.onnx`` and its manifest, exported from the run's ``which`` model."""
    import onnxruntime as ort

    from filterscope.core.results.audit import now_utc
    from filterscope.core.results.policy import ensure_fitted, load_policy
    from filterscope.core.training.saved_model import open_model

    job = {"report": NullReport(), "cancel": threading.Event()}
    opened = open_model(run_dir, which=which, **job)
    fitted, _ = ensure_fitted(opened, **job)
    policy = load_policy(run_dir, list(opened.classes))
    dest.mkdir(parents=True, exist_ok=True)
    path = dest / "model.onnx"
    rule = opened.rule
    opened.model.predict_on_batch(np.zeros((1, *rule.size, rule.channels), np.float32))  # Keras exports called models
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        opened.model.export(str(path), format="onnx", verbose=False)
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    manifest = ExportManifest(
        "onnx", list(opened.classes), opened.rule, session.get_inputs()[0].name,
        session.get_outputs()[0].name, temperature=fitted.calibration.temperature if fitted else 1.0,
        threshold=policy.threshold, target_accuracy=policy.target_accuracy, costs=policy.costs,
        run={"id": opened.info.get("id"), "dir": str(run_dir), "which": opened.which, "epoch": opened.epoch},
        model_sha256=file_sha256(path), app_version=__version__, created=now_utc(),
        verification={"made_by": "tests/onnx_exports.py"})
    write_manifest(path, manifest)
    return path
