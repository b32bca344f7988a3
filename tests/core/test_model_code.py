"""The Train tab's Keras code: it runs, and builds the very model the app trains."""

from __future__ import annotations

import random
import warnings

import numpy as np
import pytest
from filterscope.core.training.model_build import build_model, summary_rows
from filterscope.core.training.model_code import keras_code
from filterscope.core.training.model_spec import ConvBlock, ModelSpec, OptimizerSpec, Penalty, templates

from tests.core.test_models import random_spec

DIGITS = [str(d) for d in range(10)]
_PENALTIES = ("kernel_regularizer", "bias_regularizer", "activity_regularizer")


def _amounts(regularizer) -> tuple[float, float]:
    """(l1, l2) of a Keras regularizer, whichever class expresses it (L1, L2 or L1L2)."""
    if regularizer is None:
        return 0.0, 0.0
    return (float(getattr(regularizer, "l1", 0.0)), float(getattr(regularizer, "l2", 0.0)))


def _run(code: str, **data) -> dict:
    """Execute the generated code with matplotlib off screen; its namespace afterwards."""
    import matplotlib

    matplotlib.use("Agg")
    namespace = dict(data)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*non-interactive.*", category=UserWarning)
        exec(compile(code, "<keras_code>", "exec"), namespace)  # noqa: S102 (the code under test)
    import matplotlib.pyplot as plt

    plt.close("all")
    return namespace


def _build_only(code: str) -> dict:
    """Run the code up to (not including) the fit call."""
    return _run(code[:code.index("# x_train")])


def _assert_same_model(built, ours) -> None:
    assert summary_rows(built) == summary_rows(ours)
    for a, b in zip(built.layers, ours.layers):
        for name in _PENALTIES:
            assert _amounts(getattr(a, name, None)) == pytest.approx(_amounts(getattr(b, name, None))), \
                (a.name, name)
        for key in ("strides", "padding", "pool_size", "rate", "activation"):
            assert a.get_config().get(key) == b.get_config().get(key), (a.name, key)


@pytest.mark.parametrize("name", list(templates()))
def test_each_template_as_code_builds_the_apps_model(name: str) -> None:
    spec = templates()[name]
    code = keras_code(spec, OptimizerSpec("sgd"), (28, 28, 1), DIGITS, epochs=3, batch_size=32)
    _assert_same_model(_build_only(code)["model"], build_model(spec, (28, 28, 1), 10))


def test_random_specs_as_code_build_the_apps_model() -> None:
    rng = random.Random(5)
    for _ in range(4):
        spec = random_spec(rng)
        code = keras_code(spec, OptimizerSpec(), (32, 32, 3), list("abcde"), epochs=1, batch_size=8)
        _assert_same_model(_build_only(code)["model"], build_model(spec, (32, 32, 3), 5))


def test_the_chapter_model_reads_as_the_chapter_writes_it() -> None:
    code = keras_code(ModelSpec(), OptimizerSpec(), (28, 28, 1), DIGITS, epochs=5, batch_size=32)
    for line in ('layers.Conv2D(6, 3, name="block1_conv"),', 'layers.MaxPooling2D(2, name="block1_maxpool"),',
                 "keras.optimizers.Adam(learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-08)",
                 'loss="sparse_categorical_crossentropy"', "batch_size=32, epochs=5",
                 "shape (N, 28, 28, 1)", '0 = "0", 1 = "1"'):
        assert line in code
    l2 = keras_code(templates()["convnet-l2"], OptimizerSpec("sgd"), (28, 28, 1), DIGITS,
                    epochs=1, batch_size=32)
    assert "kernel_regularizer=regularizers.l2(0.01)" in l2
    assert "keras.optimizers.SGD(learning_rate=0.01, momentum=0.9)" in l2
    both = keras_code(ModelSpec(blocks=(ConvBlock(6, kernel_regularizer=Penalty(0.001, 0.01)),)),
                      OptimizerSpec(), (28, 28, 1), DIGITS, epochs=1, batch_size=32)
    assert "regularizers.L1L2(l1=0.001, l2=0.01)" in both


def test_the_whole_code_trains_and_plots_on_arrays() -> None:
    rng = np.random.default_rng(0)
    x = rng.random((24, 12, 12, 3), dtype=np.float32)
    y = np.arange(24) % 3
    code = keras_code(templates()["convnet-batchnorm"], OptimizerSpec("adam"), (12, 12, 3),
                      ["cat", "dog", "cow"], epochs=2, batch_size=8)
    namespace = _run(code, x_train=x, y_train=y, x_val=x[:6], y_val=y[:6])
    assert len(namespace["history"].history["val_accuracy"]) == 2


def test_the_recipes_code_weighs_classes_and_schedules_the_rate() -> None:
    from filterscope.core.training.fit_options import FitOptions

    rng = np.random.default_rng(0)
    x = rng.random((24, 16, 16, 3), dtype=np.float32)
    y = np.array([0] * 16 + [1] * 4 + [2] * 4)
    code = keras_code(templates()["photo-convnet"], OptimizerSpec("adam"), (16, 16, 3),
                      ["a", "b", "c"], epochs=3, batch_size=8,
                      fit=FitOptions(class_weights=True, early_stopping=1, reduce_lr_patience=1))
    assert code.index("import numpy as np") < code.index("model = keras.Sequential")
    namespace = _run(code, x_train=x, y_train=y, x_val=x[:6], y_val=y[:6])
    assert namespace["class_weight"] == {0: pytest.approx(0.5), 1: pytest.approx(2.0), 2: pytest.approx(2.0)}
    assert "learning_rate" in namespace["history"].history  # ReduceLROnPlateau logs it
    assert "GroupNormalization" in code


def test_many_classes_are_counted_not_listed() -> None:
    code = keras_code(ModelSpec("logistic", ()), OptimizerSpec(), (8, 8, 3),
                      [f"class{i}" for i in range(40)], epochs=1, batch_size=4)
    assert '9 = "class9",' in code and "... (40 classes)." in code and "class10" not in code


def test_fine_tuning_after_the_head_runs_as_two_fits_and_leaves_the_top_blocks_training(
        tmp_path, monkeypatch) -> None:
    """photo-transfer's code: the head alone first (the base frozen, ten times the rate), then
    the top blocks train too and the model is compiled again, as the app's run does."""
    from filterscope.core.training.recipes import recipes
    from filterscope.core.transfer.bases import keras_base, set_trainable

    monkeypatch.setenv("FILTERSCOPE_DATA_DIR", str(tmp_path / "data"))
    recipe = recipes()["photo-transfer"]
    rng = np.random.default_rng(0)
    x = rng.random((12, 48, 48, 3), dtype=np.float32) * 255
    y = np.arange(12) % 3
    code = keras_code(recipe.model, recipe.optimizer, (48, 48, 3), ["a", "b", "c"], epochs=1,
                      batch_size=6, fit=recipe.fit)
    head = code.index(f"epochs={recipe.model.base.head_epochs}")
    assert head < code.index("trained = (") < code.index("\noptimizer = keras") < code.index("history =")
    rate = recipe.optimizer.learning_rate
    assert f"learning_rate={rate * 10:.12g}," in code[:head] and f"learning_rate={rate!r}," in code[head:]
    model = _run(code.replace(f"epochs={recipe.model.base.head_epochs}", "epochs=1"),
                 x_train=x, y_train=y, x_val=x[:6], y_val=y[:6])["model"]
    ours = keras_base("efficientnet-lite0", (48, 48, 3))
    set_trainable(ours, recipe.model.base)
    trains = {layer.name: layer.trainable for layer in ours.layers}
    assert {layer.name: layer.trainable for layer in model.layers if layer.name in trains} == trains
    assert model.get_layer("output").trainable
