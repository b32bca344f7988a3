"""``filterscope network``: a digit through every layer of a real run, one value of each kind
worked out with the model's own numbers, and bad tiles refused with a reason."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PIL import Image

from tests.visualize_models import mnist_digit


@pytest.fixture
def digit_file(tmp_path: Path) -> Path:
    path = tmp_path / "three.png"
    Image.fromarray(mnist_digit(3)).save(path)
    return path


def test_every_layer_and_the_softmax_in_words(run_cli, mnist_run: Path, digit_file: Path) -> None:
    code, out, err = run_cli("network", mnist_run, digit_file, "--json")
    assert code == 0, err
    data = json.loads(out)
    layers = {row["name"]: row for row in data["layers"]}
    assert layers["block2_conv"]["shape"] == [11, 11, 12] and layers["block2_conv"]["input"] == "block1_maxpool"
    assert layers["block1_conv"]["input"] == "the image" and not layers["flatten"]["steppable"]
    assert sum(data["probabilities"]) == pytest.approx(1.0) and len(data["logits"]) == 10
    assert data["softmax"][0].startswith("The last layer's raw scores") and data["tile"] is None
    code, out, _ = run_cli("network", mnist_run, digit_file)
    assert code == 0 and "block2_maxpool" in out and "exp(logit" in out


@pytest.mark.parametrize(("tile", "stage"), [("block2_conv:5:6:3", "convolution"),
                                             ("block1_relu:10:12:2", "relu"),
                                             ("block2_maxpool:3:2:7", "pooling")])
def test_a_tile_is_worked_out_to_the_models_value(run_cli, mnist_run: Path, digit_file: Path, tile: str,
                                                  stage: str) -> None:
    code, out, err = run_cli("network", mnist_run, digit_file, "--tile", tile, "--json")
    assert code == 0, err
    worked = json.loads(out)["tile"]
    assert worked["stage"] == stage
    assert worked["computed"] == pytest.approx(worked["model_value"], abs=1e-4)
    assert ("products add up to" if stage == "convolution" else "max(" if stage == "pooling" else "ReLU(") \
        in worked["equation"]


def test_bad_tiles_are_refused_with_a_reason(run_cli, mnist_run: Path, digit_file: Path) -> None:
    code, _, err = run_cli("network", mnist_run, digit_file, "--tile", "flatten:1:1:1")
    assert code != 0 and "not a convolution, a ReLU or a max pooling" in err
    code, _, err = run_cli("network", mnist_run, digit_file, "--tile", "nope:1:1:1")
    assert code != 0 and "no layer 'nope'" in err
    code, _, err = run_cli("network", mnist_run, digit_file, "--tile", "block2_conv:99:1:1")
    assert code != 0 and "there is no row 99" in err


@pytest.mark.parametrize("command", ["network", "explain"])
def test_a_broken_image_is_named_before_any_model_loads(run_cli, mnist_run: Path, tmp_path: Path,
                                                         command: str) -> None:
    broken = tmp_path / "ñame" / "cut short.png"
    broken.parent.mkdir()
    broken.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 20)
    extra = ("--out", tmp_path / "cams") if command == "explain" else ()
    code, out, err = run_cli(command, mnist_run, broken, *extra)
    assert code != 0 and out == "" and "cut short.png" in err and "Traceback" not in err
    assert "Loading the model" not in err  # refused before the model was loaded
