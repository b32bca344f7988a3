"""Tests for ``filterscope augment``: augmented PNG copies of one image from the shell.

They assume ``cli_augment.register(sub)`` is wired into ``filterscope.cli._register``.
"""

from __future__ import annotations

import hashlib
import json
import threading
from pathlib import Path

import cv2
import numpy as np
import pytest
from filterscope.cli.main import main
from filterscope.core.augment.build import to_python
from filterscope.core.augment.chain import builtin_chain
from filterscope.core.augment.preview import preview
from filterscope.core.base.jobs import NullReport
from PIL import Image

from tests.photos import smooth_photo

UNICODE = "Ünïcødé 植物"


def photo(height: int = 48, width: int = 64, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    coarse = rng.integers(0, 256, size=(4, 5, 3), dtype=np.uint8)
    return smooth_photo(rng, coarse, height, width, noise=10)


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def image(tmp_path: Path):
    """A PNG in a folder of its own; fails the test if a command changed that folder."""
    folder = tmp_path / f"plants {UNICODE}"
    folder.mkdir()
    path = folder / "leaf 1.png"
    Image.fromarray(photo()).save(path)
    before = sha(path)
    yield path
    assert sha(path) == before, "the command modified the source image"


def _decode(path: Path) -> np.ndarray:
    array = cv2.imdecode(np.frombuffer(path.read_bytes(), np.uint8), cv2.IMREAD_UNCHANGED)
    return cv2.cvtColor(array, cv2.COLOR_BGR2RGB)


def test_writes_n_pngs_and_reports_the_chain(run_cli, image: Path, tmp_path: Path) -> None:
    out = tmp_path / "new" / "augmented"  # missing parents are created
    code, stdout, _ = run_cli("augment", image, "--out", out, "-n", 5, "--json")
    assert code == 0
    data = json.loads(stdout)
    assert set(data) == {"image", "size", "out", "seed", "chain", "files", "failed"}
    assert (data["image"], data["out"], data["size"], data["seed"]) == (str(image), str(out),
                                                                        [64, 48], 0)
    chapter = builtin_chain("chapter")
    assert data["chain"] == {"name": chapter.name, "source": "chapter", "spec": chapter.to_json(),
                             "python": to_python(chapter)}
    compile(data["chain"]["python"], "<chain>", "exec")
    expected = [out / f"leaf 1_aug{k}.png" for k in range(1, 6)]
    assert data["files"] == [str(p) for p in expected]
    assert sorted(out.iterdir()) == sorted(expected)  # no temp files left behind
    decoded = [_decode(p) for p in expected]
    assert all(d.shape == (48, 64, 3) for d in decoded)
    assert len({d.tobytes() for d in decoded}) > 1


def test_the_files_are_the_tabs_preview_with_the_same_seed(run_cli, image: Path, tmp_path: Path) -> None:
    for chain in ("chapter", "keras"):
        out = tmp_path / chain
        assert run_cli("augment", image, "--out", out, "-n", 6, "--seed", 9, "--chain", chain)[0] == 0
        shown = preview([photo()], builtin_chain(chain), 6, 9, report=NullReport(),
                        cancel=threading.Event())
        for k, expected in enumerate(shown, start=1):
            np.testing.assert_array_equal(_decode(out / f"leaf 1_aug{k}.png"), expected)


def test_seeded_output(run_cli, image: Path, tmp_path: Path) -> None:
    runs = {}
    for name, seed in (("a", 3), ("b", 3), ("c", 4)):
        assert run_cli("augment", image, "--out", tmp_path / name, "-n", 4, "--seed", seed)[0] == 0
        runs[name] = [sha(tmp_path / name / f"leaf 1_aug{k}.png") for k in range(1, 5)]
    assert runs["a"] == runs["b"] and runs["a"] != runs["c"]


def test_into_the_images_own_folder(run_cli, image: Path) -> None:
    code, stdout, _ = run_cli("augment", image, "--out", image.parent, "-n", 2)
    assert code == 0
    assert sorted(p.name for p in image.parent.iterdir()) == ["leaf 1.png", "leaf 1_aug1.png",
                                                              "leaf 1_aug2.png"]
    # Again: the copies are replaced, the source stays as it was (checked by the fixture).
    assert run_cli("augment", image, "--out", image.parent, "-n", 2, "--seed", 1)[0] == 0
    assert len(list(image.parent.iterdir())) == 3


def test_human_output(run_cli, image: Path, tmp_path: Path) -> None:
    code, stdout, _ = run_cli("augment", image, "--out", tmp_path / "o", "-n", 1, "--chain", "keras")
    assert code == 0
    lines = stdout.splitlines()
    assert lines[0] == f"wrote 1 augmented copy of {image} (64x48) to {tmp_path / 'o'}"
    assert lines[1] == "chain: Keras ImageDataGenerator (chapter) (keras), seed 0"
    assert lines[2].strip() == str(tmp_path / "o" / "leaf 1_aug1.png")
    assert "iaa.Affine(rotate=(-90.0, 90.0)" in stdout


def test_none_chain_copies_the_pixels(run_cli, image: Path, tmp_path: Path) -> None:
    assert run_cli("augment", image, "--out", tmp_path / "o", "-n", 3, "--chain", "none")[0] == 0
    for k in (1, 2, 3):
        np.testing.assert_array_equal(_decode(tmp_path / "o" / f"leaf 1_aug{k}.png"), photo())


def test_full_resolution_beyond_the_preview_size(run_cli, tmp_path: Path) -> None:
    big = tmp_path / "big.jpg"
    Image.fromarray(photo(300, 420)).save(big, quality=92)
    code, stdout, _ = run_cli("augment", big, "--out", tmp_path / "o", "-n", 2, "--json")
    assert code == 0 and json.loads(stdout)["size"] == [420, 300]
    assert _decode(tmp_path / "o" / "big_aug2.png").shape == (300, 420, 3)


@pytest.mark.parametrize("array", [
    np.tile(np.arange(0, 250, 5, dtype=np.uint8), (30, 1)),
    np.dstack([photo(30, 50), np.full((30, 50), 100, np.uint8)]),
    np.tile(np.arange(0, 65000, 1300, dtype=np.uint16), (30, 1)),
], ids=["grayscale", "rgba", "16-bit"])
def test_any_image_the_app_reads(run_cli, tmp_path: Path, array: np.ndarray) -> None:
    path = tmp_path / "odd.png"
    Image.fromarray(array).save(path)
    assert run_cli("augment", path, "--out", tmp_path / "o", "-n", 2)[0] == 0
    assert all(_decode(tmp_path / "o" / f"odd_aug{k}.png").shape == (30, 50, 3) for k in (1, 2))


def test_chain_file_with_the_chapters_old_name(run_cli, image: Path, tmp_path: Path) -> None:
    chain = tmp_path / "contrast.json"
    chain.write_text(json.dumps({"name": "mine", "steps": [
        {"name": "ContrastNormalization", "params": {"alpha": [0.5, 0.6]}}]}), encoding="utf-8")
    code, stdout, _ = run_cli("augment", image, "--out", tmp_path / "o", "--chain", chain, "--json")
    assert code == 0
    data = json.loads(stdout)
    assert data["chain"]["source"] == str(chain) and data["chain"]["name"] == "mine"
    assert data["chain"]["spec"]["steps"][0]["name"] == "LinearContrast"
    assert len(data["files"]) == 8


@pytest.mark.parametrize("text, words", [
    ('{"steps": [{"name": "Fliplr"}, {"name": "Blurry"}]}', "step 2 (Blurry): unknown augmenter"),
    ('{"steps": [{"name": "Crop", "params": {"percent": [0.2, 0.1]}}]}', "step 1 (Crop): percent"),
    ('{"steps": [{"name": "Fliplr", "sometimes": 2}]}', "step 1 (Fliplr): sometimes"),
    ('{"version": 9, "steps": []}', "newer"),
    ("{oops", "cannot read the chain"),
])
def test_bad_chain_file_exits_1_naming_the_step(run_cli, image: Path, tmp_path: Path, text: str,
                                                words: str) -> None:
    chain = tmp_path / "my chain.json"
    chain.write_text(text, encoding="utf-8")
    out = tmp_path / "never"
    code, stdout, err = run_cli("augment", image, "--out", out, "--chain", chain)
    assert code == 1 and stdout == ""
    assert len(err.strip().splitlines()) == 1
    assert err.startswith("filterscope augment: error: ") and "my chain.json" in err and words in err
    assert not out.exists()


def test_missing_chain_file_and_unknown_builtin_exit_1(run_cli, image: Path, tmp_path: Path) -> None:
    code, _, err = run_cli("augment", image, "--out", tmp_path / "o", "--chain", tmp_path / "no.json")
    assert code == 1 and "no.json" in err and "cannot read the chain" in err
    code, _, err = run_cli("augment", image, "--out", tmp_path / "o", "--chain", "imgaug")
    assert code == 1 and "no built-in chain called 'imgaug'" in err
    assert not (tmp_path / "o").exists()


def test_unreadable_image_exits_1(run_cli, tmp_path: Path) -> None:
    empty, text = tmp_path / "empty.png", tmp_path / "notes.png"
    empty.write_bytes(b"")
    text.write_text("not an image")
    for path, words in ((tmp_path / "nope.png", "file not found"), (empty, "empty file"),
                        (text, str(text)), (tmp_path, str(tmp_path))):
        code, stdout, err = run_cli("augment", path, "--out", tmp_path / "o")
        assert code == 1 and stdout == "" and words in err, err
        assert len(err.strip().splitlines()) == 1
    assert not (tmp_path / "o").exists()


def test_out_must_be_a_folder(run_cli, image: Path, tmp_path: Path) -> None:
    code, _, err = run_cli("augment", image, "--out", image)
    assert code == 1 and "is the image itself" in err
    blocker = tmp_path / "plain file"
    blocker.write_text("x")
    code, _, err = run_cli("augment", image, "--out", blocker)
    assert code == 1 and "plain file" in err and len(err.strip().splitlines()) == 1
    code, _, err = run_cli("augment", image, "--out", blocker / "sub")
    assert code == 1 and "Not a directory" in err
    assert blocker.read_text() == "x"


@pytest.mark.parametrize("argv, words", [
    (["augment"], "required: image, --out"),
    (["augment", "x.png"], "required: --out"),
    (["augment", "x.png", "--out", "o", "-n", "0"], "-n: must be from 1 to 64 (got 0)"),
    (["augment", "x.png", "--out", "o", "-n", "65"], "-n: must be from 1 to 64 (got 65)"),
    (["augment", "x.png", "--out", "o", "-n", "-3"], "-n: must be from 1 to 64 (got -3)"),
    (["augment", "x.png", "--out", "o", "-n", "many"], "-n: not a whole number: 'many'"),
    (["augment", "x.png", "--out", "o", "--seed", "1.5"], "--seed: invalid int value"),
    (["augment", "x.png", "--out", "o", "--rotate", "90"], "unrecognized arguments: --rotate"),
])
def test_bad_arguments_exit_2(capsys, argv: list[str], words: str) -> None:
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert "usage: filterscope" in err and words in err, err


def test_limits_are_accepted(run_cli, image: Path, tmp_path: Path) -> None:
    code, stdout, _ = run_cli("augment", image, "--out", tmp_path / "o", "-n", 64, "--json")
    assert code == 0 and len(json.loads(stdout)["files"]) == 64
    assert run_cli("augment", image, "--out", tmp_path / "p", "-n", 1)[0] == 0


def test_an_image_named_near_the_file_name_limit(run_cli, tmp_path: Path) -> None:
    stem = "é" * 123  # stem.png is 250 bytes in UTF-8; stem_aug10.png would be 256
    image = tmp_path / f"{stem}.png"
    Image.fromarray(photo()).save(image)
    code, stdout, err = run_cli("augment", image, "--out", tmp_path / "o", "-n", 12, "--json")
    assert code == 0, err
    data = json.loads(stdout)
    assert data["failed"] == [] and len(data["files"]) == 12
    names = [Path(f).name for f in data["files"]]
    assert names[0] == f"{stem}_aug1.png" and names[11] == f"{stem[:-1]}_aug12.png"
    assert all(len(n.encode()) <= 255 for n in names)
    assert sorted(p.name for p in (tmp_path / "o").iterdir()) == sorted(names)


def test_a_copy_that_cannot_be_written_is_named_and_the_others_written(run_cli, image: Path,
                                                                      tmp_path: Path) -> None:
    out = tmp_path / "o"
    (out / "leaf 1_aug2.png").mkdir(parents=True)  # a folder sits at one copy's name
    code, stdout, _ = run_cli("augment", image, "--out", out, "-n", 3, "--json")
    assert code == 0
    data = json.loads(stdout)
    assert data["files"] == [str(out / "leaf 1_aug1.png"), str(out / "leaf 1_aug3.png")]
    assert data["failed"] == [{"path": str(out / "leaf 1_aug2.png"),
                               "reason": "cannot write it (Is a directory)"}]
    assert sorted(p.name for p in out.iterdir()) == ["leaf 1_aug1.png", "leaf 1_aug2.png", "leaf 1_aug3.png"]
    code, stdout, _ = run_cli("augment", image, "--out", out, "-n", 3)
    assert code == 0 and f"failed: {out / 'leaf 1_aug2.png'}: cannot write it (Is a directory)" in stdout
