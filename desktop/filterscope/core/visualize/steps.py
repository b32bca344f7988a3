"""The gradient-ascent step as one compiled TensorFlow function per layer and objective.

The chapter's TF1 recipe, ``K.function([input], [loss, normalize(K.gradients(loss, input))])``,
becomes a ``tf.function`` around a ``tf.GradientTape`` on the model cut at the layer. Compiling
matters beyond Python overhead: eager ``tape.gradient`` computes a convolution's kernel gradient
too and throws it away, while the traced graph prunes it (about 2x at VGG16's block5_conv1). At a plain Conv2D the cut ends at the layer's
input and each picture's own filter is computed alone (:func:`chosen_filters_objective`).

Everything that varies between steps or pictures (the learning rate, the jitter shift, when to
blur, the octave, the regulariser weights, the valid pixel range) is a tensor argument, so one
trace serves every picture of a layer. Each image of a batch has its own objective and its own
gradient normalisation, so a batch of filters gives the pictures single runs give.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

EPSILON = 1e-7  # the chapter's normalize(): grads / (sqrt(mean(grads**2)) + K.epsilon())
BLUR_SIZE = 5


def blur_kernel(sigma: float) -> np.ndarray:
    """A normalised BLUR_SIZE x BLUR_SIZE Gaussian (a single 1 when sigma is 0)."""
    r = np.arange(BLUR_SIZE, dtype=np.float64) - BLUR_SIZE // 2
    if sigma <= 0:
        line = (r == 0).astype(np.float64)
    else:
        line = np.exp(-0.5 * (r / sigma) ** 2)
    kernel = np.outer(line, line)
    return (kernel / kernel.sum()).astype(np.float32)


def param_spec(channels: int) -> dict:
    """The tensor arguments of a step besides the images and the indices."""
    import tensorflow as tf

    scalar = tf.TensorSpec((), tf.float32)
    flag = tf.TensorSpec((), tf.bool)
    per_channel = tf.TensorSpec((channels,), tf.float32)
    return {"lr": scalar, "shift": tf.TensorSpec((2,), tf.int32), "coarse": tf.TensorSpec((2,), tf.int32),
            "smooth": flag, "blur": flag, "kernel": tf.TensorSpec((BLUR_SIZE, BLUR_SIZE), tf.float32),
            "tv": scalar, "decay": scalar, "clip": flag, "low": per_channel, "high": per_channel,
            "mid": per_channel}


def _per_image_rms(tf: Any, g: Any) -> Any:
    return tf.sqrt(tf.reduce_mean(tf.square(g), axis=[1, 2, 3], keepdims=True))


def _blur(tf: Any, x: Any, kernel: Any) -> Any:
    channels = x.shape[-1]
    k = tf.tile(kernel[:, :, None, None], [1, 1, channels, 1])
    pad = BLUR_SIZE // 2
    padded = tf.pad(x, [[0, 0], [pad, pad], [pad, pad], [0, 0]], mode="REFLECT")
    return tf.nn.depthwise_conv2d(padded, k, [1, 1, 1, 1], "VALID")


def build_step(objective: Callable[[Any, Any], Any], shape: tuple[int, int, int]) -> Callable:
    """A compiled step ``(x, indices, params) -> (new x, objective of x, finite)``.

    Args:
        objective: ``(images, indices) -> (B,)`` scores to maximise, one per image, in
            TensorFlow ops (a filter's mean activation, a class score).
        shape: (height, width, channels) of the images.

    The step: roll the images by ``shift`` (jitter), take the gradient of the objective, roll it
    back, optionally smooth it through a ``coarse`` size (octaves), normalise it by its RMS per
    image, optionally subtract the RMS-normalised gradient of the total variation weighted by
    ``tv``, move ``lr`` along it, decay towards ``mid``, clip to [low, high], and blur.
    """
    import tensorflow as tf

    h, w, c = shape
    image_spec = tf.TensorSpec((None, h, w, c), tf.float32)
    index_spec = tf.TensorSpec((None,), tf.int32)

    @tf.function(input_signature=[image_spec, index_spec, param_spec(c)])
    def step(x: Any, indices: Any, p: dict) -> tuple[Any, Any, Any]:
        shifted = tf.roll(x, p["shift"], axis=[1, 2])
        with tf.GradientTape() as tape:
            tape.watch(shifted)
            scores = objective(shifted, indices)
            total = tf.reduce_sum(scores)
        g = tf.roll(tape.gradient(total, shifted), -p["shift"], axis=[1, 2])
        finite = tf.logical_and(tf.math.is_finite(scores),
                                tf.reduce_all(tf.math.is_finite(g), axis=[1, 2, 3]))
        g = tf.cond(p["smooth"],
                    lambda: tf.image.resize(tf.image.resize(g, p["coarse"], "area"), (h, w), "bilinear"),
                    lambda: g)
        g = g / (_per_image_rms(tf, g) + EPSILON)

        def with_tv() -> Any:
            with tf.GradientTape() as inner:
                inner.watch(x)
                variation = tf.reduce_sum(tf.image.total_variation(x))
            gv = inner.gradient(variation, x)
            return g - p["tv"] * gv / (_per_image_rms(tf, gv) + EPSILON)

        g = tf.cond(p["tv"] > 0, with_tv, lambda: g)
        new = x + p["lr"] * g
        new = p["mid"] + (new - p["mid"]) * (1.0 - p["decay"])
        new = tf.cond(p["clip"], lambda: tf.clip_by_value(new, p["low"], p["high"]), lambda: new)
        new = tf.cond(p["blur"], lambda: _blur(tf, new, p["kernel"]), lambda: new)
        return new, scores, finite

    return step


def filter_objective(cut: Any) -> Callable[[Any, Any], Any]:
    """The chapter's loss per image: the mean activation of filter ``indices[b]`` of the layer
    ``cut`` ends at."""
    import tensorflow as tf

    def objective(x: Any, indices: Any) -> Any:
        maps = cut(x, training=False)
        return tf.reduce_mean(tf.gather(maps, indices, axis=3, batch_dims=1), axis=[1, 2])

    return objective


def plain_conv(layer: Any) -> bool:
    """True for a Conv2D whose chosen filters :func:`chosen_filters_objective` can compute alone."""
    import keras

    return type(layer) is keras.layers.Conv2D and layer.groups == 1 \
        and layer.data_format == "channels_last" \
        and (tuple(layer.strides) == (1, 1) or tuple(layer.dilation_rate) == (1, 1))


def chosen_filters_objective(before: Any, layer: Any) -> Callable[[Any, Any], Any]:
    """The same loss as :func:`filter_objective`, computing only the chosen filter of each image.

    ``before`` is the model cut at the layer's input (None when the layer takes the image
    itself). Image b is convolved with kernel ``indices[b]`` alone, not with all of the layer's
    (64 at block1_conv1, where that is most of a step's work): the batch is laid side by side
    as the channels of one image, so a depthwise convolution applies each image's own kernel,
    and the products are summed over each image's channels.
    """
    import tensorflow as tf

    kh, kw = layer.kernel_size
    stride = [1, *layer.strides, 1]
    dilation = list(layer.dilation_rate)
    padding = layer.padding.upper()

    def objective(x: Any, indices: Any) -> Any:
        inputs = x if before is None else before(x, training=False)
        shape = tf.shape(inputs)
        b, channels = shape[0], inputs.shape[-1]
        side_by_side = tf.reshape(tf.transpose(inputs, [1, 2, 0, 3]), [1, shape[1], shape[2], -1])
        kernels = tf.transpose(tf.gather(layer.kernel, indices, axis=3), [0, 1, 3, 2])
        products = tf.nn.depthwise_conv2d(side_by_side, tf.reshape(kernels, [kh, kw, -1, 1]), stride,
                                          padding, dilations=dilation)
        out = tf.shape(products)
        maps = tf.reduce_sum(tf.reshape(products, [out[1], out[2], b, channels]), axis=3)
        maps = tf.transpose(maps, [2, 0, 1])  # (B, H', W'): image b through its own kernel
        if layer.use_bias:
            maps = maps + tf.gather(layer.bias, indices)[:, None, None]
        return tf.reduce_mean(layer.activation(maps), axis=[1, 2])

    return objective


def class_objective(cut: Any, to_logits: Callable[[Any], Any], softmax: bool, logits: bool
                    ) -> Callable[[Any, Any], Any]:
    """Class ``indices[b]``'s score per image: the model's output (the chapter's, a softmax
    probability for most models) or, with ``logits``, the score before the softmax."""
    import tensorflow as tf

    def objective(x: Any, indices: Any) -> Any:
        scores = to_logits(cut(x, training=False))
        if softmax and not logits:
            scores = tf.nn.softmax(scores, axis=-1)
        return tf.gather(scores, indices, axis=1, batch_dims=1)

    return objective
