"""``filterscope-score --self-test``: an installed scorer (the bundle) checks itself.

It scores generated images (plain colours, one file that is not an image) with the small ONNX
model shipped beside this module in ``selftest/`` (made by ``packaging/score_selftest_model.py``
with the probabilities it must give, computed there with numpy), through the same :func:`score`
and CSV writer as any folder, and checks: the rows and columns, the broken file's row, the
probabilities within 1e-4, that TensorFlow, Keras, Qt and SciPy were never imported, and the
time from start to the first prediction. Prints one JSON document; exit status 0 when it passes.
"""

from __future__ import annotations

import csv
import json
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

START = time.perf_counter()  # as early as this module is imported: the CLI imports it first
DATA = Path(__file__).with_name("selftest")
FORBIDDEN = ("tensorflow", "keras", "PySide6", "scipy")


def run_self_test() -> int:
    """Run the checks and print their JSON; 0 when all pass, 1 otherwise, 2 (with a message)
    when this install has no self-test model (only the bundle ships one)."""
    if not (DATA / "expected.json").is_file():
        print(f"filterscope-score --self-test checks a bundle made by packaging/build-score-bundle.sh, "
              f"which ships the self-test's model; this install has none (looked in {DATA})", file=sys.stderr)
        return 2
    from PIL import Image

    from filterscope.core.base.jobs import NullReport
    from filterscope.score.onnx_model import open_onnx
    from filterscope.score.score import score

    expected = json.loads((DATA / "expected.json").read_text(encoding="utf-8"))
    checks: dict[str, bool] = {}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "images"
        folder.mkdir()
        for name, rgb in expected["colours"].items():
            Image.new("RGB", (40, 30), tuple(rgb)).save(folder / f"{name}.png")
        (folder / "zz-broken.jpg").write_bytes(b"not an image")
        model = open_onnx(DATA / "model.onnx")
        first = score(model.path, next(iter(sorted(folder.glob("*.png")))), opened=model,
                      report=NullReport(), cancel=threading.Event())
        first_s = time.perf_counter() - START
        out = Path(tmp) / "out" / "predictions.csv"
        result = score(model.path, folder, out=out, opened=model, report=NullReport(),
                       cancel=threading.Event(), top_k=len(expected["classes"]))
        with out.open(encoding="utf-8", newline="") as f:
            rows = list(csv.DictReader(f))
        names = sorted(expected["colours"])
        probabilities = np.array([expected["probabilities"][n] for n in names])
        checks["first_prediction"] = len(first.paths) == 1 and not first.errors
        checks["rows"] = [Path(r["path"]).name for r in rows] == [f"{n}.png" for n in names] + ["zz-broken.jpg"]
        checks["broken_row"] = rows[-1]["error"] != "" and rows[-1]["decision"] == "needs_review"
        checks["probabilities"] = bool(np.abs(result.probabilities[:len(names)] - probabilities).max() <= 1e-4)
        checks["classes"] = [r["predicted"] for r in rows[:-1]] == [expected["winners"][n] for n in names]
        checks["sidecar"] = out.with_name(out.name + ".json").is_file()
    loaded = sorted(m for m in FORBIDDEN if m in sys.modules)
    checks["no_tensorflow_keras_qt_scipy"] = not loaded
    report = {"passed": all(checks.values()), "checks": checks, "imported": loaded,
              "start_to_first_prediction_s": round(first_s, 3),
              "total_s": round(time.perf_counter() - START, 3)}
    print(json.dumps(report, indent=2))
    return 0 if report["passed"] else 1
