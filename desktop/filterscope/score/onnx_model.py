"""An exported ONNX model opened in ONNX Runtime, fed as :mod:`~filterscope.core.results.feed`
feeds a Keras model (``predict_on_batch``, ``output_shape``), so scoring reuses the app's feed."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from filterscope.core.base.fileio import file_sha256
from filterscope.core.export.manifest import ExportManifest, ManifestError
from filterscope.core.export.onnx_session import DEFAULT_LEVEL
from filterscope.core.export.onnx_session import session as onnx_session
from filterscope.core.results.audit import Scorer
from filterscope.core.training.model_input import InputRule


class ModelError(Exception):
    """An exported model that cannot (or must not) be scored with; the message names the file."""


@dataclass
class OnnxModel:
    """An ONNX Runtime session with its manifest.

    Attributes:
        path: The ``.onnx`` file.
        manifest: Its sidecar.
        session: The ``onnxruntime.InferenceSession``.
        sha256: The file's SHA-256 (equal to the manifest's).
    """

    path: Path
    manifest: ExportManifest
    session: Any
    sha256: str

    @property
    def output_shape(self) -> tuple[None, int]:
        """(None, classes), as a Keras model's."""
        return (None, len(self.manifest.classes))

    def predict_on_batch(self, x: np.ndarray) -> np.ndarray:
        """Probabilities (N, C) of float32 NHWC inputs already scaled by the input rule."""
        return self.session.run([self.manifest.output_name], {self.manifest.input_name: x})[0]

    def describe(self) -> str:
        """``"model.onnx (ONNX export of run 2024...-tiny, best model, epoch 3)"``."""
        run = self.manifest.run
        name = run.get("id") or (Path(run["dir"]).name if run.get("dir") else None)
        what = ", ".join(p for p in (f"{run['which']} model" if run.get("which") else "",
                                     f"epoch {run['epoch']}" if run.get("epoch") else "") if p)
        return f"{self.path.name} (ONNX export" + (f" of run {name}" if name else "") \
            + (f", {what}" if what else "") + ")"

    def scorer(self) -> Scorer:
        """The audit trail's scorer: the run exported and the ONNX file that answered."""
        run = self.manifest.run
        run_dir = run.get("dir")
        return Scorer(run_name=Path(run_dir).name if run_dir else None,
                      run_json_id=None if run.get("id") is None else str(run["id"]), run_dir=run_dir,
                      model_path=str(self.path.absolute()), model_sha256=self.sha256,
                      which=str(run.get("which") or "file"), epoch=run.get("epoch"))


def default_threads() -> int:
    """ONNX Runtime's threads when scoring: every core this process may use. Its threads wait
    without spinning, so they leave the cores to the feed's decoding threads while those work:
    measured on 2 cores, 500 photos, against a thread fewer than the cores (one core kept for
    decoding): EfficientNet-Lite0 with a head scored in 2.9 s instead of 4.8, the chapter's
    ConvNet in the same 0.47 s."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def open_onnx(path: str | os.PathLike, *, threads: int = 0) -> OnnxModel:
    """Open an exported model and its manifest, checking they belong together.

    The session's threads wait without spinning: ONNX Runtime's default busy-wait between
    batches takes the cores the feed's decoding threads need (measured on 2 cores: scoring 500
    photos took 1.5-2x as long with it). Its graph optimisation is the one the export measured
    fastest for this model (:mod:`~filterscope.core.export.onnx_session`).

    Args:
        path: The ``.onnx`` file (its ``.filterscope.json`` sidecar beside it).
        threads: ONNX Runtime's intra-op threads (0: :func:`default_threads`).

    Raises:
        ModelError: No such file, no or a bad manifest, a file whose SHA-256 is not the
            manifest's, a model that is not ONNX or does not take the manifest's input.
    """
    path = Path(path).expanduser()
    if not path.is_file():
        raise ModelError(f"{path}: no such model file")
    try:
        manifest = ExportManifest.read(path)
    except ManifestError as exc:
        raise ModelError(str(exc)) from exc
    if manifest.model_format != "onnx":
        raise ModelError(f"{path}: a {manifest.model_format} export; filterscope-score runs ONNX exports")
    sha256 = file_sha256(path)  # the file that scores, in every row and the audit record
    level = (manifest.onnxruntime or {}).get("graph_optimization", DEFAULT_LEVEL)
    try:
        session = onnx_session(path, level=level, threads=threads or default_threads())
    except ValueError as exc:  # a level this version does not know
        raise ModelError(f"{path}: {exc}") from exc
    except Exception as exc:  # onnxruntime raises its own Fail / InvalidGraph / ... types
        raise ModelError(f"{path}: not a model ONNX Runtime can run ({str(exc).splitlines()[0][:300]})") from exc
    _check_fits(path, manifest, session)
    return OnnxModel(path, manifest, session, sha256)


def _check_fits(path: Path, manifest: ExportManifest, session: Any) -> None:
    inputs = {i.name: i for i in session.get_inputs()}
    outputs = {o.name: o for o in session.get_outputs()}
    if manifest.input_name not in inputs or manifest.output_name not in outputs:
        raise ModelError(f"{path}: the model has inputs {sorted(inputs)} and outputs {sorted(outputs)}, "
                         f"not the manifest's {manifest.input_name!r} and {manifest.output_name!r}")
    rule = InputRule.from_json(manifest.input)
    want = [*rule.size, rule.channels]
    shape = list(inputs[manifest.input_name].shape)
    out = list(outputs[manifest.output_name].shape)
    if len(shape) != 4 or [d for d in shape[1:] if isinstance(d, int)] != want \
            or not isinstance(out[-1], int) or out[-1] != len(manifest.classes):
        raise ModelError(f"{path}: the model takes {shape} and answers {out}, but its manifest says "
                         f"(N, {want[0]}, {want[1]}, {want[2]}) and {len(manifest.classes)} classes")
