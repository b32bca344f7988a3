"""``filterscope capture``: frames of a video saved as classes of a capture folder, then trained."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.corpus import tree_digest
from tests.videos import CLASSES, class_video


@pytest.fixture
def videos(tmp_path: Path) -> dict[str, Path]:
    """A 12-frame video per class."""
    return {name: class_video(tmp_path / f"{name}.avi", name, 12, seed=k) for k, name in enumerate(CLASSES)}


def test_capture_appends_classes_and_says_what_it_saved(run_cli, videos, tmp_path):
    out = tmp_path / "shapes"
    for name in CLASSES:
        code, stdout, stderr = run_cli("capture", "--source", videos[name], "--class", name, "--frames", 10,
                                       "--out", out, "--json")
        assert code == 0, stderr
    data = json.loads(stdout)
    assert data == {"folder": str(out), "class": CLASSES[-1], "saved": 10,
                    "counts": {name: 10 for name in sorted(CLASSES)}, "note": ""}
    code, stdout, _ = run_cli("capture", "--source", videos["red_disc"], "--class", "red_disc",
                              "--frames", 20, "--out", out)
    assert code == 0
    assert f"{out}: saved 12 frame(s) of red_disc" in stdout
    assert "red_disc 22" in stdout and "ended after 12 of 20 frames" in stdout


def test_an_existing_dataset_is_refused_and_unchanged(run_cli, videos, tmp_path):
    dataset = tmp_path / "plants"
    (dataset / "maize").mkdir(parents=True)
    (dataset / "maize" / "1.png").write_bytes(b"not an image, and not ours")
    before = tree_digest(dataset)
    code, stdout, stderr = run_cli("capture", "--source", videos["red_disc"], "--class", "maize",
                                   "--out", dataset, "--json")
    assert code == 1 and not stdout
    assert "never written into an existing dataset" in stderr
    assert tree_digest(dataset) == before


@pytest.mark.parametrize("argv, message", [
    (["--class", "a/b"], "cannot hold '/'"),
    (["--class", "ok", "--source", "missing.avi"], "no such file"),
    (["--class", "ok", "--source", "-2"], "numbered from 0"),
])
def test_bad_names_and_sources_fail_with_a_message(run_cli, videos, tmp_path, monkeypatch, argv, message):
    monkeypatch.chdir(tmp_path)
    source = [] if "--source" in argv else ["--source", videos["red_disc"]]
    code, _, stderr = run_cli("capture", *source, *argv, "--out", tmp_path / "new")
    assert code == 1 and message in stderr
    assert stderr.startswith("filterscope capture: error:")


def test_frames_must_be_positive_and_train_needs_a_runs_folder(run_cli, videos, tmp_path, capsys):
    for extra, message in ((["--frames", 0], "must be at least 1"), (["--train"], "--train needs --runs")):
        with pytest.raises(SystemExit) as exit_info:
            run_cli("capture", "--source", videos["red_disc"], "--class", "x", "--out", tmp_path / "new",
                    *extra)
        assert exit_info.value.code == 2 and message in capsys.readouterr().err
    assert not (tmp_path / "new").exists()


def test_train_after_the_last_class_and_with_filterscope_train(run_cli, videos, tmp_path):
    out, runs = tmp_path / "shapes", tmp_path / "runs"
    for name in CLASSES[:-1]:
        assert run_cli("capture", "--source", videos[name], "--class", name, "--frames", 10, "--out", out)[0] == 0
    code, stdout, stderr = run_cli("capture", "--source", videos[CLASSES[-1]], "--class", CLASSES[-1],
                                   "--frames", 10, "--out", out, "--train", "--runs", runs,
                                   "--model", "convnet", "--epochs", 2, "--json")
    assert code == 0, stderr
    run = json.loads(stdout)["run"]
    assert Path(run["run_dir"]).parent == runs and (Path(run["run_dir"]) / "best.keras").is_file()
    assert run["model"] == "convnet" and run["epochs_run"] == 2 and sorted(run["classes"]) == sorted(CLASSES)
    assert "epoch 2/2" in stderr  # a line per epoch, as filterscope train prints
    # A capture folder is a dataset like any: the Train tab's command trains it as it is.
    code, stdout, stderr = run_cli("train", "--data", out, "--out", runs, "--epochs", 1, "--json")
    assert code == 0, stderr
    assert json.loads(stdout)["classes"] == sorted(CLASSES)
