"""A run exported to ONNX for the scorer's tests with the app's own ``filterscope export``
(core/export/export.py): Keras 3's exporter, verified in ONNX Runtime, with its manifest."""

from __future__ import annotations

import threading
from pathlib import Path

from filterscope.core.base.jobs import NullReport


def export_onnx(run_dir: Path, dest: Path, which: str = "best") -> Path:
    """``dest/model.onnx`` and its manifest, exported from the run's ``which`` model."""
    from filterscope.core.export.export import export_model

    dest.mkdir(parents=True, exist_ok=True)
    path = dest / "model.onnx"
    export_model(run_dir, "onnx", path, which=which, report=NullReport(), cancel=threading.Event())
    return path
