"""The recipes on real photos: ``photo-convnet`` (from scratch) against the chapter's logistic
baseline, and ``photo-transfer`` (EfficientNet-Lite0 fine-tuned) as a user runs it.

Data: the 4,027 real Plant Seedlings photos in ``../shared/data/plant-seedlings-150-train`` (150 px,
12 classes, 187 to 555 per class; skipped where absent). As a user would: ``filterscope split``
holds out a stratified 15 % of every class (seed 0), then ``filterscope train`` trains on the rest
with the seedlings mask preset, once ``--model photo-convnet`` with the recipe's own settings and
once the chapter's ``logistic`` baseline (its 10 epochs, the dataset's 150 px), in the same run.

Target (issue 12): at least 85 % validation accuracy for the recipe, trained within 30 minutes on
2 CPU cores; the time is reported, not asserted (timings are machine facts; accuracy is the
recipe's). The majority-class baseline is printed beside both. Takes about half an hour:
``python -m pytest tests/benchmarks/test_recipe.py --benchmark-only -s``.

Target (issue 19): ``filterscope train --data DIR --model photo-transfer`` (its own split: a
seeded 20 % of each class held out; the augmentation measured on the photos; ImageNet's weights
from the package, features cached in a fresh folder) reaches at least 96 % validation accuracy,
in at most 30 minutes on 2 CPU cores (reported, not asserted). About 25 minutes.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from filterscope.cli.main import main

from tests.conftest import SHARED_DATA

SEEDLINGS = SHARED_DATA.parent / "plant-seedlings-150-train"
TARGET = 0.85
BUDGET_S = 30 * 60


@pytest.fixture(scope="module")
def manifest(tmp_path_factory) -> Path:
    if not SEEDLINGS.is_dir():
        pytest.skip("../shared/data/plant-seedlings-150-train is not on this machine")
    out = tmp_path_factory.mktemp("split") / "split.json"
    assert main(["split", str(SEEDLINGS), "--val-fraction", "0.15", "--seed", "0", "--out", str(out)]) == 0
    return out


def _train(capsys, manifest: Path, out: Path, *args: str) -> tuple[dict, float]:
    start = time.perf_counter()
    code = main(["train", "--data", str(manifest), "--mask", "seedlings-tuned", "--seed", "0",
                 "--out", str(out), "--json", *args])
    seconds = time.perf_counter() - start
    text, err = capsys.readouterr()
    assert code == 0, err
    return json.loads(text), seconds


def _val_counts(manifest: Path) -> dict[str, int]:
    return {name: len(files) for name, files in json.loads(manifest.read_text())["subsets"]["val"].items()}


@pytest.mark.timeout(2 * BUDGET_S)
def test_photo_convnet_reaches_85_percent_on_real_seedlings(benchmark, capsys, manifest, tmp_path) -> None:
    results = {}

    def both() -> None:
        results["recipe"] = _train(capsys, manifest, tmp_path / "runs", "--model", "photo-convnet")
        results["logistic"] = _train(capsys, manifest, tmp_path / "runs", "--model", "logistic")

    benchmark.pedantic(both, rounds=1, iterations=1)
    val = _val_counts(manifest)
    majority = max(val.values()) / sum(val.values())
    recipe, recipe_s = results["recipe"]
    logistic, logistic_s = results["logistic"]
    with capsys.disabled():
        print(f"\n{sum(val.values()):,} validation images in {len(val)} classes, majority-class "
              f"baseline {majority:.1%}")
        for name, (result, seconds) in results.items():
            print(f"{name}: best validation accuracy {result['best_val_accuracy']:.1%} at epoch "
                  f"{result['best_epoch']} of {result['epochs_run']} run ({result['epochs']} at most), "
                  f"{seconds / 60:.1f} min, input {result['input_shape']}, seed 0")
        print("recipe curve (epoch, train acc, val acc, learning rate):")
        for row in recipe["history"]:
            print(f"  {row['epoch']:>3}  {row['accuracy']:.3f}  {row['val_accuracy']:.3f}  "
                  f"{row['learning_rate']:.2g}")
    benchmark.extra_info.update({
        "majority_baseline": majority, "recipe_best_val_accuracy": recipe["best_val_accuracy"],
        "recipe_minutes": recipe_s / 60, "recipe_epochs_run": recipe["epochs_run"],
        "logistic_best_val_accuracy": logistic["best_val_accuracy"], "logistic_minutes": logistic_s / 60})
    assert recipe["best_val_accuracy"] >= TARGET
    assert recipe["best_val_accuracy"] > logistic["best_val_accuracy"] > majority


TRANSFER_TARGET = 0.96


@pytest.mark.timeout(2 * BUDGET_S)
def test_photo_transfer_reaches_96_percent_on_real_seedlings(benchmark, capsys, tmp_path) -> None:
    if not SEEDLINGS.is_dir():
        pytest.skip("../shared/data/plant-seedlings-150-train is not on this machine")
    results = {}

    def run() -> None:
        start = time.perf_counter()
        code = main(["train", "--data", str(SEEDLINGS), "--model", "photo-transfer", "--seed", "0",
                     "--out", str(tmp_path / "runs"), "--cache-dir", str(tmp_path / "cache"), "--json"])
        results["seconds"] = time.perf_counter() - start
        text, err = capsys.readouterr()
        assert code == 0, err
        results["run"] = json.loads(text)

    benchmark.pedantic(run, rounds=1, iterations=1)
    result, seconds = results["run"], results["seconds"]
    record = json.loads((Path(result["run_dir"]) / "run.json").read_text())
    counts = record["n_val"]
    with capsys.disabled():
        print(f"\nphoto-transfer: best validation accuracy {result['best_val_accuracy']:.1%} at epoch "
              f"{result['best_epoch']} of {result['epochs_run']} ({counts:,} validation images), "
              f"{seconds / 60:.1f} min in all; augmentation {result['chain_proposal']['preset']} "
              f"({result['chain_proposal']['reason']}); head: "
              f"{[round(r['val_accuracy'], 3) for r in record['head']['history']]}")
        for row in result["history"]:
            print(f"  {row['epoch']:>3}  {row['accuracy']:.3f}  {row['val_accuracy']:.3f}  "
                  f"{row['learning_rate']:.2g}  {row['seconds']:.0f} s")
    benchmark.extra_info.update({"best_val_accuracy": result["best_val_accuracy"],
                                 "minutes": seconds / 60, "epochs_run": result["epochs_run"]})
    assert result["best_val_accuracy"] >= TRANSFER_TARGET
