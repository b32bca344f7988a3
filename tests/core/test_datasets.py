"""Tests for filterscope.core.data.datasets: scanning a folder-per-class tree, its stats and problems."""

from __future__ import annotations

import json
import os
import random
import threading
from pathlib import Path

import numpy as np
import pytest
from filterscope.core.base.jobs import Cancelled, RecordingReport
from filterscope.core.data import datasets, images
from filterscope.core.data.datasets import Dataset, DatasetError, scan_folder
from filterscope.core.data.source import BuiltinSource
from PIL import Image, ImageFile

from tests import corpus
from tests.corpus import (
    Case,
    deadline,
    make_corpus,
    make_unreadable,
    run_without_read_permission,
    tree_digest,
)

# Corpus cases whose scan outcome differs from what probe_image says about the path alone.
_STRUCTURAL = {
    "empty-class": "empty-class",
    "nested-folder": "nested-folder",
    "dir-symlink-to-parent": "nested-folder",
}


def _scan(root: Path, **kwargs) -> Dataset:
    kwargs.setdefault("report", RecordingReport())
    kwargs.setdefault("cancel", threading.Event())
    return scan_folder(root, **kwargs)


def _write_pngs(folder: Path, count: int, rng: np.random.Generator, side: int = 6) -> None:
    """``count`` distinct noise PNGs of one size (so their files are the same length too)."""
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(count):
        Image.fromarray(rng.integers(0, 256, (side, side, 3), dtype=np.uint8)).save(
            folder / f"img_{i:04d}.png")


def _rel(case: Case, root: Path) -> str:
    return case.path.relative_to(root).as_posix()


@pytest.fixture(scope="module")
def corpus_root(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Case]]:
    root = tmp_path_factory.mktemp("corpus") / "dataset"
    return root, make_corpus(root)


@pytest.fixture(scope="module")
def scanned(corpus_root) -> tuple[Path, dict[str, Case], Dataset, str, str]:
    root, cases = corpus_root
    before = tree_digest(root)
    with deadline(20):
        dataset = _scan(root)
    return root, cases, dataset, before, tree_digest(root)


@pytest.fixture(scope="module")
def many_pngs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("many") / "dataset"
    rng = np.random.default_rng(7)
    _write_pngs(root / "a", 200, rng)
    _write_pngs(root / "b", 200, rng)
    return root


# --- The bad-input corpus ----------------------------------------------------------------------


def test_corpus_cases_get_their_expected_outcome(scanned) -> None:
    root, cases, ds, _, _ = scanned
    items = {key: (ds.classes[label], tuple(int(v) for v in size))
             for key, label, size in zip(ds.keys, ds.labels, ds.sizes)}
    problems = {(p.path, p.kind) for p in ds.problems}
    expected_items, expected_problems = {}, set()
    for name, case in cases.items():
        rel = _rel(case, root)
        if name in _STRUCTURAL:
            expected_problems.add((rel, _STRUCTURAL[name]))
        elif name == "nested-image":
            continue  # inside a nested folder: neither an item nor a problem of its own
        elif case.probe_expect == "ok":
            # sizes are (w, h)
            size = (case.shape[1], case.shape[0]) if case.shape else (64, 64)
            expected_items[rel] = (rel.split("/")[0], size)
        else:
            expected_problems.add((rel, case.probe_expect))
    if "symlink-loop" in cases:  # its partner link is the same loop seen from the other end
        expected_problems.add((f"{corpus.CLOVER}/loop_b.png", "unreadable"))
    expected_problems.add((_rel(cases["duplicate"], root), "duplicate"))
    assert items == expected_items
    assert problems == expected_problems
    assert len(ds.problems) == len(problems), "a path was reported twice"


@pytest.mark.parametrize(("name", "kind"), [
    ("zero-byte", "empty-file"),
    ("text-named-png", "not-image"),
    ("notes-txt", "not-image"),
    ("huge-20000", "too-large"),
    ("empty-class", "empty-class"),
    ("nested-folder", "nested-folder"),
    ("fifo", "not-a-file"),
    ("symlink-loop", "unreadable"),
    ("broken-symlink", "missing"),
    ("header-only-png", "corrupt"),
])  # fmt: skip
def test_each_bad_entry_is_a_problem_with_its_relative_path(scanned, name: str, kind: str) -> None:
    root, cases, ds, _, _ = scanned
    if name not in cases:
        pytest.skip(f"{name}: this OS cannot create it")
    rel = _rel(cases[name], root)
    found = [p for p in ds.problems if p.path == rel]
    assert [p.kind for p in found] == [kind]
    assert found[0].reason and "\n" not in found[0].reason
    assert rel not in ds.keys


def test_duplicate_names_the_first_copy(scanned) -> None:
    root, cases, ds, _, _ = scanned
    case = cases["duplicate"]
    (problem,) = [p for p in ds.problems if p.kind == "duplicate"]
    assert problem.path == _rel(case, root)
    assert case.duplicate_of.relative_to(root).as_posix() in problem.reason
    assert "another class" in problem.reason


def test_class_names_with_unicode_apostrophe_and_spaces(scanned) -> None:
    root, cases, ds, _, _ = scanned
    assert sorted(ds.classes) == sorted(corpus.CLASSES)
    assert "Shepherd’s Purse" in ds.classes and "Shepherd's Purse" not in ds.classes
    counts = dict(zip(ds.classes, ds.counts().tolist()))
    assert counts == {corpus.SHEPHERD: 9, corpus.UNICODE: 8, corpus.CLOVER: 3,  # 2 truncated
                      corpus.EMPTY_CLASS: 0}
    spaced = _rel(cases["name-with-spaces"], root)
    assert ds.classes[ds.labels[ds.keys.index(spaced)]] == corpus.SHEPHERD
    assert ds.path(ds.keys.index(spaced)) == cases["name-with-spaces"].path


def test_summary_is_json_and_matches_the_dataset(scanned) -> None:
    _, _, ds, _, _ = scanned
    summary = json.loads(json.dumps(ds.summary(), ensure_ascii=False))
    assert summary["total"] == len(ds) == 20
    assert {c["name"]: c["count"] for c in summary["classes"]}[corpus.UNICODE] == 8
    assert len(summary["problems"]) == len(ds.problems)
    assert all(set(p) == {"path", "kind", "reason"} for p in summary["problems"])
    assert summary["sizes"]["known"] == 20
    assert summary["source"] == f"folder:{ds.root}"


def test_scan_leaves_the_tree_byte_identical(scanned) -> None:
    _, _, _, before, after = scanned
    assert before == after


def test_scan_reports_progress_from_zero_to_one(corpus_root) -> None:
    report = RecordingReport()
    _scan(corpus_root[0], report=report)
    fractions = [f for f, _ in report.progress_calls]
    assert fractions[0] == 0.0 and fractions[-1] == 1.0
    assert fractions == sorted(fractions)


@pytest.mark.skipif(os.name != "posix", reason="file modes only deny reads on POSIX")
def test_unreadable_file_and_class_folder_are_reported(tmp_path: Path) -> None:
    root = tmp_path / "dataset"
    cases = make_corpus(root)
    locked = root / corpus.CLOVER / "locked.png"
    locked.write_bytes(cases[f"good-{corpus.CLOVER}-0"].path.read_bytes()[::-1])
    shut = root / "shut class"
    shut.mkdir()
    (shut / "inside.png").write_bytes(b"x")
    make_unreadable(locked)
    os.chmod(shut, 0)
    try:
        before = tree_digest(root)
        code = (
            "import json, sys, threading\n"
            "from filterscope.core.data.datasets import scan_folder\n"
            "from filterscope.core.base.jobs import NullReport\n"
            "ds = scan_folder(sys.argv[1], report=NullReport(), cancel=threading.Event())\n"
            "print(json.dumps([[p.path, p.kind, p.reason] for p in ds.problems] + [ds.keys]))\n"
        )
        result = run_without_read_permission(code, str(root))
        assert result.returncode == 0, result.stderr
        *problems, keys = json.loads(result.stdout)
        by_path = {path: (kind, reason) for path, kind, reason in problems}
        assert by_path[f"{corpus.CLOVER}/locked.png"][0] == "unreadable"
        assert "permission denied" in by_path[f"{corpus.CLOVER}/locked.png"][1]
        assert by_path["shut class"][0] == "unreadable"
        assert f"{corpus.CLOVER}/locked.png" not in keys
        assert f"{corpus.CLOVER}/good_0.png" in keys  # the rest of the class still scans
        assert tree_digest(root) == before
    finally:
        os.chmod(shut, 0o755)
        os.chmod(locked, 0o644)


# --- Roots, small datasets and statistics -------------------------------------------------


def test_missing_root_raises_dataset_error(tmp_path: Path) -> None:
    missing = tmp_path / "no such folder"
    with pytest.raises(DatasetError, match="does not exist") as info:
        _scan(missing)
    assert str(missing) in str(info.value)


def test_root_that_is_a_file_raises_dataset_error(tmp_path: Path) -> None:
    path = tmp_path / "photo.png"
    Image.new("RGB", (4, 4)).save(path)
    with pytest.raises(DatasetError, match="not a folder") as info:
        _scan(path)
    assert str(path) in str(info.value)


def test_single_class_dataset(tmp_path: Path) -> None:
    _write_pngs(tmp_path / "only", 3, np.random.default_rng(1))
    ds = _scan(tmp_path)
    assert ds.classes == ["only"]
    assert ds.counts().tolist() == [3]
    assert ds.problems == []
    assert ds.imbalance_warning() is None
    assert ds.summary()["total"] == 3
    assert ds.load(0).shape == (6, 6, 3)


def test_top_level_files_and_hidden_entries(tmp_path: Path) -> None:
    rng = np.random.default_rng(2)
    _write_pngs(tmp_path / "a", 2, rng)
    _write_pngs(tmp_path / ".hidden", 2, rng)
    (tmp_path / "a" / ".DS_Store").write_bytes(b"\0")
    (tmp_path / "a" / "Thumbs.db").write_bytes(b"\0")
    (tmp_path / "stray.png").write_bytes(b"\0")
    ds = _scan(tmp_path)
    assert ds.classes == ["a"]
    assert [(p.path, p.kind) for p in ds.problems] == [("stray.png", "not-in-class")]


@pytest.mark.parametrize(("small", "warns"), [(2, True), (8, False)])
def test_imbalance_warning(tmp_path: Path, small: int, warns: bool) -> None:
    rng = np.random.default_rng(3)
    _write_pngs(tmp_path / "big", 10, rng)
    _write_pngs(tmp_path / "small", small, rng)
    (tmp_path / "empty").mkdir()  # an empty class must not count as the smallest
    ds = _scan(tmp_path)
    warning = ds.imbalance_warning()
    assert ds.summary()["imbalance"] == warning
    if warns:
        assert warning is not None
        assert "'big' has 10" in warning and "'small' only 2" in warning and "5.0x" in warning
    else:
        assert warning is None


def _in_memory(sizes: list[tuple[int, int]]) -> Dataset:
    n = len(sizes)
    return Dataset(name="mem", source=BuiltinSource("test"), classes=["x"],
                   keys=[f"train/{i}" for i in range(n)],
                   labels=np.zeros(n, np.int32), sizes=np.asarray(sizes, np.int32).reshape(-1, 2))


def test_size_summary_on_mixed_sizes(scanned) -> None:
    ds = _in_memory([(32, 24), (32, 24), (10, 50), (0, 0), (32, 24), (64, 8)])
    assert ds.size_summary() == {
        "known": 5, "min_width": 10, "max_width": 64, "min_height": 8, "max_height": 50,
        "most_common": [32, 24], "most_common_count": 3, "distinct": 3,
    }
    _, _, corpus_ds, _, _ = scanned
    summary = corpus_ds.size_summary()
    assert (summary["min_width"], summary["max_width"]) == (4, 47)  # the 64 px ones are truncated
    assert (summary["min_height"], summary["max_height"]) == (2, 48)
    assert summary["most_common"] == [32, 24] and summary["most_common_count"] == 4


def test_size_summary_without_known_sizes() -> None:
    assert _in_memory([]).size_summary() == {"known": 0}
    assert _in_memory([(0, 0)]).size_summary() == {"known": 0}


# --- Cancel and no decoding -------------------------------------------------------------------


class _CancellingReport(RecordingReport):
    """Sets ``cancel`` from inside the ``at``-th progress call, as a GUI's cancel button might."""

    def __init__(self, cancel: threading.Event, at: int) -> None:
        super().__init__()
        self._cancel, self._at = cancel, at

    def progress(self, fraction: float, message: str = "") -> None:
        super().progress(fraction, message)
        if len(self.progress_calls) == self._at:
            self._cancel.set()


def _count_probes(monkeypatch: pytest.MonkeyPatch, on_call=None) -> list[int]:
    calls = [0]
    real = datasets.probe_image

    def counting(path, *args, **kwargs):
        calls[0] += 1
        if on_call is not None:
            on_call(calls[0])
        return real(path, *args, **kwargs)

    monkeypatch.setattr(datasets, "probe_image", counting)
    return calls


@pytest.mark.parametrize("at", [1, 2])
def test_cancel_from_progress_callback(many_pngs: Path, monkeypatch: pytest.MonkeyPatch,
                                       at: int) -> None:
    before = tree_digest(many_pngs)
    probes = _count_probes(monkeypatch)
    cancel = threading.Event()
    with pytest.raises(Cancelled):
        _scan(many_pngs, report=_CancellingReport(cancel, at), cancel=cancel)
    assert probes[0] < 400, "the scan read every header before noticing the cancel"
    assert tree_digest(many_pngs) == before


def test_cancel_from_another_thread_at_a_random_point(many_pngs: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    before = tree_digest(many_pngs)
    cancel = threading.Event()
    point = random.randint(1, 400)
    setter = threading.Thread(target=cancel.set)

    def maybe_cancel(n: int) -> None:
        if n == point:
            setter.start()
            setter.join()

    probes = _count_probes(monkeypatch, maybe_cancel)
    with pytest.raises(Cancelled):
        _scan(many_pngs, cancel=cancel)
    assert probes[0] >= point
    assert probes[0] - point <= 256, f"cancelled at header {point}, noticed at {probes[0]}"
    assert tree_digest(many_pngs) == before


def test_uncancelled_scan_of_many_files_completes(many_pngs: Path) -> None:
    ds = _scan(many_pngs)
    assert ds.counts().tolist() == [200, 200]
    assert ds.problems == []


def test_scan_decodes_only_files_without_their_end_marker(corpus_root,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    decoded: list[str] = []
    loaded_outside: list[object] = []
    inside = [False]
    real_read = images.read_image

    def counting_read(path, **kwargs):
        decoded.append(Path(path).name)
        inside[0] = True
        try:
            return real_read(path, **kwargs)
        finally:
            inside[0] = False

    def watch(cls):
        real_load = cls.load

        def load(self, *args, **kwargs):
            if not inside[0]:
                loaded_outside.append(self)
            return real_load(self, *args, **kwargs)

        monkeypatch.setattr(cls, "load", load)

    monkeypatch.setattr(images, "read_image", counting_read)
    watch(Image.Image)
    watch(ImageFile.ImageFile)
    root, cases = corpus_root
    ds = _scan(root)
    assert sorted(decoded) == ["truncated.jpg", "truncated.png"]
    assert loaded_outside == []
    good = {_rel(c, root) for c in cases.values()
            if c.probe_expect == "ok" and c.kind != "nested-image"}
    assert good <= set(ds.keys)
    assert all(p.kind not in ("corrupt", "not-image") or p.path not in good for p in ds.problems)


def _photo_jpeg(path: Path, trailer: bytes = b"") -> bytes:
    """A 120x90 JPEG of smooth shapes and noise (about 10 KB), as a camera or browser writes one."""
    rng = np.random.default_rng(7)
    y, x = np.mgrid[0:90, 0:120]
    rgb = np.dstack([x * 2, y * 2, (x + y)]).astype(np.int16) + rng.integers(-20, 20, (90, 120, 3))
    Image.fromarray(np.clip(rgb, 0, 255).astype(np.uint8)).save(path, "JPEG", quality=92)
    path.write_bytes(path.read_bytes() + trailer)
    return path.read_bytes()


def test_scan_reports_a_jpeg_cut_to_its_first_2000_bytes(tmp_path: Path) -> None:
    (tmp_path / "leaves").mkdir()
    whole = _photo_jpeg(tmp_path / "leaves" / "whole.jpg")
    assert len(whole) > 4000  # the cut leaves the header and part of the body
    (tmp_path / "leaves" / "cut.jpg").write_bytes(whole[:2000])
    _photo_jpeg(tmp_path / "leaves" / "with trailer.jpg", trailer=b"camera maker's notes " * 8)
    ds = _scan(tmp_path)
    assert sorted(ds.keys) == ["leaves/whole.jpg", "leaves/with trailer.jpg"]  # bytes after EOI are fine
    [problem] = ds.problems
    assert (problem.path, problem.kind) == ("leaves/cut.jpg", "corrupt")
    assert problem.reason.startswith("truncated or corrupt JPEG data (image file is truncated")


def test_the_overview_says_what_the_dataset_tab_shows(tmp_path: Path) -> None:
    """Name and counts, sizes, then warnings; a split parent's sentence says which folder
    validates and that test/ is never read (the rule training follows)."""
    from filterscope.core.training.data_plan import split_folders_sentence

    from tests.split_tree import make_split_tree

    make_split_tree(tmp_path / "parent", {"train": {"a": 6, "b": 1}, "valid": {"a": 1}, "test": {"a": 1}})
    dataset = scan_folder(tmp_path / "parent", report=RecordingReport(), cancel=threading.Event())
    kinds = [kind for kind, _ in dataset.overview()]
    assert kinds[0] == "title" and "sizes" in kinds and kinds[-1] == "warning"
    assert dataset.overview()[0][1] == f"{dataset.name}: 9 images in 2 classes"
    assert any("valid/ has no images of 'b'" in text for _, text in dataset.overview())
    assert split_folders_sentence(dataset) == ("Split by its own folders (train/ 7, valid/ 1, test/ 1 images): "
                                               "training uses train/, validates on valid/ and never reads test/.")
