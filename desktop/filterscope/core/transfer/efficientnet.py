"""EfficientNet-Lite as a Keras 3 functional model (random weights; ImageNet's come from
:mod:`filterscope.core.transfer.weights`).

``keras.applications`` has EfficientNet but not its Lite variants (no squeeze-excite, ReLU6, a
fixed stem and head), whose ImageNet weights are the ones shipped offline as a Python package.
The architecture is :mod:`filterscope.core.training.lite_spec`'s, the same declaration the layer
table is computed from without TensorFlow.
"""

from __future__ import annotations

from typing import Any

from filterscope.core.training.lite_spec import BN_EPSILON, CLASSES, HEAD, STEM, VARIANTS, Block, blocks


def _conv_bn(layers: Any, x: Any, filters: int, name: str, *, activation: bool = True) -> Any:
    x = layers.Conv2D(filters, 1, padding="same", use_bias=False, name=f"{name}conv")(x)
    x = layers.BatchNormalization(epsilon=BN_EPSILON, name=f"{name}bn")(x)
    return layers.ReLU(6.0, name=f"{name}activation")(x) if activation else x


def _mbconv(layers: Any, x: Any, block: Block) -> Any:
    inputs, p = x, block.prefix
    if block.expansion != 1:
        x = _conv_bn(layers, x, block.inner, f"{p}expand_")
    x = layers.DepthwiseConv2D(block.kernel, block.stride, padding="same", use_bias=False,
                               name=f"{p}dwconv")(x)
    x = layers.BatchNormalization(epsilon=BN_EPSILON, name=f"{p}bn")(x)
    x = layers.ReLU(6.0, name=f"{p}activation")(x)
    x = _conv_bn(layers, x, block.outputs, f"{p}project_", activation=False)
    return layers.Add(name=f"{p}add")([x, inputs]) if block.residual else x


def efficientnet_lite(name: str, input_shape: tuple[int, int, int], *, include_top: bool = False) -> Any:
    """EfficientNet-Lite ``name`` (``efficientnet-lite0``...) for ``input_shape``.

    Args:
        name: A key of ``lite_spec.VARIANTS``.
        input_shape: (height, width, 3), each side at least 32 px; pixels as
            ``model_input.preprocess(x, "lite")`` gives them, (x - 127) / 128.
        include_top: With ImageNet's classifier (global average pooling, dropout, 1000 classes
            with softmax); else the convolutional base, whose output is the head's 1280 maps.
    """
    import keras
    from keras import layers

    inputs = keras.Input(shape=tuple(int(n) for n in input_shape), name="input_layer")
    x = layers.Conv2D(STEM, 3, 2, padding="same", use_bias=False, name="stem_conv")(inputs)
    x = layers.BatchNormalization(epsilon=BN_EPSILON, name="stem_bn")(x)
    x = layers.ReLU(6.0, name="stem_activation")(x)
    for block in blocks(name):
        x = _mbconv(layers, x, block)
    x = _conv_bn(layers, x, HEAD, "top_")
    if include_top:
        x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
        x = layers.Dropout(VARIANTS[name].dropout, name="dropout")(x)
        x = layers.Dense(CLASSES, activation="softmax", name="predictions")(x)
    return keras.Model(inputs, x, name=name.replace("-", "_"))
