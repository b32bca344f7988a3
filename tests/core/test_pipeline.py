"""tf.data input pipelines: the DataSpec format, MNIST from memory, folders through the shared
reader (odd colour modes, damaged files, unicode names), masks, augmentation on training batches
only, the decode cache, small and one-class datasets, manifests, cancel, and an untouched tree."""

from __future__ import annotations

import json
import threading
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from filterscope.core.base.jobs import Cancelled, NullReport, RecordingReport
from filterscope.core.data.source import BuiltinSource, FolderSource
from filterscope.core.data.sources import open_source
from filterscope.core.data.splits import make_split, save_manifest
from filterscope.core.training import data_plan
from filterscope.core.training.data_spec import DataSpec, PipelineError
from filterscope.core.training.model_input import fitted_size
from filterscope.core.training.pipeline import Inputs, build_inputs
from PIL import Image

from tests.corpus import tree_digest

UNICODE_CLASS = "Ünïcødé 植物"
LEAF = (71, 86, 38)  # a chapter target: kept by the default mask
SOIL = (150, 60, 200)  # far from every target: blacked out
H, W = 24, 32


def build(spec: DataSpec, batch_size: int = 8, **kwargs) -> Inputs:
    return build_inputs(spec, batch_size=batch_size, report=kwargs.pop("report", NullReport()),
                        cancel=kwargs.pop("cancel", threading.Event()), **kwargs)


def epoch(ds) -> tuple[np.ndarray, np.ndarray]:
    """One pass over a stream, as arrays; also checks every batch's dtype and range."""
    xs, ys = [], []
    for x, y in ds:
        assert x.dtype.name == "float32" and y.dtype.name == "int32"
        xs.append(x.numpy())
        ys.append(y.numpy())
    x, y = np.concatenate(xs), np.concatenate(ys)
    assert 0.0 <= x.min() and x.max() <= 1.0
    return x, y


def leafy(seed: int) -> np.ndarray:
    """Left half leaf green, right half a colour the chapter's mask removes, plus noise."""
    rng = np.random.default_rng(seed)
    img = np.empty((H, W, 3), np.int16)
    img[:, : W // 2], img[:, W // 2:] = LEAF, SOIL
    return (img + rng.integers(-3, 4, img.shape)).clip(0, 255).astype(np.uint8)


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Three classes of small PNGs: RGB, grayscale, RGBA, one other size, two damaged files."""
    root = tmp_path_factory.mktemp("pipeline") / "plants"
    for c, name in enumerate(("alpha", UNICODE_CLASS, "gamma")):
        (root / name).mkdir(parents=True)
        for i in range(6):
            Image.fromarray(leafy(10 * c + i)).save(root / name / f"rgb_{i}.png")
    Image.fromarray(leafy(99)[:, :, 0], "L").save(root / "alpha" / "gray.png")
    rgba = np.dstack([leafy(98), np.full((H, W), 255, np.uint8)])
    rgba[:, :4, 3] = 0
    Image.fromarray(rgba, "RGBA").save(root / UNICODE_CLASS / "rgba.png")
    Image.fromarray(leafy(97)).resize((64, 48)).save(root / "gamma" / "bigger.png")
    good = (root / "gamma" / "rgb_0.png").read_bytes()
    # Header and IEND intact, the body between cut: the scan keeps it, decoding fails on it.
    (root / "gamma" / "truncated.png").write_bytes(good[: len(good) * 6 // 10] + good[-12:])
    (root / "alpha" / "note.png").write_text("not an image", encoding="utf-8")  # the scan refuses
    return root


# --- DataSpec ---------------------------------------------------------------------------------


def test_dataspec_json_round_trip() -> None:
    spec = DataSpec("folder:/data/plants", manifest="/data/split.json", val_fraction=0.25, seed=7,
                    image_size=(150, 120), mask={"median": 5, "output": "alpha"},
                    chain={"steps": [{"name": "Fliplr", "params": {"p": 0.5}}]})
    text = json.dumps(spec.to_json())
    again = DataSpec.from_json(json.loads(text))
    assert again == spec and again.image_size == (150, 120)
    assert DataSpec.from_json({"source": "builtin:mnist"}) == DataSpec("builtin:mnist")
    assert again.mask_params().median == 5 and again.chain_spec().steps[0].name == "Fliplr"


@pytest.mark.parametrize("data, field", [
    ([], "JSON object"),
    ({}, "source"),
    ({"source": ""}, "source"),
    ({"source": "folder:"}, "source"),
    ({"source": "builtin:mnist", "colour": 1}, "colour"),
    ({"source": "builtin:mnist", "val_fraction": 1.0}, "val_fraction"),
    ({"source": "builtin:mnist", "val_fraction": True}, "val_fraction"),
    ({"source": "builtin:mnist", "seed": -1}, "seed"),
    ({"source": "builtin:mnist", "seed": 1.5}, "seed"),
    ({"source": "builtin:mnist", "image_size": [28]}, "image_size"),
    ({"source": "builtin:mnist", "image_size": [0, 28]}, "image_size"),
    ({"source": "builtin:mnist", "image_size": "28x28"}, "image_size"),
    ({"source": "builtin:mnist", "manifest": 3}, "manifest"),
    ({"source": "manifest:/a.json", "manifest": "/b.json"}, "manifest"),
    ({"source": "builtin:mnist", "mask": {"median": 4}}, "mask: median"),
    ({"source": "builtin:mnist", "mask": "chapter"}, "mask"),
    ({"source": "builtin:mnist", "chain": {"steps": [{"name": "Nope"}]}}, "chain: step 1"),
])
def test_dataspec_validation_names_the_field(data, field: str) -> None:
    with pytest.raises(PipelineError, match=field):
        DataSpec.from_json(data)


def test_bad_batch_size_and_missing_source_are_pipeline_errors(tmp_path: Path) -> None:
    with pytest.raises(PipelineError, match="batch_size"):
        build(DataSpec("builtin:mnist"), batch_size=0)
    with pytest.raises(PipelineError, match="source: .*does not exist"):
        build(DataSpec(f"folder:{tmp_path / 'nowhere'}"))


# --- MNIST from memory ------------------------------------------------------------------------


def test_mnist_is_one_channel_in_unit_range_and_follows_the_split() -> None:
    report = RecordingReport()
    inputs = build(DataSpec("builtin:mnist", val_fraction=0.2, seed=3), batch_size=256,
                   report=report)
    assert inputs.input_shape == (28, 28, 1) and inputs.classes == [str(d) for d in range(10)]
    assert (inputs.n_train, inputs.n_val) == (4000, 1000) and not inputs.cached
    assert report.progress_calls[-1][0] == 1.0
    dataset = open_source(BuiltinSource("mnist"), report=NullReport(), cancel=threading.Event())
    split = make_split(dataset, val_fraction=0.2, seed=3)
    index = {key: i for i, key in enumerate(dataset.keys)}
    # Validation keeps the split's order: class by class, the manifest's keys in order.
    val_items = [index[k] for c in inputs.classes for k in split.subsets["val"][c]]
    x_val, y_val = epoch(inputs.val)
    assert x_val.shape == (1000, 28, 28, 1)
    np.testing.assert_array_equal(y_val, dataset.labels[val_items])
    np.testing.assert_array_equal(np.rint(x_val[..., 0] * 255), dataset.pixels[val_items])
    # Training is shuffled: compare image -> label as multisets.
    x_train, y_train = epoch(inputs.train)
    train_items = [index[k] for c in inputs.classes for k in split.subsets["train"][c]]
    expected = Counter((dataset.pixels[i].tobytes(), int(dataset.labels[i])) for i in train_items)
    got = Counter((np.rint(x * 255).astype(np.uint8)[..., 0].tobytes(), int(y))
                  for x, y in zip(x_train, y_train))
    assert got == expected
    second, _ = epoch(inputs.train)
    assert not np.array_equal(second, x_train), "training order must change between epochs"


def test_mnist_through_a_manifest_file(tmp_path: Path) -> None:
    dataset = open_source(BuiltinSource("mnist"), report=NullReport(), cancel=threading.Event())
    path = save_manifest(make_split(dataset, val_per_class=12, seed=1), tmp_path / "split.json")
    for spec in (DataSpec(f"manifest:{path}"), DataSpec("builtin:mnist", manifest=str(path))):
        inputs = build(spec, batch_size=500)
        assert (inputs.n_train, inputs.n_val) == (4880, 120)
        assert np.bincount(epoch(inputs.val)[1]).tolist() == [12] * 10


def test_mnist_resized_and_masked_in_memory() -> None:
    inputs = build(DataSpec("builtin:mnist", image_size=(20, 24), mask={}), batch_size=512)
    assert inputs.input_shape == (20, 24, 3)  # a colour mask makes colour images
    x, _ = epoch(inputs.val)
    assert x.shape[1:] == (20, 24, 3) and x.max() == 0.0  # grey digits hold no leaf green


@pytest.mark.parametrize("size, longest, fitted", [
    ((28, 28), None, (28, 28)), ((256, 200), None, (256, 200)),  # small images as they are
    ((3024, 4032), None, (113, 150)), ((4000, 300), None, (150, 11)),  # photos: 150 px side
    ((28, 28), 56, (56, 56)), ((3024, 4032), 224, (168, 224)), ((1, 5000), None, (1, 150)),
])
def test_fitted_size_keeps_small_images_and_scales_photos(size, longest, fitted) -> None:
    assert fitted_size(*size, longest) == fitted


def test_large_photos_train_at_150_px_unless_a_size_is_given(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    for name in ("cracked", "intact"):
        (tmp_path / name).mkdir()
        for i in range(3):
            Image.fromarray(rng.integers(0, 255, (300, 400, 3), np.uint8)).save(
                tmp_path / name / f"{i}.jpg", quality=80)
    assert build(DataSpec(str(tmp_path))).input_shape == (113, 150, 3)
    x, _ = epoch(build(DataSpec(str(tmp_path), image_size=(30, 40))).train)
    assert x.shape[1:] == (30, 40, 3)


# --- folders through the shared reader ---------------------------------------------------------


def test_folder_gives_rgb_skips_damaged_files_and_counts_them(folder: Path) -> None:
    before = tree_digest(folder)
    inputs = build(DataSpec(str(folder), val_fraction=0.25, seed=0), batch_size=4)
    assert inputs.classes == ["alpha", "gamma", UNICODE_CLASS]  # sorted by name, as scanned
    assert inputs.input_shape == (H, W, 3) and inputs.cached
    assert inputs.n_train + inputs.n_val == 22  # 18 + gray + rgba + bigger + truncated
    assert [s["path"] for s in inputs.skipped] == ["alpha/note.png"]  # found by the scan
    x_train, y_train = epoch(inputs.train)
    x_val, y_val = epoch(inputs.val)
    assert x_train.shape[1:] == (H, W, 3) and len(x_train) + len(x_val) == 21
    assert len(inputs.skipped) == 2 and inputs.skipped[1]["path"].endswith("truncated.png")
    assert "corrupt" in inputs.skipped[1]["reason"]
    assert sorted(Counter(np.concatenate([y_train, y_val])).values()) == [7, 7, 7]
    epoch(inputs.train)
    assert len(inputs.skipped) == 2, "a damaged file is counted once"
    assert tree_digest(folder) == before


def test_mask_blacks_out_the_background_in_train_and_val(folder: Path) -> None:
    inputs = build(DataSpec(str(folder), mask={"output": "mask"}), batch_size=32)
    x = np.concatenate([epoch(inputs.train)[0], epoch(inputs.val)[0]])
    assert x.shape[1:] == (H, W, 3)  # output "mask" trains on the black-background photo
    assert x[:, 4:-4, W // 2 + 6:].max() == 0.0  # background: exactly black
    kept = x[:, 4:-4, 6: W // 2 - 6].max(axis=(1, 2, 3)) > 0.2
    assert kept.sum() == len(x) - 1  # the leaf is kept in all but the grey image (not green)
    unmasked = epoch(build(DataSpec(str(folder)), batch_size=32).val)[0]
    assert unmasked[:, 4:-4, W // 2 + 6:].min() > 0.1


def test_big_datasets_mask_through_the_colour_table_with_the_same_pixels(folder: Path,
                                                                         monkeypatch) -> None:
    spec = DataSpec(str(folder), mask={"median": 5})
    report = RecordingReport()
    small = epoch(build(spec, batch_size=32, report=report).val)[0]
    assert "Preparing the mask" not in [m for _, m in report.progress_calls]
    monkeypatch.setattr(data_plan, "TABLE_MIN_PIXELS", {"redmean": 0, "cielab": 0})
    report = RecordingReport()
    big = epoch(build(spec, batch_size=32, report=report).val)[0]
    assert "Preparing the mask" in [m for _, m in report.progress_calls]
    np.testing.assert_array_equal(small, big)


def test_augmentation_changes_training_batches_but_never_validation(folder: Path) -> None:
    chain = {"steps": [{"name": "Add", "params": {"value": [-60, -40]}}]}
    plain = build(DataSpec(str(folder), seed=5), batch_size=64)
    augmented = build(DataSpec(str(folder), seed=5, chain=chain), batch_size=64)
    x_plain, y_plain = epoch(plain.train)
    x_aug, y_aug = epoch(augmented.train)
    np.testing.assert_array_equal(y_plain, y_aug)  # same seed, same order
    assert x_aug.mean() < x_plain.mean() - 0.1
    first, second = epoch(augmented.val), epoch(augmented.val)
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(first[0], epoch(plain.val)[0])


def test_augmenting_grayscale_with_colour_only_steps(monkeypatch) -> None:
    chain = {"steps": [{"name": "Grayscale", "params": {"alpha": [1.0, 1.0]}},
                       {"name": "Fliplr", "params": {"p": 1.0}}]}
    inputs = build(DataSpec("builtin:mnist", chain=chain), batch_size=1000)
    x, _ = next(iter(inputs.train))
    assert x.shape == (1000, 28, 28, 1) and float(x.numpy().max()) > 0.9


def test_second_epoch_reads_no_file_when_cached(folder: Path, reads) -> None:
    inputs = build(DataSpec(str(folder), chain={"steps": [{"name": "Fliplr"}]}), batch_size=4)
    epoch(inputs.train)
    assert len(reads) == inputs.n_train
    epoch(inputs.train)
    epoch(inputs.val)
    epoch(inputs.val)
    assert len(reads) == inputs.n_train + inputs.n_val
    reads.clear()
    uncached = build(DataSpec(str(folder)), batch_size=4, cache_bytes=0)
    assert not uncached.cached
    epoch(uncached.train)
    epoch(uncached.train)
    assert len(reads) == 2 * uncached.n_train


# --- sizes, classes, manifests, cancel ------------------------------------------------------------


def _tiny(root: Path, counts: dict[str, int]) -> Path:
    for c, (name, n) in enumerate(counts.items()):
        (root / name).mkdir(parents=True)
        for i in range(n):
            Image.fromarray(leafy(c * 100 + i)).save(root / name / f"{i}.png")
    return root


def test_dataset_smaller_than_a_batch(tmp_path: Path) -> None:
    inputs = build(DataSpec(str(_tiny(tmp_path / "tiny", {"a": 2, "b": 3}))), batch_size=32)
    assert (inputs.n_train, inputs.n_val) == (3, 2)
    batches = [y.numpy() for _, y in inputs.train]
    assert len(batches) == 1 and len(batches[0]) == 3


def test_classes_missing_from_validation_are_a_warning(tmp_path: Path) -> None:
    root = _tiny(tmp_path / "small", {"a": 1, "b": 4, "c": 0})
    inputs = build(DataSpec(str(root)), batch_size=8)
    assert inputs.classes == ["a", "b"]  # the empty class folder is no class
    assert inputs.warnings == ["'a' has no validation images"] and inputs.n_val == 1


def test_no_validation_images_at_all_gives_an_empty_validation_stream(tmp_path: Path) -> None:
    inputs = build(DataSpec(str(_tiny(tmp_path / "singles", {"a": 1, "b": 1}))), batch_size=8)
    assert (inputs.n_train, inputs.n_val) == (2, 0) and len(inputs.warnings) == 2
    assert list(inputs.val) == [] and len(epoch(inputs.train)[1]) == 2


def test_one_class_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(PipelineError, match="needs at least two classes"):
        build(DataSpec(str(_tiny(tmp_path / "one", {"only": 5, "empty": 0}))))


def test_manifest_for_another_dataset_or_with_files_gone(folder: Path, tmp_path: Path) -> None:
    other = _tiny(tmp_path / "other", {"a": 3, "b": 3})
    split = make_split(open_source(FolderSource(str(other)), report=NullReport(), cancel=threading.Event()),
                       val_fraction=0.3)
    path = save_manifest(split, tmp_path / "split.json")
    with pytest.raises(PipelineError, match=r"manifest: .*split\.json was made for folder:.*other"):
        build(DataSpec(str(folder), manifest=str(path)))
    (other / "a" / "1.png").write_text("damaged since", encoding="utf-8")
    inputs = build(DataSpec(f"manifest:{path}"))
    assert [s["path"] for s in inputs.skipped] == ["a/1.png"]  # there, but unreadable: skipped
    assert inputs.n_train + inputs.n_val == 5
    (other / "a" / "0.png").unlink()
    (other / "b" / "2.png").unlink()
    with pytest.raises(PipelineError, match=r"2 file\(s\) it lists are gone .*a/0\.png, b/2\.png"):
        build(DataSpec(f"manifest:{path}"))
    with pytest.raises(PipelineError, match="manifest: .*cannot read"):
        build(DataSpec(str(other), manifest=str(tmp_path / "missing.json")))


class TripAfter:
    """A cancel token that becomes set on its n-th poll."""

    def __init__(self, n: int) -> None:
        self.n, self.polls = n, 0

    def is_set(self) -> bool:
        self.polls += 1
        return self.polls >= self.n


def test_cancel_at_any_point_of_the_up_front_work(folder: Path) -> None:
    before = tree_digest(folder)
    counter = TripAfter(10**9)
    build(DataSpec(str(folder), mask={}), cancel=counter)
    assert counter.polls >= 4
    for n in range(1, counter.polls + 1):
        with pytest.raises(Cancelled):
            build(DataSpec(str(folder), mask={}), cancel=TripAfter(n))
    assert tree_digest(folder) == before
