"""ModelSpec -> shapes, parameter counts and Keras models, and the layer table before and after.

Nothing here imports Keras at module level: :func:`plan_rows` and :func:`check_input` compute
shapes and parameter counts in plain Python, so the app can show the layer table and refuse a
too-small input without paying for TensorFlow's import.
"""

from __future__ import annotations

import math
import re
from dataclasses import replace
from typing import TYPE_CHECKING

from filterscope.core.training.base_spec import base_rows, check_base_input
from filterscope.core.training.model_spec import (
    ConvBlock,
    DenseLayer,
    ModelSpec,
    ModelSpecError,
    check_number,
)

if TYPE_CHECKING:
    import keras


# ---- shapes and parameter counts in plain Python -------------------------------------------

def _conv_size(n: int, kernel: int, strides: int, padding: str) -> int:
    if padding == "same":
        return -(-n // strides)
    return (n - kernel) // strides + 1 if n >= kernel else 0


def _pool_size(n: int, pool: int) -> int:
    return (n - pool) // pool + 1 if n >= pool else 0


def _trace(spec: ModelSpec, height: int, width: int) -> tuple[int, int, int, str]:
    """Spatial size after the conv stack, or where it first collapses: (h, w, block, stage)."""
    h, w = height, width
    for i, b in enumerate(spec.blocks, start=1):
        h, w = (_conv_size(n, b.kernel_size, b.strides, b.padding) for n in (h, w))
        if h < 1 or w < 1:
            return h, w, i, "convolution"
        if b.pool != "none":
            h, w = _pool_size(h, b.pool_size), _pool_size(w, b.pool_size)
            if h < 1 or w < 1:
                return h, w, i, "pooling"
    return h, w, 0, ""


def _smallest(spec: ModelSpec, axis: int) -> int:
    """The smallest input side (binary search; the trace is monotonic in the input size)."""
    low, high = 1, 1
    while _trace(spec, *(high, 1 << 20)[:: 1 if axis == 0 else -1])[2]:
        high *= 2
    while low < high:
        mid = (low + high) // 2
        if _trace(spec, *(mid, 1 << 20)[:: 1 if axis == 0 else -1])[2]:
            low = mid + 1
        else:
            high = mid
    return low


def _input_hwc(input_shape: object) -> tuple[int, int, int]:
    if not isinstance(input_shape, (tuple, list)) or len(input_shape) != 3 or not all(
            isinstance(n, int) and not isinstance(n, bool) and n >= 1 for n in input_shape):
        raise ModelSpecError("input_shape", f"must be (height, width, channels), not {input_shape!r}")
    return tuple(input_shape)  # type: ignore[return-value]


def check_input(spec: ModelSpec, input_shape: tuple[int, int, int]) -> None:
    """Raise ModelSpecError with a plain message when the input is too small for the conv stack.

    Example: "a 8x8 input shrinks to 0x0 at block 2's convolution; use at least 10x10 or
    padding='same'". A pretrained base takes RGB images of at least its minimum size.
    """
    height, width, channels = _input_hwc(input_shape)
    if spec.base is not None:
        if channels != 3:
            raise ModelSpecError("input_shape", f"{spec.base.display} takes RGB images, not "
                                 f"{channels} channel(s)")
        check_base_input(spec.base, height, width)
        return
    h, w, block, stage = _trace(spec, height, width)
    if not block:
        return
    need_h, need_w = _smallest(spec, 0), _smallest(spec, 1)
    need = f"at least {max(need_h, height)}x{max(need_w, width)}"
    same = replace(spec, blocks=tuple(replace(b, padding="same") for b in spec.blocks))
    hint = " or padding='same'" if not _trace(same, height, width)[2] else \
        " or fewer pooling/strided blocks"
    raise ModelSpecError("input_shape", f"a {height}x{width} input shrinks to {max(h, 0)}x{max(w, 0)} "
                         f"at block {block}'s {stage}; use {need}{hint}")


def _activation_rows(prefix: str, activation: str, shape: tuple) -> list[dict]:
    if activation == "linear":
        return []
    return [_row(f"{prefix}_{activation}", "Activation", shape, 0)]


def _row(layer: str, kind: str, shape: tuple, params: int, trainable_params: int | None = None) -> dict:
    """A planned row of a layer that trains (the head's, a convnet's)."""
    return {"layer": layer, "type": kind, "output_shape": (None, *shape), "params": params,
            "trainable": True, "trainable_params": params if trainable_params is None else trainable_params}


def _tail_rows(prefix: str, layer: ConvBlock | DenseLayer, shape: tuple) -> list[dict]:
    rows = []
    if layer.batchnorm:
        rows.append(_row(f"{prefix}_batchnorm", "BatchNormalization", shape, 4 * shape[-1], 2 * shape[-1]))
    if getattr(layer, "groupnorm", 0):
        rows.append(_row(f"{prefix}_groupnorm", "GroupNormalization", shape, 2 * shape[-1]))
    if layer.dropout > 0:
        rows.append(_row(f"{prefix}_dropout", "Dropout", shape, 0))
    return rows


def plan_rows(spec: ModelSpec, input_shape: tuple[int, int, int], n_classes: int) -> list[dict]:
    """The rows :func:`summary_rows` will give for the built model, computed without Keras.

    Raises:
        ModelSpecError: The input is too small (see :func:`check_input`).
    """
    check_input(spec, input_shape)
    h, w, c = _input_hwc(input_shape)
    rows: list[dict] = []
    if spec.base is not None:
        rows, (h, w, c) = base_rows(spec.base, h, w)
    for i, b in enumerate(spec.blocks, start=1):
        prefix = f"block{i}"
        h, w = (_conv_size(n, b.kernel_size, b.strides, b.padding) for n in (h, w))
        rows.append(_row(f"{prefix}_conv", "Conv2D", (h, w, b.filters),
                         b.kernel_size ** 2 * c * b.filters + b.filters))
        c = b.filters
        rows += _activation_rows(prefix, b.activation, (h, w, c))
        if b.pool != "none":
            h, w = _pool_size(h, b.pool_size), _pool_size(w, b.pool_size)
            rows.append(_row(f"{prefix}_{b.pool}pool",
                             "MaxPooling2D" if b.pool == "max" else "AveragePooling2D", (h, w, c), 0))
        rows += _tail_rows(prefix, b, (h, w, c))
    units = c if spec.pooling == "avg" else h * w * c
    rows.append(_row(*POOLING_LAYERS[spec.pooling], (units,), 0))
    for j, d in enumerate(spec.dense, start=1):
        prefix = f"dense{j}"
        rows.append(_row(prefix, "Dense", (d.units,), units * d.units + d.units))
        units = d.units
        rows += _activation_rows(prefix, d.activation, (units,))
        rows += _tail_rows(prefix, d, (units,))
    rows.append(_row("output", "Dense", (n_classes,), units * n_classes + n_classes))
    rows.append(_row("softmax", "Activation", (n_classes,), 0))
    return rows


# ---- Keras -------------------------------------------------------------------------------

POOLING_LAYERS = {"flatten": ("flatten", "Flatten"), "avg": ("avgpool", "GlobalAveragePooling2D")}


def head_layers(spec: ModelSpec, n_classes: int) -> list:
    """The layers after the feature maps, in order: pooling (Flatten or global average), the
    hidden Dense layers with their activations, batchnorm and dropout, and the softmax output.

    A pretrained model applies them to its base's output (``core.transfer``); ``build_model``
    appends them to a convnet's blocks.
    """
    import keras

    L = keras.layers
    name, kind = POOLING_LAYERS[spec.pooling]
    layers = [getattr(L, kind)(name=name)]
    for j, d in enumerate(spec.dense, start=1):
        layers.append(L.Dense(d.units, name=f"dense{j}", **d.regularizers()))
        if d.activation != "linear":
            layers.append(L.Activation(d.activation, name=f"dense{j}_{d.activation}"))
        if d.batchnorm:
            layers.append(L.BatchNormalization(name=f"dense{j}_batchnorm"))
        if d.dropout > 0:
            layers.append(L.Dropout(d.dropout, name=f"dense{j}_dropout"))
    layers.append(L.Dense(n_classes, name="output", **spec.output.regularizers()))
    layers.append(L.Activation("softmax", name="softmax"))
    return layers


def _add_tail(model: keras.Sequential, prefix: str, layer: ConvBlock | DenseLayer) -> None:
    import keras

    if layer.batchnorm:
        model.add(keras.layers.BatchNormalization(name=f"{prefix}_batchnorm"))
    if getattr(layer, "groupnorm", 0):
        model.add(keras.layers.GroupNormalization(layer.groupnorm, name=f"{prefix}_groupnorm"))
    if layer.dropout > 0:
        model.add(keras.layers.Dropout(layer.dropout, name=f"{prefix}_dropout"))


def _add_activation(model: keras.Sequential, prefix: str, activation: str) -> None:
    import keras

    if activation != "linear":
        model.add(keras.layers.Activation(activation, name=f"{prefix}_{activation}"))


def build_model(spec: ModelSpec, input_shape: tuple[int, int, int], n_classes: int) -> keras.Model:
    """A built, uncompiled ``keras.Sequential`` for ``spec``, in the chapter's layer order.

    Raises:
        ModelSpecError: The input is too small for the conv stack, n_classes < 2, or the model
            has a pretrained base (``core.transfer`` builds those: it finds their weights).
    """
    import keras

    if spec.base is not None:
        raise ModelSpecError("base", f"{spec.base.display} is built by filterscope.core.transfer, "
                             "which finds its weights")
    check_input(spec, input_shape)
    check_number("n_classes", n_classes, 2, 100_000, integer=True)
    L = keras.layers
    model = keras.Sequential(name=re.sub(r"[^\w.-]", "_", spec.name) or "model")
    model.add(keras.Input(shape=tuple(input_shape), name="image"))
    for i, b in enumerate(spec.blocks, start=1):
        prefix = f"block{i}"
        model.add(L.Conv2D(b.filters, b.kernel_size, strides=b.strides, padding=b.padding,
                           name=f"{prefix}_conv", **b.regularizers()))
        _add_activation(model, prefix, b.activation)
        if b.pool != "none":
            pool = L.MaxPooling2D if b.pool == "max" else L.AveragePooling2D
            model.add(pool(b.pool_size, name=f"{prefix}_{b.pool}pool"))
        _add_tail(model, prefix, b)
    for layer in head_layers(spec, n_classes):
        model.add(layer)
    return model


def summary_rows(model: keras.Model) -> list[dict]:
    """One row per layer after the input, as ``model.summary()`` shows it.

    Returns:
        Dicts with ``layer`` (name), ``type`` (class name), ``output_shape`` (tuple, batch
        dimension None), ``params`` (all weights), ``trainable`` (the layer's flag) and
        ``trainable_params`` (batchnorm's moving statistics are not trainable).
    """
    import keras

    rows = []
    for layer in model.layers:
        if isinstance(layer, keras.layers.InputLayer):  # a functional model lists its input
            continue
        trainable = sum(math.prod(v.shape) for v in layer.trainable_weights)
        rows.append({"layer": layer.name, "type": type(layer).__name__,
                     "output_shape": tuple(layer.output.shape), "params": int(layer.count_params()),
                     "trainable": bool(layer.trainable), "trainable_params": int(trainable)})
    return rows
