"""Augmentation chains: JSON round trips and validation, every augmenter on numpy 2, seeded
previews, the Keras mapping measured with keypoints, and the code view."""

from __future__ import annotations

import json
import threading
from importlib.resources import files
from pathlib import Path

import numpy as np
import pytest
from filterscope.core.augment.build import BatchAugmenter, build_sequential, to_python
from filterscope.core.augment.chain import (
    ALIASES,
    CATALOGUE,
    CHAIN_PRESETS,
    ChainError,
    ChainSpec,
    Step,
    builtin_chain,
    default_params,
    keras_chain,
    load_chain,
    make_step,
)
from filterscope.core.augment.imgaug_compat import imgaug
from filterscope.core.augment.preview import PREVIEW_SIDE, preview
from filterscope.core.base.jobs import Cancelled, NullReport, RecordingReport
from filterscope.core.data.images import read_image
from PIL import Image

from tests.chapter_reference import CHAPTER_KERAS, chapter_sequential

BUILTINS = ("chapter", "keras", "none")


def images(shape: tuple[int, ...], seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, size=shape, dtype=np.uint8)


def run_preview(imgs, spec: ChainSpec, n: int, seed: int) -> list[np.ndarray]:
    return preview(imgs, spec, n, seed, report=NullReport(), cancel=threading.Event())


def one_step(name: str, params: dict | None = None, sometimes: float | None = None) -> ChainSpec:
    step = {"name": name, "params": params or {}, "sometimes": sometimes}
    return ChainSpec.from_json({"steps": [step]})


def random_value(param, rng: np.random.Generator):
    if param.kind == "choice":
        return str(rng.choice(param.choices))
    if param.kind == "bool":
        return bool(rng.integers(2))
    if param.kind in ("prob", "float"):
        return float(rng.uniform(param.low, param.high))
    if param.kind == "int_range":
        return sorted(int(v) for v in rng.integers(int(param.low), int(param.high) + 1, size=2))
    return sorted(float(v) for v in rng.uniform(param.low, param.high, size=2))


def random_spec(rng: np.random.Generator) -> dict:
    steps = []
    for name in rng.choice(sorted(CATALOGUE), size=int(rng.integers(1, 7))):
        params = {p.name: random_value(p, rng) for p in CATALOGUE[name] if rng.random() < 0.7}
        sometimes = None if rng.random() < 0.5 else float(rng.uniform(0, 1))
        steps.append({"name": str(name), "params": params, "sometimes": sometimes,
                      "enabled": bool(rng.random() < 0.8)})
    return {"version": 1, "name": f"random {rng.integers(1000)}", "random_order": bool(rng.integers(2)),
            "steps": steps}


def round_trip(spec: ChainSpec) -> ChainSpec:
    return ChainSpec.from_json(json.loads(json.dumps(spec.to_json())))


# --- JSON round trips -------------------------------------------------------------------------

@pytest.mark.parametrize("name", BUILTINS)
def test_builtin_presets_round_trip_and_are_stored_canonically(name: str) -> None:
    spec = builtin_chain(name)
    assert round_trip(spec) == spec
    stored = json.loads((files("filterscope.resources") / "presets" / "augment" / f"{name}.json")
                        .read_text(encoding="utf-8"))
    assert stored == spec.to_json()


@pytest.mark.parametrize("name", sorted(CATALOGUE))
def test_every_catalogue_augmenter_round_trips_with_its_defaults(name: str) -> None:
    spec = one_step(name)
    (step,) = spec.steps
    assert step == Step(name, default_params(name))
    assert round_trip(spec) == spec
    for param in CATALOGUE[name]:  # the defaults themselves pass validation
        assert one_step(name, {param.name: param.default}).steps[0].params == default_params(name)


@pytest.mark.parametrize("seed", range(20))
def test_random_valid_spec_round_trips(seed: int) -> None:
    raw = random_spec(np.random.default_rng(seed))
    spec = ChainSpec.from_json(raw)
    assert spec.to_json() == raw | {"steps": [s | {"params": default_params(s["name"]) | s["params"]}
                                              for s in raw["steps"]]}
    assert round_trip(spec) == spec


def test_a_saved_chain_file_loads_back(tmp_path: Path) -> None:
    spec = ChainSpec.from_json(random_spec(np.random.default_rng(99)))
    path = tmp_path / "chain ✓.json"
    path.write_text(json.dumps(spec.to_json()), encoding="utf-8")
    assert load_chain(path) == spec


# --- validation --------------------------------------------------------------------------------

GOOD = {"name": "Fliplr", "params": {"p": 0.5}}
BAD_STEPS = {
    "unknown augmenter": ({"name": "Blur"}, "step 2 (Blur): unknown augmenter"),
    "negative probability": ({"name": "Fliplr", "params": {"p": -0.1}}, "step 2 (Fliplr): p"),
    "probability above 1": ({"name": "Flipud", "params": {"p": 1.5}}, "step 2 (Flipud): p"),
    "inverted range": ({"name": "Crop", "params": {"percent": [0.1, 0.0]}},
                       "step 2 (Crop): percent range is inverted"),
    "range out of bounds": ({"name": "Affine", "params": {"rotate": [-200, 0]}},
                            "step 2 (Affine): rotate"),
    "string for a range": ({"name": "GaussianBlur", "params": {"sigma": "0.5"}},
                           "step 2 (GaussianBlur): sigma"),
    "number for a range": ({"name": "GaussianBlur", "params": {"sigma": 0.5}},
                           "step 2 (GaussianBlur): sigma"),
    "three numbers for a range": ({"name": "Multiply", "params": {"mul": [0.8, 1, 1.2]}},
                                  "step 2 (Multiply): mul"),
    "fraction for an integer range": ({"name": "MotionBlur", "params": {"k": [3, 4.5]}},
                                      "step 2 (MotionBlur): k"),
    "bool for a probability": ({"name": "Fliplr", "params": {"p": True}}, "step 2 (Fliplr): p"),
    "unknown fill mode": ({"name": "Affine", "params": {"mode": "nearest"}},
                          "step 2 (Affine): mode"),
    "unknown parameter": ({"name": "Fliplr", "params": {"q": 0.5}},
                          "step 2 (Fliplr): unknown parameter(s) q"),
    "params not an object": ({"name": "Fliplr", "params": [0.5]}, "step 2 (Fliplr): params"),
    "sometimes above 1": ({"name": "Fliplr", "sometimes": 1.5}, "step 2 (Fliplr): sometimes"),
    "negative sometimes": ({"name": "Fliplr", "sometimes": -0.5}, "step 2 (Fliplr): sometimes"),
    "text sometimes": ({"name": "Fliplr", "sometimes": "often"}, "step 2 (Fliplr): sometimes"),
    "bool sometimes": ({"name": "Fliplr", "sometimes": True}, "step 2 (Fliplr): sometimes"),
    "enabled not a bool": ({"name": "Fliplr", "enabled": "yes"}, "step 2 (Fliplr): enabled"),
    "unknown step field": ({"name": "Fliplr", "prob": 1}, "step 2 (Fliplr): unknown field"),
    "no name": ({"params": {}}, "step 2: needs a 'name'"),
    "not an object": ("Fliplr", "step 2: needs a 'name'"),
}


@pytest.mark.parametrize("bad, message", BAD_STEPS.values(), ids=BAD_STEPS.keys())
def test_a_bad_step_is_named_in_the_error(bad, message: str) -> None:
    with pytest.raises(ChainError) as info:
        ChainSpec.from_json({"steps": [GOOD, bad, GOOD]})
    assert message in str(info.value)
    assert "\n" not in str(info.value)


BAD_CHAINS = {
    "newer version": ({"version": 2, "steps": []}, "newer"),
    "version not a number": ({"version": "1", "steps": []}, "version"),
    "steps not a list": ({"steps": {"name": "Fliplr"}}, "steps must be a list"),
    "steps a string": ({"steps": "Fliplr"}, "steps must be a list"),
    "random_order not a bool": ({"steps": [], "random_order": 1}, "random_order"),
    "unknown field": ({"steps": [], "seed": 3}, "unknown field(s) seed"),
    "not an object": ([GOOD], "JSON object"),
}


@pytest.mark.parametrize("bad, message", BAD_CHAINS.values(), ids=BAD_CHAINS.keys())
def test_a_bad_chain_says_what_is_wrong(bad, message: str) -> None:
    with pytest.raises(ChainError) as info:
        ChainSpec.from_json(bad)
    assert message in str(info.value)


def test_a_bad_chain_file_names_the_file_and_the_step(tmp_path: Path) -> None:
    path = tmp_path / "mine.json"
    path.write_text(json.dumps({"steps": [GOOD, {"name": "Crop", "params": {"percent": [0.3, 0.1]}}]}))
    with pytest.raises(ChainError) as info:
        load_chain(path)
    assert str(path) in str(info.value) and "step 2 (Crop): percent" in str(info.value)
    for content in (b"{not json", b"\xff\xfe\x00garbage"):
        path.write_bytes(content)
        with pytest.raises(ChainError, match="cannot read the chain"):
            load_chain(path)
    with pytest.raises(ChainError, match="cannot read the chain"):
        load_chain(tmp_path / "missing.json")


def test_unknown_builtin_chain_lists_the_known_ones() -> None:
    with pytest.raises(ChainError, match="chapter, keras, photos, upright, none"):
        builtin_chain("imgaug")
    with pytest.raises(ChainError, match="no built-in chain called '../mask/chapter'"):
        builtin_chain("../mask/chapter")  # a name, never a path into the presets


def test_every_builtin_chain_builds_and_keeps_shapes() -> None:
    images = np.random.default_rng(0).integers(0, 256, (4, 40, 30, 3), dtype=np.uint8)
    for name in CHAIN_PRESETS:
        chain = builtin_chain(name)
        out = BatchAugmenter(chain, 0)(images)
        assert out.shape == images.shape and out.dtype == np.uint8, name
    photos = builtin_chain("photos")
    assert [s.name for s in photos.steps] == ["Fliplr", "Flipud", "Affine"]


def test_the_upright_chain_never_turns_a_photo_upside_down() -> None:
    """A car photo stays a car photo: no up-down flip, small turns only, and a photo whose top
    half is bright keeps its top brighter than its bottom in every augmented copy."""
    chain = builtin_chain("upright")
    assert "Flipud" not in [s.name for s in chain.steps]
    (affine,) = [s for s in chain.steps if s.name == "Affine"]
    assert max(abs(a) for a in affine.params["rotate"]) <= 15
    sky = np.zeros((16, 64, 48, 3), dtype=np.uint8)
    sky[:, :32] = 220  # bright top half
    out = BatchAugmenter(chain, 3)(sky).astype(float)
    assert (out[:, :24].mean(axis=(1, 2, 3)) > out[:, 40:].mean(axis=(1, 2, 3)) + 100).all()
    flipped = BatchAugmenter(builtin_chain("photos"), 3)(sky).astype(float)
    assert (flipped[:, :24].mean(axis=(1, 2, 3)) < flipped[:, 40:].mean(axis=(1, 2, 3))).any()


def test_contrast_normalization_loads_as_linear_contrast(tmp_path: Path) -> None:
    assert ALIASES["ContrastNormalization"] == "LinearContrast"
    spec = ChainSpec.from_json({"steps": [{"name": "ContrastNormalization",
                                           "params": {"alpha": [0.75, 1.5]}}]})
    assert spec.steps[0] == Step("LinearContrast", {"alpha": [0.75, 1.5]})
    assert spec.to_json()["steps"][0]["name"] == "LinearContrast"
    assert "iaa.LinearContrast(alpha=(0.75, 1.5))" in to_python(spec)
    out = BatchAugmenter(spec, 1)(images((2, 32, 32, 3)))
    assert out.shape == (2, 32, 32, 3) and out.dtype == np.uint8
    with pytest.raises(ChainError, match=r"step 1 \(ContrastNormalization\): alpha"):
        ChainSpec.from_json({"steps": [{"name": "ContrastNormalization", "params": {"alpha": 2}}]})


# --- every augmenter runs on numpy 2 ------------------------------------------------------------

@pytest.mark.parametrize("sometimes", [None, 0.5], ids=["always", "sometimes"])
@pytest.mark.parametrize("shape", [(4, 64, 64, 3), (1, 150, 150, 3)], ids=["4x64", "1x150"])
@pytest.mark.parametrize("name", sorted(CATALOGUE))
def test_every_augmenter_runs_on_uint8_batches(name: str, shape, sometimes) -> None:
    batch = images(shape)
    before = batch.copy()
    out = BatchAugmenter(one_step(name, sometimes=sometimes), seed=3)(batch)
    assert isinstance(out, np.ndarray)
    assert out.dtype == np.uint8 and out.shape == shape
    assert np.array_equal(batch, before), "the input batch was modified"


@pytest.mark.parametrize("name", sorted(CATALOGUE))
def test_every_augmenter_runs_at_the_ends_of_its_ranges(name: str) -> None:
    """What the editor's sliders can reach, including a range collapsed to one value."""
    batch = images((2, 40, 56, 3), seed=1)
    for param in CATALOGUE[name]:
        if param.kind == "choice":
            values = list(param.choices)
        elif param.kind in ("prob", "float"):
            values = [param.low, param.high]
        else:
            cast = int if param.kind == "int_range" else float
            low, high = cast(param.low), cast(param.high)
            values = [[low, low], [high, high], [low, high]]
        for value in values:
            out = BatchAugmenter(one_step(name, {param.name: value}), seed=2)(batch)
            assert out.dtype == np.uint8 and out.shape == batch.shape, (param.name, value)


@pytest.mark.parametrize("name", sorted(CATALOGUE))
def test_sometimes_zero_never_applies_the_step(name: str) -> None:
    batch = images((3, 32, 48, 3))
    assert np.array_equal(BatchAugmenter(one_step(name, sometimes=0.0), seed=4)(batch), batch)


def test_disabled_steps_are_left_out() -> None:
    spec = ChainSpec.from_json({"steps": [{"name": "Fliplr", "params": {"p": 1.0}, "enabled": False},
                                          {"name": "Flipud", "params": {"p": 1.0}}]})
    assert len(build_sequential(spec)) == 1
    batch = images((2, 20, 30, 3))
    assert np.array_equal(BatchAugmenter(spec, 0)(batch), batch[:, ::-1])
    assert "    # (off) iaa.Fliplr(p=1.0)," in to_python(spec)


def test_empty_batch_and_empty_chain() -> None:
    empty = np.zeros((0, 10, 10, 3), np.uint8)
    assert BatchAugmenter(builtin_chain("chapter"), 0)(empty).shape == (0, 10, 10, 3)
    batch = images((3, 16, 16, 3))
    assert np.array_equal(BatchAugmenter(builtin_chain("none"), 0)(batch), batch)


# --- the chapter's chain, seeds ------------------------------------------------------------------

def test_the_chapter_preset_is_the_chapters_chain_pixel_for_pixel() -> None:
    batch = images((6, 48, 40, 3))
    reference = chapter_sequential()
    reference.seed_(11)
    assert np.array_equal(BatchAugmenter(builtin_chain("chapter"), 11)(batch),
                          reference.augment_images(batch))


@pytest.mark.parametrize("name", ["chapter", "keras"])
def test_previews_are_seeded(name: str) -> None:
    spec = builtin_chain(name)
    source = [images((90, 120, 3), seed=5)]
    first = run_preview(source, spec, 8, seed=42)
    again = run_preview(source, spec, 8, seed=42)
    other = run_preview(source, spec, 8, seed=43)
    assert len(first) == 8 and all(a.shape == (90, 120, 3) and a.dtype == np.uint8 for a in first)
    assert all(np.array_equal(a, b) for a, b in zip(first, again))
    assert not all(np.array_equal(a, b) for a, b in zip(first, other))
    assert len({a.tobytes() for a in first}) > 1, "all eight previews are the same image"


def test_a_batch_augmenter_draws_fresh_randomness_for_every_batch() -> None:
    """Training calls one BatchAugmenter per epoch after epoch: each batch must differ."""
    batch = images((4, 40, 40, 3))
    augmenter = BatchAugmenter(builtin_chain("chapter"), seed=1)
    first, second = augmenter(batch), augmenter(batch)
    assert not np.array_equal(first, second)
    assert np.array_equal(BatchAugmenter(builtin_chain("chapter"), seed=1)(batch), first)


def test_preview_cycles_several_images_at_the_first_ones_size() -> None:
    a, b = images((60, 80, 3), 1), images((30, 50, 3), 2)
    out = run_preview([a, b], builtin_chain("none"), 5, seed=0)
    assert [o.shape for o in out] == [(60, 80, 3)] * 5
    assert np.array_equal(out[0], a) and np.array_equal(out[2], a) and np.array_equal(out[4], a)
    assert np.array_equal(out[1], out[3]) and not np.array_equal(out[1], a)


def test_preview_reports_and_cancels() -> None:
    report = RecordingReport()
    preview([images((20, 20, 3))], builtin_chain("chapter"), 2, 0, report=report,
            cancel=threading.Event())
    assert report.progress_calls
    cancel = threading.Event()
    cancel.set()
    with pytest.raises(Cancelled):
        preview([images((20, 20, 3))], builtin_chain("chapter"), 2, 0, report=NullReport(),
                cancel=cancel)


def test_a_huge_image_is_previewed_downscaled() -> None:
    photo = np.zeros((3000, 4000, 3), np.uint8)
    photo[:, 2000:] = 200
    out = run_preview([photo], builtin_chain("keras"), 4, seed=0)
    assert all(o.shape == (192, PREVIEW_SIDE, 3) and o.dtype == np.uint8 for o in out)


@pytest.mark.parametrize("mode, array", [
    ("L", np.tile(np.arange(0, 250, 5, dtype=np.uint8), (40, 1))),
    ("RGBA", np.dstack([images((40, 50, 3)), np.full((40, 50), 128, np.uint8)])),
    ("I;16", np.tile(np.arange(0, 65000, 1300, dtype=np.uint16), (40, 1))),
], ids=["grayscale", "rgba", "16-bit"])
def test_read_image_then_preview(tmp_path: Path, mode: str, array: np.ndarray) -> None:
    path = tmp_path / "img ✓.png"
    saved = Image.fromarray(array)
    assert saved.mode == mode
    saved.save(path)
    rgb = read_image(path)
    assert rgb.shape == (40, 50, 3) and rgb.dtype == np.uint8
    for name in BUILTINS:
        out = run_preview([rgb], builtin_chain(name), 4, seed=1)
        assert all(o.shape == (40, 50, 3) and o.dtype == np.uint8 for o in out)


# --- the Keras ImageDataGenerator mapping --------------------------------------------------------

def test_the_keras_preset_is_the_chapters_generator() -> None:
    assert builtin_chain("keras").steps == keras_chain(**CHAPTER_KERAS).steps


@pytest.mark.parametrize("fill_mode, mode", [("nearest", "edge"), ("reflect", "symmetric"),
                                             ("wrap", "wrap"), ("constant", "constant")])
def test_keras_fill_modes(fill_mode: str, mode: str) -> None:
    spec = keras_chain(width_shift_range=0.3, fill_mode=fill_mode)
    assert spec.steps[0].params["mode"] == mode
    flat = np.full((8, 30, 40, 3), 200, np.uint8)  # shifted: only the fill can bring other values
    out = BatchAugmenter(spec, 0)(flat)
    assert (out == 0).any() if fill_mode == "constant" else (out == 200).all()


def test_keras_chain_arguments() -> None:
    assert [s.name for s in keras_chain().steps] == ["Affine"]
    assert [s.name for s in keras_chain(horizontal_flip=True, vertical_flip=True).steps] == [
        "Affine", "Fliplr", "Flipud"]
    params = keras_chain(rotation_range=30, width_shift_range=0.1, height_shift_range=0.25,
                         shear_range=5, zoom_range=0.2).steps[0].params
    assert params == {"rotate": [-30.0, 30.0], "translate_x": [-0.1, 0.1],
                      "translate_y": [-0.25, 0.25], "shear": [-5.0, 5.0], "scale": [0.8, 1.2],
                      "mode": "edge"}
    with pytest.raises(ChainError, match="fill_mode"):
        keras_chain(fill_mode="mirror")
    with pytest.raises(ChainError, match=r"step 1 \(Affine\): rotate"):
        keras_chain(rotation_range=270)
    identity = images((2, 24, 24, 3))
    assert np.array_equal(BatchAugmenter(keras_chain(), 0)(identity), identity)


def keypoint_frames(spec: ChainSpec, seed: int, n: int = 200, height: int = 60, width: int = 100):
    """Each image's centre and unit x/y vectors after the chain, from one deterministic call."""
    cx, cy = width / 2, height / 2
    points = [imgaug.Keypoint(cx, cy), imgaug.Keypoint(cx + 10, cy), imgaug.Keypoint(cx, cy + 10)]
    keypoints = [imgaug.KeypointsOnImage(points, shape=(height, width, 3)) for _ in range(n)]
    batch = np.zeros((n, height, width, 3), np.uint8)
    seq = build_sequential(spec, seed).to_deterministic()
    out_images = seq.augment_images(batch)
    out_keypoints = seq.augment_keypoints(keypoints)
    assert out_images.shape == batch.shape
    for kps in out_keypoints:
        centre, x_end, y_end = (np.array([p.x, p.y], dtype=float) for p in kps.keypoints)
        yield centre, (x_end - centre) / 10, (y_end - centre) / 10


def test_keras_rotation_shift_and_zoom_stay_within_range() -> None:
    """The chapter's generator (rotation 90, shifts 0.2, shear 0.2 degrees, zoom 0.1, flips),
    measured on keypoints moved by the same deterministic augmenter as the images."""
    height, width = 60, 100
    angles, shifts_x, shifts_y, scales, flips = [], [], [], [], 0
    for centre, ux, uy in keypoint_frames(builtin_chain("keras"), seed=7, height=height, width=width):
        if ux[0] * uy[1] - ux[1] * uy[0] < 0:  # Fliplr after the Affine: undo the mirror
            flips += 1
            ux, centre = ux * [-1, 1], [width - centre[0], centre[1]]
        angles.append(np.degrees(np.arctan2(ux[1], ux[0])))
        shifts_x.append(centre[0] / width - 0.5)
        shifts_y.append(centre[1] / height - 0.5)
        scales.append(np.hypot(*ux))
    assert max(abs(a) for a in angles) <= 90 + 0.2 + 1e-3
    assert min(angles) < -60 and max(angles) > 60
    assert max(abs(s) for s in shifts_x) <= 0.2 + 1e-3 and max(abs(s) for s in shifts_y) <= 0.2 + 1e-3
    assert min(shifts_x) < -0.1 and max(shifts_x) > 0.1
    assert 0.9 - 1e-3 <= min(scales) and max(scales) <= 1.1 + 1e-3
    assert 60 <= flips <= 140


def test_a_pure_rotation_keeps_its_range_exactly() -> None:
    angles = [np.degrees(np.arctan2(ux[1], ux[0]))
              for _, ux, _ in keypoint_frames(keras_chain(rotation_range=30), seed=3)]
    assert max(abs(a) for a in angles) <= 30 + 1e-3
    assert min(angles) < -20 and max(angles) > 20


# --- the code view ---------------------------------------------------------------------------------

CODE_SPECS = {
    **{name: builtin_chain(name) for name in BUILTINS},
    "every augmenter": ChainSpec.from_json({"random_order": True, "steps": [
        {"name": name, "sometimes": 0.5 if i % 2 else None, "enabled": i % 5 != 0}
        for i, name in enumerate(sorted(CATALOGUE))]}),
    "degenerate ranges": keras_chain(rotation_range=0, horizontal_flip=True),
    **{f"random {seed}": ChainSpec.from_json(random_spec(np.random.default_rng(seed)))
       for seed in range(5)},
}


@pytest.mark.parametrize("spec", CODE_SPECS.values(), ids=CODE_SPECS.keys())
def test_to_python_is_code_that_runs_the_same_chain(spec: ChainSpec) -> None:
    code = to_python(spec)
    compile(code, "<chain>", "exec")
    batch = images((3, 48, 64, 3))
    namespace: dict = {"images": batch}
    exec(code, namespace)  # imports imgaug.augmenters: already loaded through the numpy-2 shim
    assert namespace["augmented"].shape == batch.shape
    assert namespace["augmented"].dtype == np.uint8
    seq = namespace["seq"]
    seq.seed_(21)
    assert np.array_equal(seq(images=batch), BatchAugmenter(spec, 21)(batch))


def test_a_gray_preview_stays_gray_as_a_one_channel_model_is_fed() -> None:
    """Digits are shown as a one-channel model sees them: the chapter chain's per-channel Multiply
    and a hue step change their brightness, never tint them pink."""
    rng = np.random.default_rng(4)
    digit = np.repeat(rng.integers(0, 256, (28, 28, 1), dtype=np.uint8), 3, axis=2)  # RGB copy
    chain = builtin_chain("chapter")
    hue = ChainSpec(steps=(*chain.steps, make_step(0, {"name": "AddToHueAndSaturation"})))
    for spec in (chain, hue):
        out = preview([digit], spec, 6, 0, gray=True, report=NullReport(), cancel=threading.Event())
        assert all(o.shape == (28, 28, 1) and o.dtype == np.uint8 for o in out)
        colour = preview([digit], spec, 6, 0, report=NullReport(), cancel=threading.Event())
        assert any(np.ptp(o.astype(int), axis=2).max() > 0 for o in colour)  # tinted in RGB
    batch = BatchAugmenter(hue, 1)(digit[None, ..., :1].repeat(4, axis=0))
    assert batch.shape == (4, 28, 28, 1)
