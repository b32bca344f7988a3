"""The Visualise tab's gradient ascent as TensorFlow 2 code a learner can read and run.

The code loads the same model, cuts it at the chosen layer (or its class scores), starts from the
same seeded images and runs the chapter's loop with ``tf.GradientTape``: the objective's gradient
divided by its RMS, a step of the same size, and only the regularisers the settings switch on
(jitter, octaves, total variation, decay, clipping, blur), in the order
:func:`~filterscope.core.visualize.steps.build_step` applies them. Its pictures equal the tab's
up to float32 rounding (a test runs it against :func:`~filterscope.core.visualize.ascent.ascend`);
the app computes a plain convolution's chosen filters alone, the code the whole layer.
"""

from __future__ import annotations

from filterscope.core.training.lite_spec import VARIANTS
from filterscope.core.training.model_code import lite_code
from filterscope.core.training.model_input import caffe_mean_text, preprocess_code
from filterscope.core.visualize.ascent import GRAY_NOISE
from filterscope.core.visualize.model_source import RANDOM_WEIGHTS
from filterscope.core.visualize.session import VisualSession
from filterscope.core.visualize.settings import CLASS, AscentSettings, Target
from filterscope.core.visualize.steps import BLUR_SIZE, EPSILON

def _model_lines(session: VisualSession) -> list[str]:
    loaded = session.loaded
    if loaded.kind in VARIANTS:
        weights = {"ImageNet": "imagenet", RANDOM_WEIGHTS: "random"}.get(loaded.weights, str(loaded.path))
        return lite_code(loaded.kind, weights, tuple(loaded.input_shape), top=True, variable="model")
    if loaded.kind == "vgg16":
        weights = "'imagenet'" if loaded.weights == "ImageNet" else "None"
        top = loaded.input_shape[0] == 224
        return [f"model = keras.applications.VGG16(weights={weights}, include_top={top},"
                f" input_shape={tuple(loaded.input_shape)})"]
    if loaded.path is None:
        return ["# model: the Keras model the tab shows (loaded in memory)"]
    path = loaded.path / loaded.weights if loaded.kind == "run" else loaded.path
    return ["# safe mode (the default): a file with Lambda layers or custom code is refused",
            f"model = keras.saving.load_model({str(path)!r})"]


def _cut_lines(session: VisualSession, layer: str | None) -> list[str]:
    """``cut``: the model from its input to ``layer``'s output (None: the last layer's input)."""
    import keras

    if not isinstance(session.model, keras.Sequential):
        end = "model.layers[-1].input" if layer is None else f"model.get_layer({layer!r}).output"
        return [f"cut = keras.Model(model.inputs, {end})"]
    loop = ["for layer in model.layers[:-1]:", "    x = layer(x)"] if layer is None else \
        ["for layer in model.layers:", "    x = layer(x)", f"    if layer.name == {layer!r}:",
         "        break"]
    return ["# a loaded Sequential model's layers are called once more on a fresh input, so the",
            "# cut is one path from the image to the layer",
            "inputs = x = keras.Input(INPUT_SHAPE)", *loop, "cut = keras.Model(inputs, x)"]


def _objective_lines(session: VisualSession, target: Target, settings: AscentSettings) -> list[str]:
    if target.kind != CLASS:
        return [*_cut_lines(session, target.layer), "", "",
                "def objective(x):",
                f"    \"\"\"Mean activation of filter INDICES[b] of {target.layer} for picture b.\"\"\"",
                "    maps = cut(x, training=False)",
                "    return tf.reduce_mean(tf.gather(maps, INDICES, axis=3, batch_dims=1), axis=[1, 2])"]
    head = session.head()
    if not head.softmax:
        return ["def objective(x):", "    \"\"\"Class INDICES[b]'s score for picture b.\"\"\"",
                "    return tf.gather(model(x, training=False), INDICES, axis=1, batch_dims=1)"]
    lines = [*_cut_lines(session, None), "", "", "def objective(x):"]
    if settings.class_score == "logit":
        lines.append("    \"\"\"Class INDICES[b]'s score before the softmax for picture b.\"\"\"")
    else:
        lines.append("    \"\"\"Class INDICES[b]'s probability (the model's output) for picture b.\"\"\"")
    lines.append("    scores = cut(x, training=False)")
    last = session.model.layers[-1]
    if type(last).__name__ == "Dense":
        bias = " + dense.bias" if last.use_bias else ""
        lines += ["    dense = model.layers[-1]  # a softmax inside: its scores before the softmax",
                  f"    scores = tf.matmul(scores, dense.kernel){bias}"]
    if settings.class_score != "logit":
        lines.append("    scores = tf.nn.softmax(scores, axis=-1)")
    return lines + ["    return tf.gather(scores, INDICES, axis=1, batch_dims=1)"]


def _step_lines(settings: AscentSettings, shape: tuple[int, int, int], lr: float) -> list[str]:
    """``step``: one gradient-ascent step with the regularisers the settings switch on."""
    args = ["x"] + (["shift"] if settings.jitter else []) \
        + (["coarse", "smooth"] if settings.octaves > 1 else []) \
        + (["blur_now"] if settings.blur_every and settings.blur_sigma > 0 else [])
    seen = "shifted" if settings.jitter else "x"
    lines = ["def rms(g):", "    \"\"\"The RMS of each picture's gradient.\"\"\"",
             "    return tf.sqrt(tf.reduce_mean(tf.square(g), axis=[1, 2, 3], keepdims=True))", "", "",
             "@tf.function  # compiled: much faster than eager on a big model",
             f"def step({', '.join(args)}):"]
    if settings.jitter:
        lines.append("    shifted = tf.roll(x, shift, axis=[1, 2])  # jitter: a random shift each step")
    lines += ["    with tf.GradientTape() as tape:", f"        tape.watch({seen})",
              f"        scores = objective({seen})",
              "        total = tf.reduce_sum(scores)  # inside the tape, to be differentiated",
              f"    g = tape.gradient(total, {seen})"]
    if settings.jitter:
        lines.append("    g = tf.roll(g, -shift, axis=[1, 2])")
    if settings.octaves > 1:
        lines += ["    # early octaves: only the gradient's large shapes (resized down and back up)",
                  "    g = tf.cond(smooth, lambda: tf.image.resize(tf.image.resize(g, coarse, 'area'),",
                  f"                                               {shape[:2]}, 'bilinear'), lambda: g)"]
    lines.append(f"    g = g / (rms(g) + {EPSILON!r})  # the chapter's normalize()")
    if settings.tv > 0:
        lines += ["    with tf.GradientTape() as inner:  # total variation: less pixel noise",
                  "        inner.watch(x)", "        variation = tf.reduce_sum(tf.image.total_variation(x))",
                  "    gv = inner.gradient(variation, x)",
                  f"    g = g - {settings.tv!r} * gv / (rms(gv) + {EPSILON!r})"]
    lines.append(f"    x = x + {lr!r} * g")
    if settings.decay > 0:
        lines.append("    x = MID + (x - MID) * (1.0 - DECAY)  # decay towards mid-gray")
    if settings.clip:
        lines.append("    x = tf.clip_by_value(x, LOW, HIGH)  # keep pixels in the valid range")
    if "blur_now" in args:
        pad = f"[{BLUR_SIZE // 2}, {BLUR_SIZE // 2}]"
        lines += ["    padded = tf.pad(x, [[0, 0], " + pad + ", " + pad + ", [0, 0]], mode='REFLECT')",
                  "    x = tf.cond(blur_now, lambda: tf.nn.depthwise_conv2d(padded, BLUR, [1, 1, 1, 1], 'VALID'),",
                  "                lambda: x)  # a blur every few steps"]
    return lines + ["    return x, scores"]


def _constants(session: VisualSession, target: Target, settings: AscentSettings) -> list[str]:
    shape = tuple(session.loaded.input_shape)
    lines = [f"INPUT_SHAPE = {shape}", f"INDICES = tf.constant({list(target.indices)})  # one picture each",
             f"SEED = {settings.seed}", f"STEPS = {settings.steps}", "", "",
             "def to_model(rgb01):",
             "    \"\"\"Float RGB (or gray) in [0, 1] as the model takes it.\"\"\"",
             "    x = np.asarray(rgb01, np.float32) * 255.0",
             *preprocess_code(session.loaded.preprocessing), ""]
    if settings.clip or settings.decay > 0:
        lines += [f"DECAY = tf.constant({settings.decay!r})  # float32, as 1.0 - DECAY is in the app",
                  f"ONES = np.ones((1, 1, {shape[2]}), np.float32)",
                  "LOW, HIGH, MID = (to_model(v * ONES).reshape(-1) for v in (0.0, 1.0, 0.5))"]
    if settings.blur_every and settings.blur_sigma > 0:
        lines += [f"r = np.arange({BLUR_SIZE}) - {BLUR_SIZE // 2}",
                  f"line = np.exp(-0.5 * (r / {settings.blur_sigma!r}) ** 2)",
                  "kernel = np.outer(line, line) / np.outer(line, line).sum()  # a Gaussian blur",
                  f"BLUR = tf.constant(np.tile(kernel[:, :, None, None], (1, 1, {shape[2]}, 1)), tf.float32)"]
    return lines


def _loop_lines(session: VisualSession, settings: AscentSettings) -> list[str]:
    start = "rng.random(INPUT_SHAPE, dtype=np.float32)" if settings.start == "uniform" else \
        f"to_model(0.5 + {GRAY_NOISE!r} * (rng.random(INPUT_SHAPE, dtype=np.float32) - 0.5))"
    what = "noise in the model's units (the chapter)" if settings.start == "uniform" else \
        "mid-gray with faint noise"
    lines = [f"# start images: {what}, one seeded stream per picture",
             "starts = []", "for index in INDICES.numpy():",
             "    rng = np.random.default_rng([SEED, index])", f"    starts.append({start})",
             "x = tf.constant(np.stack(starts).astype(np.float32))", "history = []  # the objective before each step"]
    args = ["x"]
    if settings.jitter:
        lines.append("jitter = np.random.default_rng([SEED, 2**31])")
    lines.append("for i in range(STEPS):")
    if settings.jitter:
        lines.append(f"    shift = jitter.integers(-{settings.jitter}, {settings.jitter + 1}, 2)")
        args.append("tf.constant(shift, tf.int32)")
    if settings.octaves > 1:
        h, w = session.loaded.input_shape[:2]
        lines += [f"    scale = {settings.octave_scale!r} ** ({settings.octaves - 1} - i * "
                  f"{settings.octaves} // STEPS)  # the octave's size ratio",
                  f"    coarse = [max(1, round({h} / scale)), max(1, round({w} / scale))]"]
        args += ["tf.constant(coarse, tf.int32)", "tf.constant(scale > 1.0)"]
    if settings.blur_every and settings.blur_sigma > 0:
        args.append(f"tf.constant((i + 1) % {settings.blur_every} == 0)")
    lines += [f"    x, scores = step({', '.join(args)})", "    history.append(scores.numpy())",
              "history.append(objective(x).numpy())  # after the last step", ""]
    rgb = f"(x.numpy() + np.array({caffe_mean_text()}, np.float32))[..., ::-1] / 255.0" \
        if session.loaded.preprocessing == "caffe" else "x.numpy()"
    return lines + [
        "", "def deprocess(image):",
        "    \"\"\"The chapter's deprocess_image: zero mean, std 0.1, around 0.5, to uint8.\"\"\"",
        "    image = np.asarray(image, np.float64)",
        f"    image = (image - image.mean()) / (image.std() + {EPSILON!r}) * 0.1 + 0.5",
        "    return (np.clip(image, 0.0, 1.0) * 255.0).astype(np.uint8)", "", "",
        f"pictures = [deprocess(image) for image in {rgb}]",
        "pictures = [np.repeat(p, 3, axis=2) if p.shape[2] == 1 else p for p in pictures]"]


def ascent_code(session: VisualSession, target: Target, settings: AscentSettings) -> str:
    """Python (TensorFlow 2, Keras 3) that paints ``target``'s pictures as the tab does.

    Args:
        session: The model being looked into (where it was loaded from, its input, its head).
        target: The filters of a layer, or classes.
        settings: The recipe.

    Returns:
        The code; it defines ``x`` (the optimised inputs, in the model's units), ``history``
        (the objective of every picture before each step and after the last) and ``pictures``
        (uint8 RGB, deprocessed as the chapter does).

    Raises:
        VisualizeError: A model without class scores, for a class target.
    """
    lr = settings.step_size(target.kind, session.loaded.pixel_range)
    lines = ["import keras", "import numpy as np", "import tensorflow as tf", "",
             *_model_lines(session), *_constants(session, target, settings), "",
             *_objective_lines(session, target, settings), "", "",
             *_step_lines(settings, tuple(session.loaded.input_shape), lr), "", "",
             "# all pictures as one batch: each has its own objective and its own normalised",
             "# gradient, so they come out as if painted one at a time",
             *_loop_lines(session, settings), ""]
    return "\n".join(lines)
