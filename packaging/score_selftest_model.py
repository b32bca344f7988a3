"""Make the ONNX model ``filterscope-score --self-test`` scores, and what it must answer.

    python packaging/score_selftest_model.py OUT_DIR

Writes OUT_DIR/model.onnx (8 x 8 RGB scaled to [0, 1], flattened, one dense layer, softmax: made
with the ``onnx`` package's helpers, so the bundle needs neither TensorFlow nor onnx), its
manifest (``model.onnx.filterscope.json``, through :mod:`filterscope.core.export.manifest`) and
expected.json: the plain colours the self-test paints and the probabilities numpy computes for
them (a plain colour stays the same colour whatever the resize, so these numbers do not depend
on the code under test).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from filterscope import __version__
from filterscope.core.base.fileio import atomic_write_bytes
from filterscope.core.export.manifest import ExportManifest, sidecar_path
from filterscope.core.training.model_input import InputRule

CLASSES = ["red", "green", "blue"]
COLOURS = {"a-red": [220, 40, 30], "b-green": [30, 200, 60], "c-blue": [20, 50, 230], "d-grey": [128, 128, 128]}


def main(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    weights = (rng.normal(0, 0.05, (8, 8, 3, 3)) + np.eye(3)[None, None] * 0.1).astype(np.float32).reshape(-1, 3)
    bias = np.array([0.1, 0.0, -0.1], np.float32)
    graph = helper.make_graph(
        [helper.make_node("Flatten", ["image"], ["flat"], axis=1),
         helper.make_node("Gemm", ["flat", "W", "b"], ["logits"]),
         helper.make_node("Softmax", ["logits"], ["probabilities"], axis=-1)],
        "selftest", [helper.make_tensor_value_info("image", TensorProto.FLOAT, ["N", 8, 8, 3])],
        [helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, ["N", 3])],
        [numpy_helper.from_array(weights, "W"), numpy_helper.from_array(bias, "b")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    path = out / "model.onnx"
    onnx.save(model, str(path))
    manifest = ExportManifest("onnx", CLASSES, InputRule((8, 8), 3).to_json(), "image", "probabilities",
                              temperature=1.0, threshold=None, target_accuracy=None, costs=None,
                              run={"id": "self-test", "dir": None, "which": "best", "epoch": 1},
                              model_sha256="", app_version=__version__, created="self-test",
                              extra={"made_by": Path(__file__).name})
    atomic_write_bytes(sidecar_path(path), manifest.dumps().encode("utf-8"))
    probabilities, winners = {}, {}
    for name, rgb in COLOURS.items():
        x = np.broadcast_to(np.asarray(rgb, np.float64) / 255.0, (8, 8, 3)).reshape(1, -1)
        z = x @ weights.astype(np.float64) + bias
        p = np.exp(z - z.max()) / np.exp(z - z.max()).sum()
        probabilities[name], winners[name] = p[0].tolist(), CLASSES[int(p.argmax())]
    (out / "expected.json").write_text(json.dumps({"classes": CLASSES, "colours": COLOURS, "winners": winners,
                                                   "probabilities": probabilities}, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
