"""The code the tabs show runs and gives the tabs' results: the mask pixel for pixel, the gradient
ascent up to float32 rounding, the evaluation's scores exactly."""

from __future__ import annotations

import runpy
import tempfile
import threading
import warnings
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from filterscope.core.base.jobs import NullReport, never_cancel
from filterscope.core.masking.code import mask_code
from filterscope.core.masking.colordist import MaskSession, Target, apply_mask, builtin_preset
from filterscope.core.training.model_input import PREPROCESSINGS, preprocess, preprocess_code

from tests.results_runs import copy_run, train_run


def _run(code: str, **names: object) -> dict:
    """Run the code from a file, as a learner would paste it into one (AutoGraph reads the
    source of a tf.function from its file), with ``names`` defined first; its globals."""
    with tempfile.TemporaryDirectory() as folder:
        script = Path(folder) / "generated.py"
        script.write_text(code, encoding="utf-8")
        return runpy.run_path(str(script), init_globals=names)


def _photo() -> np.ndarray:
    """Noise with a leaf-green patch near each chapter target (large enough to survive a 31 x 31
    median), so every setting keeps something and removes something."""
    rng = np.random.default_rng(3)
    image = rng.integers(0, 256, (100, 120, 3), dtype=np.uint8)
    for i, target in enumerate(builtin_preset("chapter").targets):
        top, left = 6 + 48 * (i // 2), 6 + 58 * (i % 2)
        patch = np.asarray(target.rgb) + rng.integers(-12, 13, (40, 44, 3))
        image[top:top + 40, left:left + 44] = np.clip(patch, 0, 255)
    return image


@pytest.mark.parametrize("output", ["black", "chapter", "alpha", "mask"])
@pytest.mark.parametrize("distance", ["redmean", "cielab"])
@pytest.mark.parametrize("median,combine", [(9, "any"), (1, "any"), (5, "all"), (31, "any")])
def test_the_mask_code_gives_the_tabs_pixels(output: str, distance: str, median: int, combine: str) -> None:
    params = replace(builtin_preset("chapter"), output=output, distance=distance, median=median,
                     combine=combine)
    if distance == "cielab":
        params = replace(params, targets=tuple(Target(t.rgb, 25.5) for t in params.targets))
    if combine == "all":  # two close targets, so "near every target" keeps pixels
        params = replace(params, targets=(Target((71, 86, 38), params.targets[0].threshold),
                                          Target((65, 79, 19), params.targets[0].threshold * 4)))
    image = _photo()
    namespace = _run(mask_code(params), image=image.copy())
    tab = MaskSession(image).render(params)
    assert 0 < tab.kept < 1
    assert np.array_equal(namespace["out"], tab.image)
    assert np.array_equal(namespace["kept"], tab.mask)
    assert np.array_equal(namespace["out"], apply_mask(image, params).image)  # batch, training


def test_the_mask_code_on_a_real_photo() -> None:
    folder = Path(__file__).resolve().parents[3] / "shared" / "data" / "plant-seedlings-150"
    photos = sorted(folder.rglob("*.png"))[:1] if folder.is_dir() else []
    if not photos:
        pytest.skip("the shared real photos are not on this machine")
    from filterscope.core.data.images import read_image

    image = read_image(photos[0])
    params = builtin_preset("chapter")
    namespace = _run(mask_code(params), image=image)
    assert np.array_equal(namespace["out"], MaskSession(image).render(params).image)


@pytest.mark.parametrize("mode", PREPROCESSINGS)
def test_the_preprocessing_code_is_the_pipelines(mode: str) -> None:
    x = np.random.default_rng(0).uniform(0, 255, (2, 5, 4, 3)).astype(np.float32)
    namespace = _run("\n".join(["import numpy as np", "", "def scale(x):", *preprocess_code(mode)]))
    assert np.array_equal(namespace["scale"](x), preprocess(x, mode))


# --- the gradient ascent ---------------------------------------------------------------------


def _save(model, path: Path) -> Path:
    with warnings.catch_warnings():  # Keras saving through np.array() on numpy 2
        warnings.simplefilter("ignore", DeprecationWarning)
        model.save(path)
    return path


@pytest.fixture(scope="module")
def tiny_models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A gray Sequential ConvNet (Dense softmax head) and an RGB functional one (an Activation
    softmax after a Dense), saved as .keras files."""
    import keras

    folder = tmp_path_factory.mktemp("code-models")
    keras.utils.set_random_seed(0)
    sequential = keras.Sequential([
        keras.Input((16, 16, 1)), keras.layers.Conv2D(4, 3, activation="relu", name="c1"),
        keras.layers.MaxPooling2D(name="p1"), keras.layers.Conv2D(6, 3, activation="relu", name="c2"),
        keras.layers.Flatten(), keras.layers.Dense(3, activation="softmax", name="out")])
    inputs = keras.Input((12, 12, 3))
    x = keras.layers.Conv2D(4, 3, activation="relu", bias_initializer=keras.initializers.Constant(0.5),
                            name="c1")(inputs)
    x = keras.layers.GlobalAveragePooling2D()(x)
    x = keras.layers.Activation("softmax", name="sm")(keras.layers.Dense(3, name="dense")(x))
    return {"sequential": _save(sequential, folder / "sequential.keras"),
            "functional": _save(keras.Model(inputs, x), folder / "functional.keras")}


@pytest.mark.parametrize("which", ["sequential", "functional"])
@pytest.mark.parametrize("kind", ["filter", "class"])
@pytest.mark.parametrize("recipe", ["chapter", "clean", "clean-output"])
def test_the_ascent_code_paints_the_tabs_pictures(tiny_models, which: str, kind: str, recipe: str) -> None:
    """25 steps from the same seeded start, the chapter's recipe and the clean one.

    Tolerance: the app computes a plain convolution's chosen filters alone (a depthwise
    convolution) and runs every branch of one compiled step, the code the whole layer and only
    what is switched on, so TensorFlow rounds sums in another order. Without total variation
    (the chapter's recipe) the RMS normalisation keeps every step the same length and after 25
    steps the inputs agree to a few float32 units (about 2e-7 here; 1e-4 allowed). The clean
    recipe's total-variation gradient follows the sign of each difference between neighbouring
    pixels: a one-unit rounding difference between two nearly equal pixels flips a sign and
    moves that pixel by a whole step (up to about 0.01 here), and its neighbours after it
    (about 8 % of the pixels differ by more than 1e-4 after 25 steps). So with it the mean
    difference must stay below 3e-3 (it is 1.3e-3 on an AMD EPYC, where TensorFlow leaves oneDNN
    off and sums in yet another order), every pixel within 0.05, and the objective within 1 %.
    """
    from filterscope.core.visualize.ascent import ascend
    from filterscope.core.visualize.code import ascent_code
    from filterscope.core.visualize.model_source import load_source
    from filterscope.core.visualize.session import VisualSession
    from filterscope.core.visualize.settings import Target as AscentTarget
    from filterscope.core.visualize.settings import preset

    session = VisualSession(load_source(tiny_models[which], report=NullReport(), cancel=never_cancel()))
    target = AscentTarget.filters("c1", [0, 1, 2, 3]) if kind == "filter" else AscentTarget.classes([2, 1])
    settings = preset("chapter", steps=25) if recipe == "chapter" else \
        preset("clean", steps=25, class_score="output") if recipe == "clean-output" else \
        preset("clean", steps=25, seed=7)
    tab = ascend(session, target, settings, report=NullReport(), cancel=never_cancel())
    code = ascent_code(session, target, settings)
    assert str(tiny_models[which]) in code and "tf.GradientTape" in code
    namespace = _run(code)
    moved = tab.history[0] != tab.history[-1]
    assert moved.any()  # the ascent did something to match
    x, history = namespace["x"].numpy(), np.array(namespace["history"])
    if recipe == "chapter":
        np.testing.assert_allclose(x, tab.raw, rtol=1e-4, atol=1e-4)
        np.testing.assert_allclose(history, tab.history, rtol=1e-4, atol=1e-5)
        assert np.abs(np.array(namespace["pictures"]).astype(int) - tab.images).max() <= 1
    else:
        assert np.mean(np.abs(x - tab.raw)) <= 3e-3
        np.testing.assert_allclose(x, tab.raw, atol=0.05)
        np.testing.assert_allclose(history, tab.history, rtol=1e-2, atol=1e-4)


def test_the_ascent_code_writes_only_the_regularisers_switched_on(tiny_models) -> None:
    from filterscope.core.visualize.code import ascent_code
    from filterscope.core.visualize.model_source import load_source
    from filterscope.core.visualize.session import VisualSession
    from filterscope.core.visualize.settings import Target as AscentTarget
    from filterscope.core.visualize.settings import preset

    session = VisualSession(load_source(tiny_models["sequential"], report=NullReport(),
                                        cancel=never_cancel()))
    chapter = ascent_code(session, AscentTarget.filters("c2", [5]), preset("chapter"))
    clean = ascent_code(session, AscentTarget.filters("c2", [5]), preset("clean"))
    for word in ("tf.roll", "total_variation", "clip_by_value", "depthwise_conv2d", "coarse"):
        assert word not in chapter and word in clean
    assert "x = x + 0.1 * g" in chapter and "STEPS = 500" in chapter


# --- the evaluation --------------------------------------------------------------------------


@pytest.mark.parametrize("masked", [False, True])
def test_the_results_code_gives_the_evaluations_scores(results_photos: Path, tmp_path: Path,
                                                       masked: bool) -> None:
    from filterscope.core.results.code import results_code
    from filterscope.core.results.evaluate import evaluate
    from filterscope.core.results.store import save_evaluation

    mask = builtin_preset("chapter").to_json() if masked else None
    run = train_run(results_photos, tmp_path / "runs", mask=mask)
    evaluation = evaluate(run, report=NullReport(), cancel=threading.Event())
    inline = results_code(evaluation)
    save_evaluation(evaluation)
    saved = results_code(evaluation)
    assert "IMAGES = [" in inline and "csv.DictReader" in saved and f"{evaluation.name}.csv" in saved
    assert ("mask_image(image)" in saved) == masked
    for code in (inline, saved):
        namespace = _run(code)
        assert np.array_equal(namespace["y_true"], evaluation.rows.true)
        np.testing.assert_allclose(namespace["probabilities"], evaluation.rows.probabilities, atol=1e-5)
        assert np.array_equal(namespace["y_pred"], evaluation.rows.predicted)
        assert namespace["accuracy"] == evaluation.scores.accuracy
        assert namespace["baseline"] == evaluation.baseline.accuracy
        assert np.array_equal(namespace["matrix"], evaluation.scores.confusion)


def test_the_results_code_of_a_tta_evaluation_averages_the_same_views(results_run: Path, tmp_path: Path) -> None:
    from filterscope.core.results.code import results_code
    from filterscope.core.results.evaluate import evaluate

    run = copy_run(results_run, tmp_path / "run")
    plain = evaluate(run, report=NullReport(), cancel=threading.Event())
    evaluation = evaluate(run, tta=True, report=NullReport(), cancel=threading.Event())
    code = results_code(evaluation)
    assert "VIEWS = [" in code and "VIEWS" not in results_code(plain)
    namespace = _run(code)
    np.testing.assert_allclose(namespace["probabilities"], evaluation.rows.probabilities, atol=1e-5)
    assert not np.allclose(namespace["probabilities"], plain.rows.probabilities, atol=1e-4)
    assert namespace["accuracy"] == evaluation.scores.accuracy


def test_the_ascent_code_builds_vgg16_and_paints_the_tabs_pictures() -> None:
    """VGG16 with random weights at 32 px: the code builds the same network (the same seed gives
    the same initial weights) and its ascent matches the app's (the chapter's recipe)."""
    import keras
    from filterscope.core.visualize.ascent import ascend
    from filterscope.core.visualize.code import ascent_code
    from filterscope.core.visualize.model_source import load_source
    from filterscope.core.visualize.session import VisualSession
    from filterscope.core.visualize.settings import Target as AscentTarget
    from filterscope.core.visualize.settings import preset

    keras.utils.set_random_seed(3)
    session = VisualSession(load_source("vgg16", weights="random", size=32, report=NullReport(),
                                        cancel=never_cancel()))
    target, settings = AscentTarget.filters("block1_conv2", [0, 5]), preset("chapter", steps=10)
    tab = ascend(session, target, settings, report=NullReport(), cancel=never_cancel())
    code = ascent_code(session, target, settings)
    assert "keras.applications.VGG16(weights=None, include_top=False, input_shape=(32, 32, 3))" in code
    keras.utils.set_random_seed(3)
    namespace = _run(code)
    for built, shown in zip(namespace["model"].get_weights(), session.model.get_weights()):
        np.testing.assert_array_equal(built, shown)
    assert (tab.history[0] != tab.history[-1]).any()
    np.testing.assert_allclose(namespace["x"].numpy(), tab.raw, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(np.array(namespace["history"]), tab.history, rtol=1e-4, atol=1e-5)


def test_the_results_code_reads_a_built_in_dataset_and_gives_the_evaluations_scores(
        tmp_path: Path, data_dir: Path) -> None:
    """The built-in MNIST digits are held in memory, not files: the code reads them with the
    app's loader and scores as the tab did."""
    from filterscope.core.results.code import INLINE_ROWS, results_code
    from filterscope.core.results.evaluate import evaluate
    from filterscope.core.results.store import save_evaluation

    run = train_run("builtin:mnist", tmp_path / "runs", image_size=None)
    evaluation = evaluate(run, report=NullReport(), cancel=threading.Event())
    assert len(evaluation.rows.true) > INLINE_ROWS  # so the inline code lists only the first
    inline = results_code(evaluation)
    assert "open_source(Source.parse('builtin:mnist')" in inline and "... and" in inline
    namespace = _run(inline)
    assert np.array_equal(namespace["y_true"], evaluation.rows.true[:INLINE_ROWS])
    np.testing.assert_allclose(namespace["probabilities"],
                               evaluation.rows.probabilities[:INLINE_ROWS], atol=1e-5)
    save_evaluation(evaluation)
    namespace = _run(results_code(evaluation))
    assert np.array_equal(namespace["y_true"], evaluation.rows.true)
    np.testing.assert_allclose(namespace["probabilities"], evaluation.rows.probabilities, atol=1e-5)
    assert namespace["accuracy"] == evaluation.scores.accuracy
    assert namespace["baseline"] == evaluation.baseline.accuracy
    assert np.array_equal(namespace["matrix"], evaluation.scores.confusion)
