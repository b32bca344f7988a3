"""The feature cache (keyed, never silently reused, resumable), a base's preprocessing recorded in
the run and reused, and heads trained on cached features through the same train() job."""

from __future__ import annotations

import json
import os
import shutil
import threading
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from filterscope.core.base.jobs import Cancelled, NullReport, RecordingReport
from filterscope.core.data.images import read_image
from filterscope.core.data.source import FolderSource
from filterscope.core.masking.colordist import builtin_preset
from filterscope.core.training.base_spec import base_templates
from filterscope.core.training.data_spec import DataSpec, PipelineError
from filterscope.core.training.frames import EpochFrame, StartFrame
from filterscope.core.training.model_input import prepare_image, preprocess
from filterscope.core.training.model_spec import ModelSpecError, templates
from filterscope.core.training.runs import RunSpec, RunSpecError, load_run
from filterscope.core.transfer.features import FeatureCacheError
from filterscope.core.transfer.run import extract_features, train_run

from tests.transfer_data import colour_folder

VGG = replace(base_templates()["vgg16"], base=replace(base_templates()["vgg16"].base, weights="random"))


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    return colour_folder(tmp_path / "colours")


def _extract(folder: Path, cache: Path, *, size: int = 32, report=None, cancel=None, mask=None, **kw):
    data = DataSpec(str(folder), image_size=(size, size), mask=mask)
    return extract_features(data, VGG, cache, batch_size=4, report=report or NullReport(),
                            cancel=cancel or threading.Event(), **kw)


def _listing(root: Path) -> dict:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_features_are_kept_and_reused_only_for_their_exact_key(folder: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    first = _extract(folder, cache)
    assert (first.computed, first.reused, first.notes) == (18, 0, [])
    assert first.feature_shape == (1, 1, 512) and first.features.shape == (18, 1, 1, 512)
    assert first.key["preprocessing"] == "caffe" and first.key["weights"]["seed"] == 0
    again = _extract(folder, cache)
    assert (again.path, again.computed, again.reused) == (first.path, 0, 18)
    np.testing.assert_array_equal(again.features, first.features)

    bigger = _extract(folder, cache, size=40)
    assert bigger.path != first.path and bigger.computed == 18
    assert bigger.notes == [f"{first.path.name}: made with another input size (32x32, now 40x40); not used"]
    masked = _extract(folder, cache, mask=builtin_preset("chapter").to_json())
    assert masked.computed == 18 and any("another mask; not used" in n for n in masked.notes)
    reseeded = _extract(folder, cache, seed=1)  # random weights are the seed's
    assert reseeded.computed == 18 and any("another weights" in n for n in reseeded.notes)

    # an entry that differs only in its preprocessing is named, never used
    other = cache / "vgg16-32x32-unit"
    shutil.copytree(first.path, other)
    key = json.loads((other / "key.json").read_text())
    (other / "key.json").write_text(json.dumps({**key, "preprocessing": "unit"}))
    used = _extract(folder, cache)
    assert used.path == first.path and used.reused == 18
    assert f"{other.name}: made with another preprocessing; not used" in used.notes

    newer = folder / "class1" / "2.png"
    os.utime(newer, ns=(newer.stat().st_atime_ns, newer.stat().st_mtime_ns + 10**9))
    changed = _extract(folder, cache)
    assert changed.path != first.path and changed.computed == 18
    assert any(n.startswith(f"{first.path.name}: made with another dataset files") for n in changed.notes)


def test_a_cancelled_extraction_resumes_where_it_stopped(folder: Path, tmp_path: Path) -> None:
    cancel = threading.Event()

    class StopAfterFirstBatch(RecordingReport):
        def progress(self, fraction: float, message: str = "") -> None:
            super().progress(fraction, message)
            if message.startswith("Features: 4 of 18"):
                cancel.set()

    with pytest.raises(Cancelled):
        _extract(folder, tmp_path / "cache", report=StopAfterFirstBatch(), cancel=cancel)
    resumed = _extract(folder, tmp_path / "cache")
    assert (resumed.reused, resumed.computed) == (4, 14)
    whole = _extract(folder, tmp_path / "fresh")
    np.testing.assert_allclose(resumed.features, whole.features, rtol=1e-5, atol=1e-4)

    (resumed.path / "features.npy").write_bytes((resumed.path / "features.npy").read_bytes()[:500])
    remade = _extract(folder, tmp_path / "cache")
    assert remade.computed == 18 and f"{resumed.path.name}: was damaged (a file cut short?); made again" \
        in remade.notes


def test_unreadable_images_are_skipped_and_named(folder: Path, tmp_path: Path) -> None:
    broken = folder / "class2" / "5.png"
    data = broken.read_bytes()
    # Cut, its IEND kept: the scan passes it (a file without one it refuses), decoding does not
    broken.write_bytes(data[:-200] + data[-12:])
    features = _extract(folder, tmp_path / "cache")
    assert features.skipped == [{"path": "class2/5.png", "reason": features.skipped[0]["reason"]}]
    assert int((np.asarray(features.status) == 2).sum()) == 1 and features.computed == 18


def test_cache_refusals_say_why(folder: Path, tmp_path: Path) -> None:
    before = _listing(folder)
    with pytest.raises(FeatureCacheError, match="refusing to write inside the dataset folder"):
        _extract(folder, folder / "cache")
    assert _listing(folder) == before
    data = DataSpec(str(folder), image_size=(32, 32))
    with pytest.raises(RunSpecError, match="augmentation makes every image different"):
        RunSpec(replace(data, chain={"steps": []}), VGG, cache_features=True)
    with pytest.raises(RunSpecError, match="fine-tuning trains VGG16's top blocks"):
        RunSpec(data, replace(VGG, base=replace(VGG.base, fine_tune_blocks=1)), cache_features=True)
    with pytest.raises(RunSpecError, match="only a pretrained base's features can be cached"):
        RunSpec(data, templates()["logistic"], cache_features=True)
    with pytest.raises(ModelSpecError, match="at least 32x32 px, not 28x28"):
        _extract(folder, tmp_path / "cache", size=28)
    lonely = colour_folder(tmp_path / "lonely", n_classes=1)
    with pytest.raises(PipelineError, match="at least two classes"):
        _extract(lonely, tmp_path / "cache")


def _prepared(folder: Path, key: str, size: int, mode: str) -> np.ndarray:
    image = prepare_image(read_image(folder / key), (size, size), None)
    return preprocess(image.astype(np.float32), mode)


def test_a_head_trains_on_cached_features_through_the_same_job(folder: Path, tmp_path: Path) -> None:
    import keras

    run = RunSpec(DataSpec(str(folder), image_size=(32, 32)), VGG, epochs=2, batch_size=4, seed=3,
                  cache_features=True)
    report = RecordingReport()
    result = train_run(run, tmp_path / "runs", report=report, cancel=threading.Event(),
                       cache_dir=tmp_path / "cache")
    kinds = [type(p) for p in report.partials]
    assert kinds[0] is StartFrame and kinds.count(EpochFrame) == 2 and result.status == "finished"
    assert sorted(p.name for p in result.run_dir.iterdir()) == ["best.keras", "history.json",
                                                                "last.keras", "run.json"]
    info = json.loads((result.run_dir / "run.json").read_text())
    assert info["preprocessing"] == "caffe" and info["run"]["cache_features"] is True
    assert info["weights"]["label"] == "random weights" and info["features"]["computed"] == 18
    assert info["input_shape"] == [32, 32, 3] and info["trainable_params"] == 512 * 3 + 3
    assert load_run(result.run_dir).tags() == ["lr 0.001", "random weights", "cached features"]

    # best.keras takes images, and its base is the very base the features came from
    model = keras.saving.load_model(result.run_dir / "best.keras", safe_mode=True)
    features = _extract(folder, tmp_path / "cache", seed=3)
    assert features.reused == 18
    keys = ["class0/1.png", "class2/4.png"]
    batch = np.stack([_prepared(folder, k, 32, "caffe") for k in keys])
    cut = keras.Model(model.input, model.get_layer("block5_pool").output)
    rows = [features.rows[next(i for i, key in enumerate(_keys(folder)) if key == k)] for k in keys]
    np.testing.assert_allclose(np.asarray(cut(batch)), features.features[rows], rtol=1e-4, atol=1e-3)
    assert model.predict(batch, verbose=0).shape == (2, 3)


def _keys(folder: Path) -> list[str]:
    from filterscope.core.data.sources import open_source

    return open_source(FolderSource(str(folder)), report=NullReport(), cancel=threading.Event()).keys


def test_a_base_preprocessing_is_recorded_and_reused(folder: Path, tmp_path: Path) -> None:
    """Uncached: the pipeline feeds the base its own preprocess_input (not the chapter's 1/255),
    run.json records it, and a tool reading the run (visualisation) feeds images the same way."""
    import keras
    from filterscope.core.training.pipeline import build_inputs
    from filterscope.core.visualize.inputs import prepare
    from filterscope.core.visualize.model_source import load_source

    mobile = replace(base_templates()["mobilenetv2"], base=replace(base_templates()["mobilenetv2"].base,
                                                                   weights="random"))
    data = DataSpec(str(folder), image_size=(32, 32))
    inputs = build_inputs(data, batch_size=18, report=NullReport(), cancel=threading.Event(),
                          preprocessing="tf")
    x, _ = next(iter(inputs.val))
    keys = [inputs.data.split_manifest().subsets["val"][c] for c in inputs.classes]
    first = prepare_image(read_image(folder / keys[0][0]), (32, 32), None).astype(np.float32)
    np.testing.assert_allclose(x[0], keras.applications.mobilenet_v2.preprocess_input(first.copy()),
                               atol=1e-5)
    np.testing.assert_allclose(preprocess(first, "caffe"),
                               keras.applications.vgg16.preprocess_input(first.copy()), atol=1e-4)

    result = train_run(RunSpec(data, mobile, epochs=1, batch_size=6), tmp_path / "runs",
                       report=NullReport(), cancel=threading.Event())
    assert result.preprocessing == "tf" and load_run(result.run_dir).preprocessing == "tf"
    loaded = load_source(result.run_dir, report=NullReport(), cancel=threading.Event())
    assert loaded.preprocessing == "tf"
    fed = prepare(loaded, read_image(folder / keys[0][0])).batch[0]
    np.testing.assert_allclose(fed, x[0], atol=1e-5)


@pytest.mark.slow
def test_gray_digits_in_memory_become_rgb_pooled_features(data_dir: Path, tmp_path: Path) -> None:
    mobile = replace(base_templates()["mobilenetv2"], base=replace(base_templates()["mobilenetv2"].base,
                                                                   weights="random"))
    features = extract_features(DataSpec("builtin:mnist", image_size=(32, 32)), mobile, tmp_path / "cache",
                                batch_size=100, report=NullReport(), cancel=threading.Event())
    assert features.features.shape == (5000, 1280) and features.pooled  # the head's average pooling
    assert features.key["dataset"]["source"] == "builtin:mnist" and features.computed == 5000
    assert np.isfinite(features.features[:100]).all() and features.features[:100].std() > 0


def test_fine_tuning_starts_from_a_head_trained_alone_on_cached_features(folder: Path,
                                                                           tmp_path: Path) -> None:
    """head_epochs: the head first trains on the frozen base's cached features (no chain, ten
    times the rate), then the top blocks and the head train from that head, on augmented
    images; run.json keeps the head's epochs, the run folder the fine-tuning's."""
    from filterscope.core.augment.chain import builtin_chain
    from filterscope.core.transfer.models import builder
    from filterscope.core.transfer.run import head_run, head_weights

    tuned = replace(VGG, base=replace(VGG.base, fine_tune_blocks=1, head_epochs=3))
    data = DataSpec(str(folder), image_size=(32, 32), chain=builtin_chain("upright").to_json())
    run = RunSpec(data, tuned, epochs=1, batch_size=6, seed=2)
    first = head_run(run)
    assert (first.epochs, first.cache_features, first.data.chain) == (3, True, None)
    assert first.model.base.fine_tune_blocks == 0
    assert first.optimizer.learning_rate == pytest.approx(10 * run.optimizer.learning_rate)
    head = train_run(first, None, report=NullReport(), cancel=threading.Event(),
                     cache_dir=tmp_path / "cache")

    report = RecordingReport()
    result = train_run(run, tmp_path / "runs", report=report, cancel=threading.Event(),
                       cache_dir=tmp_path / "cache")
    info = json.loads((result.run_dir / "run.json").read_text())
    assert info["head"]["epochs"] == 3 and len(info["head"]["history"]) == 3
    assert [r["accuracy"] for r in info["head"]["history"]] == [r["accuracy"] for r in head.history]
    assert info["run"]["model"]["base"]["head_epochs"] == 3 and info["run"]["data"]["chain"]
    assert len(json.loads((result.run_dir / "history.json").read_text())["epochs"]) == 1
    assert [type(p) for p in report.partials].count(EpochFrame) == 4  # 3 of the head, 1 tuned
    assert info["trainable_params"] > 512 * 3 + 3  # block 5's convolutions train too

    # the fine-tuned model starts from that head (and its base from ImageNet's, here random)
    built = builder(head_weights=head_weights(head.model))(run, (32, 32, 3), 3)
    for name in ("output",):
        for new, old in zip(built.saved.get_layer(name).get_weights(),
                            head.model.get_layer(name).get_weights()):
            np.testing.assert_array_equal(new, old)
    assert built.saved.get_layer("block5_conv3").trainable
