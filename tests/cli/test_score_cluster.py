"""``filterscope-score`` on a local Dask cluster (loopback only, two one-thread worker processes):
the same rows, errors and probabilities as the single-process scorer; one ONNX Runtime session a
worker; a file list; a shard that cannot be scored fails its images with the reason; a worker
killed mid-run loses and duplicates nothing. Four cluster tests, each well
under 30 s; skipped (with the reason) where the ``cluster`` extra is not installed.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import signal
import threading
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from filterscope.score.cluster import LOOPBACK_ANY_PORT

from tests.cli.test_cli_score import HEAVY, score_cli
from tests.onnx_exports import export_onnx
from tests.split_tree import damage_bodies, make_split_tree

distributed = pytest.importorskip("distributed", reason="the cluster extra is not installed "
                                  "(pip install -e '.[cluster]': dask[distributed])")
pytestmark = [pytest.mark.slow, pytest.mark.timeout(120)]  # the shared run's training included
N_KILL = 120


@pytest.fixture(scope="module")
def model(results_run: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return export_onnx(results_run, tmp_path_factory.mktemp("export"))


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """20 photos in sub-folders, one PNG with a damaged body and one file that is not an image."""
    root = tmp_path_factory.mktemp("cluster") / "new"
    make_split_tree(root, {"batch": {"cat": 10, "dog": 10, "odd": 2}}, png_only=True)
    for extra in damage_bodies(root / "batch" / "odd")[1:]:
        extra.unlink()
    (root / "batch" / "notes.jpg").write_bytes(b"not a photo at all")
    return root


@pytest.fixture(scope="module")
def client():
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                                  dashboard_address=LOOPBACK_ANY_PORT) as cluster, distributed.Client(cluster) as c:
        yield c


def _job() -> dict:
    from filterscope.core.base.jobs import NullReport

    return {"report": NullReport(), "cancel": threading.Event()}


def _same(single, clustered) -> None:
    assert [str(p) for p in clustered.paths] == [str(p) for p in single.paths]
    assert clustered.errors == single.errors and len(single.errors) == 2
    ok = single.probabilities[~np.isnan(single.probabilities[:, 0])]
    assert np.abs(clustered.probabilities[~np.isnan(clustered.probabilities[:, 0])] - ok).max() <= 1e-5
    assert clustered.decisions() == single.decisions()


def test_cluster_scores_what_one_process_scores(client, model, folder, tmp_path) -> None:
    from filterscope.score.cluster import score_on_cluster
    from filterscope.score.score import score
    from filterscope.score.shards import opened_here

    single = score(model, folder, out=tmp_path / "one.csv", **_job())
    for k in range(2):  # the second run reuses every worker's session
        clustered = score_on_cluster(model, folder, client=client, out=tmp_path / f"c{k}.csv", shard=3, **_job())
        _same(single, clustered)
    with (tmp_path / "one.csv").open(encoding="utf-8") as a, (tmp_path / "c1.csv").open(encoding="utf-8") as b:
        rows_a, rows_b = list(csv.reader(a)), list(csv.reader(b))
    assert rows_b[0] == rows_a[0] and [r[0] for r in rows_b] == [r[0] for r in rows_a]
    audit_a = json.loads((tmp_path / "one.csv.json").read_text(encoding="utf-8"))
    audit_b = json.loads((tmp_path / "c1.csv.json").read_text(encoding="utf-8"))
    assert audit_b.keys() == audit_a.keys() and audit_b["counts"] == audit_a["counts"]
    assert audit_b["model"] == audit_a["model"] and audit_b["input"] == audit_a["input"]
    assert any("Dask cluster of 2 worker(s) in 8 shard(s)" in n for n in clustered.notes)
    assert sorted(map(len, client.run(opened_here).values())) == [1, 1]  # once per worker, not per shard

    listed = [p for p in reversed(single.paths)][:7]  # a file list, in its own order
    subset = score_on_cluster(model, folder, client=client, paths=listed, shard=2, **_job())
    assert subset.paths == listed and len(subset.probabilities) == 7


def test_a_shard_that_cannot_be_scored_fails_its_images_with_the_reason(client, model, folder, tmp_path) -> None:
    from filterscope.score.cluster import score_on_cluster
    from filterscope.score.onnx_model import open_onnx

    copy = tmp_path / "model.onnx"
    shutil.copy(model, copy)
    shutil.copy(f"{model}.filterscope.json", f"{copy}.filterscope.json")
    opened = open_onnx(copy)
    with copy.open("ab") as f:  # the workers will read another file than the driver opened
        f.write(b"\0")
    result = score_on_cluster(copy, folder, client=client, opened=opened, shard=5, **_job())
    assert len(result.paths) == 22 and sorted(result.errors) == list(range(22))
    assert all(e.startswith("not scored: ModelError: ") and str(copy) in e for e in result.errors.values())


def test_a_worker_killed_mid_run_loses_and_duplicates_nothing(model, tmp_path) -> None:
    from filterscope.score.cluster import score_on_cluster
    from filterscope.score.score import score

    root = tmp_path / "big"
    rng = np.random.default_rng(0)
    for i in range(N_KILL):  # photos large enough that shards are still running at the kill
        folder = root / ("cat" if i % 2 else "dog")
        folder.mkdir(parents=True, exist_ok=True)
        Image.fromarray(rng.integers(0, 255, (480, 640, 3), np.uint8)).save(folder / f"p{i:03}.jpg", quality=90)
    single = score(model, root, **_job())
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                                  dashboard_address=LOOPBACK_ANY_PORT) as cluster, distributed.Client(cluster) as c:
        pids = c.run(os.getpid)
        killed: dict = {}

        class KillOnFirstShard:
            def progress(self, fraction: float, message: str = "") -> None:
                if killed or "on the cluster" not in message:
                    return
                busy = {w: keys for w, keys in c.processing().items() if keys}
                victim = next(iter(busy))
                killed.update(worker=victim, shards=len(busy[victim]))
                os.kill(pids[victim], signal.SIGKILL)

            def partial(self, payload) -> None:
                pass

        clustered = score_on_cluster(model, root, client=c, shard=4, report=KillOnFirstShard(),
                                     cancel=threading.Event())
        assert killed["shards"] >= 1  # the worker died with a shard in hand
        assert pids[killed["worker"]] not in c.run(os.getpid).values()
    assert len(clustered.paths) == N_KILL and not clustered.errors
    assert not np.isnan(clustered.probabilities).any()
    assert np.abs(clustered.probabilities - single.probabilities).max() <= 1e-5


def test_the_command_scores_on_a_local_cluster(model, folder, tmp_path) -> None:
    code, _, err, _ = score_cli(model, folder, "--out", tmp_path / "one.csv", "--json")
    assert code == 0, err
    code, out, err, modules = score_cli(model, folder, "--out", tmp_path / "c.csv", "--cluster", "local:2", "--json")
    assert code == 0, err
    assert not modules & set(HEAVY), f"filterscope-score --cluster imported {sorted(modules & set(HEAVY))}"
    with (tmp_path / "one.csv").open(encoding="utf-8") as a, (tmp_path / "c.csv").open(encoding="utf-8") as b:
        rows_a, rows_b = list(csv.DictReader(a)), list(csv.DictReader(b))
    assert [(r["path"], r["predicted"], r["error"]) for r in rows_b] == \
        [(r["path"], r["predicted"], r["error"]) for r in rows_a]
    assert len(json.loads(out)["rows"]) == 22 and json.loads(out)["n_failed"] == 2
    code, _, err, _ = score_cli(model, folder, "--out", tmp_path / "x.csv", "--cluster", "local:0")
    assert code == 1 and "local:N" in err
