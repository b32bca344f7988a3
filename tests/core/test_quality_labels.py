"""Suspect labels: cross-validated out-of-sample probabilities on cached features, ranked by cleanlab."""

from __future__ import annotations

import json
import shutil
import threading
from pathlib import Path

import numpy as np
import pytest
from filterscope.core.base.jobs import Cancelled, NullReport, RecordingReport
from filterscope.core.project.report_suspects import suspects_parts
from filterscope.core.quality.features import dataset_features
from filterscope.core.quality.labels import SuspectLabels, out_of_sample_probabilities, rank_suspects
from filterscope.core.quality.suspects_store import (SUSPECTS_FILE, load_suspects, save_suspects,
                                                      write_suspects_csv)

from tests.conftest import SHARED_DATA
from tests.corpus import tree_digest

JOB = {"report": NullReport(), "cancel": threading.Event()}
MOVED_FRACTION = 0.05


def move_labels(root: Path, fraction: float, seed: int) -> set[str]:
    """Move ``fraction`` of the images (seeded) to another class folder; returns their new keys."""
    rng = np.random.default_rng(seed)
    files = sorted(p for p in root.rglob("*") if p.is_file())
    classes = sorted(d.name for d in root.iterdir() if d.is_dir())
    moved = set()
    for index in rng.choice(len(files), size=round(fraction * len(files)), replace=False):
        file = files[int(index)]
        others = [c for c in classes if c != file.parent.name]
        target = root / others[int(rng.integers(len(others)))] / f"moved_{file.name}"
        file.rename(target)
        moved.add(target.relative_to(root).as_posix())
    return moved


@pytest.fixture(scope="session")
def flipped(tmp_path_factory: pytest.TempPathFactory):
    """A copy of the 96 shared seedling photos with 5 % of them moved to a wrong class, its features."""
    if not SHARED_DATA.is_dir():
        pytest.skip("../shared/data/plant-seedlings-150 is not on this machine")
    root = tmp_path_factory.mktemp("flipped") / "seedlings"
    shutil.copytree(SHARED_DATA, root)
    moved = move_labels(root, MOVED_FRACTION, seed=21)
    found = dataset_features(f"folder:{root}", cache_dir=tmp_path_factory.mktemp("cache"), **JOB)
    return root, moved, found


def test_moved_labels_rank_above_chance_on_96_photos(flipped) -> None:
    """96 photos (8 a class) are too few for the issue's check (the head is right on ~40 % of them
    out of sample; see the slow test on 4,027 photos): here the moved photos must still rank far
    above chance, and cleanlab must flag most of them."""
    root, moved, found = flipped
    before = tree_digest(root)
    result = rank_suspects(found, **JOB)
    n = len(moved)
    assert n == 5 and len(result.images) == len(found) == 96
    ranks = sorted(i + 1 for i, s in enumerate(result.images) if s.key in moved)
    hits = len({s.key for s in result.top(n)} & moved)
    flagged = len({s.key for s in result.images if s.issue} & moved)
    print(f"\n[suspect labels, 96 photos] {n} moved: precision at N={n} {hits / n:.0%}, recall at N "
          f"{hits / n:.0%}; ranks of the moved {ranks}; out-of-sample accuracy {result.accuracy:.0%}; "
          f"cleanlab issues {result.n_issues}, {flagged} of them moved; {result.seconds:.2f} s")
    assert float(np.median(ranks)) <= len(found) / 3  # chance: about 48
    assert flagged >= 3
    scores = [s.score for s in result.images]
    assert scores == sorted(scores) and all(0.0 <= x <= 1.0 for x in scores)
    for s in result.images:
        assert s.given == Path(s.key).parent.name and s.suggested in found.classes
    assert tree_digest(root) == before


def test_out_of_sample_means_a_head_that_never_saw_the_row() -> None:
    """A row whose features copy another class's cluster is scored low on its own label: a head
    fitted with that row would have memorised it (rows of pure noise features cannot be learnt)."""
    rng = np.random.default_rng(0)
    labels = np.repeat(np.arange(3), 20)
    features = rng.normal(size=(60, 8)) + 4.0 * np.eye(3, 8)[labels]
    features[0] = features[25]  # labelled 0, looks like class 1
    probs = out_of_sample_probabilities(features, labels, k=5, seed=0, **JOB)
    assert probs.shape == (60, 3) and np.allclose(probs.sum(axis=1), 1.0)
    assert probs[0, 0] < 0.2 and probs[0].argmax() == 1
    assert np.mean(probs.argmax(axis=1)[1:] == labels[1:]) > 0.95
    again = out_of_sample_probabilities(features, labels, k=5, seed=0, **JOB)
    assert np.array_equal(probs, again)  # seeded folds


def test_cancel_between_folds_and_progress() -> None:
    rng = np.random.default_rng(1)
    labels = np.repeat(np.arange(2), 10)
    features = rng.normal(size=(20, 4))
    cancel = threading.Event()
    report = RecordingReport()

    class CancelAfterFirst:
        calls = 0

        def is_set(self) -> bool:
            CancelAfterFirst.calls += 1
            return CancelAfterFirst.calls > 1

    with pytest.raises(Cancelled):
        out_of_sample_probabilities(features, labels, k=5, seed=0, report=report, cancel=CancelAfterFirst())
    assert [m for _f, m in report.progress_calls] == ["Cross-validating: fold 1 of 5"]
    report = RecordingReport()
    out_of_sample_probabilities(features, labels, k=5, seed=0, report=report, cancel=cancel)
    fractions = [f for f, _ in report.progress_calls]
    assert len(fractions) == 6 and fractions == sorted(fractions) and fractions[-1] == 1.0


def test_too_few_images_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="at least two classes"):
        out_of_sample_probabilities(np.zeros((3, 2)), np.array([0, 0, 1]), **JOB)


def test_saved_with_the_run_and_read_back(flipped, tmp_path: Path) -> None:
    root, _moved, found = flipped
    result = rank_suspects(found, **JOB)
    run = tmp_path / "run"
    run.mkdir()
    saved = save_suspects(result, run)
    assert saved == run / SUSPECTS_FILE and saved.with_suffix(".csv").is_file()
    back = load_suspects(run)
    assert isinstance(back, SuspectLabels) and back.images == result.images
    assert json.loads(saved.read_text())["n_issues"] == result.n_issues
    rows = saved.with_suffix(".csv").read_text().splitlines()
    assert rows[0].startswith("rank,path,key,subset,given,suggested,score") and len(rows) == 97
    assert load_suspects(tmp_path) is None
    (heading, html), = suspects_parts(run)  # the report's section reads the kept result
    assert heading == "Suspect labels" and f"<b>{result.n_issues:,}</b> label issue(s)" in html
    assert html.count("<tr>") == 11 and suspects_parts(tmp_path) == []
    with pytest.raises(ValueError, match="inside the dataset"):
        write_suspects_csv(result, root / "Maize" / "suspects.csv")
    assert not (root / "Maize" / "suspects.csv").exists()


@pytest.mark.slow
def test_the_issues_check_on_the_4027_shared_photos(tmp_path: Path) -> None:
    """The issue's check at full size: 5 % of the 4,027 shared photos moved to a wrong class folder
    in a copy; at least half of the top N suspects are the moved photos (about 3 min: the features)."""
    shared = SHARED_DATA.parent / "plant-seedlings-150-train"
    if not shared.is_dir():
        pytest.skip("../shared/data/plant-seedlings-150-train is not on this machine")
    root = tmp_path / "seedlings"
    shutil.copytree(shared, root)
    moved = move_labels(root, MOVED_FRACTION, seed=21)
    found = dataset_features(f"folder:{root}", cache_dir=tmp_path / "cache", **JOB)
    result = rank_suspects(found, **JOB)
    n = len(moved)
    hits = len({s.key for s in result.top(n)} & moved)
    print(f"\n[suspect labels, 4,027 photos] {n} moved: precision at N={n} {hits / n:.0%}, recall at N "
          f"{hits / n:.0%}; out-of-sample accuracy {result.accuracy:.0%}; {result.seconds:.1f} s")
    assert hits / n >= 0.5
