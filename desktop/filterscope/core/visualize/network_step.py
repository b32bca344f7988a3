"""A clicked tile of the network view as a Filters-tab step (:class:`~filterscope.core.filters.
model_step.ModelStep`) whose arithmetic gives the tile's value.

A convolution's tile is its own kernel (the clicked output channel) over the real output of the
layer below. A ReLU right after a convolution without activation, or a max pooling right after a
convolution with ReLU (inside it or in the ReLU layer that follows), is shown as that
convolution's later stage, so the whole chain steps through; any other ReLU or pooling takes
the one map it acts on through a 1 × 1 kernel of weight 1. Inputs larger than the Filters tab's
crop are cut around the window, from the input as the model padded it, on the stride's grid
(and the pools' 2 × 2 grid), so every value in the crop is the model's.
"""

from __future__ import annotations

import numpy as np

from filterscope.core.filters.conv import output_size, pad
from filterscope.core.filters.kernels import format_number
from filterscope.core.filters.model_step import ModelStep
from filterscope.core.filters.source import MAX_CROP
from filterscope.core.visualize.layers import VisualizeError
from filterscope.core.visualize.network import IMAGE, LayerOutput, NetworkView

STAGE_OF = {"conv": "convolution", "relu": "relu", "pool": "pooling"}


def tile_step(view: NetworkView, index: int, row: int, col: int, channel: int) -> ModelStep:
    """The Filters-tab step behind the value of layer ``index`` at (``row``, ``col``, ``channel``).

    Raises:
        VisualizeError: The layer is no convolution, ReLU or 2 × 2 max pooling the tab can work
            out (the message says why), or the tile is outside its maps.
    """
    layer = view.layers[index]
    if layer.blocker:
        raise VisualizeError(layer.blocker)
    height, width, channels = layer.values.shape
    if not (0 <= row < height and 0 <= col < width and 0 <= channel < channels):
        raise VisualizeError(f"{layer.name} has {height} × {width} × {channels} values; there is no "
                             f"row {row + 1}, column {col + 1}, channel {channel + 1}")
    conv = _feeding_conv(view, layer)
    stage = STAGE_OF[layer.kind]
    if conv is None:
        x = view.input_of(layer)[..., channel:channel + 1]
        kernel, bias, stride, padding, activation = np.ones((1, 1, 1, 1)), np.zeros(1), 1, "valid", "linear"
    else:
        x, weights = view.input_of(conv), conv.conv
        kernel, bias = weights.kernel[..., channel:channel + 1], weights.bias[channel:channel + 1]
        stride, padding, activation = weights.stride, weights.padding, weights.activation
    image, padding, corner = _crop(x.astype(np.float64), kernel.shape[0], stride, padding, stage, row, col)
    if conv is None and stage == "pooling" and (image < 0).any():
        raise VisualizeError(f"the input of {layer.name} has negative values; the Filters tab pools "
                             "after a ReLU, so it cannot show this pooling exactly")
    out_w = output_size(image.shape[1], kernel.shape[0], stride, padding)
    pools = 2 if stage == "pooling" else 1  # the pooled map's cells are 2 × 2 of the output's
    here = (row - corner[0] // pools, col - corner[1] // pools)
    position = here[0] * (out_w // pools) + here[1]
    tile = float(layer.values[row, col, channel])
    full = view.input_of(layer if conv is None else conv).shape  # all channels, not the one taken
    notes = _notes(view, layer, conv, channel, full, image.shape, (corner, here))
    if conv is None:
        output = f"{view.source_name(layer)}, channel {channel + 1} (unchanged)"
    else:
        output = f"{conv.name}, channel {channel + 1}" + ("" if activation == "linear" else f", before its {activation}")
    return ModelStep(image, kernel, bias, stride, padding, stage, position, activation, tile,
                     _origin(view, layer, row, col, channel, tile), output, notes)


def _feeding_conv(view: NetworkView, layer: LayerOutput) -> LayerOutput | None:
    """The convolution whose later stage ``layer`` is, or None (the tile's own map is used)."""
    if layer.kind == "conv":
        return layer
    below = None if layer.source in (None, IMAGE) else view.layers[layer.source]
    if below is None:
        return None
    if layer.kind == "relu":
        return below if below.kind == "conv" and not below.blocker and below.conv.activation == "linear" else None
    if below.kind == "conv" and not below.blocker and below.conv.activation == "relu":
        return below
    if below.kind == "relu" and not below.blocker:
        return _feeding_conv(view, below)
    return None


def _crop(x: np.ndarray, k: int, stride: int, padding: str, stage: str, row: int,
          col: int) -> tuple[np.ndarray, str, tuple[int, int]]:
    """The input the Filters tab runs on, its padding there and the output's first (row, col).

    The whole input when it fits the tab's crop; else the part of the padded input under the
    outputs around the clicked one (an even number of them, from an even one, for pooling).
    """
    if max(x.shape[:2]) <= MAX_CROP:
        return x, padding, (0, 0)
    padded = pad(x, k, stride, padding)
    per = (MAX_CROP - k) // stride + 1
    if stage == "pooling":
        per -= per % 2
    target = (row * 2, col * 2) if stage == "pooling" else (row, col)
    corner, sizes = [], []
    for n, at in zip(x.shape[:2], target):
        total = output_size(n, k, stride, padding)
        count = min(per, total)
        first = int(np.clip(at - count // 2, 0, total - count))
        if stage == "pooling":
            first -= first % 2
        corner.append(first)
        sizes.append(count)
    (top, left), (rows, cols) = corner, sizes
    image = padded[top * stride:top * stride + (rows - 1) * stride + k,
                   left * stride:left * stride + (cols - 1) * stride + k]
    return image, "valid", (top, left)


def _origin(view: NetworkView, layer: LayerOutput, row: int, col: int, channel: int, tile: float) -> str:
    return (f"{view.model}: layer {layer.name} ({layer.class_name}), channel {channel + 1} of "
            f"{layer.values.shape[2]}, row {row + 1}, column {col + 1}: the tile's value is "
            f"{format_number(tile, 4)}.")


def _notes(view: NetworkView, layer: LayerOutput, conv: LayerOutput | None, channel: int,
           full: tuple, shown: tuple, where: tuple[tuple[int, int], tuple[int, int]]) -> tuple[str, ...]:
    """How the step maps onto the model; ``where``: the crop's first output in the model's map,
    and the clicked value's place in the tab's map."""
    size = " × ".join(map(str, full))
    feeder = conv if conv is not None else layer
    source = view.source_name(feeder)
    notes = [f"Input: {'the image as the model is fed it' if source == 'the image' else f'the output of {source}'} "
             f"({size})."]
    if conv is None:
        notes.append(f"No convolution feeds {layer.name} directly: a 1 × 1 kernel of weight 1 "
                     f"passes channel {channel + 1} of {source} through unchanged.")
    else:
        k, c = conv.conv.kernel.shape[0], conv.conv.kernel.shape[2]
        notes.append(f"Kernel: {conv.name}'s own {k} × {k} × {c} weights for output channel "
                     f"{channel + 1}, and its bias; stride {conv.conv.stride}, padding "
                     f"'{conv.conv.padding}'.")
    if tuple(shown[:2]) != tuple(full[:2]):
        (top, left), (row, col) = where
        notes.append(f"The Filters tab shows the {shown[0]} × {shown[1]} part of the input around the "
                     "window, cut from the input as the model padded it (so the tab adds no padding of "
                     f"its own): its first output is the model's row {top + 1}, column {left + 1}, and "
                     f"the clicked value is its row {row + 1}, column {col + 1}.")
    if layer.kind == "relu":
        notes.append(f"{layer.name} applies ReLU to the output of {view.source_name(layer)}: stage 2 "
                     "shows it.")
    elif layer.kind == "pool":
        notes.append(f"{layer.name} keeps the largest value of each 2 × 2 pool: stage 3 shows it; "
                     "stages 1 and 2 show where those values come from.")
    return tuple(notes)
