"""filterscope-score on a local 2-worker Dask cluster against the single-process scorer, in the
same run, on the same 2 cores.

1,000 generated 150x150 seedling photos (PNG, 4 classes), a run of the chapter's ConvNet trained
one epoch on them, its best model exported to ONNX. Both jobs run whole on the same folder with
their model open on the driver (and, for the cluster, already started: its start-up is reported
apart): listing, decoding and preparing every photo by the run's rule, batched prediction, the
CSV and its sidecar written. The single process runs ONNX Runtime on 2 threads with the feed
decoding in the background; the cluster runs 2 one-thread worker processes, one session each.
Target (issue 22): per-image time on the cluster at most 1.10x the single process's.
5 rounds after a warm-up (which opens the workers' sessions), alternating.
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
from filterscope.score.onnx_model import open_onnx
from filterscope.score.score import score

from tests.onnx_exports import export_onnx
from tests.results_runs import train_run

pytest.importorskip("distributed", reason="the cluster extra is not installed (pip install -e '.[cluster]')")
ROUNDS = 5
N = 1000


def test_cluster_scoring_overhead_against_one_process(benchmark, paired, tmp_path) -> None:
    from filterscope.score.cluster import connect, score_on_cluster

    root = generate_leaves(tmp_path / "seedlings", report=NullReport(), cancel=threading.Event(),
                           per_class=N // 4)
    run = train_run(root, tmp_path / "runs", model="chapter-convnet", image_size=None)
    onnx = open_onnx(export_onnx(run, tmp_path / "export"))
    results = {}
    t0 = time.perf_counter()
    with connect("local:2") as client:
        start_s = time.perf_counter() - t0

        def single() -> float:
            t = time.perf_counter()
            results["single"] = score(None, root, out=tmp_path / "s.csv", report=NullReport(),
                                      cancel=threading.Event(), opened=onnx, overwrite=True)
            return time.perf_counter() - t

        def cluster() -> float:
            t = time.perf_counter()
            results["cluster"] = score_on_cluster(None, root, client=client, out=tmp_path / "c.csv",
                                                  report=NullReport(), cancel=threading.Event(), opened=onnx,
                                                  overwrite=True)
            return time.perf_counter() - t

        cluster_s, single_s = paired(cluster, single, rounds=ROUNDS, warmup_rounds=1)
    s, c = results["single"], results["cluster"]
    assert len(c.paths) == N and not c.errors and not s.errors
    assert np.abs(s.probabilities - c.probabilities).max() <= 1e-5
    ratio = statistics.median(cluster_s) / statistics.median(single_s)
    benchmark.extra_info.update({"cluster_start_s": round(start_s, 2), "ratio_per_image": round(ratio, 3),
                                 "single_ms_per_image": round(1e3 * statistics.median(single_s) / N, 3),
                                 "cluster_ms_per_image": round(1e3 * statistics.median(cluster_s) / N, 3)})
    print(f"\n[score-cluster] {N} photos: local 2-worker cluster {statistics.median(cluster_s):.3f} s "
          f"{[round(x, 3) for x in cluster_s]}, one process {statistics.median(single_s):.3f} s "
          f"{[round(x, 3) for x in single_s]}: {ratio:.3f}x per image (target <= 1.10); cluster "
          f"start {start_s:.2f} s (not counted); load {os.getloadavg()[0]:.2f}")
    assert ratio <= 1.10
