"""``filterscope visualize``, ``explain``, ``layers`` and ``predict`` with ``efficientnet-lite0``:
ImageNet's classes by name, its package's weights (offline), skimage's sample photos as files."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import cv2
import pytest

LITE = "efficientnet-lite0"
# skimage's sample photos and a class each must have among its top 5 (as in test_efficientnet_lite).
PHOTOS = {"chelsea": "Egyptian Mau", "coffee": "espresso", "moped": "moped"}


@pytest.fixture(scope="module")
def photos(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder of skimage's sample photos saved as files (PNG and JPEG)."""
    from skimage import data

    folder = tmp_path_factory.mktemp("photos")
    for name, image in (("chelsea", data.chelsea()), ("coffee", data.coffee()),
                        ("moped", data.stereo_motorcycle()[0])):
        suffix = ".jpg" if name == "coffee" else ".png"
        assert cv2.imwrite(str(folder / f"{name}{suffix}"), image[:, :, ::-1])
    return folder


def test_layers_of_efficientnet_lite0(run_cli) -> None:
    code, out, err = run_cli("layers", LITE, "--json")
    assert code == 0, err
    data = json.loads(out)
    assert data["model"] | {"path": None} == {"name": "EfficientNet-Lite0", "kind": LITE, "input_shape": [224, 224, 3],
                                              "preprocessing": "lite", "weights": "ImageNet",
                                              "classes": 1000, "path": None}
    rows = {row["name"]: row for row in data["layers"]}
    assert rows["stem_conv"]["conv"] and rows["block4a_expand_conv"]["conv"]
    assert rows["predictions"]["output_shape"] == [1000]


def test_visualize_goldfish_with_the_clean_preset(run_cli, tmp_path: Path) -> None:
    png = tmp_path / "goldfish.png"
    code, out, err = run_cli("visualize", LITE, "--class", "goldfish", "--preset", "clean", "--steps", 3,
                             "--out", png, "--json")
    assert code == 0, err
    data = json.loads(out)
    assert data["labels"] == ["class 1 (goldfish)"] and data["preset"] == "clean" and data["steps"] == 3
    assert cv2.imread(str(png)).shape == (224, 224, 3)


def test_visualize_a_filter_of_a_block(run_cli, tmp_path: Path) -> None:
    code, out, err = run_cli("visualize", LITE, "--layer", "block3b_project_conv", "--filters", "0:4",
                             "--steps", 3, "--out", tmp_path / "filters.png")
    assert code == 0, err
    assert "block3b_project_conv filter 3" in out and "EfficientNet-Lite0 (ImageNet)" in out


def test_explain_draws_grad_cam_of_a_photos_top_3_classes(run_cli, photos: Path, tmp_path: Path) -> None:
    code, out, err = run_cli("explain", LITE, photos / "chelsea.png", "--top", 3, "--out", tmp_path / "cam.png",
                             "--json")
    assert code == 0, err
    data = json.loads(out)
    assert [c["class_name"] for c in data["cams"]] == [t["name"] for t in data["top"][:3]]
    assert "Egyptian Mau" in [c["class_name"] for c in data["cams"]]
    assert {c["layer"] for c in data["cams"]} == {"top_activation"}  # after the last convolution's BN
    for name in ("cam.png", "cam-2.png", "cam-3.png"):
        assert cv2.imread(str(tmp_path / name)).shape[2] == 3
    code, out, err = run_cli("explain", LITE, photos / "coffee.jpg", "--class", "espresso", "--out",
                             tmp_path / "espresso.png")
    assert code == 0, err
    assert "Grad-CAM of espresso (class 967" in out


def test_predict_a_folder_of_photos_with_imagenet_classes(run_cli, photos: Path, tmp_path: Path) -> None:
    preds = tmp_path / "preds.csv"
    code, out, err = run_cli("predict", LITE, photos, "--top-k", 5, "--out", preds, "--json")
    assert code == 0, err
    data = json.loads(out)
    assert data["model"] == "EfficientNet-Lite0 with ImageNet weights" and len(data["classes"]) == 1000
    tops = {Path(r["path"]).stem: [t["class"] for t in r["top"]] for r in data["rows"]}
    assert all(PHOTOS[name] in tops[name] for name in PHOTOS), tops
    with preds.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 3 and {r["class_5"] != "" for r in rows} == {True}
    code, out, err = run_cli("predict", LITE, photos, "--out", tmp_path / "again.csv")
    assert code == 0, err
    assert "predicted 3 of 3 image(s)" in out and len(out.splitlines()) < 10  # only classes predicted


def test_predict_one_photo_prints_its_top_classes(run_cli, photos: Path) -> None:
    code, out, err = run_cli("predict", LITE, photos / "coffee.jpg", "--top-k", 5)
    assert code == 0, err
    assert "coffee.jpg: espresso" in out
