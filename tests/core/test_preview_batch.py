"""What the model sees is what the model gets: the Augment tab's model view is a batch of the
training pipeline itself, so its shape and pixels equal the pipeline's own first batch.

Three kinds of data, each with an augmentation chain: grayscale digits (one channel), 224 px colour
photos with the chapter's mask (three channels, their own size) and large photos (scaled to 150 px
on the longer side).
"""

from __future__ import annotations

import threading
from pathlib import Path

import cv2
import numpy as np
import pytest
from filterscope.core.augment.chain import builtin_chain
from filterscope.core.base.jobs import NullReport
from filterscope.core.data.source import BuiltinSource, FolderSource
from filterscope.core.data.sources import open_source
from filterscope.core.data.splits import SplitManifest, save_manifest
from filterscope.core.masking.colordist import builtin_preset
from filterscope.core.training import data_plan
from filterscope.core.training.data_spec import DataSpec, PipelineError
from filterscope.core.training.model_input import image_size_for, input_shape
from filterscope.core.training.pipeline import build_inputs, preview_batch

from tests.photos import leaf_and_soil, smooth_photo


def small_split(dataset, per_class: int, out: Path) -> str:
    """A manifest with ``per_class`` training and one validation image per class."""
    train, val = {}, {}
    for c, name in enumerate(dataset.classes):
        keys = [k for k, label in zip(dataset.keys, dataset.labels) if label == c][: per_class + 1]
        train[name], val[name] = keys[:per_class], keys[per_class:]
    manifest = SplitManifest(dataset.source, list(dataset.classes), "per-class", 1, 0,
                             {"train": train, "val": val})
    return str(save_manifest(manifest, out))


def photo_folder(root: Path, height: int, width: int, per_class: int = 3) -> Path:
    rng = np.random.default_rng(7)
    for name in ("crack", "intact"):
        (root / name).mkdir(parents=True)
        for i in range(per_class):
            image = smooth_photo(rng, leaf_and_soil(rng, 4, 5, jitter=20), height, width, noise=6)
            cv2.imwrite(str(root / name / f"{i}.jpg"), cv2.cvtColor(image, cv2.COLOR_RGB2BGR))
    return root


def cases(tmp_path: Path, kind: str):
    if kind == "digits":
        dataset = open_source(BuiltinSource("mnist"), report=NullReport(), cancel=threading.Event())
        manifest = small_split(dataset, 2, tmp_path / "split.json")
        chain = builtin_chain("keras").to_json()
        return dataset, DataSpec(f"manifest:{manifest}", seed=3, chain=chain), (28, 28, 1)
    if kind == "photos-224":
        root = photo_folder(tmp_path / "roofs", 224, 224)
        mask = builtin_preset("chapter").to_json()
        chain = builtin_chain("chapter").to_json()
        spec = DataSpec(str(root), seed=5, mask=mask, chain=chain)
    else:
        root = photo_folder(tmp_path / "cars", 900, 1200)
        spec = DataSpec(str(root), seed=11, chain=builtin_chain("chapter").to_json())
    dataset = open_source(FolderSource(str(root)), report=NullReport(), cancel=threading.Event())
    return dataset, spec, {"photos-224": (224, 224, 3), "large": (113, 150, 3)}[kind]


@pytest.mark.parametrize("kind", ["digits", "photos-224", "large"])
def test_the_model_view_is_the_pipelines_first_batch(tmp_path: Path, kind: str) -> None:
    dataset, spec, shape = cases(tmp_path, kind)
    planned = data_plan.plan(spec, NullReport(), threading.Event(), None)
    items, labels = planned.subsets["train"]
    inputs = build_inputs(spec, batch_size=len(items), report=NullReport(), cancel=threading.Event())
    x, y = next(iter(inputs.train))

    view = preview_batch(dataset, spec, items, report=NullReport(), cancel=threading.Event())

    assert tuple(inputs.input_shape) == view.input_shape == shape
    assert view.input_shape == input_shape(dataset, masked=spec.mask is not None)
    assert view.images.shape == tuple(x.shape) == (len(items), *shape)
    assert view.images.dtype == np.float32 and 0.0 <= view.images.min() and view.images.max() <= 1.0
    np.testing.assert_array_equal(view.images, x.numpy())  # same pixels, same augmentation
    np.testing.assert_array_equal(view.labels, y.numpy())


def test_a_chosen_size_and_repeated_items(tmp_path: Path) -> None:
    dataset, spec, _shape = cases(tmp_path, "large")
    size = image_size_for(dataset, 64)
    assert size == (48, 64)
    view = preview_batch(dataset, DataSpec(spec.source, image_size=size, chain=spec.chain), [0, 0, 0, 0],
                         report=NullReport(), cancel=threading.Event())
    assert view.images.shape == (4, 48, 64, 3)
    assert len({view.images[i].tobytes() for i in range(4)}) == 4  # one photo, four augmentations


def test_unreadable_choices_are_named(tmp_path: Path) -> None:
    root = photo_folder(tmp_path / "set", 64, 64)
    dataset = open_source(FolderSource(str(root)), report=NullReport(), cancel=threading.Event())
    (root / dataset.keys[0]).write_bytes(b"\xff\xd8 not a jpeg any more")  # damaged after the scan
    with pytest.raises(PipelineError, match="none of the chosen images could be read"):
        preview_batch(dataset, DataSpec(str(root)), [0, 0], report=NullReport(), cancel=threading.Event())
    view = preview_batch(dataset, DataSpec(str(root)), [0, 1], report=NullReport(),
                         cancel=threading.Event())
    assert view.images.shape[0] == 1 and view.skipped[0]["path"] == dataset.keys[0]
    with pytest.raises(PipelineError, match="choose images"):
        preview_batch(dataset, DataSpec(str(root)), [len(dataset)], report=NullReport(),
                      cancel=threading.Event())


def test_the_input_size_comes_from_the_images_whose_size_is_known() -> None:
    """Items whose header could not be read have size 0 x 0: they must not decide the size."""
    from filterscope.core.data.datasets import Dataset

    sizes = np.array([[0, 0]] * 5 + [[300, 200]] * 2, np.int32)
    dataset = Dataset("odd", FolderSource("/nowhere"), ["a", "b"], [f"a/{i}.jpg" for i in range(7)],
                      np.array([0, 1] * 3 + [0], np.int32), sizes)
    assert input_shape(dataset) == (100, 150, 3)  # 200 x 300 photos fitted to 150 px
    assert dataset.size_summary()["most_common"] == [300, 200]
