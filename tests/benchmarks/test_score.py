"""filterscope-score (ONNX Runtime) against the app's own ``predict`` (Keras), in the same run.

500 generated 150x150 seedling photos (PNG, 4 classes) and two runs trained one epoch on them,
each best model exported to ONNX (tests/onnx_exports.py):

- ``chapter-convnet``: the chapter's small ConvNet at 150 px (two convolutions, about 0.1 ms of
  arithmetic an image, so decoding weighs as much as the model);
- ``lite0-head``: the shipped EfficientNet-Lite0 base with a head trained on its cached features,
  at 224 px: the kind of model an analyst scores photos with (the photo recipes' base).

Both jobs run whole on the same folder with their model already open: listing, decoding and
preparing every photo by the run's rule (the same feed), batched prediction, the CSV and its
sidecar written. Target (issue 22): scoring >= 1.5x the app's predict. 5 rounds after a warm-up,
alternating.
"""

from __future__ import annotations

import os
import statistics
import threading
import time

import numpy as np
import pytest
from filterscope.core.base.jobs import NullReport
from filterscope.core.data.synthetic_leaves import generate_leaves
from filterscope.core.results.predict import predict
from filterscope.core.training.data_spec import DataSpec
from filterscope.core.training.base_spec import PHOTO_TRANSFER_BASE, BaseSpec
from filterscope.core.training.model_spec import ModelSpec
from filterscope.core.training.runs import RunSpec
from filterscope.core.training.saved_model import open_model
from filterscope.score.onnx_model import open_onnx
from filterscope.score.score import score

from tests.onnx_exports import export_onnx
from tests.results_runs import train_run

ROUNDS = 5


def _lite0_head_run(root, out):
    """A head trained one epoch on the shipped EfficientNet-Lite0's cached features, at 224 px."""
    from filterscope.core.transfer.imagenet import weights_missing
    from filterscope.core.transfer.run import train_run as train_any

    if (missing := weights_missing(PHOTO_TRANSFER_BASE, top=False)) is not None:
        pytest.skip(missing)
    model = ModelSpec("pretrained", (), name="lite0-head", base=BaseSpec(PHOTO_TRANSFER_BASE), pooling="avg")
    run = RunSpec(DataSpec(f"folder:{root}", image_size=(224, 224)), model, epochs=1, batch_size=32,
                  cache_features=True, name="lite0-head")
    return train_any(run, out, report=NullReport(), cancel=threading.Event(), cache_dir=out / "cache").run_dir


@pytest.mark.parametrize("model", ["chapter-convnet", "lite0-head"])
def test_onnx_scoring_against_predict_over_500_photos(benchmark, paired, tmp_path, model) -> None:
    root = generate_leaves(tmp_path / "seedlings", report=NullReport(), cancel=threading.Event(), per_class=125)
    files = sorted(root.glob("*/*.png"))
    assert len(files) == 500
    if model == "lite0-head":
        run = _lite0_head_run(root, tmp_path / "runs")
    else:
        run = train_run(root, tmp_path / "runs", model=model, image_size=None)
    opened = open_model(run, report=NullReport(), cancel=threading.Event())
    onnx = open_onnx(export_onnx(run, tmp_path / "export"))
    results, cpu = {}, {"predict": [], "score": []}  # CPU: the process's, every thread's

    def app() -> float:
        t0, c0 = time.perf_counter(), time.process_time()
        results["predict"] = predict(None, root, out=tmp_path / "p.csv", report=NullReport(),
                                     cancel=threading.Event(), opened=opened, overwrite=True)
        cpu["predict"].append(time.process_time() - c0)
        return time.perf_counter() - t0

    def scorer() -> float:
        t0, c0 = time.perf_counter(), time.process_time()
        results["score"] = score(None, root, out=tmp_path / "s.csv", report=NullReport(),
                                 cancel=threading.Event(), opened=onnx, overwrite=True)
        cpu["score"].append(time.process_time() - c0)
        return time.perf_counter() - t0

    score_s, app_s = paired(scorer, app, rounds=ROUNDS, warmup_rounds=1)
    a, s = results["predict"], results["score"]
    assert len(s.paths) == 500 and not s.errors and not a.errors
    assert np.array_equal(a.probabilities.argmax(1), s.probabilities.argmax(1))
    assert np.abs(a.probabilities - s.probabilities).max() <= 1e-4
    ratio = statistics.median(app_s) / statistics.median(score_s)
    benchmark.extra_info.update({"predict_median_s": round(statistics.median(app_s), 3),
                                 "score_median_s": round(statistics.median(score_s), 3),
                                 "ratio": round(ratio, 2),
                                 "predict_cpu_s": round(statistics.median(cpu["predict"]), 3),
                                 "score_cpu_s": round(statistics.median(cpu["score"]), 3),
                                 "onnxruntime": onnx.manifest.onnxruntime})
    print(f"\n[score] {model}, 500 photos: filterscope-score {statistics.median(score_s):.3f} s "
          f"{[round(x, 3) for x in score_s]}, predict {statistics.median(app_s):.3f} s "
          f"{[round(x, 3) for x in app_s]} (decoding and CSV included): {ratio:.2f}x (target >= 1.5); "
          f"CPU (all threads) score {statistics.median(cpu['score']):.3f} s, predict "
          f"{statistics.median(cpu['predict']):.3f} s; ONNX Runtime {onnx.manifest.onnxruntime}; "
          f"load {os.getloadavg()[0]:.2f}")
    assert ratio >= 1.5
