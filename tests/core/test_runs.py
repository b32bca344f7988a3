"""Run specs and saved runs read back: the Train tab lists them when it opens a runs folder."""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

import pytest
from filterscope.core.base.jobs import Cancelled, NullReport, RecordingReport
from filterscope.core.training.data_spec import DataSpec
from filterscope.core.training.frames import EpochFrame, StartFrame
from filterscope.core.training.model_spec import OptimizerSpec, templates
from filterscope.core.training.runs import (
    RunReadError,
    RunSpec,
    RunSpecError,
    load_run,
    read_run,
    saved_runs,
)
from filterscope.core.training.train import train

from tests.core.test_training import DATA, Trip, spec, tiny_inputs


def test_run_spec_round_trips_and_validates() -> None:
    run = RunSpec(DataSpec("builtin:mnist", image_size=(20, 20)), templates()["convnet-l2"],
                  OptimizerSpec("sgd", 0.1, 0.5), epochs=3, batch_size=16, seed=4, name="l2-run")
    assert RunSpec.from_json(json.loads(json.dumps(run.to_json()))) == run
    assert RunSpec(DATA).epochs == 10 and RunSpec(DATA).batch_size == 32  # the chapter's fit()
    for kwargs, field in (({"epochs": 0}, "epochs"), ({"batch_size": 0}, "batch_size"),
                          ({"seed": -1}, "seed"), ({"name": "a/b"}, "name")):
        with pytest.raises(RunSpecError) as info:
            RunSpec(DATA, **kwargs)
        assert info.value.field == field
    bad = run.to_json()
    bad["model"]["blocks"][1]["filters"] = 0
    with pytest.raises(RunSpecError, match=r"^model\.blocks\[1\]\.filters: "):
        RunSpec.from_json(bad)
    with pytest.raises(RunSpecError, match=r"^optimizer\.momentum: "):
        RunSpec.from_json({**run.to_json(), "optimizer": {"kind": "sgd", "momentum": 2}})
    with pytest.raises(RunSpecError, match=r"^data: "):
        RunSpec.from_json({**run.to_json(), "data": {"source": ""}})


@pytest.fixture(scope="module")
def runs_folder(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list]:
    """Two real runs saved by train(), the second a minute 'later'."""
    out = tmp_path_factory.mktemp("runs")
    results = []
    for n, epochs in enumerate((2, 1)):
        result = train(spec(epochs=epochs, name=f"run-{'ba'[n]}"), out, report=RecordingReport(),
                       cancel=threading.Event(), inputs=tiny_inputs(seed=n))
        stamp = 1_800_000_000 + 60 * n
        os.utime(result.run_dir / "run.json", (stamp, stamp))
        results.append(result)
    return out, results


def test_a_saved_run_reads_back_as_it_was_trained(runs_folder) -> None:
    _, (first, _) = runs_folder
    loaded = load_run(first.run_dir)
    assert loaded.history == first.history
    assert (loaded.status, loaded.best_epoch, loaded.classes, loaded.input_shape) == \
        (first.status, first.best_epoch, first.classes, first.input_shape)
    assert loaded.model is None and loaded.best() == first.best()
    assert loaded.spec == first.spec and loaded.spec["name"] == "run-b"
    assert loaded.tags() == ["lr 0.001"]


@pytest.mark.skipif(not hasattr(os, "fchmod"), reason="POSIX permissions")
def test_model_files_get_the_mode_any_new_file_gets(runs_folder) -> None:
    out, (first, _) = runs_folder
    plain = out / "plain file"
    with open(plain, "wb"):
        pass
    expected = plain.stat().st_mode & 0o777  # 0666 less the umask, as for any program's file
    plain.unlink()
    if expected == 0o600:
        pytest.skip("umask 077: every new file is 0600, so mkstemp's mode cannot be told apart")
    modes = {name: (first.run_dir / name).stat().st_mode & 0o777
             for name in ("run.json", "history.json", "best.keras", "last.keras")}
    assert modes == dict.fromkeys(modes, expected)


def test_tags_name_what_a_comparison_varies() -> None:
    from filterscope.core.training.runs import RunResult

    spec = {"optimizer": {"kind": "sgd", "learning_rate": 0.05}, "data": {"mask": {}, "chain": None}}
    run = RunResult(None, "finished", [], None, None, ["a", "b"], (8, 8, 3), spec=spec)
    assert run.tags() == ["lr 0.05", "mask"]
    spec["data"] = {"mask": None, "chain": {"steps": []}}
    assert run.tags() == ["lr 0.05", "augmented"]
    assert RunResult(None, "finished", [], None, None, [], (1, 1, 1)).tags() == []


def test_runs_are_listed_oldest_first_and_strangers_passed_over(runs_folder, tmp_path) -> None:
    out, results = runs_folder
    (out / "notes").mkdir(exist_ok=True)
    (out / "readme.txt").write_text("not a run")
    runs, problems = saved_runs(out, report=NullReport(), cancel=threading.Event())
    assert [r.run_dir.name for r in runs] == ["run-b", "run-a"]  # by start, not by name
    assert problems == []
    assert saved_runs(tmp_path / "no such folder", report=NullReport(), cancel=threading.Event()) == ([], [])


def test_an_interrupted_run_says_so_and_a_damaged_one_is_named(runs_folder, tmp_path) -> None:
    out, _ = runs_folder
    for name in ("run-b", "run-a"):
        (tmp_path / name).mkdir()
        for file in ("run.json", "history.json"):
            (tmp_path / name / file).write_bytes((out / name / file).read_bytes())
    history = json.loads((tmp_path / "run-a" / "history.json").read_text())
    (tmp_path / "run-a" / "history.json").write_text(json.dumps({**history, "status": "running"}))
    (tmp_path / "run-b" / "history.json").write_text('{"status": "finished", "epochs": [{"epoch": "x"}]}')
    (tmp_path / "run-c").mkdir()
    (tmp_path / "run-c" / "run.json").write_text("{truncated")
    runs, problems = saved_runs(tmp_path, report=NullReport(), cancel=threading.Event())
    assert [(r.run_dir.name, r.status) for r in runs] == [("run-a", "interrupted")]
    assert len(problems) == 2 and any("run-b" in p for p in problems) \
        and any("run-c" in p and "cannot read" in p for p in problems)
    with pytest.raises(RunReadError, match="run-b"):
        load_run(tmp_path / "run-b")


def test_skipped_files_and_warnings_read_back(runs_folder, tmp_path) -> None:
    out, _ = runs_folder
    run = tmp_path / "run"
    run.mkdir()
    (run / "history.json").write_bytes((out / "run-a" / "history.json").read_bytes())
    info = json.loads((out / "run-a" / "run.json").read_text())
    assert info["skipped"] == [] and info["warnings"] == []
    info.update(skipped=[{"path": "a/cut.png", "reason": "truncated or corrupt PNG data"}],
                warnings=["'b' has no validation images"])
    (run / "run.json").write_text(json.dumps(info))
    loaded = load_run(run)
    assert loaded.skipped == info["skipped"] and loaded.warnings == info["warnings"]
    assert loaded.to_json()["skipped"] == info["skipped"]


def test_a_stopped_run_is_listed_with_its_partial_result(tmp_path: Path) -> None:
    trip = Trip(lambda kind, p, n: kind == "partial" and isinstance(p, EpochFrame) and p.epoch == 3,
                tmp_path)  # stopped as epoch 3 ends: that epoch is not kept
    with pytest.raises(Cancelled):
        train(spec(epochs=5, name="stopped"), tmp_path, report=trip, cancel=trip.cancel,
              inputs=tiny_inputs())
    runs, problems = saved_runs(tmp_path, report=NullReport(), cancel=threading.Event())
    (run,) = runs
    assert problems == [] and (run.run_dir.name, run.status, run.epochs_run) == ("stopped", "stopped", 2)
    assert [row["epoch"] for row in run.history] == [1, 2] and run.best_epoch in (1, 2)
    assert run.spec["epochs"] == 5 and run.best()["val_accuracy"] is not None
    history = json.loads((run.run_dir / "history.json").read_text())
    assert history["status"] == "stopped"
    assert read_run(run.run_dir, report=NullReport(), cancel=threading.Event()) == run
    (run.run_dir / "history.json").write_text(json.dumps({**history, "status": "cancelled"}))
    assert load_run(run.run_dir).status == "stopped"  # the word earlier versions wrote


def test_a_run_stopped_in_its_first_epoch_leaves_nothing_to_list(tmp_path: Path) -> None:
    trip = Trip(lambda kind, p, n: kind == "partial" and isinstance(p, StartFrame), tmp_path)
    with pytest.raises(Cancelled):
        train(spec(epochs=2, name="early"), tmp_path, report=trip, cancel=trip.cancel,
              inputs=tiny_inputs())
    started = next(p for p in trip.partials if isinstance(p, StartFrame))
    assert started.run_dir.name == "early" and list(tmp_path.iterdir()) == []
    assert saved_runs(tmp_path, report=NullReport(), cancel=threading.Event()) == ([], [])
    assert read_run(started.run_dir, report=NullReport(), cancel=threading.Event()) is None
