"""Each step of the Filters tab as a line of arithmetic a learner can check by hand."""

from __future__ import annotations

import numpy as np

from filterscope.core.filters.conv import ConvStep
from filterscope.core.filters.kernels import CHANNEL_NAMES, format_number
from filterscope.core.filters.pooling import PoolStep

MAX_TERMS = 9  # beyond nine products a written-out sum no longer reads
MAX_CHANNELS = 6  # channels' sums written out one by one; a model's deep layer has hundreds


def _factor(value: float) -> str:
    text = format_number(value)
    return f"({text})" if value < 0 and text != "0" else text


def conv_equation(step: ConvStep, kernel: np.ndarray) -> str:
    """The products and their sum behind one output value, then the bias.

    Args:
        step: The step (its window and products).
        kernel: (K, K, C) the filter's weights.

    Returns:
        E.g. ``"0 × 1 + 12 × 0 + 250 × (−1) + … = −238; −238 + bias 0 = −238"``.
    """
    channels = step.window.shape[2]
    if step.products.size <= MAX_TERMS:
        terms = " + ".join(f"{_factor(a)} × {_factor(w)}"
                           for a, w in zip(step.window.ravel(), kernel.ravel()))
        summed = f"{terms} = {format_number(step.total)}"
    elif channels > 1:
        shown = channels if channels <= MAX_CHANNELS else MAX_CHANNELS - 1
        parts = [f"{CHANNEL_NAMES[c] if channels == 3 else c + 1}: "
                 f"{format_number(float(step.products[..., c].sum()))}" for c in range(shown)]
        if shown < channels:
            parts.append(f"channels {shown + 1} to {channels}: "
                         f"{format_number(float(step.products[..., shown:].sum()))}")
        summed = (f"The {step.products.size} products add up to " + " + ".join(parts) +
                  f" = {format_number(step.total)}")
    else:
        summed = f"The {step.products.size} products add up to {format_number(step.total)}"
    bias = format_number(step.bias)
    return (f"{summed}; {format_number(step.total)} + bias {bias} = {format_number(step.value)}, "
            f"the output at row {step.row + 1}, column {step.col + 1}.")


def relu_equation(value: float, row: int, col: int) -> str:
    """``ReLU(−312) = max(−312, 0) = 0`` for the output value at (row, col)."""
    text = format_number(value)
    return (f"ReLU({text}) = max({text}, 0) = {format_number(max(value, 0.0))} at row {row + 1}, "
            f"column {col + 1}: negative responses become 0.")


def pool_equation(step: PoolStep) -> str:
    """``max(0, 12, 340, 0) = 340``, naming the winning position."""
    values = ", ".join(format_number(float(v)) for v in step.window.ravel())
    row, col = step.winner
    return (f"max({values}) = {format_number(step.value)}, from row {row + 1}, column {col + 1}; "
            f"the pooled map's row {step.row + 1}, column {step.col + 1}.")
