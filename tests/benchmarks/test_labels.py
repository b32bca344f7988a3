"""Benchmark: the cross-validated label check on the 4,027 shared seedling photos, cached features.

Reference path: one fit of the same head (standardised logistic regression) on all the images,
times k: what k folds cost without cleanlab and the out-of-sample bookkeeping. The issue's
target, under 2 minutes for the whole check with cached features, is a note, not an assert (the
machine is shared). The features are computed once, untimed, into a module-scoped cache, or read
from ``FILTERSCOPE_BENCH_FEATURES`` (a feature cache folder, as tests/benchmarks/test_data_map.py).
"""

from __future__ import annotations

import os
import threading
import time
import warnings

import pytest
from filterscope.core.base.jobs import NullReport
from filterscope.core.quality.features import dataset_features
from filterscope.core.quality.labels import C, K_FOLDS, MAX_ITER, rank_suspects

from tests.conftest import SHARED_DATA

SEEDLINGS = SHARED_DATA.parent / "plant-seedlings-150-train"
JOB = {"report": NullReport(), "cancel": threading.Event()}


@pytest.fixture(scope="module")
def features(tmp_path_factory):
    if not SEEDLINGS.is_dir():
        pytest.skip("../shared/data/plant-seedlings-150-train is not on this machine")
    cache = os.environ.get("FILTERSCOPE_BENCH_FEATURES") or tmp_path_factory.mktemp("cache")
    return dataset_features(f"folder:{SEEDLINGS}", cache_dir=cache, **JOB)


@pytest.mark.timeout(1200)  # the default 300 s is too short on two shared cores at load ~9 (it ran out there)
def test_label_check_against_one_head_fit_times_k(benchmark, features) -> None:
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    started = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        make_pipeline(StandardScaler(), LogisticRegression(C=C, max_iter=MAX_ITER)).fit(
            features.features, features.labels)
    reference = (time.perf_counter() - started) * K_FOLDS
    result = benchmark.pedantic(lambda: rank_suspects(features, **JOB), rounds=1, iterations=1)
    check = benchmark.stats.stats.median
    benchmark.extra_info.update({"images": len(features), "check_s": round(check, 2),
                                 "one_fit_times_k_s": round(reference, 2), "ratio": round(check / reference, 2)})
    print(f"\n[label check] {len(features):,} images, {K_FOLDS} folds: {check:.1f} s; one head fit x "
          f"{K_FOLDS} {reference:.1f} s: ratio {check / reference:.2f} (target: under 120 s); "
          f"{result.n_issues} cleanlab issue(s)")
    assert len(result.images) == len(features) == 4027
    assert check < 2 * reference  # the folds fit on 4/5 of the images: cleanlab adds little
