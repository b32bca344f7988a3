"""Pretrained bases as Keras models: built without weights, frozen or fine-tuned, and joined
to a head.

``keras.applications`` (or, for EfficientNet-Lite, :mod:`filterscope.core.transfer.efficientnet`)
is only ever asked for an architecture (``weights=None``): its own
``weights="imagenet"`` downloads, and fails offline. The weights are loaded afterwards from a
file :mod:`filterscope.core.transfer.weights` found and checked. Which layers train follows
:func:`filterscope.core.training.base_spec.trains`, the rule the Train tab's table shows.
"""

from __future__ import annotations

from typing import Any, Sequence

from filterscope.core.training.base_spec import BaseSpec, trains
from filterscope.core.training.lite_spec import VARIANTS

VGG16_TOP_SIZE = 224  # VGG16 with its ImageNet classifier takes 224x224 images only


def keras_base(name: str, input_shape: tuple[int, int, int], *, top: bool = False) -> Any:
    """The architecture of base ``name`` (random weights) for ``input_shape``.

    Args:
        name: One of ``base_spec.BASE_NAMES``.
        input_shape: (height, width, 3).
        top: With ImageNet's classifier (VGG16 at 224 px only); else the convolutional base.
    """
    shape = tuple(int(n) for n in input_shape)
    if name in VARIANTS:
        from filterscope.core.transfer.efficientnet import efficientnet_lite

        return efficientnet_lite(name, shape, include_top=top)
    import keras

    if name == "vgg16":
        return keras.applications.VGG16(weights=None, include_top=top, input_shape=shape)
    return keras.applications.MobileNetV2(weights=None, include_top=top, input_shape=shape)


def set_trainable(model: Any, base: BaseSpec) -> None:
    """Freeze the base, or let its top ``fine_tune_blocks`` blocks train (batchnorm stays frozen,
    so it keeps ImageNet's statistics and runs in inference mode)."""
    model.trainable = True  # the flag of each layer decides below
    for layer in model.layers:
        layer.trainable = trains(base, layer.name, type(layer).__name__)


def join(base_model: Any, head: Sequence[Any], name: str) -> Any:
    """One functional model: the base's layers, then ``head`` applied to its output (the layers
    stay the base's own, named as in Keras, so a run's model can be looked into layer by layer)."""
    import keras

    x = base_model.output
    for layer in head:
        x = layer(x)
    return keras.Model(base_model.input, x, name=name)


def head_model(head: Sequence[Any], feature_shape: tuple[int, ...], name: str) -> Any:
    """The head alone, on cached features of ``feature_shape``; it shares ``head``'s layers (and
    so its weights) with the joined model."""
    import keras

    inputs = keras.Input(shape=tuple(feature_shape), name="features")
    x = inputs
    for layer in head:
        x = layer(x)
    return keras.Model(inputs, x, name=f"{name}-head")
