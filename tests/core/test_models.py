"""Model and optimizer specs: JSON, validation, the chapter's layer table, input-size checks."""

from __future__ import annotations

import json
import random
import re
import subprocess
import sys
from dataclasses import replace

import pytest
from filterscope.core.training.model_build import build_model, check_input, plan_rows, summary_rows
from filterscope.core.training.model_spec import (
    ACTIVATIONS,
    PADDINGS,
    POOLS,
    ConvBlock,
    DenseLayer,
    ModelSpec,
    ModelSpecError,
    OptimizerSpec,
    OutputLayer,
    Penalty,
    templates,
)

CHAPTER_SHAPES = [(26, 26, 6), (26, 26, 6), (13, 13, 6), (11, 11, 12), (11, 11, 12), (5, 5, 12),
                  (300,), (10,), (10,)]
CHAPTER_PARAMS = [60, 0, 0, 660, 0, 0, 0, 3010, 0]


def round_trip(spec: ModelSpec) -> ModelSpec:
    return ModelSpec.from_json(json.loads(json.dumps(spec.to_json())))


def random_penalty(rng: random.Random) -> Penalty:
    return Penalty(rng.choice([0.0, 0.001, 0.01]), rng.choice([0.0, 0.01, 0.5]))


def random_spec(rng: random.Random) -> ModelSpec:
    """A valid random convnet that fits a 32x32 input."""
    blocks = []
    for _ in range(rng.randint(1, 3)):
        norm = rng.choice(["none", "batch", "group"])
        filters = rng.randint(1, 16) * (4 if norm == "group" else 1)
        blocks.append(ConvBlock(
            filters, rng.choice([1, 3]), rng.choice([1, 2]), rng.choice(PADDINGS),
            rng.choice(ACTIVATIONS), rng.choice(POOLS), 2, rng.choice([0.0, 0.25]),
            norm == "batch", 4 if norm == "group" else 0, kernel_regularizer=random_penalty(rng),
            bias_regularizer=random_penalty(rng), activity_regularizer=random_penalty(rng)))
    dense = tuple(DenseLayer(rng.randint(1, 32), rng.choice(ACTIVATIONS), rng.choice([0.0, 0.5]),
                             rng.random() < 0.5, kernel_regularizer=random_penalty(rng))
                  for _ in range(rng.randint(0, 2)))
    return ModelSpec("convnet", tuple(blocks), dense, OutputLayer(bias_regularizer=random_penalty(rng)),
                     f"random-{rng.randint(0, 999)}")


def keras_summary_table(model) -> list[tuple[str, str, str, int]]:
    """(name, type, output shape, params) parsed from the text of ``model.summary()``."""
    lines: list[str] = []
    model.summary(print_fn=lambda text, line_break=None: lines.append(text))
    row = re.compile(r"│ (\S+) \((\w+)\)\s*│ (\([^)]*\))\s*│\s*([\d,]+) │")
    return [(m[1], m[2], m[3], int(m[4].replace(",", ""))) for m in row.finditer("\n".join(lines))]


def test_default_is_the_chapter_convnet_with_3730_parameters_as_keras_counts() -> None:
    spec = ModelSpec()
    assert spec == templates()["chapter-convnet"]
    planned = plan_rows(spec, (28, 28, 1), 10)
    assert [r["output_shape"][1:] for r in planned] == CHAPTER_SHAPES
    assert [r["params"] for r in planned] == CHAPTER_PARAMS
    assert sum(CHAPTER_PARAMS) == 3730

    model = build_model(spec, (28, 28, 1), 10)
    rows = summary_rows(model)
    assert rows == planned
    assert model.count_params() == 3730
    assert [r["params"] for r in rows] == [layer.count_params() for layer in model.layers]
    table = keras_summary_table(model)
    assert [(r["layer"], r["type"], str(r["output_shape"]), r["params"]) for r in rows] == table
    assert [r["type"] for r in rows] == ["Conv2D", "Activation", "MaxPooling2D", "Conv2D", "Activation",
                                         "MaxPooling2D", "Flatten", "Dense", "Activation"]


@pytest.mark.parametrize("name", sorted(templates()))
def test_templates_round_trip_and_plan_what_keras_builds(name: str) -> None:
    spec = templates()[name]
    assert spec.name == name
    assert round_trip(spec) == spec
    model = build_model(spec, (28, 28, 1), 10)
    assert summary_rows(model) == plan_rows(spec, (28, 28, 1), 10)
    assert sum(r["params"] for r in summary_rows(model)) == model.count_params()


def test_templates_copy_the_chapter_variants() -> None:
    t = templates()

    def layers(name: str) -> dict:
        return {layer.name: layer.get_config() for layer in build_model(t[name], (28, 28, 1), 10).layers}

    assert list(layers("logistic")) == ["flatten", "output", "softmax"]
    drop = layers("convnet-dropout")
    assert drop["block1_dropout"]["rate"] == drop["block2_dropout"]["rate"] == 0.2
    names = list(drop)
    assert names.index("block1_dropout") == names.index("block1_maxpool") + 1  # "after pooling"
    batch = layers("convnet-batchnorm")
    names = list(batch)
    assert names.index("block2_batchnorm") == names.index("block2_maxpool") + 1
    assert sum(r["params"] - r["trainable_params"]
               for r in plan_rows(t["convnet-batchnorm"], (28, 28, 1), 10)) == 2 * (6 + 12)
    l2 = layers("convnet-l2")
    assert l2["block1_conv"]["kernel_regularizer"]["config"]["l2"] == pytest.approx(0.01)
    assert l2["block1_conv"]["activity_regularizer"] is None
    assert l2["block2_conv"]["activity_regularizer"]["config"]["l2"] == pytest.approx(0.01)
    assert l2["block2_conv"]["kernel_regularizer"] is None
    for name in ("convnet-dropout", "convnet-batchnorm", "convnet-l2"):
        out = layers(name)["output"]
        assert out["bias_regularizer"]["config"]["l2"] == pytest.approx(0.01)
        assert out["kernel_regularizer"] is None


def test_random_valid_specs_round_trip() -> None:
    rng = random.Random(7)
    for _ in range(200):
        spec = random_spec(rng)
        assert round_trip(spec) == spec


def test_random_specs_plan_what_keras_builds() -> None:
    rng = random.Random(11)
    for _ in range(6):
        spec = random_spec(rng)
        model = build_model(spec, (32, 32, 3), 5)
        assert summary_rows(model) == plan_rows(spec, (32, 32, 3), 5), spec


@pytest.mark.parametrize("change, field", [
    ({"kind": "mlp"}, "kind"),
    ({"blocks": []}, "blocks"),
    ({"blocks": [{"filters": 0}]}, "blocks[0].filters"),
    ({"blocks": [{}, {"filters": 2.5}]}, "blocks[1].filters"),
    ({"blocks": [{"kernel_size": True}]}, "blocks[0].kernel_size"),
    ({"blocks": [{"padding": "full"}]}, "blocks[0].padding"),
    ({"blocks": [{"activation": "softmax"}]}, "blocks[0].activation"),
    ({"blocks": [{"pool": "min"}]}, "blocks[0].pool"),
    ({"blocks": [{"dropout": 1.0}]}, "blocks[0].dropout"),
    ({"blocks": [{"batchnorm": "yes"}]}, "blocks[0].batchnorm"),
    ({"blocks": [{"groupnorm": -1}]}, "blocks[0].groupnorm"),
    ({"blocks": [{"filters": 6, "groupnorm": 4}]}, "blocks[0].groupnorm"),
    ({"blocks": [{"filters": 8, "groupnorm": 4, "batchnorm": True}]}, "blocks[0].groupnorm"),
    ({"blocks": [{"kernel_regularizer": {"l2": -0.1}}]}, "blocks[0].kernel_regularizer.l2"),
    ({"blocks": [{"bias_regularizer": {"l1": float("nan")}}]}, "blocks[0].bias_regularizer.l1"),
    ({"blocks": [{"activity_regularizer": {"l3": 1}}]}, "blocks[0].activity_regularizer"),
    ({"blocks": [{"colour": 1}]}, "blocks[0]"),
    ({"dense": [{"units": 0}]}, "dense[0].units"),
    ({"dense": "64"}, "dense"),
    ({"output": {"bias_regularizer": {"l2": 11}}}, "output.bias_regularizer.l2"),
    ({"kind": "logistic", "blocks": [{}]}, "blocks"),
    ({"version": 99}, "version"),
])
def test_validation_names_the_field(change: dict, field: str) -> None:
    data = {**ModelSpec().to_json(), **change}
    with pytest.raises(ModelSpecError) as info:
        ModelSpec.from_json(data)
    assert info.value.field == field
    assert str(info.value).startswith(f"{field}: ")


def test_direct_construction_is_validated_too() -> None:
    with pytest.raises(ModelSpecError, match=r"blocks\[1\]\.strides"):
        ModelSpec(blocks=(ConvBlock(6), ConvBlock(12, strides=0)))
    with pytest.raises(ModelSpecError, match="unknown field"):
        ModelSpec.from_json({**ModelSpec().to_json(), "optimizer": "adam"})


def test_too_small_input_is_refused_with_a_plain_message_before_keras() -> None:
    spec = ModelSpec()
    check_input(spec, (10, 10, 1))  # 10 -> 8 -> 4 -> 2 -> 1: the smallest that fits
    with pytest.raises(ModelSpecError) as info:
        check_input(spec, (8, 8, 1))
    assert info.value.message == ("a 8x8 input shrinks to 0x0 at block 2's pooling; use at least "
                                  "10x10 or padding='same'")
    with pytest.raises(ModelSpecError, match="a 9x64 input shrinks to 0x14 at block 2's pooling; use "
                                             "at least 10x64"):
        build_model(spec, (9, 64, 1), 10)
    with pytest.raises(ModelSpecError, match="block 1's convolution; use at least 10x10 or fewer"):
        check_input(spec, (1, 1, 3))  # 'same' padding does not save a 1x1 from two poolings
    deep = replace(spec, blocks=spec.blocks * 3)
    with pytest.raises(ModelSpecError, match="use at least 190x190 or fewer pooling"):
        check_input(deep, (28, 28, 1))  # 1 <- 4 <- 10 <- 22 <- 46 <- 94 <- 190
    check_input(deep, (190, 190, 1))
    check_input(templates()["logistic"], (1, 1, 1))
    with pytest.raises(ModelSpecError, match="input_shape"):
        check_input(spec, (28, 28))


def test_models_training_and_data_planning_import_no_tensorflow() -> None:
    code = ("import sys, filterscope.core.training.model_spec, filterscope.core.training.train\n"
            "import filterscope.core.training.data_plan, filterscope.core.training.runs\n"
            "from filterscope.core.training.model_build import plan_rows\nfrom filterscope.core.training.model_spec import ModelSpec\n"
            "plan_rows(ModelSpec(), (28, 28, 1), 10)\n"
            "print(sorted(m for m in ('keras', 'tensorflow') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def test_optimizer_defaults_are_the_chapters() -> None:
    sgd, adam = OptimizerSpec("sgd"), OptimizerSpec()
    assert (sgd.learning_rate, sgd.momentum) == (0.01, 0.9)
    assert (adam.kind, adam.learning_rate, adam.beta_1, adam.beta_2, adam.epsilon) == \
        ("adam", 0.001, 0.9, 0.999, 1e-8)
    assert sgd.to_json() == {"kind": "sgd", "learning_rate": 0.01, "momentum": 0.9}
    for spec in (sgd, adam, OptimizerSpec("sgd", 0.5, 0.0), OptimizerSpec("adam", 0.1, beta_2=0.9)):
        assert OptimizerSpec.from_json(json.loads(json.dumps(spec.to_json()))) == spec
    built = OptimizerSpec("sgd", 0.05, momentum=0.5).build()
    assert type(built).__name__ == "SGD"
    assert float(built.learning_rate) == pytest.approx(0.05) and built.momentum == 0.5
    built = adam.build()
    assert type(built).__name__ == "Adam" and built.epsilon == 1e-8 and built.beta_2 == 0.999


@pytest.mark.parametrize("kwargs, field", [
    ({"kind": "rmsprop"}, "kind"),
    ({"learning_rate": 0}, "learning_rate"),
    ({"learning_rate": -1e-3}, "learning_rate"),
    ({"learning_rate": 1e7}, "learning_rate"),
    ({"kind": "sgd", "momentum": 1.0}, "momentum"),
    ({"kind": "sgd", "momentum": -0.1}, "momentum"),
    ({"kind": "adam", "momentum": 0.9}, "momentum"),
    ({"kind": "sgd", "beta_1": 0.9}, "beta_1"),
    ({"beta_2": 1.0}, "beta_2"),
    ({"epsilon": 0}, "epsilon"),
    ({"learning_rate": "fast"}, "learning_rate"),
])
def test_optimizer_ranges(kwargs: dict, field: str) -> None:
    with pytest.raises(ModelSpecError) as info:
        OptimizerSpec.from_json(kwargs)
    assert info.value.field == field
