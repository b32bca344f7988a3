"""``filterscope live`` on a video the test writes, with a run trained on the video's classes."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from tests.corpus import tree_digest
from tests.live_runs import train_live_run
from tests.videos import mixed_video


@pytest.fixture(scope="module")
def live_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return train_live_run(tmp_path_factory.mktemp("live"))


def test_live_writes_a_row_per_frame_and_prints_a_summary(run_cli, live_run, tmp_path) -> None:
    path, labels = mixed_video(tmp_path / "clip.avi", per_class=4)
    code, out, err = run_cli("live", "--source", path, "--run", live_run, "--frames", 10,
                             "--out", tmp_path / "out", "--json")
    assert code == 0, err
    data = json.loads(out)
    assert data["frames"] == 10 and data["dropped"] == 0 and data["model"] == live_run.name
    assert "calibrated" in data["note"] and data["classes"] == 3
    with open(tmp_path / "out" / "predictions.csv", newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert [int(r["frame"]) for r in rows] == list(range(10))
    assert sum(r["predicted"] == label for r, label in zip(rows, labels)) >= 9
    assert [r["predicted"] for r in rows] == [r["predicted"] for r in data["rows"]]
    assert all(r["class_1"] == r["predicted"] and float(r["probability_1"]) == pytest.approx(float(r["confidence"]))
               for r in rows)
    assert sum(data["counts"].values()) == 10
    code, out, err = run_cli("live", "--source", path, "--run", live_run, "--out", tmp_path / "out")
    assert code == 1 and "exists" in err  # not replaced without --overwrite
    code, out, err = run_cli("live", "--source", path, "--run", live_run, "--out", tmp_path / "out",
                             "--overwrite")
    assert code == 0 and "12 in" in out and "wrote" in out  # the whole video: 3 classes x 4


def test_a_missing_camera_exits_with_its_message(run_cli) -> None:
    code, out, err = run_cli("live", "--source", 99, "--frames", 3, "--json")
    assert code == 1 and out == ""
    assert "camera 99: no camera answers" in err


def test_a_camera_needs_a_frame_count_and_a_missing_video_is_named(run_cli, tmp_path) -> None:
    with pytest.raises(SystemExit) as exc:
        run_cli("live", "--source", 0)
    assert exc.value.code == 2
    code, _, err = run_cli("live", "--source", tmp_path / "gone.mp4")
    assert code == 1 and "no such file" in err


def test_the_csv_is_never_written_inside_the_run_s_dataset(run_cli, live_run, tmp_path) -> None:
    dataset = live_run.parent.parent / "frames"
    before = tree_digest(dataset)
    path, _ = mixed_video(tmp_path / "clip.avi", per_class=1)
    code, _, err = run_cli("live", "--source", path, "--run", live_run, "--out", dataset / "live")
    assert code == 1 and "refusing to write inside the dataset folder" in err
    assert tree_digest(dataset) == before
