"""What a model offers to look at: its layers, which are convolutions, and its class scores.

Every check here fails with :class:`VisualizeError` and a sentence that lists what would have been
valid, so the CLI and the tab can show it as it is. Keras is never imported at module level.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Sequence

from filterscope.core.base.settings import SettingError

if TYPE_CHECKING:
    import keras

LISTED = 12  # names quoted in a message before "..."


class VisualizeError(SettingError):
    """A request the model cannot answer (no such layer, filter out of range, not an image model)."""


@dataclass(frozen=True)
class LayerInfo:
    """One row of the layer table.

    Attributes:
        name: The layer's name (what ``--layer`` takes).
        kind: Its Keras class name (Conv2D, MaxPooling2D, Dense...).
        output_shape: Without the batch dimension.
        conv: True for convolutions, the layers whose filters can be visualised.
        maps: True when the output is a stack of feature maps (height, width, channels).
        params: Weights in the layer.
    """

    name: str
    kind: str
    output_shape: tuple
    conv: bool
    maps: bool
    params: int

    @property
    def channels(self) -> int | None:
        """Filters (feature maps) of a layer with maps, else None."""
        return int(self.output_shape[-1]) if self.maps else None

    def to_json(self) -> dict:
        """A JSON-able dict."""
        return {"name": self.name, "kind": self.kind, "output_shape": list(self.output_shape),
                "conv": self.conv, "maps": self.maps, "params": self.params}


def _is_conv(layer: Any) -> bool:
    import keras

    convs = (keras.layers.Conv2D, keras.layers.SeparableConv2D, keras.layers.DepthwiseConv2D,
             keras.layers.Conv2DTranspose)
    return isinstance(layer, convs)


def _output_shape(layer: Any) -> tuple:
    return tuple(None if d is None else int(d) for d in layer.output.shape[1:])


def layer_table(model: keras.Model) -> list[LayerInfo]:
    """Every layer after the input, in order, as rows."""
    import keras

    rows = []
    for layer in model.layers:
        if isinstance(layer, keras.layers.InputLayer):
            continue
        shape = _output_shape(layer)
        rows.append(LayerInfo(layer.name, type(layer).__name__, shape, _is_conv(layer),
                              len(shape) == 3, int(layer.count_params())))
    return rows


def _a(kind: str) -> str:
    return f"{'an' if kind[:1].upper() in 'AEIOU' else 'a'} {kind}"


def _names(names: Sequence[str]) -> str:
    shown = ", ".join(names[:LISTED])
    return shown + (f", ... ({len(names)} in all)" if len(names) > LISTED else "") if names else "none"


def conv_layer(model: keras.Model, name: str) -> Any:
    """The convolution layer called ``name``.

    Raises:
        VisualizeError: No such layer, or it is not a convolution; the message lists the
            convolution layers.
    """
    rows = layer_table(model)
    convs = [r.name for r in rows if r.conv]
    found = next((r for r in rows if r.name == name), None)
    if found is None:
        raise VisualizeError(f"the model has no layer called {name!r}; its convolution layers are "
                             f"{_names(convs)}")
    if not found.conv:
        raise VisualizeError(f"{name!r} is {_a(found.kind)} layer, not a convolution; choose one of "
                             f"{_names(convs)}")
    return model.get_layer(name)


def maps_layer(model: keras.Model, name: str) -> Any:
    """The layer called ``name``, whose output must be feature maps (H, W, C).

    Raises:
        VisualizeError: No such layer, or its output is not a stack of maps (Dense, Flatten).
    """
    rows = layer_table(model)
    valid = [r.name for r in rows if r.maps]
    found = next((r for r in rows if r.name == name), None)
    if found is None or not found.maps:
        what = f"the model has no layer called {name!r}" if found is None else \
            f"{name!r} is {_a(found.kind)} layer without feature maps"
        raise VisualizeError(f"{what}; layers with feature maps are {_names(valid)}")
    return model.get_layer(name)


def check_indices(indices: Sequence[int], count: int, what: str, where: str) -> tuple[int, ...]:
    """``indices`` as a tuple, each within 0..count-1 (``what``: filter or class; ``where``: the
    layer or "the model", for the message).

    Raises:
        VisualizeError: An index out of range, naming the valid range.
    """
    if not indices:
        raise VisualizeError(f"choose at least one {what}")
    bad = [int(i) for i in indices if not 0 <= int(i) < count]
    if bad:
        raise VisualizeError(f"{what} {bad[0]} is out of range: {where} has {count} {what}"
                             f"{'es' if what.endswith('s') else 's'} (0 to {count - 1})")
    return tuple(int(i) for i in indices)


@dataclass
class ClassHead:
    """How to read class scores from a model whose output is one row of scores per image.

    Attributes:
        layer: The last layer's name.
        before: True to take the last layer's input (a softmax's logits, a Dense's features)
            rather than its output.
        to_logits: Turns that tensor into the pre-softmax scores (identity when no softmax).
        softmax: True when the model's output is a softmax over the logits.
        count: Number of classes.
    """

    layer: str
    before: bool
    to_logits: Callable[[Any], Any]
    softmax: bool
    count: int


def class_head(model: keras.Model) -> ClassHead:
    """The model's class scores, with a way to its logits when the output is a softmax (the
    last layer an ``Activation("softmax")``, or a Dense with a softmax activation).

    Raises:
        VisualizeError: The output is not one score per class (several outputs, maps).
    """
    import keras

    outputs = model.outputs
    if len(outputs) != 1 or len(outputs[0].shape) != 2:
        raise VisualizeError("the model's output is not one row of class scores per image, so it "
                             "has no classes to visualise")
    count = int(outputs[0].shape[-1])
    last = model.layers[-1]
    softmax = getattr(last, "activation", None) is keras.activations.softmax
    if isinstance(last, keras.layers.Activation) and softmax:
        return ClassHead(last.name, True, lambda t: t, True, count)
    if isinstance(last, keras.layers.Dense) and softmax:
        def dense_logits(t: Any, layer: Any = last) -> Any:
            from keras import ops

            z = ops.matmul(t, layer.kernel)
            return z + layer.bias if layer.use_bias else z

        return ClassHead(last.name, True, dense_logits, True, count)
    return ClassHead(last.name, False, lambda t: t, False, count)


def class_names(names: Sequence[str] | None, count: int) -> list[str]:
    """Names for ``count`` classes: the given ones when they fit, else ``class 0``..."""
    if names is not None and len(names) == count:
        return [str(n) for n in names]
    return [f"class {i}" for i in range(count)]
