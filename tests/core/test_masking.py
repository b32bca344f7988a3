"""Tests for filterscope.core.masking.colordist: the chapter's colour-distance mask, exact and fast."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np
import pytest
from filterscope.core.data.images import read_image
from filterscope.core.masking.colordist import (
    CHAPTER_TARGETS,
    MAX_MEDIAN,
    OUTPUTS,
    MaskParams,
    MaskParamsError,
    MaskSession,
    Target,
    apply_mask,
    builtin_preset,
    clean_mask,
    colordist,
    delta_e,
    lab_image,
    load_params,
    make_mask,
    picked_colour,
)
from PIL import Image

from tests.chapter_reference import chapter_colordist, chapter_path
from tests.photos import leaf_and_soil, smooth_photo

LEAF = (71, 86, 38)


def leafy_image(rng: np.random.Generator, h: int = 120, w: int = 160) -> np.ndarray:
    """Smooth greens and browns with noise: a photo-like mix of kept and removed pixels."""
    return smooth_photo(rng, leaf_and_soil(rng, 6, 8, jitter=25), h, w, noise=12)


def pixel(rgb: tuple[int, int, int]) -> np.ndarray:
    return np.array([[rgb]], np.uint8)


# --- colordist --------------------------------------------------------------------------------


def test_colordist_hand_computed_far_pixel() -> None:
    # Pixel (100, 50, 200) against the leaf green (71, 86, 38):
    #   rmean = int((100 + 71) / 2) = int(85.5) = 85             (truncated, not rounded to 86)
    #   red   = ((512 + 85) * 29**2) >> 8 = (597 * 841) >> 8 = 502077 >> 8 = 1961  (1961.24)
    #   green = 4 * 36**2 = 4 * 1296 = 5184
    #   blue  = ((767 - 85) * 162**2) >> 8 = (682 * 26244) >> 8 = 17898408 >> 8 = 69915 (69915.66)
    #   total = 1961 + 5184 + 69915 = 77060
    assert colordist(pixel((100, 50, 200)), LEAF)[0, 0] == 77060


def test_colordist_hand_computed_near_pixel_truncates() -> None:
    # Pixel (72, 86, 38): rmean = int(143 / 2) = 71; red = (583 * 1) >> 8 = 2 (2.28 truncated);
    # green and blue are 0. Exact arithmetic would give 2.28, so >> 8 decides: 2.
    assert colordist(pixel((72, 86, 38)), LEAF)[0, 0] == 2
    assert colordist(pixel(LEAF), LEAF)[0, 0] == 0


def test_colordist_hand_computed_rmean_rounding_matters() -> None:
    # Pixel (255, 0, 0) against black: rmean = int(127.5) = 127 (rounding would give 128).
    #   red = (639 * 65025) >> 8 = 41550975 >> 8 = 162308 (with 128: 640 * 65025 >> 8 = 162562)
    #   green = 0, blue = ((767 - 127) * 0) >> 8 = 0
    assert colordist(pixel((255, 0, 0)), (0, 0, 0))[0, 0] == 162308
    # And (0, 0, 255): rmean = 0, blue = (767 * 65025) >> 8 = 49874175 >> 8 = 194820 (194820.99)
    assert colordist(pixel((0, 0, 255)), (0, 0, 0))[0, 0] == 194820


@pytest.mark.parametrize("target", [LEAF, (65, 79, 19), (0, 0, 0), (255, 255, 255), (1, 254, 127)])
def test_colordist_equals_chapter_formula_on_random_images(target) -> None:
    rng = np.random.default_rng(sum(target))
    img = rng.integers(0, 256, (97, 131, 3), dtype=np.uint8)
    np.testing.assert_array_equal(colordist(img, target), chapter_colordist(img, target))


def test_colordist_equals_chapter_formula_for_every_red_blue_pair() -> None:
    r, b = np.meshgrid(np.arange(256), np.arange(256), indexing="ij")
    img = np.dstack([r, np.full_like(r, 90), b]).astype(np.uint8)
    for target in CHAPTER_TARGETS:
        np.testing.assert_array_equal(colordist(img, target.rgb), chapter_colordist(img, target.rgb))


# --- clean_mask -------------------------------------------------------------------------------

SHAPES = [(1, 1), (1, 40), (40, 1), (2, 3), (7, 5), (31, 31), (33, 17), (97, 45), (64, 64)]


@pytest.mark.parametrize("size", range(3, MAX_MEDIAN + 1, 2))
def test_clean_mask_equals_cv2_median_blur(size: int) -> None:
    rng = np.random.default_rng(size)
    for shape in SHAPES:
        for density in (0.1, 0.5, 0.9):
            mask = rng.random(shape) < density
            expected = cv2.medianBlur(mask.astype(np.uint8) * 255, size) > 0
            np.testing.assert_array_equal(clean_mask(mask, size), expected, err_msg=f"{shape} {density}")


def test_clean_mask_size_one_is_identity() -> None:
    mask = np.random.default_rng(1).random((9, 9)) < 0.5
    np.testing.assert_array_equal(clean_mask(mask, 1), mask)


# --- the chapter's own output --------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(4))
def test_chapter_preset_output_is_pixel_exact(seed: int) -> None:
    img = leafy_image(np.random.default_rng(seed))
    params = builtin_preset("chapter")
    assert params.output == "chapter"
    result = apply_mask(img, params)
    expected = chapter_path(img)
    assert 0.05 < (chapter_colordist(img, LEAF) <= 1600).mean() < 0.95  # a real mix of both
    np.testing.assert_array_equal(result.image, expected)
    np.testing.assert_array_equal(result.mask, expected.any(axis=2))


def test_chapter_preset_on_real_photos_is_pixel_exact(shared_plants: Path) -> None:
    params = builtin_preset("chapter")
    for path in sorted(shared_plants.glob("*/*.png"))[::8]:
        img = read_image(path)
        np.testing.assert_array_equal(apply_mask(img, params).image, chapter_path(img), err_msg=str(path))


def test_black_output_keeps_pixels_near_any_target() -> None:
    img = leafy_image(np.random.default_rng(7))
    params = MaskParams(median=1)
    near = np.zeros(img.shape[:2], bool)
    for target in CHAPTER_TARGETS:
        near |= chapter_colordist(img, target.rgb) <= target.threshold
    result = apply_mask(img, params)
    np.testing.assert_array_equal(result.mask, near)
    np.testing.assert_array_equal(result.image, np.where(near[..., None], img, 0))
    assert result.kept == pytest.approx(near.mean())


def test_all_combine_needs_every_target() -> None:
    img = leafy_image(np.random.default_rng(8))
    params = MaskParams(median=1, combine="all")
    near = np.ones(img.shape[:2], bool)
    for target in CHAPTER_TARGETS:
        near &= chapter_colordist(img, target.rgb) <= target.threshold
    np.testing.assert_array_equal(make_mask(img, params), near)


def test_output_modes_shapes() -> None:
    img = leafy_image(np.random.default_rng(9))
    shapes = {out: apply_mask(img, MaskParams(output=out)).image for out in OUTPUTS}
    assert shapes["black"].shape == shapes["chapter"].shape == img.shape
    assert shapes["alpha"].shape == img.shape[:2] + (4,)
    assert shapes["mask"].shape == img.shape[:2] and set(np.unique(shapes["mask"])) <= {0, 255}
    mask = apply_mask(img, MaskParams()).mask
    np.testing.assert_array_equal(shapes["alpha"][..., 3] > 0, mask)
    np.testing.assert_array_equal(shapes["alpha"][..., :3], shapes["black"])


@pytest.mark.parametrize("output", OUTPUTS)
def test_all_black_image_is_removed(output: str) -> None:
    # (0, 0, 0) is 27828 from (56, 63, 43), far above 500, and further from the others.
    img = np.zeros((20, 30, 3), np.uint8)
    result = apply_mask(img, replace(builtin_preset("chapter"), output=output))
    assert result.kept == 0.0 and not result.image.any()


@pytest.mark.parametrize("output", OUTPUTS)
def test_all_green_image_is_kept(output: str) -> None:
    img = np.zeros((20, 30, 3), np.uint8)
    img[...] = LEAF
    result = apply_mask(img, replace(builtin_preset("chapter"), output=output))
    assert result.kept == 1.0
    if output in ("black", "chapter"):
        np.testing.assert_array_equal(result.image, img)


# --- inputs through read_image --------------------------------------------------------------------


def test_grayscale_input(tmp_path: Path) -> None:
    # Gray 80 is (80, 80, 80): 5097 from the leaf green, 6199 from (56, 63, 43): all removed.
    path = tmp_path / "gray.png"
    Image.fromarray(np.full((16, 20), 80, np.uint8), "L").save(path)
    img = read_image(path)
    assert img.shape == (16, 20, 3)
    assert apply_mask(img, MaskParams()).kept == 0.0


def test_rgba_input_transparent_half_is_removed(tmp_path: Path) -> None:
    rgba = np.zeros((20, 40, 4), np.uint8)
    rgba[...] = (*LEAF, 255)
    rgba[:, 20:, 3] = 0  # composited over black by read_image, then masked out
    path = tmp_path / "rgba.png"
    Image.fromarray(rgba, "RGBA").save(path)
    result = apply_mask(read_image(path), MaskParams(median=1))
    assert result.mask[:, :20].all() and not result.mask[:, 20:].any()


def test_16_bit_input_is_masked_on_its_top_byte(tmp_path: Path) -> None:
    bgr16 = np.zeros((12, 12, 3), np.uint16)
    bgr16[...] = [c * 257 for c in LEAF[::-1]]  # 16-bit leaf green: >> 8 gives (71, 86, 38)
    bgr16[:, 6:] = 65535
    path = tmp_path / "leaf16.png"
    ok, data = cv2.imencode(".png", bgr16)
    assert ok
    path.write_bytes(data.tobytes())
    img = read_image(path)
    assert img.dtype == np.uint8 and tuple(img[0, 0]) == LEAF
    mask = make_mask(img, MaskParams(median=1))
    assert mask[:, :6].all() and not mask[:, 6:].any()


# --- CIELAB -----------------------------------------------------------------------------------


def test_cielab_distance_sanity() -> None:
    img = np.array([[LEAF, (255, 0, 255), (72, 86, 38)]], np.uint8)
    lab = lab_image(img)
    d = delta_e(lab, LEAF)
    assert d[0, 0] == pytest.approx(0.0, abs=1e-4)
    assert d[0, 1] > 80  # magenta is very far from a leaf green
    assert 0 < d[0, 2] < 1.5  # one red level away: below a just-noticeable difference
    params = MaskParams(targets=(Target(LEAF, 10.0),), distance="cielab", median=1)
    np.testing.assert_array_equal(make_mask(img, params), [[True, False, True]])


# --- the session cache ------------------------------------------------------------------------------


@pytest.mark.parametrize("distance", ["redmean", "cielab"])
def test_session_cache_matches_a_fresh_session(distance: str) -> None:
    img = leafy_image(np.random.default_rng(11))
    scale = 1.0 if distance == "redmean" else 0.02
    params = MaskParams(targets=tuple(replace(t, threshold=t.threshold * scale) for t in CHAPTER_TARGETS),
                        distance=distance)
    session = MaskSession(img)
    session.render(params)
    for index, factor in ((0, 2.0), (0, 0.5), (3, 3.0), (1, 0.1)):
        params = params.with_target(index, threshold=params.targets[index].threshold * factor)
        for output in OUTPUTS:
            cached = session.render(replace(params, output=output))
            fresh = MaskSession(img).render(replace(params, output=output))
            np.testing.assert_array_equal(cached.image, fresh.image)
            np.testing.assert_array_equal(cached.mask, fresh.mask)
    moved = params.with_target(2, rgb=(10, 200, 10))
    np.testing.assert_array_equal(session.render(moved).image, MaskSession(img).render(moved).image)


# --- MaskParams JSON ----------------------------------------------------------------------------


def test_params_json_round_trip(tmp_path: Path) -> None:
    params = MaskParams(targets=(Target((1, 2, 3), 10.0), Target((200, 100, 0), 55.5)),
                        distance="cielab", median=15, combine="all", output="alpha", name="mine")
    assert MaskParams.from_json(json.loads(json.dumps(params.to_json()))) == params
    path = tmp_path / "p.json"
    path.write_text(json.dumps(params.to_json()), encoding="utf-8")
    assert load_params(path) == params
    chapter = builtin_preset("chapter")
    assert chapter.targets == CHAPTER_TARGETS and chapter.median == 9 and chapter.combine == "any"
    assert MaskParams.from_json(chapter.to_json()) == chapter
    assert MaskParams.from_json({}) == MaskParams()


def _with(**changes) -> dict:
    data = builtin_preset("chapter").to_json()
    data.update(changes)
    return data


def _target(rgb, threshold) -> list:
    return [{"rgb": rgb, "threshold": threshold}]


BAD_PARAMS = {
    "unknown field": ({"colour": "green"}, "colour"),
    "bad distance": (_with(distance="hsv"), "distance"),
    "distance wrong type": (_with(distance=5), "distance"),
    "rgb above 255": (_with(targets=_target([256, 0, 0], 10)), "rgb"),
    "rgb negative": (_with(targets=_target([-1, 0, 0], 10)), "rgb"),
    "rgb two values": (_with(targets=_target([1, 2], 10)), "rgb"),
    "rgb floats": (_with(targets=_target([1.5, 2, 3], 10)), "rgb"),
    "rgb text": (_with(targets=_target("green", 10)), "rgb"),
    "rgb booleans": (_with(targets=_target([True, 0, 0], 10)), "rgb"),
    "negative threshold": (_with(targets=_target([1, 2, 3], -1)), "threshold"),
    "huge threshold": (_with(targets=_target([1, 2, 3], 1e12)), "threshold"),
    "huge cielab threshold": (_with(distance="cielab", targets=_target([1, 2, 3], 500)), "threshold"),
    "threshold text": (_with(targets=_target([1, 2, 3], "1600")), "threshold"),
    "threshold NaN": (_with(targets=_target([1, 2, 3], float("nan"))), "threshold"),
    "target missing threshold": (_with(targets=[{"rgb": [1, 2, 3]}]), "threshold"),
    "target extra key": (_with(targets=[{"rgb": [1, 2, 3], "threshold": 5, "x": 1}]), "target 1"),
    "target not an object": (_with(targets=[[1, 2, 3]]), "target 1"),
    "empty targets": (_with(targets=[]), "targets"),
    "targets wrong type": (_with(targets="leaf"), "targets"),
    "even median": (_with(median=8), "median"),
    "zero median": (_with(median=0), "median"),
    "huge median": (_with(median=MAX_MEDIAN + 2), "median"),
    "median text": (_with(median="9"), "median"),
    "median float": (_with(median=9.0), "median"),
    "median boolean": (_with(median=True), "median"),
    "bad combine": (_with(combine="some"), "combine"),
    "combine wrong type": (_with(combine=["any"]), "combine"),
    "bad output": (_with(output="sepia"), "output"),
    "output wrong type": (_with(output=None), "output"),
    "newer version": (_with(version=2), "version"),
    "version text": (_with(version="1"), "version"),
    "version boolean": (_with(version=True), "version"),
    "version zero": (_with(version=0), "version"),
    "name wrong type": (_with(name=["leaf"]), "name"),
    "name null": (_with(name=None), "name"),
    "not an object": ([1, 2, 3], "object"),
}


@pytest.mark.parametrize("case", BAD_PARAMS, ids=list(BAD_PARAMS))
def test_every_validation_error_names_the_field(case: str) -> None:
    data, field_name = BAD_PARAMS[case]
    with pytest.raises(MaskParamsError, match=field_name):
        MaskParams.from_json(data)


@pytest.mark.parametrize("text", ["{not json", "", '{"median": 9,}', "\ufeff\ufeff{}"])
def test_malformed_preset_file_names_the_file(tmp_path: Path, text: str) -> None:
    path = tmp_path / "broken preset.json"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(MaskParamsError, match="broken preset.json"):
        load_params(path)


def test_preset_file_errors_name_file_and_field(tmp_path: Path) -> None:
    path = tmp_path / "p.json"
    path.write_text(json.dumps(_with(median=4)), encoding="utf-8")
    with pytest.raises(MaskParamsError, match=r"p\.json.*median"):
        load_params(path)
    with pytest.raises(MaskParamsError, match="cannot read"):
        load_params(tmp_path / "missing.json")
    with pytest.raises(MaskParamsError, match="no built-in mask preset"):
        builtin_preset("no such preset")


@pytest.mark.parametrize("params", [
    builtin_preset("chapter"),
    replace(builtin_preset("chapter"), combine="all"),
    MaskParams(targets=(Target((200, 30, 90), 7321.5), Target((10, 250, 10), 12.0)), combine="any"),
], ids=["chapter", "chapter-all", "odd-thresholds"])
def test_redmean_colour_table_by_intervals_equals_the_distance(params: MaskParams) -> None:
    from filterscope.core.masking.colordist import _redmean_table, _table_by_sessions

    assert np.array_equal(_redmean_table(params), _table_by_sessions(params))


def test_a_picked_colour_is_the_median_of_the_pixels_around_the_click() -> None:
    img = np.full((5, 5, 3), 100, np.uint8)
    img[2, 2] = (255, 0, 0)  # one noisy pixel under the click
    assert picked_colour(img, 2, 2) == (100, 100, 100)
    assert picked_colour(img, 0, 0) == (100, 100, 100)  # at a corner, only the 2 × 2 pixels inside
