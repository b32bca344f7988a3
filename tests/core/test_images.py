"""Tests for filterscope.core.data.images: the reader every image path goes through."""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from filterscope.core.data.images import (
    IMAGE_SUFFIXES,
    MAX_PIXELS,
    ImageInfo,
    ImageReadError,
    probe_image,
    read_image,
    read_thumbnail,
    to_rgb,
)
from filterscope.core.data.thumbnails import downscale
from PIL import Image, ImageFile, ImageOps, JpegImagePlugin

from tests import corpus
from tests.corpus import (
    Case,
    deadline,
    make_corpus,
    make_unreadable,
    run_without_read_permission,
    tree_digest,
)

CLASSES_WITH_IMAGES = (corpus.SHEPHERD, corpus.UNICODE, corpus.CLOVER)
CASE_NAMES = [
    *(f"good-{cls}-{i}" for cls in CLASSES_WITH_IMAGES for i in range(3)),
    "name-with-spaces", "duplicate", "zero-byte", "truncated-png", "truncated-jpg",
    "header-only-png", "header-only-jpg", "text-named-png", "notes-txt", "huge-20000",
    "rgba-png", "rgba16-png", "palette-png", "grayscale-png", "gray16-png", "rgb16-png",
    "cmyk-jpeg", "exif-rotated-6", "animated-gif", "empty-class", "nested-folder",
    "nested-image", "symlink-loop", "dir-symlink-to-parent", "broken-symlink", "fifo",
]  # fmt: skip


@pytest.fixture(scope="module")
def cases(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Case]:
    return make_corpus(tmp_path_factory.mktemp("corpus") / "dataset")


def _case(cases: dict[str, Case], name: str) -> Case:
    if name not in cases:
        pytest.skip(f"{name}: this OS cannot create it")
    return cases[name]


def _outcome(fn, path: Path, *args, **kwargs) -> str:
    with deadline(5):
        try:
            fn(path, *args, **kwargs)
        except ImageReadError as err:
            assert err.path == Path(path)
            assert str(err) == f"{path}: {err.reason}"
            return err.kind
    return "ok"


def test_corpus_has_every_case(cases):
    expected = set(CASE_NAMES)
    if sys.platform == "win32":
        expected -= {"symlink-loop", "dir-symlink-to-parent", "broken-symlink", "fifo"}
    assert expected <= set(cases)


@pytest.mark.parametrize("name", CASE_NAMES)
def test_read_image_outcome(cases, name):
    case = _case(cases, name)
    assert _outcome(read_image, case.path) == case.expect
    if case.expect == "ok":
        rgb = read_image(case.path)
        assert rgb.dtype == np.uint8 and rgb.flags.c_contiguous and rgb.flags.writeable
        assert rgb.shape == (*case.shape, 3)


@pytest.mark.parametrize("name", CASE_NAMES)
def test_probe_image_outcome(cases, name):
    case = _case(cases, name)
    assert _outcome(probe_image, case.path) == case.probe_expect
    if case.probe_expect == "ok" and case.shape is not None:
        info = probe_image(case.path)
        assert (info.height, info.width) == case.shape


@pytest.mark.parametrize("name", CASE_NAMES)
def test_read_thumbnail_outcome(cases, name):
    case = _case(cases, name)
    assert _outcome(read_thumbnail, case.path, 16) == case.expect


def test_reasons_are_plain_sentences(cases):
    reasons = {}
    for name in ("zero-byte", "text-named-png", "truncated-png", "huge-20000", "empty-class"):
        with pytest.raises(ImageReadError) as info:
            read_image(cases[name].path)
        reasons[name] = info.value.reason
    assert reasons["zero-byte"] == "empty file (0 bytes)"
    assert "cannot identify image file" in reasons["text-named-png"]
    assert reasons["truncated-png"].startswith("truncated or corrupt PNG data")
    assert "20000x20000 (400 MP)" in reasons["huge-20000"]
    assert "179 MP" in reasons["huge-20000"]
    assert "folder" in reasons["empty-class"]


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("broken-symlink", "broken symbolic link"),
        ("symlink-loop", "symbolic link loop (too many levels of links)"),
        ("fifo", "not a regular file (pipe, socket or device)"),
        ("dir-symlink-to-parent", "a folder, not a file"),
        ("header-only-jpg", "truncated or corrupt JPEG header (Truncated File Read)"),
    ],
)
def test_link_and_special_file_reasons(cases, name, reason):
    with pytest.raises(ImageReadError) as info:
        probe_image(_case(cases, name).path)
    assert info.value.reason == reason


@pytest.mark.parametrize("name", ["fifo", "empty-class", "dir-symlink-to-parent", "zero-byte"])
def test_special_files_are_refused_before_opening(cases, name, monkeypatch):
    path = _case(cases, name).path
    opened = []
    real_open = os.open
    monkeypatch.setattr(os, "open", lambda p, *a, **k: opened.append(p) or real_open(p, *a, **k))
    assert _outcome(read_image, path) == cases[name].expect
    assert opened == []


def test_errors_survive_pickling(cases):
    with pytest.raises(ImageReadError) as info:
        read_image(cases["zero-byte"].path)
    copy = pickle.loads(pickle.dumps(info.value))
    assert (copy.path, copy.reason, copy.kind, str(copy)) == (
        info.value.path, info.value.reason, info.value.kind, str(info.value)
    )


def test_unicode_folders_are_read(cases):
    path = cases[f"good-{corpus.SHEPHERD}-0"].path
    assert "\u2019" in str(path)
    assert read_image(path).shape == (24, 32, 3)
    assert "植物" in str(cases[f"good-{corpus.UNICODE}-0"].path)


def test_exif_orientation_6_rotates_clockwise(cases):
    path = cases["exif-rotated-6"].path
    w, h = corpus.EXIF_STORED_SIZE
    rgb = read_image(path).astype(int)
    assert rgb.shape == (w, h, 3)
    c = corpus.CORNER // 2
    top_right, top_left = rgb[c, h - 1 - c], rgb[c, c]
    assert top_right[0] > 200 and top_right[1] < 60  # the stored top-left red block
    assert top_left[1] > 100 and top_left[0] < 60
    assert probe_image(path) == ImageInfo(width=h, height=w, mode="RGB", format="JPEG")


@pytest.mark.parametrize("orientation", range(1, 9))
def test_every_orientation_matches_pillow_exif_transpose(tmp_path, orientation):
    pixels = np.random.default_rng(orientation).integers(0, 256, (5, 7, 3), dtype=np.uint8)
    image = Image.fromarray(pixels)
    exif = image.getexif()
    exif[0x0112] = orientation
    path = tmp_path / "o.png"
    image.save(path, exif=exif.tobytes())
    with Image.open(path) as im:
        expected = np.asarray(ImageOps.exif_transpose(im).convert("RGB"))
    assert np.array_equal(read_image(path), expected)
    info = probe_image(path)
    assert (info.height, info.width) == expected.shape[:2]


def test_16_bit_scales_by_shifting_not_clipping(cases):
    gray = read_image(cases["gray16-png"].path)
    assert np.array_equal(gray[..., 0], [[0, 0, 1, 255], [18, 128, 255, 0]])
    assert np.array_equal(gray[..., 0], gray[..., 2])
    rgb = read_image(cases["rgb16-png"].path)
    assert np.all(rgb == np.array([255, 1, 0x12], np.uint8))


def test_16_bit_rgba_composites_over_black(cases):
    rgb = read_image(cases["rgba16-png"].path)
    assert np.all(rgb[:, :2] == (255, 1, 0x12))
    assert np.all(rgb[:, 2:] == 0)


def test_rgba_composites_over_black(cases):
    rgb = read_image(cases["rgba-png"].path)
    assert np.all(rgb[:, :6] == (100, 50, 25))  # (200, 100, 50) at alpha 128/255
    assert np.all(rgb[:, 6:] == 0)


def test_palette_transparency_becomes_black(cases):
    rgb = read_image(cases["palette-png"].path)
    assert np.all(rgb[:, :4] == (0, 255, 0))
    assert np.all(rgb[:, 4:] == 0)  # palette index 1 is red but transparent


def test_grayscale_becomes_three_equal_channels(cases):
    path = cases["grayscale-png"].path
    rgb = read_image(path)
    with Image.open(path) as im:
        gray = np.asarray(im)
    for channel in range(3):
        assert np.array_equal(rgb[..., channel], gray)


def test_cmyk_red_reads_back_red(cases):
    rgb = read_image(cases["cmyk-jpeg"].path).astype(int)
    r, g, b = rgb.reshape(-1, 3).mean(axis=0)
    assert r > 200 and g < 60 and b < 60


def test_animated_gif_gives_first_frame(cases):
    rgb = read_image(cases["animated-gif"].path).astype(int)
    assert np.all(rgb[..., 0] > 200) and np.all(rgb[..., 2] < 60)


def _save_mode(path: Path, mode: str, values: np.ndarray) -> Path:
    Image.frombytes(mode, values.shape[::-1], values.tobytes()).save(path)
    return path


@pytest.mark.parametrize(
    ("mode", "values", "expected"),
    [
        ("I;16B", np.array([[0, 256, 65535]], ">u2"), [0, 1, 255]),
        ("I;16", np.array([[255, 32768, 65535]], "<u2"), [0, 128, 255]),
        ("I", np.array([[0, 256, 65535]], "<i4"), [0, 1, 255]),
        ("I", np.array([[0, 128, 255]], "<i4"), [0, 0, 0]),  # 16-bit scale even when dim
        ("I", np.array([[-10, 0, 10]], "<i4"), [0, 128, 255]),
        ("F", np.array([[-1.0, 1.0, 3.0]], "<f4"), [0, 128, 255]),
        ("F", np.array([[0.0, 0.25, 0.5]], "<f4"), [0, 64, 128]),  # [0, 1]: not stretched
    ],
)
def test_high_depth_tiff_modes(tmp_path, mode, values, expected):
    path = _save_mode(tmp_path / "deep.tif", mode, values)
    with Image.open(path) as im:
        assert im.mode == mode
    rgb = read_image(path)
    assert rgb.shape == (1, 3, 3)
    assert rgb[0, :, 0].tolist() == expected and np.array_equal(rgb[..., 0], rgb[..., 2])


def test_bilevel_and_gray_alpha_modes(tmp_path):
    bilevel = Image.new("1", (4, 2), 0)
    bilevel.putpixel((3, 1), 1)
    bilevel.save(tmp_path / "b.png")
    assert read_image(tmp_path / "b.png")[..., 1].tolist() == [[0, 0, 0, 0], [0, 0, 0, 255]]
    Image.new("LA", (2, 2), (200, 51)).save(tmp_path / "la.png")
    assert np.all(read_image(tmp_path / "la.png") == 40)  # 200 * 51 / 255


def test_truncated_files_are_not_silently_padded(cases):
    assert ImageFile.LOAD_TRUNCATED_IMAGES is False
    for name in ("truncated-png", "truncated-jpg"):
        with pytest.raises(ImageReadError, match="truncated") as info:
            read_image(cases[name].path)
        assert info.value.kind == "corrupt"


def test_max_pixels_is_ours_in_both_directions(cases):
    small = cases[f"good-{corpus.CLOVER}-0"].path  # 32x24 = 768 px
    for fn in (read_image, probe_image):
        with pytest.raises(ImageReadError, match="32x24") as info:
            fn(small, max_pixels=767)
        assert info.value.kind == "too-large"
    assert read_image(small, max_pixels=768).shape == (24, 32, 3)
    # Above Pillow's own hard limit a caller may still allow more (header only here).
    huge = probe_image(cases["huge-20000"].path, max_pixels=10**9)
    assert (huge.width, huge.height) == (corpus.HUGE_SIDE, corpus.HUGE_SIDE)
    assert 170_000_000 < MAX_PIXELS < 190_000_000


def test_thumbnail_bounds_and_aspect(tmp_path):
    yy, xx = np.mgrid[0:600, 0:800]
    smooth = np.dstack([xx * 255 // 800, yy * 255 // 600, (xx + yy) % 256]).astype(np.uint8)
    Image.fromarray(smooth).save(tmp_path / "big.jpg", quality=95)
    thumb = read_thumbnail(tmp_path / "big.jpg", 100)
    assert thumb.shape == (75, 100, 3) and thumb.dtype == np.uint8 and thumb.flags.c_contiguous
    full = np.asarray(Image.fromarray(read_image(tmp_path / "big.jpg")).resize((100, 75)))
    assert np.abs(thumb[..., :2].astype(int) - full[..., :2]).mean() < 4
    Image.fromarray(smooth[:50, :30]).save(tmp_path / "small.png")
    assert np.array_equal(read_thumbnail(tmp_path / "small.png", 100), smooth[:50, :30])
    with pytest.raises(ValueError):
        read_thumbnail(tmp_path / "small.png", 0)


def test_downscale_bounds_the_longest_side_and_keeps_the_channel_axis() -> None:
    gray = np.zeros((300, 120, 1), np.uint8)
    assert downscale(gray, 100).shape == (100, 40, 1)
    small = np.zeros((50, 30, 3), np.uint8)
    assert downscale(small, 100) is small  # already fits: the same array, not a copy


def test_thumbnail_uses_jpeg_draft(tmp_path, monkeypatch):
    Image.new("RGB", (640, 480), (10, 20, 30)).save(tmp_path / "a.jpg")
    calls = []
    original = JpegImagePlugin.JpegImageFile.draft

    def spy(self, mode, size):
        result = original(self, mode, size)
        calls.append((size, self.size))
        return result

    monkeypatch.setattr(JpegImagePlugin.JpegImageFile, "draft", spy)
    assert read_thumbnail(tmp_path / "a.jpg", 64).shape == (48, 64, 3)
    assert calls == [((64, 64), (160, 120))]  # libjpeg decoded at 1/4 scale, not 640x480


def test_thumbnail_keeps_modes_and_orientation(cases):
    rotated = read_thumbnail(cases["exif-rotated-6"].path, 24)
    assert rotated.shape == (24, 16, 3)
    assert rotated[2, -3, 0] > 200  # red corner still top-right
    cmyk = read_thumbnail(cases["cmyk-jpeg"].path, 8).astype(int)
    assert cmyk.shape == (8, 8, 3) and cmyk[..., 0].min() > 200 and cmyk[..., 1].max() < 60


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_fifo_swapped_in_after_the_stat_check_does_not_block(tmp_path, monkeypatch):
    os.mkfifo(tmp_path / "late.png")
    Image.new("RGB", (2, 2)).save(tmp_path / "ok.png")
    real_stat = Path.stat
    monkeypatch.setattr(  # the FIFO "appears" after the stat saw a regular file
        Path, "stat", lambda self, **kw: real_stat(self.with_name("ok.png"), **kw)
    )
    assert _outcome(read_image, tmp_path / "late.png") == "not-a-file"


def test_reading_never_modifies_the_corpus(cases):
    root = cases["empty-class"].path.parent
    before = tree_digest(root)
    for case in cases.values():
        for fn, args in ((read_image, ()), (probe_image, ()), (read_thumbnail, (8,))):
            _outcome(fn, case.path, *args)
    assert tree_digest(root) == before


def test_tree_digest_sees_bytes_modes_and_links(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "f.bin").write_bytes(b"abc")
    digests = {tree_digest(tmp_path)}
    (tmp_path / "a" / "f.bin").write_bytes(b"abd")
    digests.add(tree_digest(tmp_path))
    os.chmod(tmp_path / "a" / "f.bin", 0o600)
    digests.add(tree_digest(tmp_path))
    (tmp_path / "a" / "empty").mkdir()
    digests.add(tree_digest(tmp_path))
    if hasattr(os, "symlink"):
        os.symlink("f.bin", tmp_path / "a" / "link")
        digests.add(tree_digest(tmp_path))
        os.remove(tmp_path / "a" / "link")
        os.symlink("empty", tmp_path / "a" / "link")
        digests.add(tree_digest(tmp_path))
    assert len(digests) == (6 if hasattr(os, "symlink") else 4)
    assert tree_digest(tmp_path) == tree_digest(tmp_path)


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX permissions")
def test_unreadable_file_raises_unreadable(tmp_path):
    path = tmp_path / "Shepherd’s Purse" / "locked.png"
    path.parent.mkdir()
    Image.new("RGB", (4, 4)).save(path)
    make_unreadable(path)
    probe = run_without_read_permission(
        "import sys\ntry:\n    open(sys.argv[1], 'rb')\nexcept PermissionError:\n"
        "    print('denied')\nelse:\n    print('read')",
        str(path),
    )
    assert probe.stdout.strip() == "denied", probe.stderr
    code = (
        "import sys\nfrom filterscope.core.data.images import ImageReadError, read_image, probe_image\n"
        "for fn in (read_image, probe_image):\n"
        "    try:\n        fn(sys.argv[1])\n    except ImageReadError as e:\n"
        "        print(e.kind, '|', e.reason)\n"
    )
    result = run_without_read_permission(code, str(path))
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["unreadable | permission denied"] * 2


@pytest.mark.parametrize(
    ("array", "expected"),
    [
        (np.array([[0, 128]], np.uint8), [[0, 0, 0], [128, 128, 128]]),
        (np.array([[[7], [9]]], np.uint8), [[7, 7, 7], [9, 9, 9]]),
        (np.array([[[65535, 256, 255]]], np.uint16), [[255, 1, 0]]),
        (np.array([[0.0, 0.5]], np.float32), [[0, 0, 0], [128, 128, 128]]),
        (np.array([[-2.0, 2.0, np.nan]]), [[0, 0, 0], [255, 255, 255], [128, 128, 128]]),
        (np.array([[False, True]]), [[0, 0, 0], [255, 255, 255]]),
        (np.array([[3, 250]], np.int64), [[3, 3, 3], [250, 250, 250]]),
        (np.array([[[200, 100, 50, 128], [1, 2, 3, 0]]], np.uint8), [[100, 50, 25], [0, 0, 0]]),
        (np.array([[[200, 255], [200, 0]]], np.uint8), [[200, 200, 200], [0, 0, 0]]),
    ],
)
def test_to_rgb_rules(array, expected):
    rgb = to_rgb(array)
    assert rgb.dtype == np.uint8 and rgb.flags.c_contiguous
    assert rgb.reshape(-1, 3).tolist() == np.array(expected).reshape(-1, 3).tolist()


def test_to_rgb_copies_and_rejects_bad_shapes():
    source = np.zeros((4, 6, 3), np.uint8)
    view = source.transpose(1, 0, 2)
    rgb = to_rgb(view)
    assert rgb.flags.c_contiguous and rgb.shape == (6, 4, 3)
    rgb[...] = 9
    assert source.max() == 0
    for bad in (np.zeros((2, 2, 5)), np.zeros(4), np.zeros((1, 2, 2, 3))):
        with pytest.raises(ValueError):
            to_rgb(bad)


def test_suffixes_are_lower_case_and_readable():
    assert {".png", ".jpg", ".jpeg", ".tif", ".tiff", ".webp", ".pbm"} <= IMAGE_SUFFIXES
    assert all(s == s.lower() and s.startswith(".") for s in IMAGE_SUFFIXES)
    registered = Image.registered_extensions()
    assert all(s in registered for s in IMAGE_SUFFIXES)


def test_core_images_does_not_import_qt():
    # In a fresh interpreter: pytest-qt has already imported PySide6 into this one.
    code = (
        "import sys, filterscope.core.data.images\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('PySide6', 'shiboken6')))"
    )
    desktop = str(Path(__file__).resolve().parents[2] / "desktop")
    env = {**os.environ, "PYTHONPATH": desktop}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"

