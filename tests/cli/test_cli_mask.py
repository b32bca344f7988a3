"""Tests for ``filterscope mask``: masked copies of an image or a dataset folder from the shell."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest
from filterscope.cli.main import build_parser, main
from filterscope.core.masking.colordist import OUTPUTS, apply_mask, builtin_preset
from PIL import Image

from tests.corpus import tree_digest
from tests.photos import leaf_and_soil, smooth_photo

UNICODE_CLASS = "Ünïcødé 植物"


def leafy(seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return smooth_photo(rng, leaf_and_soil(rng, 4, 5), 30, 40, noise=10)


@pytest.fixture
def dataset(tmp_path: Path):
    """A small folder dataset (a bad file included); fails the test if a command changed it."""
    root = tmp_path / "plants"
    for i, cls in enumerate(("clover", UNICODE_CLASS)):
        (root / cls).mkdir(parents=True)
        for j in range(3):
            Image.fromarray(leafy(10 * i + j)).save(root / cls / f"img {j}.png")
    (root / "clover" / "empty.png").write_bytes(b"")
    before = tree_digest(root)
    yield root
    assert tree_digest(root) == before, "the command modified the dataset folder"


def _decode(path: Path) -> np.ndarray:
    array = cv2.imdecode(np.frombuffer(path.read_bytes(), np.uint8), cv2.IMREAD_UNCHANGED)
    return cv2.cvtColor(array, cv2.COLOR_BGR2RGB) if array.ndim == 3 and array.shape[2] == 3 else array


def test_folder_json_shape_and_content(run_cli, dataset: Path, tmp_path: Path) -> None:
    out = tmp_path / "masked"
    code, stdout, _ = run_cli("mask", str(dataset), "--out", str(out), "--json")
    assert code == 0
    data = json.loads(stdout)
    assert set(data) == {"out", "source", "params", "total", "written", "skipped", "failed",
                         "mean_kept", "images"}
    assert (data["total"], data["written"], data["skipped"]) == (7, 6, 0)
    assert data["params"] == builtin_preset("chapter").to_json()
    assert [f["path"] for f in data["failed"]] == ["clover/empty.png"]
    assert "empty file" in data["failed"][0]["reason"]
    assert all(set(row) == {"path", "kept"} and 0 <= row["kept"] <= 1 for row in data["images"])
    assert data["mean_kept"] == pytest.approx(np.mean([row["kept"] for row in data["images"]]))
    chapter = builtin_preset("chapter")
    expected = apply_mask(leafy(11), chapter).image
    np.testing.assert_array_equal(_decode(out / UNICODE_CLASS / "img 1.png"), expected)
    # Again: everything is already there.
    code, stdout, _ = run_cli("mask", str(dataset), "--out", str(out), "--json")
    assert code == 0 and (json.loads(stdout)["written"], json.loads(stdout)["skipped"]) == (0, 6)


def test_folder_human_summary(run_cli, dataset: Path, tmp_path: Path) -> None:
    code, stdout, _ = run_cli("mask", str(dataset), "--out", str(tmp_path / "m"))
    assert code == 0
    first, header, *rows = stdout.splitlines()
    assert "6 written, 0 done before, 1 failed of 7; mean kept" in first
    assert header.split() == ["image", "kept"]
    assert any(r.strip().startswith(f"{UNICODE_CLASS}/img 0.png") and r.endswith("%") for r in rows)
    assert rows[-1].startswith("failed: clover/empty.png: empty file")


@pytest.mark.parametrize("output", OUTPUTS)
def test_one_image_with_output_override(run_cli, dataset: Path, tmp_path: Path, output: str) -> None:
    src = dataset / "clover" / "img 2.png"
    dst = tmp_path / "one.png"
    code, stdout, _ = run_cli("mask", str(src), "--out", str(dst), "--output", output, "--json")
    assert code == 0
    data = json.loads(stdout)
    assert data["out"] == str(dst) and data["params"]["output"] == output and data["written"] == 1
    written = _decode(dst)
    channels = {"alpha": 4, "mask": None}.get(output, 3)
    assert (written.ndim == 2) if channels is None else written.shape[2] == channels


def test_preset_file(run_cli, dataset: Path, tmp_path: Path) -> None:
    preset = tmp_path / "loose.json"
    params = builtin_preset("chapter").with_target(3, threshold=5000.0)
    preset.write_text(json.dumps(params.to_json()), encoding="utf-8")
    code, stdout, _ = run_cli("mask", str(dataset / "clover" / "img 0.png"), "--out",
                           str(tmp_path / "o.png"), "--preset", str(preset), "--json")
    assert code == 0 and json.loads(stdout)["params"]["targets"][3]["threshold"] == 5000.0


@pytest.mark.parametrize("text, words", [("{oops", "cannot read"), ('{"median": 4}', "median"),
                                         ('{"targets": []}', "targets")])
def test_malformed_preset_exits_1_naming_the_file(run_cli, dataset: Path, tmp_path: Path, text: str,
                                                  words: str) -> None:
    preset = tmp_path / "my preset.json"
    preset.write_text(text, encoding="utf-8")
    out = tmp_path / "never"
    code, stdout, err = run_cli("mask", str(dataset), "--out", str(out), "--preset", str(preset))
    assert code == 1 and stdout == ""
    assert len(err.strip().splitlines()) == 1
    assert "my preset.json" in err and words in err
    assert not out.exists()


def test_unknown_builtin_preset_exits_1(run_cli, dataset: Path, tmp_path: Path) -> None:
    code, _, err = run_cli("mask", str(dataset), "--out", str(tmp_path / "o"), "--preset", "leafy")
    assert code == 1 and "no built-in mask preset called 'leafy'" in err


def test_out_inside_source_exits_1(run_cli, dataset: Path) -> None:
    for out in (dataset / "masked", dataset, dataset / "clover"):
        code, _, err = run_cli("mask", str(dataset), "--out", str(out))
        assert code == 1 and "refusing to write inside the dataset folder" in err


def test_unreadable_source_exits_1(run_cli, dataset: Path, tmp_path: Path) -> None:
    code, _, err = run_cli("mask", str(tmp_path / "nope.png"), "--out", str(tmp_path / "o.png"))
    assert code == 1 and "nope.png: file not found" in err
    code, _, err = run_cli("mask", str(dataset / "clover" / "empty.png"), "--out",
                        str(tmp_path / "o.png"))
    assert code == 1 and "empty file" in err
    assert len(err.strip().splitlines()) == 1


def test_unwritable_output_exits_1(run_cli, dataset: Path, tmp_path: Path) -> None:
    blocker = tmp_path / "plain file"
    blocker.write_text("x")
    code, _, err = run_cli("mask", str(dataset), "--out", str(blocker / "masked"))
    assert code == 1 and "plain file/masked" in err and "Not a directory" in err
    code, _, err = run_cli("mask", str(dataset / "clover" / "img 0.png"), "--out",
                        str(blocker / "one.png"))
    assert code == 1 and "Not a directory" in err


def test_other_settings_into_the_same_folder_exit_1(run_cli, dataset: Path, tmp_path: Path) -> None:
    out = tmp_path / "m"
    assert run_cli("mask", str(dataset), "--out", str(out))[0] == 0
    code, _, err = run_cli("mask", str(dataset), "--out", str(out), "--output", "alpha")
    assert code == 1 and "choose a new output folder" in err


@pytest.mark.parametrize("argv", [
    ["mask"],
    ["mask", "x.png"],  # --out is required
    ["mask", "x.png", "--out", "o.png", "--output", "sepia"],
    ["mask", "x.png", "--out", "o.png", "--workers", "0"],
    ["mask", "x.png", "--out", "o.png", "--colour", "green"],
])
def test_bad_arguments_exit_2(capsys, argv: list[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2
    assert "usage: filterscope" in capsys.readouterr().err


def test_output_choices_are_the_core_modes() -> None:
    sub = next(a for a in build_parser()._actions if a.dest == "command")
    output = next(a for a in sub.choices["mask"]._actions if a.dest == "output")
    assert tuple(output.choices) == OUTPUTS


def test_a_name_near_the_file_name_limit_scans_and_masks(run_cli, tmp_path: Path) -> None:
    root = tmp_path / "plants"
    name = "é" * 123 + ".png"  # 250 bytes in UTF-8
    for i, cls in enumerate(("a", "b")):
        (root / cls).mkdir(parents=True)
        Image.fromarray(leafy(i)).save(root / cls / name)
    code, stdout, _ = run_cli("scan", root, "--json")
    assert code == 0 and json.loads(stdout)["total"] == 2 and json.loads(stdout)["problems"] == []
    code, stdout, err = run_cli("mask", root, "--out", tmp_path / "m", "--json")
    assert code == 0, err
    assert (json.loads(stdout)["written"], json.loads(stdout)["failed"]) == (2, [])
    np.testing.assert_array_equal(_decode(tmp_path / "m" / "b" / name),
                                  apply_mask(leafy(1), builtin_preset("chapter")).image)


def test_an_output_that_cannot_be_written_is_named_and_the_others_written(run_cli, dataset: Path,
                                                                          tmp_path: Path) -> None:
    out = tmp_path / "m"
    assert run_cli("mask", dataset, "--out", out)[0] == 0
    for name in ("clover/img 1.png", f"{UNICODE_CLASS}/img 2.png"):
        (out / name).unlink()
    (out / "clover" / "img 1.png").mkdir()  # a folder sits at one output's name
    code, stdout, _ = run_cli("mask", dataset, "--out", out)
    assert code == 0
    assert "1 written, 4 done before, 2 failed of 7" in stdout.splitlines()[0]
    assert stdout.splitlines()[-1] == \
        "failed: clover/img 1.png: cannot write the masked image img 1.png (Is a directory)"
    assert (out / UNICODE_CLASS / "img 2.png").is_file()
    (out / "clover" / "img 1.png").rmdir()
    code, stdout, _ = run_cli("mask", dataset, "--out", out, "--json")  # the rerun finishes the job
    assert code == 0 and (json.loads(stdout)["written"], json.loads(stdout)["skipped"]) == (1, 5)
