"""Near-copies (80 % resize + JPEG quality 70) across train and test are found, distinct photos
are not grouped, and evaluation warns about test photos with a near-copy in training."""

from __future__ import annotations

import shutil
import threading
from pathlib import Path

import numpy as np
import pytest
from filterscope.core.base.jobs import Cancelled, NullReport
from filterscope.core.quality.duplicates import (
    NearCopies, close_pairs, group_pairs, load_near_copies, near_copies,
)
from PIL import Image

from tests.corpus import tree_digest
from tests.split_tree import photo

JOB = {"report": NullReport(), "cancel": threading.Event()}
SEEDLINGS = Path(__file__).resolve().parents[3] / "shared" / "data" / "plant-seedlings-150"


def near_copy(src: Path, dest: Path) -> Path:
    """``src`` resized to 80 % and re-encoded as JPEG quality 70 (the issue's near-copy)."""
    image = Image.open(src).convert("RGB")
    w, h = image.size
    out = dest.with_suffix(".jpg")
    image.resize((round(w * 0.8), round(h * 0.8)), Image.BICUBIC).save(out, quality=70)
    return out


def false_groups(result: NearCopies) -> int:
    """Groups joining photos that are not copies of one another (a copy is named copy_<stem>)."""
    return sum(len({Path(m["path"]).stem.removeprefix("copy_") for m in g}) > 1 for g in result.groups)


def test_pairs_are_blocked_and_grouped_transitively() -> None:
    high = 0b1111 << 60  # 4 bits away from 0
    hashes = np.array([0b0, 0b111, 0b111111, high, high + 1], np.uint64)
    first, second = close_pairs(hashes, 3, block=2)
    assert sorted(zip(first.tolist(), second.tolist())) == [(0, 1), (1, 2), (3, 4)]
    assert [g.tolist() for g in group_pairs(5, first, second)] == [[0, 1, 2], [3, 4]]
    assert group_pairs(3, *close_pairs(np.zeros(0, np.uint64))) == []


@pytest.mark.skipif(not SEEDLINGS.is_dir(), reason="the shared seedling photos are not here")
def test_copies_of_real_seedlings_across_train_and_test_are_found(tmp_path: Path) -> None:
    root = tmp_path / "seedlings"
    copies = []
    for folder in sorted(p for p in SEEDLINGS.iterdir() if p.is_dir()):
        files = sorted(folder.iterdir())
        (root / "train" / folder.name).mkdir(parents=True)
        (root / "test" / folder.name).mkdir(parents=True)
        for f in files[:5]:
            shutil.copy(f, root / "train" / folder.name / f.name)
        copies += [near_copy(f, root / "test" / folder.name / f"copy_{f.stem}") for f in files[:3]]
        for f in files[5:]:  # distinct photos of the same classes, same scene
            shutil.copy(f, root / "test" / folder.name / f.name)
    before = tree_digest(root)
    found = near_copies(f"folder:{root}", cache_dir=tmp_path / "cache", **JOB)
    recall = len({str(c) for c in copies} & found.leaked()) / len(copies)
    assert found.n_images == 12 * 11 and recall >= 0.9, recall
    assert false_groups(found) <= 1
    assert found.cross_subset()["train-test"] + found.cross_subset()["val-test"] >= 0.9 * len(copies)
    assert tree_digest(root) == before
    again = load_near_copies(f"folder:{root}/", tmp_path / "cache")  # however the folder is written
    assert again is not None and again.leaked() == found.leaked()


def leaky_photos(root: Path) -> set[str]:
    """Generated 120 x 160 photos split into train/, val/ and test/ folders of cat and dog, with
    copies of three training cats in test/ under new names; returns the copies' paths. (Resized
    copies of these smooth generated photos are not what real near-copies are: the 80 % / JPEG 70
    check runs on real seedlings above.)"""
    layout = {"train": {"cat": 6, "dog": 6}, "val": {"cat": 2, "dog": 2}, "test": {"cat": 4, "dog": 4}}
    for s, (subset, per_class) in enumerate(layout.items()):
        for c, (name, count) in enumerate(per_class.items()):
            (root / subset / name).mkdir(parents=True)
            for i in range(count):
                image = photo(1000 * s + 100 * c + i, c, 120, 160)
                Image.fromarray(image).save(root / subset / name / f"{name} {i:02d}.png")
    train = sorted((root / "train" / "cat").iterdir())[:3]
    return {str(shutil.copy(f, root / "test" / "cat" / f"copy_{f.name}")) for f in train}


def test_generated_copies_found_and_cancel_stops(tmp_path: Path) -> None:
    root = tmp_path / "photos"
    copies = leaky_photos(root)
    found = near_copies(f"folder:{root}", cache_dir=tmp_path / "cache", **JOB)
    assert found.leaked() == copies and false_groups(found) == 0
    assert found.cross_subset() == {"train-test": 3, "train-val": 0, "val-test": 0}
    cancel = threading.Event()
    cancel.set()
    with pytest.raises(Cancelled):
        near_copies(f"folder:{root}", cache_dir=tmp_path / "other", report=NullReport(), cancel=cancel)
    assert load_near_copies(f"folder:{root}", tmp_path / "other") is None


def test_evaluation_warns_and_scores_without_the_copies(tmp_path: Path, results_run: Path,
                                                        data_dir: Path) -> None:
    from filterscope.core.results.evaluate import evaluate
    from filterscope.core.results.store import load_evaluation, save_evaluation

    root = tmp_path / "leaky"
    copies = leaky_photos(root)
    before = evaluate(results_run, data=str(root), subset="test", **JOB)
    assert before.without_near_copies is None  # no check made: evaluation says nothing, hashes nothing
    assert "near-copies" not in [w.kind for w in before.warnings]
    near_copies(f"folder:{root}", **JOB)  # saved in the app's feature cache (data_dir)
    after = evaluate(results_run, data=str(root), subset="test", **JOB)
    leaks = after.without_near_copies
    assert leaks is not None and leaks["n_removed"] == 3 and leaks["n_left"] == 8
    keep = np.array([p not in copies for p in after.rows.paths])
    expected = float(np.mean(after.rows.true[keep] == after.rows.predicted[keep]))
    assert keep.sum() == 8 and leaks["accuracy"] == pytest.approx(expected)
    assert leaks["interval"]["low"] <= expected <= leaks["interval"]["high"]
    warning = next(w for w in after.warnings if w.kind == "near-copies")
    assert warning.message.startswith("3 of the 11 test photos have a near-copy in training")
    saved = save_evaluation(after, out=tmp_path / "out" / "eval.json")
    loaded = load_evaluation(saved, **JOB)
    assert loaded.without_near_copies == leaks and "near-copies" in [w.kind for w in loaded.warnings]
    val = evaluate(results_run, data=str(root), subset="val", **JOB)
    assert val.without_near_copies is None  # only a test set is checked


def test_report_has_a_near_copies_section_only_once_checked(results_run: Path, results_photos: Path,
                                                           tmp_path: Path, data_dir: Path) -> None:
    from filterscope.core.project.report import write_report

    first = write_report(results_run, tmp_path / "a" / "report.html", **JOB)
    assert "Near-copies" not in first.sections
    near_copies(f"folder:{results_photos}", **JOB)  # the run's own dataset; saved outside it
    second = write_report(results_run, tmp_path / "b" / "report.html", **JOB)
    assert second.sections[-2:] == ["Near-copies", "Environment"]
    assert "group(s) of near-copies among 29 images" in second.html


def test_report_has_a_map_section_only_once_a_map_is_saved(results_run: Path, results_photos: Path,
                                                           tmp_path: Path, data_dir: Path) -> None:
    """The report never computes a map: no saved map, no section; a saved one is drawn inline."""
    import base64
    import io
    import re

    from filterscope.core.project.report import write_report
    from filterscope.core.quality.embedding import DataMap, save_map

    first = write_report(results_run, tmp_path / "a" / "report.html", **JOB)
    assert "Map of the data" not in first.sections and "t-SNE" not in first.html
    labels = np.repeat([0, 1], 15).astype(np.int32)
    xy = np.where(labels[:, None] == 0, 0.1, 0.9) + np.random.default_rng(0).normal(0, 0.01, (30, 2))
    save_map(DataMap(xy.astype(np.float32), [f"p{i}.png" for i in range(30)], labels, np.full(30, "train"),
                     ["cat", "dog"], None, f"folder:{results_photos}", ["t-SNE of tiny features"]))  # in data_dir
    second = write_report(results_run, tmp_path / "b" / "report.html", **JOB)
    assert second.sections[-2:] == ["Map of the data", "Environment"]
    section = second.html.split('<h2 id="map-of-the-data">')[1].split("<h2")[0]
    assert "Each of the dataset's 30 photos as a point" in section and "t-SNE of tiny features" in section
    assert "Class agreement: for 100.0 % of the photos" in section
    png = base64.b64decode(re.search(r'src="data:image/png;base64,([^"]+)"', section).group(1))
    width, height = Image.open(io.BytesIO(png)).size
    assert (width, height) == (930, 690)  # the map's 6.2 x 4.6 in at 150 dpi, not another picture
