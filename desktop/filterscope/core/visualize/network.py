"""One image through a whole model: every layer's output, left to right, from one run.

The image is prepared by :func:`~filterscope.core.visualize.inputs.prepare` (the run's own input
rule, as evaluation and prediction feed it) and goes through a model cut at every layer at once,
so each layer's output is the one the next layer really took. Each layer is summarised by its
kind: a convolution, a ReLU or a max pooling has maps whose values the Filters tab can work out
(:mod:`filterscope.core.visualize.network_step`), a dense layer a vector of values, a softmax
its logits and probabilities; the rest (batch normalisation, flattening...) are shown as they
come out.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from filterscope.core.base.jobs import Cancel, Report, check_cancel
from filterscope.core.filters.kernels import format_number
from filterscope.core.filters.model_step import ACTIVATIONS
from filterscope.core.visualize.inputs import PreparedImage, prepare
from filterscope.core.visualize.layers import VisualizeError, layer_table
from filterscope.core.visualize.session import VisualSession

IMAGE = -1  # a layer's source when it takes the image itself
STEPPED = ("conv", "relu", "pool")  # the kinds whose tiles the Filters tab works out


@dataclass(frozen=True, eq=False)
class ConvWeights:
    """A Conv2D layer's weights and window, as numpy.

    Attributes:
        kernel: (K, K, C, F) weights.
        bias: (F,) biases (zeros for a layer without bias).
        stride: Step between windows (the same along both sides).
        padding: ``'valid'`` or ``'same'``.
        activation: Applied after the sum, inside the layer (``linear``: none).
    """

    kernel: np.ndarray
    bias: np.ndarray
    stride: int
    padding: str
    activation: str


@dataclass(frozen=True, eq=False)
class LayerOutput:
    """One layer's output for the image.

    Attributes:
        index: Position in the model (0: the first layer after the input).
        name: The layer's name.
        class_name: Its Keras class (Conv2D, Dense...).
        kind: ``conv``, ``relu``, ``pool``, ``dense``, ``softmax`` or ``other``.
        values: (H, W, C) maps or (N,) values, float32 as Keras computed them.
        source: Index of the layer whose output it takes, :data:`IMAGE` for the image, None
            when it takes several or its input cannot be told.
        conv: A convolution's weights.
        blocker: Why its tiles cannot be worked out in the Filters tab ("" when they can).
    """

    index: int
    name: str
    class_name: str
    kind: str
    values: np.ndarray
    source: int | None
    conv: ConvWeights | None = None
    blocker: str = ""

    @property
    def maps(self) -> bool:
        """True for a stack of feature maps (H, W, C)."""
        return self.values.ndim == 3


@dataclass(frozen=True, eq=False)
class NetworkView:
    """An image and every layer's output for it.

    Attributes:
        model: The model's name.
        image: The image as fed.
        layers: Every layer after the input, in order.
        logits: The scores before the softmax (None without a softmax output).
        probabilities: The softmax of the logits (None without one).
        class_names: A name per output.
    """

    model: str
    image: PreparedImage
    layers: tuple[LayerOutput, ...]
    logits: np.ndarray | None
    probabilities: np.ndarray | None
    class_names: list[str] | None

    def input_of(self, layer: LayerOutput) -> np.ndarray:
        """The (H, W, C) values ``layer`` took (the layer below's output, or the image as fed)."""
        if layer.source is None:
            raise VisualizeError(f"{layer.name} takes several inputs: no one map feeds it")
        return self.image.batch[0] if layer.source == IMAGE else self.layers[layer.source].values

    def source_name(self, layer: LayerOutput) -> str:
        """What ``layer`` takes, in words."""
        return "the image" if layer.source == IMAGE else self.layers[layer.source].name

    def softmax_sentences(self, top: int = 3) -> list[str]:
        """The softmax explained with the best classes' own numbers (empty without softmax)."""
        if self.logits is None or self.probabilities is None:
            return []
        names = self.class_names or [f"class {i}" for i in range(len(self.logits))]
        order = np.argsort(-self.probabilities)[:top]
        shift = float(self.logits.max())  # exp of the logits less the largest: same ratios
        total = float(np.exp(self.logits - shift).sum())
        lines = ["The last layer's raw scores are its logits, one per class. Softmax turns them "
                 "into probabilities: exp of each logit, divided by the sum of them all, so they "
                 "are positive and add up to 100 %."]
        for i in order:
            part = float(np.exp(self.logits[i] - shift))
            lines.append(f"{names[i]}: logit {format_number(float(self.logits[i]), 3)}, "
                         f"exp(logit − {format_number(shift, 3)}) = {format_number(part, 4)}, "
                         f"/ {format_number(total, 4)} = {format_number(100 * float(self.probabilities[i]), 1)} %")
        return lines


def network_view(session: VisualSession, image: np.ndarray, *, report: Report,
                 cancel: Cancel) -> NetworkView:
    """Every layer's output for ``image`` fed as in training, from one run of the model.

    Raises:
        VisualizeError: The model's layers cannot be cut (every one is shared).
        Cancelled: ``cancel`` was set.
    """
    check_cancel(cancel)
    report.progress(0.0, "Every layer's output")
    model = session.model
    names = [row.name for row in layer_table(model) if _has_output(session, row.name)]
    if not names:
        raise VisualizeError("no layer of the model has a single output to show")
    head = _head(session)
    tensors = [session.output_of(n) for n in names] + ([session.head_tensor()] if head else [])
    cut = session.cut(("network", len(tensors)), lambda: tensors)
    prepared = prepare(session.loaded, image)
    values = [np.asarray(v)[0] for v in cut(prepared.batch, training=False)]
    check_cancel(cancel)
    sources = _sources(session, names)
    layers = tuple(_summary(i, model.get_layer(n), values[i], sources[i]) for i, n in enumerate(names))
    logits = probabilities = None
    if head is not None:
        logits = np.asarray(head.to_logits(values[-1][None]), np.float64)[0]
        probabilities = np.exp(logits - logits.max()) / np.exp(logits - logits.max()).sum()
    classes = session.class_names() if head is not None else None
    report.progress(1.0, "")
    return NetworkView(session.loaded.name, prepared, layers, logits, probabilities, classes)


def _has_output(session: VisualSession, name: str) -> bool:
    try:
        session.output_of(name)
    except VisualizeError:
        return False  # a shared layer: it has no single output
    return True


def _head(session: VisualSession) -> Any | None:
    """The model's softmax head, or None when its output is no softmax."""
    try:
        head = session.head()
    except VisualizeError:
        return None
    return head if head.softmax else None


def _sources(session: VisualSession, names: list[str]) -> list[int | None]:
    """For each layer, the index of the layer whose output it takes (IMAGE, or None)."""
    found: list[int | None] = []
    for name in names:
        given = session.input_of(name)
        if given is None:
            found.append(IMAGE)
            continue
        found.append(next((j for j, other in enumerate(names) if session.output_of(other) is given), None))
    return found


def _activation(layer: Any) -> str:
    return getattr(getattr(layer, "activation", None), "__name__", "linear")


def _summary(index: int, layer: Any, values: np.ndarray, source: int | None) -> LayerOutput:
    kind, blocker, conv = _kind(layer, values), "", None
    if kind == "conv":
        blocker = _conv_blocker(layer)
        if not blocker:
            bias = np.asarray(layer.bias, np.float64) if layer.use_bias else np.zeros(layer.filters)
            conv = ConvWeights(np.asarray(layer.kernel, np.float64), bias, int(layer.strides[0]),
                               layer.padding, _activation(layer))
    elif kind == "pool" and (tuple(layer.pool_size), tuple(layer.strides), layer.padding) != ((2, 2), (2, 2), "valid"):
        blocker = (f"{layer.name} pools {layer.pool_size} with stride {layer.strides} and "
                   f"{layer.padding!r} padding; the Filters tab works out 2 × 2 pools side by side")
    elif kind == "relu" and getattr(layer, "max_value", None) is not None:
        blocker = f"{layer.name} caps its ReLU at {layer.max_value}; the Filters tab's ReLU has no cap"
    elif kind not in STEPPED:
        blocker = f"{layer.name} is {layer.__class__.__name__}: not a convolution, a ReLU or a max pooling"
    if kind in STEPPED and source is None:
        blocker = f"{layer.name} takes several inputs: no one map feeds it"
    return LayerOutput(index, layer.name, type(layer).__name__, kind, values.astype(np.float32),
                       source, conv, blocker)


def _kind(layer: Any, values: np.ndarray) -> str:
    import keras

    activation = _activation(layer)
    if type(layer) is keras.layers.Conv2D:
        return "conv"
    if isinstance(layer, keras.layers.MaxPooling2D) and values.ndim == 3:
        return "pool"
    if isinstance(layer, keras.layers.ReLU) and not layer.negative_slope and not layer.threshold \
            or isinstance(layer, keras.layers.Activation) and activation == "relu":
        return "relu" if values.ndim == 3 else "other"
    if isinstance(layer, (keras.layers.Activation, keras.layers.Dense)) and activation == "softmax":
        return "softmax"
    return "dense" if isinstance(layer, keras.layers.Dense) else "other"


def _conv_blocker(layer: Any) -> str:
    kernel, strides = tuple(layer.kernel_size), tuple(layer.strides)
    if kernel[0] != kernel[1] or strides[0] != strides[1]:
        return f"{layer.name} has a {kernel} kernel and {strides} strides; the Filters tab's are square"
    if tuple(layer.dilation_rate) != (1, 1) or layer.groups != 1:
        return f"{layer.name} is dilated or grouped; the Filters tab slides plain windows"
    if _activation(layer) not in ACTIVATIONS:
        return f"{layer.name} applies {_activation(layer)}, which the Filters tab cannot work out"
    return ""
