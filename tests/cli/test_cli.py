"""Tests for filterscope.cli: the headless commands, in-process and through ``python -m``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from filterscope.cli.main import main
from filterscope.core.data.source import FolderSource
from filterscope.core.data.splits import load_manifest
from PIL import Image

from tests import corpus
from tests.corpus import Case, make_corpus, tree_digest

DESKTOP = Path(__file__).resolve().parents[2] / "desktop"
# Good images per class in the corpus (the duplicate counts: it is a readable image).
CORPUS_COUNTS = {corpus.SHEPHERD: 9, corpus.CLOVER: 3, corpus.EMPTY_CLASS: 0, corpus.UNICODE: 8}


@pytest.fixture(scope="module")
def corpus_tree(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Case]]:
    root = tmp_path_factory.mktemp("cli") / "dataset"
    return root, make_corpus(root)


@pytest.fixture
def dataset(corpus_tree):
    """The corpus root; fails the test if a command changed a byte of it."""
    root, _ = corpus_tree
    before = tree_digest(root)
    yield root
    assert tree_digest(root) == before, "the command modified the dataset folder"


def _usage_error(capsys: pytest.CaptureFixture, *argv: str) -> str:
    with pytest.raises(SystemExit) as info:
        main(list(argv))
    assert info.value.code == 2
    return capsys.readouterr().err


# --- datasets ----------------------------------------------------------------------------------


def test_datasets_json_lists_mnist_available(run_cli, data_dir: Path) -> None:
    code, out, err = run_cli("datasets", "--json")
    assert code == 0
    rows = {row["id"]: row for row in json.loads(out)}
    assert rows["mnist"]["available"] is True
    assert {"mnist", "mnist-full", "leaves", "plant-seedlings"} <= set(rows)
    assert rows["leaves"]["synthetic"] is True and rows["mnist"]["synthetic"] is False


def test_datasets_human(run_cli, data_dir: Path) -> None:
    code, out, _ = run_cli("datasets")
    assert code == 0
    mnist_line = next(line for line in out.splitlines() if line.startswith("mnist "))
    assert "[ready]" in mnist_line


# --- scan ------------------------------------------------------------------------------------


def test_scan_json_on_the_corpus(run_cli, dataset: Path) -> None:
    code, out, err = run_cli("scan", str(dataset), "--json")
    assert code == 0, err
    summary = json.loads(out)
    assert {c["name"]: c["count"] for c in summary["classes"]} == CORPUS_COUNTS
    assert summary["total"] == sum(CORPUS_COUNTS.values())
    assert summary["sizes"]["known"] == summary["total"]
    assert summary["sizes"]["max_width"] == 47  # the 64 px images are truncated
    problems = {p["path"]: p for p in summary["problems"]}
    assert problems[f"{corpus.CLOVER}/empty.png"]["kind"] == "empty-file"
    assert "empty file" in problems[f"{corpus.CLOVER}/empty.png"]["reason"]
    assert problems[f"{corpus.CLOVER}/notes.txt"]["kind"] == "not-image"
    assert problems[f"{corpus.CLOVER}/truncated.jpg"]["kind"] == "corrupt"
    assert "truncated" in problems[f"{corpus.CLOVER}/truncated.jpg"]["reason"]
    assert problems[f"{corpus.CLOVER}/huge 20000x20000.png"]["kind"] == "too-large"
    assert problems[corpus.EMPTY_CLASS]["kind"] == "empty-class"
    assert all(p["reason"] for p in summary["problems"])


def test_scan_human_mentions_problems(run_cli, dataset: Path) -> None:
    code, out, _ = run_cli("scan", str(dataset))
    assert code == 0
    assert f"{sum(CORPUS_COUNTS.values())} images in 4 classes" in out
    assert corpus.UNICODE in out and corpus.SHEPHERD in out
    assert "problem(s):" in out
    assert f"{corpus.CLOVER}/empty.png: empty file (0 bytes)" in out
    assert f"{corpus.CLOVER}/huge 20000x20000.png" in out
    assert "same content as" in out


def test_scan_missing_folder_is_one_line_error(run_cli, tmp_path: Path) -> None:
    missing = tmp_path / "no" / "such dir"
    code, out, err = run_cli("scan", str(missing))
    assert code == 1
    assert out == ""
    assert len(err.strip().splitlines()) == 1
    assert str(missing) in err and "does not exist" in err


def test_scan_a_file_is_an_error(run_cli, dataset: Path) -> None:
    path = dataset / corpus.CLOVER / "good_0.png"
    code, _, err = run_cli("scan", str(path), "--json")
    assert code == 1
    assert str(path) in err and len(err.strip().splitlines()) == 1


def test_scan_mnist_builtin(run_cli, data_dir: Path) -> None:
    code, out, err = run_cli("scan", "mnist", "--json")
    assert code == 0, err
    summary = json.loads(out)
    assert [c["count"] for c in summary["classes"]] == [500] * 10
    assert summary["total"] == 5000
    assert summary["source"] == "builtin:mnist"
    assert summary["sizes"]["most_common"] == [28, 28]


def test_python_m_filterscope_scan_json(dataset: Path, tmp_path: Path) -> None:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(DESKTOP), env.get("PYTHONPATH")]))
    env["FILTERSCOPE_DATA_DIR"] = str(tmp_path / "appdata")
    result = subprocess.run([sys.executable, "-m", "filterscope", "scan", str(dataset), "--json"],
                            capture_output=True, env=env, timeout=60, check=False)
    assert result.returncode == 0, result.stderr.decode(errors="replace")
    summary = json.loads(result.stdout.decode("utf-8"))
    assert {c["name"]: c["count"] for c in summary["classes"]} == CORPUS_COUNTS
    assert result.stderr == b""  # no progress bar when stderr is not a terminal


@pytest.mark.parametrize("args", [["--json"], []])
def test_scan_on_a_non_utf8_stdout(dataset: Path, tmp_path: Path, args: list[str]) -> None:
    """A redirected Windows console is cp1252: unicode class names must not crash the output."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(DESKTOP), env.get("PYTHONPATH")]))
    env["PYTHONIOENCODING"] = "cp1252"
    env["FILTERSCOPE_DATA_DIR"] = str(tmp_path / "appdata")
    result = subprocess.run([sys.executable, "-m", "filterscope", "scan", str(dataset), *args],
                            capture_output=True, env=env, timeout=60, check=False)
    assert result.returncode == 0, result.stderr.decode(errors="replace")
    text = result.stdout.decode("cp1252")
    if args:
        names = {c["name"] for c in json.loads(text)["classes"]}
        assert names == set(CORPUS_COUNTS)
    else:
        assert "Shepherd" in text and "clover" in text


# --- split -----------------------------------------------------------------------------------


def test_split_writes_a_valid_manifest(run_cli, dataset: Path, tmp_path: Path) -> None:
    out_path = tmp_path / "split.json"
    code, out, err = run_cli("split", str(dataset), "--val-per-class", "3", "--seed", "7",
                          "--out", str(out_path), "--json")
    assert code == 0, err
    manifest = load_manifest(out_path)
    assert manifest.counts() == {
        corpus.SHEPHERD: {"train": 6, "val": 3},
        corpus.CLOVER: {"train": 1, "val": 2},  # 3 readable images: its 2 truncated ones are refused
        corpus.EMPTY_CLASS: {"train": 0, "val": 0},
        corpus.UNICODE: {"train": 5, "val": 3},
    }
    assert manifest.seed == 7 and manifest.source == FolderSource(str(dataset))
    report = json.loads(out)
    assert report["manifest"] == str(out_path)
    assert (report["train"], report["val"]) == (12, 8)
    assert report["warnings"] == manifest.warnings and len(manifest.warnings) == 2  # clover, empty
    for keys in manifest.subsets["val"].values():
        assert all((dataset / key).is_file() for key in keys)


def test_split_fraction_human_output(run_cli, dataset: Path, tmp_path: Path) -> None:
    out_path = tmp_path / "split.json"
    code, out, err = run_cli("split", str(dataset), "--val-fraction", "0.25",
                          "--out", str(out_path))
    assert code == 0, err
    assert out.startswith(f"wrote {out_path} (train 15, val 5)")
    assert "warning: 'empty class' has 0 image(s)" in out
    assert load_manifest(out_path).counts()[corpus.CLOVER] == {"train": 2, "val": 1}


@pytest.mark.parametrize("size_args", [
    [],
    ["--val-fraction", "1.5"],
    ["--val-fraction", "0"],
    ["--val-per-class", "0"],
    ["--val-per-class", "two"],
    ["--val-per-class", "2", "--val-fraction", "0.2"],
])  # fmt: skip
def test_split_bad_size_arguments_exit_2(capsys, dataset: Path, tmp_path: Path,
                                         size_args: list[str]) -> None:
    out_path = tmp_path / "split.json"
    err = _usage_error(capsys, "split", str(dataset), *size_args, "--out", str(out_path))
    assert "error:" in err
    assert not out_path.exists()


def test_split_without_out_exits_2(capsys, dataset: Path) -> None:
    assert "--out" in _usage_error(capsys, "split", str(dataset), "--val-per-class", "2")


@pytest.mark.parametrize("where", ["root", "class", "new sub-folder"])
def test_split_refuses_to_write_inside_the_dataset(run_cli, dataset: Path, where: str) -> None:
    target = {
        "root": dataset / "split.json",
        "class": dataset / corpus.CLOVER / "split.json",
        "new sub-folder": dataset / "splits" / "split.json",
    }[where]
    code, out, err = run_cli("split", str(dataset), "--val-per-class", "2",
                          "--out", str(target))
    assert code == 1
    assert out == "" and len(err.strip().splitlines()) == 1
    assert "refusing to write inside the dataset folder" in err
    assert not target.exists()


@pytest.mark.parametrize("where", ["under a file", "missing parent", "proc"])
def test_split_to_an_unwritable_place(run_cli, dataset: Path, tmp_path: Path, where: str) -> None:
    blocker = tmp_path / "a file"
    blocker.write_text("not a folder")
    target = {
        "under a file": blocker / "split.json",
        "missing parent": tmp_path / "no such folder" / "split.json",
        "proc": Path("/proc/filterscope-split.json"),
    }[where]
    if where == "proc" and not Path("/proc/self").exists():
        pytest.skip("no /proc on this OS")
    code, out, err = run_cli("split", str(dataset), "--val-per-class", "2",
                          "--out", str(target))
    assert code == 1
    assert out == ""
    assert len(err.strip().splitlines()) == 1
    assert f"{target}: cannot write the manifest" in err
    assert "Traceback" not in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a file"]  # no temp file left


def test_split_missing_dataset(run_cli, tmp_path: Path) -> None:
    missing = tmp_path / "gone"
    code, _, err = run_cli("split", str(missing), "--val-per-class", "2",
                        "--out", str(tmp_path / "split.json"))
    assert code == 1 and str(missing) in err
    assert not (tmp_path / "split.json").exists()


def test_split_of_a_generated_dataset_is_exact(run_cli, tmp_path: Path) -> None:
    root = tmp_path / "plants"
    rng = np.random.default_rng(11)
    for name, count in (("a", 12), ("b", 7), ("c", 1)):
        (root / name).mkdir(parents=True)
        for i in range(count):
            pixels = rng.integers(0, 256, (5, 5, 3), dtype=np.uint8)
            Image.fromarray(pixels).save(root / name / f"{i}.png")
    before = tree_digest(root)
    out_path = tmp_path / "out" / "split.json"
    out_path.parent.mkdir()
    code, _, err = run_cli("split", str(root), "--val-per-class", "5", "--out", str(out_path))
    assert code == 0, err
    counts = load_manifest(out_path).counts()
    assert counts == {"a": {"train": 7, "val": 5}, "b": {"train": 2, "val": 5},
                      "c": {"train": 1, "val": 0}}
    assert tree_digest(root) == before


def test_version(capsys) -> None:
    with pytest.raises(SystemExit) as info:
        main(["--version"])
    assert info.value.code == 0
    assert capsys.readouterr().out.startswith("filterscope ")
