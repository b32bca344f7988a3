"""Tests for ``filterscope train``: a tiny run end to end, and its one-line errors."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from filterscope.cli.main import build_parser, main
from filterscope.core.training.model_spec import templates
from PIL import Image


def _folder(root: Path, size: int, per_class: int = 10) -> Path:
    """Two classes of small images a ConvNet can tell apart: bright left half or right half."""
    rng = np.random.default_rng(0)
    for c, name in enumerate(("left", "right")):
        (root / name).mkdir(parents=True)
        for i in range(per_class):
            img = rng.integers(0, 60, (size, size, 3), dtype=np.uint8)
            half = slice(0, size // 2) if c == 0 else slice(size // 2, size)
            img[:, half] += 150
            Image.fromarray(img).save(root / name / f"{i}.png")
    return root


def _run(capsys: pytest.CaptureFixture, *argv: object) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_a_tiny_run_end_to_end_as_json(capsys, tmp_path: Path) -> None:
    data = _folder(tmp_path / "shapes", 16)
    runs = tmp_path / "runs"
    code, out, err = _run(capsys, "train", "--data", data, "--model", "convnet", "--epochs", 2,
                          "--batch-size", 4, "--seed", 3, "--out", runs, "--json")
    assert code == 0, err
    result = json.loads(out)
    run = Path(result["run_dir"])
    assert run.parent == runs and sorted(p.name for p in run.iterdir()) == [
        "best.keras", "history.json", "last.keras", "run.json"]
    assert result["status"] == "finished" and result["epochs_run"] == 2 and result["diverged"] is None
    assert result["model"] == "chapter-convnet" and result["model_alias"] == "convnet"
    assert result["classes"] == ["left", "right"]
    assert result["input_shape"] == [16, 16, 3]
    # 16 -> 14 -> 7 -> 5 -> 2: the chapter's ConvNet on 3 channels and 2 classes
    assert result["params"] == (3 * 3 * 3 * 6 + 6) + 660 + (2 * 2 * 12 * 2 + 2)
    assert 0.0 <= result["final_val_accuracy"] <= 1.0 and result["best_val_accuracy"] is not None
    saved = json.loads((run / "run.json").read_text())
    assert saved["run"]["seed"] == 3 and saved["run"]["batch_size"] == 4


def test_human_output_with_sgd_and_a_model_file(capsys, tmp_path: Path) -> None:
    data = _folder(tmp_path / "shapes", 12, per_class=5)
    model = tmp_path / "model.json"
    model.write_text(json.dumps(templates()["logistic"].to_json()))
    code, out, err = _run(capsys, "train", "--data", data, "--model", model, "--optimizer", "sgd",
                          "--lr", 0.05, "--momentum", 0.5, "--epochs", 1, "--name", "first",
                          "--out", tmp_path / "runs")
    assert code == 0, err
    assert out.startswith(f"run: {tmp_path / 'runs' / 'first'}\nmodel: logistic (866 parameters), ")
    assert "sgd learning rate 0.05" in out and "best: epoch 1, validation accuracy" in out


@pytest.mark.parametrize("model, line", [
    ("convnet", "model: chapter-convnet (alias convnet; 854 parameters), adam"),
    ("chapter-convnet", "model: chapter-convnet (854 parameters), adam"),
])
def test_the_model_line_says_when_the_name_given_is_an_alias(capsys, tmp_path: Path, model: str,
                                                             line: str) -> None:
    data = _folder(tmp_path / "shapes", 12, per_class=2)
    code, out, err = _run(capsys, "train", "--data", data, "--model", model, "--epochs", 1,
                          "--out", tmp_path / "runs")
    assert code == 0, err
    assert out.splitlines()[1].startswith(line)


def test_model_too_big_for_the_images_is_one_line(capsys, tmp_path: Path) -> None:
    data = _folder(tmp_path / "tiny", 8, per_class=3)
    code, out, err = _run(capsys, "train", "--data", data, "--out", tmp_path / "runs")
    assert code == 1 and out == ""
    assert err == ("filterscope train: error: a 8x8 input shrinks to 0x0 at block 2's pooling; "
                   "use at least 10x10 or padding='same'\n")
    assert not (tmp_path / "runs").exists() or list((tmp_path / "runs").iterdir()) == []


def test_unwritable_runs_folder_is_one_line(capsys, tmp_path: Path) -> None:
    blocker = tmp_path / "runs"
    blocker.write_text("a file")
    code, _, err = _run(capsys, "train", "--data", "mnist", "--out", blocker)
    assert code == 1
    assert err.startswith(f"filterscope train: error: cannot write to the runs folder {blocker}")
    assert err.count("\n") == 1


@pytest.mark.parametrize("args, field", [
    (["--lr", "0"], "--lr"),
    (["--lr", "2e6"], "--lr"),
    (["--lr", "fast"], "--lr"),
    (["--optimizer", "sgd", "--momentum", "1"], "--momentum"),
    (["--epochs", "0"], "--epochs"),
    (["--batch-size", "-3"], "--batch-size"),
    (["--seed", "-1"], "--seed"),
    (["--image-size", "0x9"], "--image-size"),
    (["--optimizer", "rmsprop"], "--optimizer"),
    (["--momentum", "0.9"], "--momentum"),  # adam has no momentum
])
def test_out_of_range_settings_exit_2(capsys, tmp_path: Path, args: list[str], field: str) -> None:
    with pytest.raises(SystemExit) as info:
        main(["train", "--data", "mnist", "--out", str(tmp_path), *args])
    assert info.value.code == 2
    assert field in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("model, message", [
    ("vgg19", "--model: no template called 'vgg19'"),
    ("bad.json", "bad.json: blocks[0].filters: must be from 1 to 1,024 (got 0)"),
    ("missing.json", "missing.json: cannot read the model file"),
])
def test_bad_model_is_one_line(capsys, tmp_path: Path, monkeypatch, model: str, message: str) -> None:
    monkeypatch.chdir(tmp_path)
    Path("bad.json").write_text(json.dumps({"kind": "convnet", "blocks": [{"filters": 0}]}))
    code, _, err = _run(capsys, "train", "--data", "mnist", "--model", model, "--out", "runs")
    assert code == 1 and message in err and err.count("\n") == 1


def test_a_run_json_trains_again_from_spec(capsys, tmp_path: Path) -> None:
    """The run.json of a run (from the app or the CLI) is a whole run spec: --spec repeats it,
    e.g. on a GPU server, with --epochs, --batch-size, --seed and --name still to hand."""
    data = _folder(tmp_path / "shapes", 12, per_class=6)
    code, out, err = _run(capsys, "train", "--data", data, "--model", "logistic", "--optimizer",
                          "sgd", "--lr", 0.05, "--epochs", 1, "--batch-size", 4, "--seed", 2,
                          "--out", tmp_path / "runs", "--json")
    assert code == 0, err
    first = Path(json.loads(out)["run_dir"])
    code, out, err = _run(capsys, "train", "--spec", first / "run.json", "--epochs", 2,
                          "--name", "again", "--out", tmp_path / "runs", "--json")
    assert code == 0, err
    again = json.loads(out)
    assert Path(again["run_dir"]).name == "again" and again["epochs_run"] == 2
    before = json.loads((first / "run.json").read_text())["run"]
    after = json.loads((Path(again["run_dir"]) / "run.json").read_text())["run"]
    assert {**before, "epochs": 2, "name": "again"} == after
    assert after["optimizer"] == {"kind": "sgd", "learning_rate": 0.05, "momentum": 0.9}
    spec_only = tmp_path / "spec.json"
    spec_only.write_text(json.dumps({**after, "name": "", "seed": 5, "epochs": 1}))
    code, out, err = _run(capsys, "train", "--spec", spec_only, "--out", tmp_path / "runs", "--json")
    assert code == 0 and json.loads(out)["epochs_run"] == 1, err


@pytest.mark.parametrize("args, message", [
    (["--spec", "run.json", "--image-size", "20"], "--spec gives the whole run: drop --image-size"),
    (["--spec", "run.json", "--model", "logistic", "--lr", "0.1"], "drop --model, --lr"),
    ([], "give --data (and the run's settings) or --spec RUN.json"),
])
def test_spec_and_run_flags_do_not_mix(capsys, tmp_path: Path, monkeypatch, args, message) -> None:
    monkeypatch.chdir(tmp_path)
    Path("run.json").write_text("{}")
    with pytest.raises(SystemExit) as info:
        main(["train", *args, "--out", "runs"])
    assert info.value.code == 2 and message in capsys.readouterr().err


@pytest.mark.parametrize("text, message", [
    ("{not json", "run.json: cannot read the run spec"),
    ('{"data": {"source": "builtin:mnist"}, "epochs": 0}', "run.json: epochs: must be from 1 to 10,000 (got 0)"),
    ('{"run": {"data": {"source": ""}}}', "run.json: data: source: must name a dataset"),
])
def test_bad_spec_file_is_one_line(capsys, tmp_path: Path, monkeypatch, text, message) -> None:
    monkeypatch.chdir(tmp_path)
    Path("run.json").write_text(text)
    code, _, err = _run(capsys, "train", "--spec", "run.json", "--out", "runs")
    assert code == 1 and message in err and err.count("\n") == 1, err
    assert not Path("runs").exists()


def test_unreadable_files_are_named_and_training_goes_on(capsys, tmp_path: Path) -> None:
    data = _folder(tmp_path / "shapes", 12, per_class=6)
    (data / "left" / "empty.png").write_bytes(b"")  # refused by the scan
    good = (data / "right" / "0.png").read_bytes()
    # Its IEND kept, the scan passes it: the cut is found while decoding.
    (data / "right" / "cut.png").write_bytes(good[:len(good) // 2] + good[-12:])
    code, out, err = _run(capsys, "train", "--data", data, "--model", "logistic", "--epochs", 1,
                          "--batch-size", 4, "--out", tmp_path / "runs", "--json")
    assert code == 0, err
    result = json.loads(out)
    assert sorted(x["path"] for x in result["skipped"]) == ["left/empty.png", "right/cut.png"]
    reasons = {x["path"]: x["reason"] for x in result["skipped"]}
    assert "empty file" in reasons["left/empty.png"] and "corrupt" in reasons["right/cut.png"]
    saved = json.loads((Path(result["run_dir"]) / "run.json").read_text())
    assert sorted(x["path"] for x in saved["skipped"]) == ["left/empty.png", "right/cut.png"]
    code, out, err = _run(capsys, "train", "--data", data, "--model", "logistic", "--epochs", 1,
                          "--batch-size", 4, "--out", tmp_path / "runs")
    assert code == 0 and "skipped 2 unreadable file(s):" in out and "  right/cut.png: " in out


# What TensorFlow's C++ side prints at start-up on a machine without a GPU (TF 2.21). The oneDNN
# line shows only on CPUs where TensorFlow turns oneDNN on by default (seen on Intel, not on AMD
# EPYC), so it is not required; the GPU lines show on every CPU.
TF_START_UP = ("absl::InitializeLog()", "Could not find cuda drivers", "failed call to cuInit",
               "oneDNN custom operations")
TF_START_UP_EVERYWHERE = TF_START_UP[:3]


@pytest.mark.slow
def test_tensorflows_start_up_lines_show_only_with_verbose(tmp_path: Path) -> None:
    data = _folder(tmp_path / "shapes", 12, per_class=3)
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}

    def run(*flags: str) -> str:
        argv = [sys.executable, "-m", "filterscope", *flags, "train", "--data", str(data), "--model",
                "logistic", "--epochs", "1", "--out", str(tmp_path / "runs")]
        done = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env,
                              timeout=300)
        assert done.returncode == 0, done.stdout
        return done.stdout

    quiet = run()
    assert quiet.startswith("epoch 1/1: loss ") and "\nrun: " in quiet and "best: epoch 1" in quiet
    assert [line for line in TF_START_UP if line in quiet] == []
    verbose = run("--verbose")
    assert [line for line in TF_START_UP_EVERYWHERE if line in verbose] == list(TF_START_UP_EVERYWHERE)


@pytest.mark.slow
def test_epoch_lines_reach_a_redirected_log_as_they_happen(tmp_path: Path) -> None:
    """``filterscope train ... > log 2>&1``: each epoch's line is in the log while training goes
    on, not only when the run ends (the progress bar is silent when stderr is a file)."""
    runs, log = tmp_path / "runs", tmp_path / "log"
    argv = [sys.executable, "-m", "filterscope", "train", "--data", "mnist", "--model", "logistic",
            "--epochs", "1000", "--out", str(runs)]
    with open(log, "wb") as out:
        proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 240
        while "epoch 1/1000: loss " not in log.read_text(encoding="utf-8", errors="replace"):
            assert proc.poll() is None, log.read_text(encoding="utf-8", errors="replace")
            saved = list(runs.glob("*/history.json"))
            epochs_done = len(json.loads(saved[0].read_text())["epochs"]) if saved else 0
            assert epochs_done < 3, f"{epochs_done} epochs saved, and the log still has no epoch line"
            assert time.monotonic() < deadline, "no epoch line in 240 s"
            time.sleep(0.1)
        assert proc.poll() is None  # the run goes on: the line was not written at the end
    finally:
        proc.terminate()
        proc.wait(timeout=60)


@pytest.mark.parametrize("argv, verbose", [
    (["train", "--out", "r"], False),
    (["--verbose", "train", "--out", "r"], True),
    (["train", "--out", "r", "--verbose"], True),
    (["--verbose", "scan", "mnist"], True),
])
def test_verbose_goes_before_or_after_the_command(argv: list[str], verbose: bool) -> None:
    assert build_parser().parse_args(argv).verbose is verbose


# --- a run trains again anywhere ---------------------------------------------------------------


def _tree(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def _first_run(capsys, runs: Path, *data: object) -> Path:
    code, out, err = _run(capsys, "train", "--data", *data, "--model", "logistic", "--epochs", 1,
                          "--batch-size", 4, "--out", runs, "--json")
    assert code == 0, err
    return (Path.cwd() / json.loads(out)["run_dir"]) / "run.json"


def test_spec_trains_again_from_another_folder_without_the_manifest(capsys, tmp_path: Path,
                                                                    monkeypatch) -> None:
    """run.json records the dataset by absolute path and the split's file lists: neither the
    working directory nor the manifest file it was given as a relative path is needed again."""
    work = tmp_path / "work"
    data = _folder(work / "shapes", 12, per_class=6)
    monkeypatch.chdir(work)
    code, _, err = _run(capsys, "split", "shapes", "--val-per-class", 2, "--seed", 1,
                        "--out", "car-split.json")
    assert code == 0, err
    manifest = json.loads(Path("car-split.json").read_text())
    spec = _first_run(capsys, Path("runs"), "car-split.json")
    recorded = json.loads(spec.read_text())
    data_spec = recorded["run"]["data"]
    assert data_spec["source"] == f"folder:{data}" and data_spec["manifest"] is None
    assert data_spec["split"] == {key: manifest[key] for key in ("classes", "method", "value",
                                                                 "seed", "subsets")}
    assert (recorded["n_train"], recorded["n_val"]) == (8, 4)
    Path("car-split.json").unlink()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    code, out, err = _run(capsys, "train", "--spec", spec, "--name", "again", "--out", "runs",
                          "--json")
    assert code == 0, err
    again = json.loads((elsewhere / "runs" / "again" / "run.json").read_text())
    assert again["run"]["data"] == data_spec and (again["n_train"], again["n_val"]) == (8, 4)


def test_an_older_run_json_naming_its_manifest_by_a_relative_path(capsys, tmp_path: Path,
                                                                  monkeypatch) -> None:
    """Runs saved before the split was recorded still train where their manifest path holds,
    and record the split then; elsewhere the message names the file."""
    work = tmp_path / "work"
    _folder(work / "shapes", 12, per_class=6)
    monkeypatch.chdir(work)
    assert _run(capsys, "split", "shapes", "--val-fraction", 0.3, "--out", "car-split.json")[0] == 0
    old = {"data": {"source": "manifest:car-split.json", "val_fraction": 0.2, "seed": 0},
           "model": templates()["logistic"].to_json(), "epochs": 1, "batch_size": 4}
    (tmp_path / "old-run.json").write_text(json.dumps({"version": 1, "run": old}))
    code, out, err = _run(capsys, "train", "--spec", tmp_path / "old-run.json", "--out", "runs",
                          "--json")
    assert code == 0, err
    recorded = json.loads((Path(json.loads(out)["run_dir"]) / "run.json").read_text())["run"]["data"]
    assert recorded["source"] == f"folder:{work / 'shapes'}" and recorded["split"]["value"] == 0.3
    monkeypatch.chdir(tmp_path)
    code, out, err = _run(capsys, "train", "--spec", "old-run.json", "--out", "runs")
    assert code == 1 and out == "" and err.count("\n") == 1
    assert err.startswith("filterscope train: error: manifest: car-split.json: cannot read"), err


def test_runs_folder_copied_and_dataset_moved(capsys, tmp_path: Path) -> None:
    """Another machine: the runs folder copied, the dataset at another path. --spec says where
    it looked and how to point it elsewhere; --data DIR moves only the location."""
    data = _folder(tmp_path / "a" / "shapes", 12, per_class=6)
    spec = _first_run(capsys, tmp_path / "a" / "runs", data)
    first = json.loads(spec.read_text())
    shutil.copytree(tmp_path / "a" / "runs", tmp_path / "b" / "runs")
    moved = tmp_path / "b" / "photos"
    shutil.move(data, moved)
    copied = tmp_path / "b" / "runs" / spec.parent.name / "run.json"
    code, out, err = _run(capsys, "train", "--spec", copied, "--out", tmp_path / "b" / "runs")
    assert code == 1 and out == ""
    assert err == (f"filterscope train: error: {copied}: the run's dataset {data} is not there; "
                   "if it has moved, give its new place with --data DIR\n")
    before = _tree(moved)
    code, out, err = _run(capsys, "train", "--spec", copied, "--data", moved, "--name", "moved",
                          "--out", tmp_path / "b" / "runs", "--json")
    assert code == 0, err
    again = json.loads((tmp_path / "b" / "runs" / "moved" / "run.json").read_text())
    assert again["run"]["data"] == {**first["run"]["data"], "source": f"folder:{moved}"}
    assert (again["n_train"], again["n_val"]) == (first["n_train"], first["n_val"])
    assert _tree(moved) == before  # a dataset folder is never written


def test_data_missing_a_class_or_files_of_the_run_is_named(capsys, tmp_path: Path) -> None:
    data = _folder(tmp_path / "shapes", 12, per_class=6)
    spec = _first_run(capsys, tmp_path / "runs", data)
    runs_before = sorted(p.name for p in (tmp_path / "runs").iterdir())
    no_class = tmp_path / "no-class"
    shutil.copytree(data, no_class)
    shutil.rmtree(no_class / "right")
    code, out, err = _run(capsys, "train", "--spec", spec, "--data", no_class, "--out",
                          tmp_path / "runs")
    assert code == 1 and out == ""
    assert err == (f"filterscope train: error: {no_class}: 1 class(es) the run trained on are "
                   "missing: 'right'\n")
    fewer = tmp_path / "fewer"
    shutil.copytree(data, fewer)
    for name in ("left/1.png", "left/4.png", "right/5.png"):
        (fewer / name).unlink()
    code, out, err = _run(capsys, "train", "--spec", spec, "--data", fewer, "--out",
                          tmp_path / "runs")
    assert code == 1 and err.count("\n") == 1
    assert err.startswith(f"filterscope train: error: {fewer}: 3 file(s) the run trained on are "
                          "missing: "), err
    assert sorted(err.strip().split(": ")[-1].split(", ")) == ["left/1.png", "left/4.png", "right/5.png"]
    assert sorted(p.name for p in (tmp_path / "runs").iterdir()) == runs_before


def test_a_built_in_dataset_needs_no_location(capsys, tmp_path: Path) -> None:
    spec = tmp_path / "mnist-run.json"
    spec.write_text(json.dumps({"data": {"source": "builtin:mnist"}, "epochs": 1}))
    code, out, err = _run(capsys, "train", "--spec", spec, "--data", tmp_path, "--out",
                          tmp_path / "runs")
    assert code == 1 and out == ""
    assert err == ("filterscope train: error: --data: builtin:mnist is built in: it has no "
                   "location to change\n")


def _rect_folder(root: Path, width: int, height: int, per_class: int = 6) -> Path:
    """Three imbalanced classes of width x height photos-to-be (2, 4 and per_class images)."""
    rng = np.random.default_rng(1)
    for c, (name, n) in enumerate((("a", 2 + per_class), ("b", 4 + per_class), ("c", per_class))):
        (root / name).mkdir(parents=True)
        for i in range(n):
            img = rng.integers(0, 80, (height, width, 3), dtype=np.uint8)
            img[..., c] += 150
            Image.fromarray(img).save(root / name / f"{i}.jpg")
    return root


def test_photo_convnet_starts_from_its_recipe(capsys, tmp_path: Path) -> None:
    from filterscope.core.augment.chain import builtin_chain
    from filterscope.core.training.recipes import recipes

    recipe = recipes()["photo-convnet"]
    data = _rect_folder(tmp_path / "photos", 200, 150)
    code, out, err = _run(capsys, "train", "--data", data, "--model", "photo-convnet", "--epochs", 1,
                          "--out", tmp_path / "runs", "--json")
    assert code == 0, err
    result = json.loads(out)
    assert result["model"] == "photo-convnet" and result["epochs"] == 1  # --epochs wins
    assert result["fit"] == recipe.fit.to_json()
    assert result["optimizer"]["learning_rate"] == recipe.optimizer.learning_rate
    assert result["batch_size"] == recipe.batch_size
    assert result["input_shape"] == [72, 96, 3]  # 200x150 -> the recipe's 96 px longer side
    assert set(result["class_weights"]) == {"a", "b", "c"}
    assert result["class_weights"]["c"] > result["class_weights"]["b"]  # the smallest weighs most
    spec = json.loads((Path(result["run_dir"]) / "run.json").read_text())["run"]
    proposal = result["chain_proposal"]  # measured on the photos, and said why
    assert proposal["preset"] in ("photos", "upright") and proposal["photos"] == 24
    assert spec["data"]["chain"] == builtin_chain(proposal["preset"]).to_json()
    assert spec["data"]["longest_side"] == 96 and spec["data"]["image_size"] is None
    assert spec["epochs"] == 1 and spec["fit"]["early_stopping"] == recipe.fit.early_stopping


def test_recipe_settings_give_way_to_flags(capsys, tmp_path: Path) -> None:
    data = _rect_folder(tmp_path / "photos", 40, 30)
    code, out, err = _run(capsys, "train", "--data", data, "--model", "photo-convnet", "--epochs", 1,
                          "--no-class-weights", "--early-stopping", 0, "--reduce-lr-patience", 5,
                          "--reduce-lr-factor", 0.2, "--chain", "none", "--image-size", 32,
                          "--lr", 0.01, "--optimizer", "sgd", "--out", tmp_path / "runs", "--json")
    assert code == 0, err
    result = json.loads(out)
    assert result["fit"] == {"class_weights": False, "early_stopping": 0, "reduce_lr_patience": 5,
                             "reduce_lr_factor": 0.2, "warmup_epochs": 0}
    assert result["class_weights"] is None and result["input_shape"] == [32, 32, 3]
    assert result["optimizer"] == {"kind": "sgd", "learning_rate": 0.01, "momentum": 0.9}
    spec = json.loads((Path(result["run_dir"]) / "run.json").read_text())["run"]
    assert spec["data"]["chain"] is None


def test_fit_flags_on_a_chapter_model_and_the_human_output(capsys, tmp_path: Path) -> None:
    data = _folder(tmp_path / "shapes", 16)
    code, out, err = _run(capsys, "train", "--data", data, "--epochs", 2, "--batch-size", 4,
                          "--class-weights", "--reduce-lr-patience", 1, "--early-stopping", 5,
                          "--out", tmp_path / "runs")
    assert code == 0, err
    assert "fitting: balanced class weights; early stopping after 5 epochs" in out
    header = next(line for line in out.splitlines() if line.strip().startswith("epoch"))
    assert header.split()[-1] == "lr"
    code, out, err = _run(capsys, "train", "--data", data, "--epochs", 1, "--out", tmp_path / "runs")
    assert code == 0 and "fitting:" not in out  # the chapter's way: none of them


@pytest.mark.parametrize("args, message", [
    (["--early-stopping", "-1"], "--early-stopping: must be from 0 to 10,000 (got -1)"),
    (["--reduce-lr-factor", "1"], "--reduce-lr-factor: must be above 0 and below 1"),
])
def test_bad_fit_flags_exit_2(capsys, tmp_path: Path, args: list[str], message: str) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["train", "--data", str(tmp_path), "--out", str(tmp_path / "runs"), *args])
    assert caught.value.code == 2 and message in capsys.readouterr().err


def test_dry_run_marks_only_weights_that_do_not_train_as_frozen(capsys, tmp_path: Path) -> None:
    data = _folder(tmp_path / "shapes", 32)
    code, out, err = _run(capsys, "train", "--data", data, "--model", "photo-convnet", "--dry-run")
    assert code == 0, err
    lines = {line.split()[0]: line for line in out.splitlines() if line.startswith("  ")}
    assert "frozen" not in lines["block1_relu"] and "frozen" not in lines["block1_conv"]


def test_every_declared_run_setting_is_a_flag_with_its_range_in_the_help(capsys) -> None:
    from filterscope.core.base.settings import declared, flag_name
    from filterscope.core.training.fit_options import FitOptions

    with pytest.raises(SystemExit):
        main(["train", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    for name, spec in declared(FitOptions).items():
        assert flag_name(name, spec) in text, name
    assert "--warmup-epochs N" in text and "From 0 to 1,000 epochs; default off" in text
    assert "--seed N" in text and "From 0 to 4,294,967,295; default 0" in text
