"""A run's model, optimiser and fit call as the plain Keras code a learner can read and paste.

The Train tab shows this next to its layer table: the same layers, names, regularisers and
optimiser settings that :func:`filterscope.core.training.model_build.build_model` builds (a test runs the
code and compares the two models layer by layer), written the way the chapter writes Keras.
"""

from __future__ import annotations

import json
import textwrap
from collections.abc import Sequence

from filterscope.core.training.base_spec import BLOCK_PREFIXES, BaseSpec, head_optimizer, top_prefixes
from filterscope.core.training.fit_options import FitOptions
from filterscope.core.training.lite_spec import VARIANTS
from filterscope.core.training.model_build import POOLING_LAYERS
from filterscope.core.training.model_spec import (
    LOSS,
    ConvBlock,
    DenseLayer,
    ModelSpec,
    OptimizerSpec,
    Penalty,
)

_INDENT = " " * 4
_MAX_NAMED_CLASSES = 10


def _penalty(penalty: Penalty) -> str:
    if penalty.l1 and penalty.l2:
        return f"regularizers.L1L2(l1={penalty.l1!r}, l2={penalty.l2!r})"
    return f"regularizers.l1({penalty.l1!r})" if penalty.l1 else f"regularizers.l2({penalty.l2!r})"


def _regularizers(layer: ConvBlock | DenseLayer | object, call: str) -> str:
    """``,`` plus the layer's regularizer arguments, one per line under the call's ``(``."""
    indent = "\n" + _INDENT + " " * (call.index("(") + 1)
    parts = [f",{indent}{name}={_penalty(getattr(layer, name))}"
             for name in ("kernel_regularizer", "bias_regularizer", "activity_regularizer")
             if getattr(layer, name).active]
    return "".join(parts)


def _activation(prefix: str, activation: str) -> list[str]:
    return [] if activation == "linear" else \
        [f'layers.Activation("{activation}", name="{prefix}_{activation}"),']


def _tail(prefix: str, layer: ConvBlock | DenseLayer) -> list[str]:
    lines = []
    if layer.batchnorm:
        lines.append(f'layers.BatchNormalization(name="{prefix}_batchnorm"),')
    if getattr(layer, "groupnorm", 0):
        lines.append(f'layers.GroupNormalization({layer.groupnorm}, name="{prefix}_groupnorm"),')
    if layer.dropout > 0:
        lines.append(f'layers.Dropout({layer.dropout!r}, name="{prefix}_dropout"),')
    return lines


def _layers(spec: ModelSpec, input_shape: tuple[int, int, int], n_classes: int) -> list[str]:
    lines = [f"keras.Input(shape={tuple(input_shape)!r}, name=\"image\"),"]
    for i, b in enumerate(spec.blocks, start=1):
        prefix = f"block{i}"
        options = "".join([f", strides={b.strides}" if b.strides != 1 else "",
                           f', padding="{b.padding}"' if b.padding != "valid" else ""])
        call = f'layers.Conv2D({b.filters}, {b.kernel_size}{options}, name="{prefix}_conv"'
        lines.append(f"{call}{_regularizers(b, call)}),")
        lines += _activation(prefix, b.activation)
        if b.pool != "none":
            pool = "MaxPooling2D" if b.pool == "max" else "AveragePooling2D"
            lines.append(f'layers.{pool}({b.pool_size}, name="{prefix}_{b.pool}pool"),')
        lines += _tail(prefix, b)
    return lines + _head(spec, n_classes)


def _head(spec: ModelSpec, n_classes: int) -> list[str]:
    """The layers after the feature maps (``model_build.head_layers``), one call a line."""
    name, kind = POOLING_LAYERS[spec.pooling]
    lines = [f'layers.{kind}(name="{name}"),']
    for j, d in enumerate(spec.dense, start=1):
        prefix = f"dense{j}"
        call = f'layers.Dense({d.units}, name="{prefix}"'
        lines.append(f"{call}{_regularizers(d, call)}),")
        lines += _activation(prefix, d.activation)
        lines += _tail(prefix, d)
    call = f'layers.Dense({n_classes}, name="output"'
    lines.append(f"{call}{_regularizers(spec.output, call)}),")
    lines.append('layers.Activation("softmax", name="softmax"),')
    return lines


_APPLICATION = {"vgg16": "VGG16", "mobilenetv2": "MobileNetV2"}
_PREPROCESS = {"vgg16": "keras.applications.vgg16.preprocess_input",
               "mobilenetv2": "keras.applications.mobilenet_v2.preprocess_input",
               **dict.fromkeys(VARIANTS, "(x - 127) / 128")}
_SCALING = {"vgg16": "BGR, ImageNet's mean subtracted", "mobilenetv2": "scaled to [-1, 1]",
            **dict.fromkeys(VARIANTS, "EfficientNet-Lite's own")}


def lite_code(name: str, weights: str, input_shape: tuple[int, int, int], *, top: bool = False,
              variable: str = "base") -> list[str]:
    """EfficientNet-Lite, which keras.applications lacks: Filterscope's builder (plain Keras
    layers) and its weights file; ``top`` with ImageNet's classifier."""
    tail = ", include_top=True" if top else ""
    lines = ["from filterscope.core.transfer.efficientnet import efficientnet_lite", "",
             f"{variable} = efficientnet_lite({json.dumps(name)}, {tuple(input_shape)!r}{tail})"]
    if weights == "imagenet":
        return lines[:1] + ["from filterscope.core.transfer.weights import find_weights"] + lines[1:] + [
            f"# ImageNet's, converted once from the {VARIANTS[name].distribution} package",
            f"{variable}.load_weights(find_weights({json.dumps(name)}, \"imagenet\"{', top=True' if top else ''}).file)"]
    return lines + ([] if weights == "random" else [f"{variable}.load_weights({json.dumps(weights)})"])


def _on_base(spec: ModelSpec, input_shape: tuple[int, int, int], n_classes: int) -> list[str]:
    """A pretrained base, frozen or with its top blocks training, and the head on its output."""
    base = spec.base
    if base.name in VARIANTS:
        lines = lite_code(base.name, base.weights, input_shape)
    else:
        weights = {"imagenet": '"imagenet"', "random": "None"}.get(base.weights, json.dumps(base.weights))
        call = f"base = keras.applications.{_APPLICATION[base.name]}("
        lines = [f"{call}include_top=False, weights={weights},",
                 f"{' ' * len(call)}input_shape={tuple(input_shape)!r})"]
    if base.fine_tune_blocks and not base.head_epochs:
        lines += _fine_tuned(base)
    else:
        lines += ["for layer in base.layers:  # frozen: only the new head trains",
                  _INDENT + "layer.trainable = False"]
    lines += ["head = ["] + [_INDENT + line for line in _head(spec, n_classes)] + ["]"]
    return lines + ["x = base.output", "for layer in head:", _INDENT + "x = layer(x)",
                    f"model = keras.Model(base.input, x, name={json.dumps(spec.name or base.name)})"]


def _fine_tuned(base: BaseSpec) -> list[str]:
    """The lines that let the base's top blocks train (batch normalisation stays frozen)."""
    n = base.fine_tune_blocks
    return [f"# The top {n} of its {len(BLOCK_PREFIXES[base.name])} blocks train; batch "
            "normalisation stays frozen.",
            f"trained = ({', '.join(json.dumps(p) for p in top_prefixes(base))},)",
            "for layer in base.layers:",
            _INDENT + "layer.trainable = (layer.name.startswith(trained)",
            _INDENT + "                   and not isinstance(layer, layers.BatchNormalization))"]


def _head_first(base: BaseSpec, optimizer: OptimizerSpec, batch_size: int, arguments: list[str]) -> list[str]:
    """Fine-tuning after ``head_epochs``: the head alone first, at ten times the rate (Filterscope
    trains it on the frozen base's cached features, which comes to the same), then the top
    blocks train too; compiling again makes Keras see which layers train now."""
    fast = head_optimizer(optimizer)
    call = "model.fit("
    args = [f"x_train, y_train, batch_size={batch_size}, epochs={base.head_epochs}",
            "validation_data=(x_val, y_val)", *arguments]
    return [f"# First the new head alone for {base.head_epochs} epochs, at ten times the rate:",
            f"head_optimizer = {_optimizer(fast)}",
            f'model.compile(optimizer=head_optimizer, loss="{LOSS}", metrics=["accuracy"])',
            call + (",\n" + " " * len(call)).join(args) + ")", "", *_fine_tuned(base)]


def _optimizer(spec: OptimizerSpec) -> str:
    if spec.kind == "sgd":
        return f"keras.optimizers.SGD(learning_rate={spec.learning_rate!r}, momentum={spec.momentum!r})"
    return (f"keras.optimizers.Adam(learning_rate={spec.learning_rate!r}, beta_1={spec.beta_1!r}, "
            f"beta_2={spec.beta_2!r}, epsilon={spec.epsilon!r})")


def keras_code(model: ModelSpec, optimizer: OptimizerSpec, input_shape: tuple[int, int, int],
               classes: Sequence[str], *, epochs: int, batch_size: int,
               fit: FitOptions | None = None) -> str:
    """The Keras code that builds, compiles, trains and plots this run.

    Args:
        model: The model.
        optimizer: Its optimiser.
        input_shape: (height, width, channels) of the images fed.
        classes: Class names in label order (at least two).
        epochs: Epochs of the fit call.
        batch_size: Its batch size.
        fit: Class weights, early stopping and the learning-rate schedule, as Keras's own
            ``class_weight`` and callbacks.

    Returns:
        Python source: imports, ``model = keras.Sequential([...])``, ``model.compile(...)``,
        ``history = model.fit(x_train, y_train, ...)`` and the accuracy plot. The data arrays
        are the reader's: a comment says their shapes and label order.
    """
    h, w, c = input_shape
    # Non-breaking spaces keep "3 = "Maize"" on one line when the comment wraps.
    named = [f"{i}\xa0=\xa0{json.dumps(name)}" for i, name in enumerate(classes[:_MAX_NAMED_CLASSES])]
    if len(classes) > _MAX_NAMED_CLASSES:
        named.append(f"...\xa0({len(classes)}\xa0classes)")
    labels = [line.replace("\xa0", " ") for line in textwrap.wrap(
        f"y_train, y_val: integer labels, {', '.join(named)}.", 92, initial_indent="# ",
        subsequent_indent="#   ", break_long_words=False)]
    fit = fit or FitOptions()
    lines = ["import keras", "from keras import layers, regularizers", "from matplotlib import pyplot as plt",
             ""]
    code = fit.code(optimizer.learning_rate)
    lines[:0] = code.imports
    if model.base is None:
        lines.append("model = keras.Sequential([")
        lines += [_INDENT + line for line in _layers(model, input_shape, len(classes))]
        lines.append(f"], name={json.dumps(model.name or model.kind)})")
        data = [f"# x_train, x_val: float32 images scaled to [0, 1], shape (N, {h}, {w}, {c});"]
    else:
        lines += _on_base(model, input_shape, len(classes))
        function = _PREPROCESS[model.base.name]
        data = [f"# x_train, x_val: RGB images as float32 in 0-255, shape (N, {h}, {w}, {c}), passed",
                f"# through {function} ({_SCALING[model.base.name]});"]
    before, extra = list(code.before), list(code.arguments)
    if code.callbacks:
        before += ["callbacks = ["] + [_INDENT + c + "," for c in code.callbacks] + ["]"]
        extra.append("callbacks=callbacks")
    call = "history = model.fit("
    args = [f"x_train, y_train, batch_size={batch_size}, epochs={epochs}",
            "validation_data=(x_val, y_val)", *extra]
    compiled = [f"optimizer = {_optimizer(optimizer)}",
                f'model.compile(optimizer=optimizer, loss="{LOSS}", metrics=["accuracy"])']
    base = model.base
    if base is not None and base.fine_tune_blocks and base.head_epochs:  # compiled after the head
        head_arguments = [a for a in code.arguments if a.startswith("class_weight")]
        before += ["", *_head_first(base, optimizer, batch_size, head_arguments), *compiled]
        compiled = []
    lines += ["model.summary()", "", *compiled, *([""] if compiled else []),
              *data, *labels, *before,
              call + (",\n" + " " * len(call)).join(args) + ")", "",
              'plt.plot(history.history["accuracy"], label="training")',
              'plt.plot(history.history["val_accuracy"], label="validation")',
              'plt.xlabel("epoch")', 'plt.ylabel("accuracy")', "plt.legend()", "plt.show()"]
    return "\n".join(lines) + "\n"
