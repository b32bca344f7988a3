"""filterscope-score (ONNX Runtime) against the app's own ``predict`` (Keras), in the same run.

500 generated 150x150 seedling photos (PNG, 4 classes), a run of the chapter's ConvNet trained
one epoch on them, its best model exported to ONNX (tests/onnx_exports.py). Both jobs run whole
on the same folder with their model already open: listing, decoding and preparing every photo
by the run's rule (the same feed), batched prediction, the CSV and its sidecar written.
Target (issue 22): scoring >= 1.5x the app's predict. 5 rounds after a warm-up, alternating.
"""

from __future__ import annotations

import os
import statistics
import threading
import time

import numpy as np
from filterscope.core.base.jobs import NullReport
from filterscope.core.data.synthetic_leaves import generate_leaves
from filterscope.core.results.predict import predict
from filterscope.core.training.saved_model import open_model
from filterscope.score.onnx_model import open_onnx
from filterscope.score.score import score

from tests.onnx_exports import export_onnx
from tests.results_runs import train_run

ROUNDS = 5


def test_onnx_scoring_against_predict_over_500_photos(benchmark, paired, tmp_path) -> None:
    root = generate_leaves(tmp_path / "seedlings", report=NullReport(), cancel=threading.Event(), per_class=125)
    files = sorted(root.glob("*/*.png"))
    assert len(files) == 500
    run = train_run(root, tmp_path / "runs", model="chapter-convnet", image_size=None)
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
                                 "score_cpu_s": round(statistics.median(cpu["score"]), 3)})
    print(f"\n[score] 500 photos: filterscope-score {statistics.median(score_s):.3f} s "
          f"{[round(x, 3) for x in score_s]}, predict {statistics.median(app_s):.3f} s "
          f"{[round(x, 3) for x in app_s]} (decoding and CSV included): {ratio:.2f}x (target >= 1.5); "
          f"CPU (all threads) score {statistics.median(cpu['score']):.3f} s, predict "
          f"{statistics.median(cpu['predict']):.3f} s; "
          f"load {os.getloadavg()[0]:.2f}")
    assert ratio >= 1.5
