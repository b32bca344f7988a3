"""Tests for filterscope.core.masking.batch: masked copies of a dataset, never into the source."""

from __future__ import annotations

import errno
import json
import os
import random
import threading
from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np
import pytest
from filterscope.core.base.jobs import Cancelled, NullReport, RecordingReport, never_cancel
from filterscope.core.data.datasets import Dataset, scan_folder
from filterscope.core.data.images import read_image
from filterscope.core.data.source import BuiltinSource
from filterscope.core.masking.batch import (
    MANIFEST,
    MaskBatchError,
    mask_dataset,
    mask_file,
    mask_path,
)
from filterscope.core.masking.colordist import MaskParams, apply_mask, builtin_preset
from PIL import Image

from tests.corpus import run_without_read_permission, tree_digest
from tests.photos import leaf_and_soil, smooth_photo

UNICODE_CLASS = "Ünïcødé 植物"
CHAPTER = builtin_preset("chapter")


def leafy(seed: int, h: int = 48, w: int = 64) -> np.ndarray:
    """A small photo-like RGB image: smooth leaf greens and soil browns with noise."""
    rng = np.random.default_rng(seed)
    return smooth_photo(rng, leaf_and_soil(rng, 4, 5, jitter=20), h, w, noise=10)


def make_dataset(root: Path) -> dict[str, np.ndarray]:
    """Writes a folder dataset; returns the decoded pixels of every good image by key."""
    good: dict[str, np.ndarray] = {}
    for cls in ("clover", UNICODE_CLASS, "weeds"):
        (root / cls).mkdir(parents=True)
    for i in range(6):
        key = f"clover/leaf_{i}.png"
        Image.fromarray(leafy(i)).save(root / key)
        good[key] = leafy(i)
    for i in range(4):
        key = f"{UNICODE_CLASS}/植物 {i}.png"
        Image.fromarray(leafy(10 + i)).save(root / key)
        good[key] = leafy(10 + i)
    # Three files sharing the stem "same": each needs its own output.
    for ext in (".bmp", ".png", ".jpg"):
        Image.fromarray(leafy(20)).save(root / "weeds" / f"same{ext}")
        good[f"weeds/same{ext}"] = read_image(root / "weeds" / f"same{ext}")
    # Header and end marker intact, the body between cut: the scan keeps it (it decodes only
    # files that lack their end marker), masking fails on it.
    data = (root / "clover" / "leaf_0.png").read_bytes()
    (root / "weeds" / "truncated.png").write_bytes(data[: len(data) // 2] + data[-12:])
    # Not even a header: the scan skips it; the batch result still lists it.
    (root / "weeds" / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 4)
    return good


@pytest.fixture
def source(tmp_path: Path):
    root = tmp_path / "dataset"
    good = make_dataset(root)
    dataset = scan_folder(root, report=NullReport(), cancel=never_cancel())
    before = tree_digest(root)
    yield root, dataset, good
    assert tree_digest(root) == before, "the job modified the dataset folder"


def decode(path: Path) -> np.ndarray:
    """A written PNG as the masked image it holds (RGB/RGBA, or the single-channel mask)."""
    assert path.read_bytes().startswith(b"\x89PNG\r\n\x1a\n"), path
    array = cv2.imdecode(np.frombuffer(path.read_bytes(), np.uint8), cv2.IMREAD_UNCHANGED)
    if array.ndim == 3:
        return cv2.cvtColor(array, cv2.COLOR_BGRA2RGBA if array.shape[2] == 4 else cv2.COLOR_BGR2RGB)
    return array


def outputs(out: Path) -> dict[str, Path]:
    return {p.relative_to(out).as_posix(): p for p in out.rglob("*") if p.is_file() and p.name != MANIFEST}


EXPECTED_NAMES = {
    **{f"clover/leaf_{i}.png": f"clover/leaf_{i}.png" for i in range(6)},
    **{f"{UNICODE_CLASS}/植物 {i}.png": f"{UNICODE_CLASS}/植物 {i}.png" for i in range(4)},
    "weeds/same.png": "weeds/same.png",  # the PNG keeps its own name
    "weeds/same.bmp": "weeds/same.bmp.png",
    "weeds/same.jpg": "weeds/same.jpg.png",
}


@pytest.mark.parametrize("output", ["chapter", "black", "alpha", "mask"])
def test_masks_a_folder_into_the_same_layout(source, tmp_path: Path, output: str) -> None:
    root, dataset, good = source
    out = tmp_path / "masked"
    params = replace(CHAPTER, output=output)
    report = RecordingReport()
    result = mask_dataset(dataset, out, params, report=report, cancel=never_cancel())
    assert sorted(outputs(out)) == sorted(EXPECTED_NAMES.values())
    assert sorted(p.name for p in out.iterdir() if p.is_dir()) == sorted(dataset.classes)
    for key, name in EXPECTED_NAMES.items():
        expected = apply_mask(good[key], params)
        np.testing.assert_array_equal(decode(out / name), expected.image, err_msg=key)
    assert result.total == len(EXPECTED_NAMES) + 2
    assert (result.written, result.skipped) == (len(EXPECTED_NAMES), 0)
    assert [f["path"] for f in result.failed] == ["weeds/broken.png", "weeds/truncated.png"]
    assert all("corrupt" in f["reason"] for f in result.failed)
    kept = {row["path"]: row["kept"] for row in result.images}
    assert kept == pytest.approx({k: apply_mask(good[k], params).kept for k in EXPECTED_NAMES})
    assert [row["path"] for row in result.images] == sorted(kept)
    assert 0 < result.to_json()["mean_kept"] < 1
    streamed = [row for batch in report.partials for row in batch]
    assert sorted(r["path"] for r in streamed) == sorted(kept)
    assert report.progress_calls[-1][0] == 1.0
    json.dumps(result.to_json())
    manifest = json.loads((out / MANIFEST).read_text(encoding="utf-8"))
    assert manifest["params"] == params.to_json() and manifest["source"] == dataset.source.to_json()
    assert manifest["outputs"] == {k: EXPECTED_NAMES[k] for k in dataset.keys if k in EXPECTED_NAMES} | {
        "weeds/truncated.png": "weeds/truncated.png"}


def test_rerun_skips_done_files_and_a_preset_rename_is_the_same_job(source, tmp_path: Path) -> None:
    _, dataset, _ = source
    out = tmp_path / "masked"
    mask_dataset(dataset, out, CHAPTER, report=NullReport(), cancel=never_cancel())
    mtimes = {k: p.stat().st_mtime_ns for k, p in outputs(out).items()}
    again = mask_dataset(dataset, out, replace(CHAPTER, name="renamed"), report=NullReport(),
                         cancel=never_cancel())
    assert (again.written, again.skipped, len(again.failed)) == (0, len(EXPECTED_NAMES), 2)
    assert {k: p.stat().st_mtime_ns for k, p in outputs(out).items()} == mtimes


def test_a_file_added_later_never_takes_an_existing_output(source, tmp_path: Path) -> None:
    root, dataset, good = source
    out = tmp_path / "masked"
    mask_dataset(dataset, out, CHAPTER, report=NullReport(), cancel=never_cancel())
    before = decode(out / "weeds/same.bmp.png")
    # Pretend the source changed between runs: a file that sorts first and shares the stem.
    extra = Dataset(dataset.name, dataset.source, dataset.classes, [*dataset.keys, "weeds/same.gif"],
                    np.append(dataset.labels, dataset.classes.index("weeds")), dataset.sizes,
                    root=root)
    Image.fromarray(leafy(99)).save(tmp_path / "same.gif")
    extra.load = lambda i: leafy(99) if extra.keys[i].endswith(".gif") else read_image(root / extra.keys[i])
    result = mask_dataset(extra, out, CHAPTER, report=NullReport(), cancel=never_cancel())
    assert result.written == 1
    assert "weeds/same.gif.png" in outputs(out)
    np.testing.assert_array_equal(decode(out / "weeds/same.bmp.png"), before)


@pytest.mark.parametrize("seed", range(6))
def test_cancel_at_a_random_point_leaves_complete_files_and_resumes(source, tmp_path: Path,
                                                                    seed: int) -> None:
    _, dataset, good = source
    out = tmp_path / "masked"
    polls = random.Random(seed).randrange(0, 6)

    class CancelAfter:
        def __init__(self) -> None:
            self.calls = 0

        def is_set(self) -> bool:
            self.calls += 1
            return self.calls > polls

    with pytest.raises(Cancelled):
        mask_dataset(dataset, out, CHAPTER, report=NullReport(), cancel=CancelAfter(), workers=2)
    assert not [p for p in out.rglob("*") if p.name.endswith(".tmp")]
    done = outputs(out)
    assert len(done) < len(EXPECTED_NAMES)
    by_name = {v: k for k, v in EXPECTED_NAMES.items()}
    for name, path in done.items():  # every file there is whole and right
        np.testing.assert_array_equal(decode(path), apply_mask(good[by_name[name]], CHAPTER).image)
    result = mask_dataset(dataset, out, CHAPTER, report=NullReport(), cancel=never_cancel())
    assert (result.skipped, result.written) == (len(done), len(EXPECTED_NAMES) - len(done))
    assert sorted(outputs(out)) == sorted(EXPECTED_NAMES.values())


def test_cancel_is_prompt_on_a_long_job(tmp_path: Path) -> None:
    n = 400
    pixels = np.stack([leafy(i, 32, 32) for i in range(8)] * (n // 8))
    dataset = Dataset("mem", BuiltinSource("test"), ["a"], [f"train/{i}" for i in range(n)],
                      np.zeros(n, np.int32), np.full((n, 2), 32, np.int32), pixels=pixels)
    cancel = threading.Event()
    report = RecordingReport()
    report.partial = lambda batch: cancel.set()  # the first batch of results stops it
    with pytest.raises(Cancelled):
        mask_dataset(dataset, tmp_path / "out", CHAPTER, report=report, cancel=cancel, workers=2)
    written = len(outputs(tmp_path / "out"))
    # One partial batch (32, plus up to 3 that finished in the same wait), then only the two
    # images being masked when the cancel came finish their atomic write.
    assert 0 < written <= 32 + 3 + 2


def test_in_memory_dataset_uses_keys_as_names(tmp_path: Path) -> None:
    pixels = np.stack([leafy(1, 16, 16), leafy(2, 16, 16)])
    dataset = Dataset("mem", BuiltinSource("test"), ["0", "1"], ["train/0", "test/0"],
                      np.array([0, 1], np.int32), np.full((2, 2), 16, np.int32), pixels=pixels)
    result = mask_dataset(dataset, tmp_path / "out", CHAPTER, report=NullReport(), cancel=never_cancel())
    assert result.written == 2
    assert sorted(outputs(tmp_path / "out")) == ["0/train-0.png", "1/test-0.png"]


def test_different_params_into_the_same_folder_are_refused(source, tmp_path: Path) -> None:
    _, dataset, _ = source
    out = tmp_path / "masked"
    mask_dataset(dataset, out, CHAPTER, report=NullReport(), cancel=never_cancel())
    before = tree_digest(out)
    for other in (replace(CHAPTER, output="alpha"), replace(CHAPTER, median=5),
                  CHAPTER.with_target(0, threshold=100.0)):
        with pytest.raises(ValueError, match="choose a new output folder"):
            mask_dataset(dataset, out, other, report=NullReport(), cancel=never_cancel())
    assert tree_digest(out) == before


def test_a_foreign_or_damaged_folder_is_refused(source, tmp_path: Path) -> None:
    _, dataset, _ = source
    foreign = tmp_path / "photos"
    foreign.mkdir()
    (foreign / "holiday.png").write_bytes(b"mine")
    with pytest.raises(ValueError, match="not empty"):
        mask_dataset(dataset, foreign, CHAPTER, report=NullReport(), cancel=never_cancel())
    assert sorted(p.name for p in foreign.iterdir()) == ["holiday.png"]
    damaged = tmp_path / "damaged"
    damaged.mkdir()
    (damaged / MANIFEST).write_text("{", encoding="utf-8")
    with pytest.raises(ValueError, match="choose a new output folder"):
        mask_dataset(dataset, damaged, CHAPTER, report=NullReport(), cancel=never_cancel())


def test_out_inside_or_equal_to_the_source_is_refused(source) -> None:
    root, dataset, _ = source
    for out in (root, root / "masked", root / "clover" / "masked", root / "clover"):
        with pytest.raises(ValueError, match="inside the dataset folder"):
            mask_dataset(dataset, out, CHAPTER, report=NullReport(), cancel=never_cancel())
        with pytest.raises(ValueError, match="inside the dataset folder"):
            mask_path(root, out, CHAPTER, report=NullReport(), cancel=never_cancel())


def test_out_around_the_source_never_writes_into_it(tmp_path: Path) -> None:
    # The dataset is <out>/clover itself: its class folder "clover" would be the dataset.
    out = tmp_path / "work"
    root = out / "clover"
    (root / "clover").mkdir(parents=True)
    Image.fromarray(leafy(1)).save(root / "clover" / "a.png")
    dataset = scan_folder(root, report=NullReport(), cancel=never_cancel())
    (out / MANIFEST).write_text(json.dumps({"source": dataset.source.to_json(), "params": CHAPTER.to_json(),
                                            "outputs": {}}), encoding="utf-8")
    before = tree_digest(root)
    with pytest.raises(ValueError, match="inside the dataset folder"):
        mask_dataset(dataset, out, CHAPTER, report=NullReport(), cancel=never_cancel())
    assert tree_digest(root) == before


def test_out_under_a_regular_file_gives_a_clear_error(source, tmp_path: Path) -> None:
    _, dataset, _ = source
    blocker = tmp_path / "a file"
    blocker.write_text("x")
    with pytest.raises(MaskBatchError, match=r"a file/masked.*(Not a directory|File exists)") as info:
        mask_dataset(dataset, blocker / "masked", CHAPTER, report=NullReport(), cancel=never_cancel())
    assert isinstance(info.value, OSError)
    assert blocker.read_text() == "x"


def test_full_disk_gives_a_clear_error_and_no_partial_file(source, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    _, dataset, _ = source
    out = tmp_path / "masked"
    real_fdopen, calls = os.fdopen, [0]

    class FullDisk:
        """A file object whose writes fail once the manifest and two images are on disk."""

        def __init__(self, handle) -> None:
            self._handle = handle

        def __enter__(self):
            return self

        def __exit__(self, *exc) -> None:
            self._handle.close()

        def write(self, data: bytes) -> int:
            calls[0] += 1
            if calls[0] > 3:
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
            return self._handle.write(data)

        def __getattr__(self, name: str):
            return getattr(self._handle, name)

    monkeypatch.setattr(os, "fdopen", lambda fd, *args, **kwargs: FullDisk(real_fdopen(fd, *args, **kwargs)))
    with pytest.raises(MaskBatchError, match="No space left on device") as info:
        mask_dataset(dataset, out, CHAPTER, report=NullReport(), cancel=never_cancel(), workers=1)
    assert str(out) in str(info.value)
    assert not [p for p in out.rglob("*") if p.name.endswith(".tmp")]
    for path in outputs(out).values():
        decode(path)  # complete PNGs only
    assert len(outputs(out)) == 2


@pytest.mark.skipif(os.name != "posix", reason="file modes only deny writes on POSIX")
def test_a_read_only_class_folder_names_its_images_and_the_rest_are_written(source, tmp_path: Path) -> None:
    # As root a mode does not stop writes; run_without_read_permission drops CAP_DAC_OVERRIDE.
    root, _, _ = source
    out = tmp_path / "masked"
    mask_path(root, out, CHAPTER, report=NullReport(), cancel=never_cancel())
    for path in outputs(out).values():
        path.unlink()
    locked = out / "clover"
    os.chmod(locked, 0o555)
    code = (
        "import json, sys, threading\n"
        "from filterscope.core.base.jobs import NullReport\n"
        "from filterscope.core.masking.batch import mask_path\n"
        "from filterscope.core.masking.colordist import builtin_preset\n"
        "result = mask_path(sys.argv[1], sys.argv[2], builtin_preset('chapter'), report=NullReport(),\n"
        "                   cancel=threading.Event())\n"
        "print(json.dumps(result.to_json()))\n"
    )
    try:
        result = run_without_read_permission(code, str(root), str(out))
    finally:
        os.chmod(locked, 0o755)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    denied = {f["path"]: f["reason"] for f in data["failed"] if "Permission denied" in f["reason"]}
    assert sorted(denied) == [f"clover/leaf_{i}.png" for i in range(6)]
    assert all(reason.startswith("cannot write the masked image leaf_") for reason in denied.values())
    assert list(locked.iterdir()) == []
    assert data["written"] == len(EXPECTED_NAMES) - 6
    assert sorted(outputs(out)) == sorted(n for n in EXPECTED_NAMES.values() if not n.startswith("clover/"))


def test_an_output_that_cannot_be_written_is_named_the_rest_written_and_a_rerun_resumes(
        source, tmp_path: Path) -> None:
    _, dataset, good = source
    out = tmp_path / "masked"
    mask_dataset(dataset, out, CHAPTER, report=NullReport(), cancel=never_cancel())
    for name in ("clover/leaf_2.png", "clover/leaf_3.png", "weeds/same.bmp.png"):
        (out / name).unlink()
    (out / "clover/leaf_2.png").mkdir()  # a folder sits at one output's name
    (out / "clover/leaf_2.png/mine.txt").write_text("keep")
    result = mask_dataset(dataset, out, CHAPTER, report=NullReport(), cancel=never_cancel())
    assert (result.written, result.skipped) == (2, len(EXPECTED_NAMES) - 3)
    failed = {f["path"]: f["reason"] for f in result.failed}
    assert failed["clover/leaf_2.png"] == "cannot write the masked image leaf_2.png (Is a directory)"
    assert sorted(failed) == ["clover/leaf_2.png", "weeds/broken.png", "weeds/truncated.png"]
    for name in ("clover/leaf_3.png", "weeds/same.bmp.png"):
        np.testing.assert_array_equal(decode(out / name), apply_mask(
            good[{v: k for k, v in EXPECTED_NAMES.items()}[name]], CHAPTER).image)
    assert (out / "clover/leaf_2.png/mine.txt").read_text() == "keep"
    assert not [p for p in out.rglob("*") if p.name.endswith(".tmp")]
    (out / "clover/leaf_2.png/mine.txt").unlink()
    (out / "clover/leaf_2.png").rmdir()
    again = mask_dataset(dataset, out, CHAPTER, report=NullReport(), cancel=never_cancel())
    assert (again.written, again.skipped) == (1, len(EXPECTED_NAMES) - 1)
    assert sorted(outputs(out)) == sorted(EXPECTED_NAMES.values())


def test_names_near_the_file_name_limit_scan_and_mask(tmp_path: Path) -> None:
    root = tmp_path / "dataset"
    (root / "clover").mkdir(parents=True)
    stem = "é" * 125  # stem.png is 254 bytes, legal; stem.jpg.png (258 bytes) is not
    for name, seed in ((f"{stem}.png", 1), (f"{stem}.jpg", 2), ("short.png", 3)):
        Image.fromarray(leafy(seed)).save(root / "clover" / name)
    dataset = scan_folder(root, report=NullReport(), cancel=never_cancel())
    assert sorted(dataset.keys) == sorted(f"clover/{n}" for n in (f"{stem}.png", f"{stem}.jpg", "short.png"))
    assert dataset.problems == []
    out = tmp_path / "masked"
    result = mask_dataset(dataset, out, CHAPTER, report=NullReport(), cancel=never_cancel())
    assert result.written == 2
    np.testing.assert_array_equal(decode(out / "clover" / f"{stem}.png"), apply_mask(leafy(1), CHAPTER).image)
    assert [(f["path"], "File name too long" in f["reason"]) for f in result.failed] == [
        (f"clover/{stem}.jpg", True)]
    assert not [p for p in out.rglob("*") if p.name.endswith(".tmp")]


def test_mask_file_writes_one_png(tmp_path: Path) -> None:
    src = tmp_path / "leaf.jpg"
    Image.fromarray(leafy(3)).save(src, quality=95)
    result = mask_file(src, tmp_path / "leaf.png", replace(CHAPTER, output="alpha"))
    np.testing.assert_array_equal(decode(tmp_path / "leaf.png"), result.image)
    assert result.image.shape[2] == 4
    for bad in (tmp_path / "leaf.jpg", tmp_path / "out.jpeg"):
        with pytest.raises(ValueError, match=".png"):
            mask_file(src, bad, CHAPTER)
    png = tmp_path / "leaf.png"
    with pytest.raises(ValueError, match="not the source"):
        mask_file(png, png, CHAPTER)


def test_mask_path_on_one_image(tmp_path: Path) -> None:
    src = tmp_path / "in" / "leaf 1.png"
    src.parent.mkdir()
    Image.fromarray(leafy(4)).save(src)
    report = RecordingReport()
    for out, expected in ((tmp_path / "in", tmp_path / "in" / "leaf 1.png"),
                          (tmp_path / "new folder", tmp_path / "new folder" / "leaf 1.png"),
                          (tmp_path / "deep" / "x.png", tmp_path / "deep" / "x.png")):
        if out == tmp_path / "in":
            with pytest.raises(ValueError, match="not the source"):
                mask_path(src, out, CHAPTER, report=report, cancel=never_cancel())
            continue
        result = mask_path(src, out, CHAPTER, report=report, cancel=never_cancel())
        assert result.out == str(expected) and (result.total, result.written) == (1, 1)
        np.testing.assert_array_equal(decode(expected), apply_mask(leafy(4), CHAPTER).image)
        assert report.partials[-1] == [{"path": "leaf 1.png", "kept": result.images[0]["kept"]}]


def test_mask_path_unreadable_image_raises(tmp_path: Path) -> None:
    from filterscope.core.data.images import ImageReadError

    bad = tmp_path / "bad.png"
    bad.write_bytes(b"not an image")
    with pytest.raises(ImageReadError):
        mask_path(bad, tmp_path / "out.png", CHAPTER, report=NullReport(), cancel=never_cancel())
    assert not (tmp_path / "out.png").exists()


def test_mask_mode_is_single_channel(tmp_path: Path) -> None:
    src = tmp_path / "leaf.png"
    Image.fromarray(leafy(5)).save(src)
    mask_file(src, tmp_path / "m.png", MaskParams(output="mask"))
    written = decode(tmp_path / "m.png")
    assert written.ndim == 2 and set(np.unique(written)) <= {0, 255}


def test_an_output_cut_short_by_a_crash_is_made_again(source, tmp_path: Path) -> None:
    _, dataset, _ = source
    out = tmp_path / "masked"
    mask_dataset(dataset, out, CHAPTER, report=NullReport(), cancel=never_cancel())
    victim = outputs(out)["clover/leaf_1.png"]
    whole = victim.read_bytes()
    victim.write_bytes(whole[: len(whole) // 2])  # as if the machine died mid-write
    again = mask_dataset(dataset, out, CHAPTER, report=NullReport(), cancel=never_cancel())
    assert again.written == 1
    assert victim.read_bytes() == whole
