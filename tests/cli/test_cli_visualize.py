"""``filterscope visualize``, ``explain`` and ``layers`` on a real run, VGG16 and bad input."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from tests.visualize_models import lambda_model_file, mnist_digit


def _usage_error(capsys: pytest.CaptureFixture, *argv: object) -> str:
    """Run a command that argparse refuses (exit 2) and return its stderr."""
    from filterscope.cli.main import main

    with pytest.raises(SystemExit) as info:
        main([str(a) for a in argv])
    assert info.value.code == 2
    return capsys.readouterr().err


def _png(path: Path) -> np.ndarray:
    image = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    assert image is not None, f"{path} is not a PNG"
    return image


def test_layers_lists_names_kinds_and_shapes(run_cli, mnist_run: Path) -> None:
    code, out, err = run_cli("layers", mnist_run, "--json")
    assert code == 0, err
    data = json.loads(out)
    assert data["model"]["input_shape"] == [28, 28, 1] and data["model"]["weights"] == "best.keras"
    rows = {row["name"]: row for row in data["layers"]}
    assert rows["block2_conv"] == {"name": "block2_conv", "kind": "Conv2D", "output_shape": [11, 11, 12],
                                   "conv": True, "maps": True, "params": 660}
    assert rows["flatten"]["output_shape"] == [300] and not rows["flatten"]["conv"]
    code, out, _ = run_cli("layers", mnist_run)
    assert code == 0 and "block2_conv" in out and "11x11x12" in out and "(filters: --layer)" in out


def test_visualize_one_filter_reports_the_objective(run_cli, mnist_run: Path, tmp_path: Path) -> None:
    out_png = tmp_path / "filter.png"
    code, out, err = run_cli("visualize", mnist_run, "--layer", "block2_conv", "--filter", 3,
                             "--steps", 80, "--seed", 2, "--out", out_png, "--json")
    assert code == 0, err
    data = json.loads(out)
    assert data["labels"] == ["block2_conv filter 3"] and data["steps"] == 80 and data["seed"] == 2
    assert data["lr"] == 0.1 and data["preset"] == "chapter" and data["status"] == "finished"
    assert data["objective_end"][0] > data["objective_start"][0]
    assert data["out"] == str(out_png) and data["scale"] == 5 and data["size"] == [140, 140]
    assert _png(out_png).shape == (140, 140, 3)
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temp file left


def test_visualize_a_mosaic_with_the_clean_preset(run_cli, mnist_run: Path, tmp_path: Path) -> None:
    code, out, err = run_cli("visualize", mnist_run, "--layer", "block1_conv", "--filters", "0:6",
                             "--preset", "clean", "--steps", 20, "--batch", 4, "--out",
                             tmp_path / "mosaic.png")
    assert code == 0, err
    assert "clean preset, 20 steps" in out and out.count("block1_conv filter") == 6
    grid = (3 * 28 + 2 * 2, 2 * 28 + 2)  # 3 columns, 2 rows of 28 px tiles, 2 px apart
    assert _png(tmp_path / "mosaic.png").shape == (grid[1] * 3, grid[0] * 3, 3)  # enlarged 3x


def test_visualize_a_class_by_name(run_cli, mnist_run: Path, tmp_path: Path) -> None:
    code, out, err = run_cli("visualize", mnist_run, "--class", "7", "--steps", 30,
                             "--out", tmp_path / "seven.png", "--json")
    assert code == 0, err
    data = json.loads(out)
    assert data["kind"] == "class" and data["indices"] == [7] and data["lr"] == 0.01


def test_visualize_refuses_bad_requests(run_cli, capsys, mnist_run: Path, tmp_path: Path) -> None:
    out_png = tmp_path / "x.png"
    code, _, err = run_cli("visualize", mnist_run, "--layer", "flatten", "--filter", 0, "--out", out_png)
    assert code == 1 and "'flatten' is a Flatten layer, not a convolution; choose one of block1_conv, " \
        "block2_conv" in err
    code, _, err = run_cli("visualize", mnist_run, "--layer", "block2_conv", "--filter", 12, "--out", out_png)
    assert code == 1 and "filter 12 is out of range: block2_conv has 12 filters (0 to 11)" in err
    code, _, err = run_cli("visualize", mnist_run, "--class", "eleven", "--out", out_png)
    assert code == 1 and "no class called 'eleven'" in err
    assert "need --layer" in _usage_error(capsys, "visualize", mnist_run, "--filter", 0, "--out", out_png)
    assert "FIRST:STOP" in _usage_error(capsys, "visualize", mnist_run, "--layer", "block2_conv",
                                        "--filters", "4:2", "--out", out_png)
    assert "drop --layer" in _usage_error(capsys, "visualize", mnist_run, "--layer", "block2_conv",
                                          "--class", 3, "--out", out_png)
    assert "--steps: must be from 1 to 100,000 (got 0)" in _usage_error(  # the setting's own range
        capsys, "visualize", mnist_run, "--layer", "block2_conv", "--filter", 0, "--steps", 0, "--out", out_png)
    assert not out_png.exists()


def test_a_lambda_model_file_is_refused(run_cli, tmp_path: Path) -> None:
    path = lambda_model_file(tmp_path / "lambda.keras")
    code, _, err = run_cli("layers", path)
    assert code == 1 and "Lambda layer" in err and "loading the model would run it" in err


def test_vgg16_offline_without_weights_and_with_random_ones(run_cli, data_dir: Path, tmp_path: Path) -> None:
    code, _, err = run_cli("layers", "vgg16")
    assert code == 1 and "never downloads" in err and "random weights" in err
    code, out, err = run_cli("layers", "vgg16", "--weights", "random", "--size", 64, "--json")
    assert code == 0, err
    data = json.loads(out)
    assert data["model"]["weights"] == "random weights" and data["model"]["input_shape"] == [64, 64, 3]
    code, out, err = run_cli("visualize", "vgg16", "--weights", "random", "--size", 64, "--layer",
                             "block1_conv1", "--filter", 0, "--steps", 5, "--out", tmp_path / "v.png")
    assert code == 0, err
    assert "VGG16 (random weights)" in out and _png(tmp_path / "v.png").shape == (128, 128, 3)
    code, _, err = run_cli("visualize", "vgg16", "--weights", "random", "--size", 64, "--class", 184,
                           "--out", tmp_path / "c.png")
    assert code == 1 and "VGG16 at 64 px has no classes: only at 224 px" in err


def test_explain_names_the_predicted_class(run_cli, mnist_run: Path, tmp_path: Path) -> None:
    image = tmp_path / "digit.png"
    Image.fromarray(mnist_digit(1)).save(image)
    code, out, err = run_cli("explain", mnist_run, image, "--out", tmp_path / "cam.png", "--json")
    assert code == 0, err
    data = json.loads(out)
    assert data["predicted"]["name"] in [str(d) for d in range(10)]
    assert 0 < data["predicted"]["probability"] <= 1 and data["class"] == data["predicted"]["index"]
    assert data["layer"] == "block2_relu" and data["heatmap_size"] == [11, 11]
    assert _png(tmp_path / "cam.png").shape == (140, 140, 3)
    code, out, err = run_cli("explain", mnist_run, image, "--class", 4, "--out", tmp_path / "four.png")
    assert code == 0, err
    assert "Grad-CAM of 4 (class 4" in out and "predicted:" in out
    code, _, err = run_cli("explain", mnist_run, image, "--out", image)
    assert code == 1 and "is the image itself" in err


def test_pictures_are_never_written_into_the_runs_dataset(run_cli, mnist_run: Path, tmp_path: Path) -> None:
    dataset = tmp_path / "photos"
    (dataset / "a").mkdir(parents=True)
    run = Path(shutil.copytree(mnist_run, tmp_path / "run"))
    info = json.loads((run / "run.json").read_text())
    info["run"]["data"]["source"] = f"folder:{dataset}"
    (run / "run.json").write_text(json.dumps(info))
    before = sorted(p.name for p in dataset.rglob("*"))
    code, _, err = run_cli("visualize", run, "--layer", "block1_conv", "--filter", 0, "--steps", 2,
                           "--out", dataset / "a" / "filter.png")
    assert code == 1 and "refusing to write inside the dataset folder" in err
    assert sorted(p.name for p in dataset.rglob("*")) == before


@pytest.mark.parametrize("argv", [("visualize", "--help"), ("explain", "--help"), ("layers", "--help")])
def test_help(run_cli, argv) -> None:
    with pytest.raises(SystemExit) as exit_:
        run_cli(*argv)
    assert exit_.value.code == 0
