"""The audit trail of a prediction: the sidecar beside the CSV (what scored, with which rule,
when), the trace columns of every row, an existing CSV refused without ``overwrite``, and the
CSV and sidecar written together."""

from __future__ import annotations

import csv
import hashlib
import json
import os
import threading
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pytest
from filterscope import __version__
from filterscope.core.base import fileio
from filterscope.core.base.fileio import atomic_write_files
from filterscope.core.base.jobs import NullReport
from filterscope.core.results.audit import sidecar_path
from filterscope.core.results.decisions import Costs
from filterscope.core.results.policy import Policy
from filterscope.core.results.predict import predict
from filterscope.core.results.targets import PredictError

from tests.results_runs import copy_run
from tests.split_tree import damage_bodies, make_split_tree


def _predict(model, target, **kwargs):
    return predict(model, target, report=NullReport(), cancel=threading.Event(), **kwargs)


@pytest.fixture
def photos(tmp_path: Path) -> Path:
    """Five new images, one of them damaged."""
    root = tmp_path / "new"
    make_split_tree(root, {"batch": {"cat": 3, "dog": 2}}, png_only=True)
    damage_bodies(root / "batch" / "dog")[0].unlink()
    return root


def test_the_sidecar_records_the_model_the_rule_and_the_time_and_agrees_with_the_csv(
        results_run, photos, tmp_path) -> None:
    run = copy_run(results_run, tmp_path / "my-run")
    costs = Costs(("cat", "dog"), np.array([[0.0, 5.0], [1.0, 0.0]]))
    out = tmp_path / "out" / "preds.csv"
    before = datetime.now(timezone.utc).replace(microsecond=0)
    result = _predict(run, photos, out=out, decisions=Policy(threshold=0.75, target_accuracy=0.9,
                                                             costs=costs), which="last")
    sidecar = out.with_name("preds.csv.json")
    assert sidecar_path(out) == sidecar and sidecar.is_file()
    audit = json.loads(sidecar.read_text(encoding="utf-8"))
    assert audit == result.audit() == result.to_json()["audit"]
    model_file = run / "last.keras"
    assert audit["model"]["sha256"] == hashlib.sha256(model_file.read_bytes()).hexdigest()
    assert audit["model"]["path"] == str(model_file.absolute())
    assert (audit["model"]["which"], audit["model"]["epoch"]) == ("last", 1)
    assert audit["run"] == {"name": "my-run", "id": None, "dir": str(run)}
    assert audit["classes"] == ["cat", "dog"]
    assert (audit["threshold"], audit["target_accuracy"]) == (0.75, 0.9)
    assert audit["costs"]["matrix"] == [[0.0, 5.0], [1.0, 0.0]]
    assert audit["temperature"] == result.temperature
    assert (audit["tta"], audit["top_k"], audit["app_version"]) == (False, 2, __version__)
    when = datetime.fromisoformat(audit["time"])
    assert when.utcoffset() == timedelta(0) and before <= when <= datetime.now(timezone.utc)
    assert audit["input"] == {"path": str(photos), "kind": "folder"}
    counts = audit["counts"]
    assert (counts["images"], counts["predicted"], counts["unreadable"]) == (4, 3, 1)
    assert sum(counts["decisions"].values()) == 3 and set(counts["decisions"]) == {"cat", "dog", "needs_review"}
    # the CSV and its sidecar agree: the checksum, the rows, the decisions, the trace columns
    assert audit["csv"] == {"path": str(out), "sha256": hashlib.sha256(out.read_bytes()).hexdigest()}
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert len(rows) == counts["images"] and sum(1 for r in rows if r["error"]) == counts["unreadable"]
    decided = [r["decision"] for r in rows if not r["error"]]
    assert {d: decided.count(d) for d in counts["decisions"]} == counts["decisions"]
    assert {(r["run_id"], r["model_sha256"]) for r in rows} == {("my-run", audit["model"]["sha256"])}
    assert sorted(p.name for p in out.parent.iterdir()) == ["preds.csv", "preds.csv.json"]


def test_the_run_json_id_is_the_rows_run_id_when_there_is_one(results_run, photos, tmp_path) -> None:
    run = copy_run(results_run, tmp_path / "run")
    info = json.loads((run / "run.json").read_text())
    (run / "run.json").write_text(json.dumps({**info, "id": "abc-123"}))
    out = tmp_path / "p.csv"
    result = _predict(run, photos, out=out)
    assert result.audit()["run"] == {"name": "run", "id": "abc-123", "dir": str(run)}
    assert {r["run_id"] for r in csv.DictReader(out.open(encoding="utf-8"))} == {"abc-123"}


def test_an_existing_csv_is_refused_before_the_model_runs_unless_overwrite(results_run, photos,
                                                                           tmp_path, monkeypatch) -> None:
    out = tmp_path / "preds.csv"
    out.write_text("earlier\n")
    from filterscope.core.results import predict as predict_module

    def never(*args, **kwargs):
        raise AssertionError("the model was opened")

    with monkeypatch.context() as patch:
        patch.setattr(predict_module, "open_model", never)
        with pytest.raises(PredictError, match=f"{out}: the file exists"):
            _predict(results_run, photos, out=out)
    assert out.read_text() == "earlier\n" and not sidecar_path(out).exists()
    result = _predict(results_run, photos, out=out, overwrite=True)
    assert out.read_text().startswith("path,") and result.out == out
    assert json.loads(sidecar_path(out).read_text())["csv"]["sha256"] == \
        hashlib.sha256(out.read_bytes()).hexdigest()


def test_a_single_image_is_audited_without_a_csv(results_run, photos) -> None:
    image = sorted(photos.rglob("*.png"))[0]
    audit = _predict(results_run, image).audit()
    assert audit["csv"] is None and audit["input"] == {"path": str(image), "kind": "image"}
    assert audit["counts"]["images"] == 1 and audit["model"]["sha256"] == \
        hashlib.sha256((results_run / "best.keras").read_bytes()).hexdigest()


def test_files_written_together_are_both_new_or_both_as_they_were(tmp_path, monkeypatch) -> None:
    first, second = tmp_path / "a.json", tmp_path / "a.csv"
    atomic_write_files([(first, b"old json"), (second, b"old csv")])
    assert (first.read_bytes(), second.read_bytes()) == (b"old json", b"old csv")
    real = os.replace
    calls = []

    def fail_second(src, dst):
        calls.append(dst)
        if Path(dst) == second:
            raise OSError(28, "No space left on device")
        return real(src, dst)

    monkeypatch.setattr(fileio.os, "replace", fail_second)
    with pytest.raises(OSError):
        atomic_write_files([(first, b"new json"), (second, b"new csv")])
    monkeypatch.setattr(fileio.os, "replace", real)
    assert [Path(c) for c in calls[:2]] == [first, second]  # the sidecar was renamed, then undone
    assert (first.read_bytes(), second.read_bytes()) == (b"old json", b"old csv")
    third = tmp_path / "new.json"
    monkeypatch.setattr(fileio.os, "replace", fail_second)
    with pytest.raises(OSError):
        atomic_write_files([(third, b"x"), (second, b"y")])
    monkeypatch.setattr(fileio.os, "replace", real)
    assert not third.exists() and second.read_bytes() == b"old csv"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.csv", "a.json"]  # no temp file left
