"""Kernels a learner can type or pick: presets, cell parsing, and what is odd about a kernel.

The chapter's two filters come first. Its vertical-line filter "responds to high pixel values on
the left, and low pixel values on the right": a column of ones, a column of zeros, a column of
minus ones. Its horizontal-line filter is the same turned on its side: ones on top, minus ones
at the bottom.
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np

CHANNEL_NAMES = ("R", "G", "B")

_SOBEL5 = np.outer([1, 4, 6, 4, 1], [-1, -2, 0, 2, 1])


def _identity(size: int) -> np.ndarray:
    kernel = np.zeros((size, size))
    kernel[size // 2, size // 2] = 1.0
    return kernel


# name -> {kernel side: (K, K) weights}; the same weights go on every channel of a colour image.
_GRAY = {
    "Vertical lines (chapter)": {3: np.array([[1, 0, -1]] * 3)},
    "Horizontal lines (chapter)": {3: np.array([[1, 1, 1], [0, 0, 0], [-1, -1, -1]])},
    "Sobel x": {3: np.array([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]]), 5: _SOBEL5},
    "Sobel y": {3: np.array([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]]).T, 5: _SOBEL5.T},
    "Box blur": {3: np.full((3, 3), 1 / 9), 5: np.full((5, 5), 1 / 25)},
    "Sharpen": {3: np.array([[0, -1, 0], [-1, 5, -1], [0, -1, 0]]),
                5: 2 * _identity(5) - np.full((5, 5), 1 / 25)},
    "Identity": {3: _identity(3), 5: _identity(5)},
}
# Colour-only presets: (R, G, B) weights of the centre pixel.
_COLOUR = {"Green minus red and blue": (-0.5, 1.0, -0.5)}


class KernelCellError(ValueError):
    """A kernel cell whose text is not a number; the message names the cell."""


def preset_names(size: int, channels: int) -> list[str]:
    """The presets that exist for a ``size`` × ``size`` kernel over ``channels`` channels."""
    names = [name for name, sizes in _GRAY.items() if size in sizes]
    return names + (list(_COLOUR) if channels == 3 else [])


def preset(name: str, size: int, channels: int) -> np.ndarray:
    """A preset's weights as a (size, size, channels) kernel.

    Raises:
        KeyError: No such preset for this size and number of channels.
    """
    if name in _COLOUR and channels == 3:
        kernel = np.zeros((size, size, 3))
        kernel[size // 2, size // 2] = _COLOUR[name]
        return kernel
    if name not in _GRAY or size not in _GRAY[name]:
        raise KeyError(f"there is no {size} × {size} preset called {name!r}")
    return np.repeat(np.asarray(_GRAY[name][size], np.float64)[..., None], channels, axis=2)


def resize_kernel(kernel: np.ndarray, size: int) -> np.ndarray:
    """A (K, K, C) kernel centred in a bigger one (zeros around) or its centre cut from a smaller
    one: a 3 × 3 filter padded with zeros to 5 × 5 computes the same thing."""
    old = kernel.shape[0]
    out = np.zeros((size, size, kernel.shape[2]))
    if size >= old:
        start = (size - old) // 2
        out[start:start + old, start:start + old] = kernel
    else:
        start = (old - size) // 2
        out[:] = kernel[start:start + size, start:start + size]
    return out


def matching_preset(kernel: np.ndarray) -> str | None:
    """The preset whose weights ``kernel`` (K, K, C) has, or None for typed weights."""
    size, channels = kernel.shape[0], kernel.shape[2]
    for name in preset_names(size, channels):
        if np.allclose(preset(name, size, channels), kernel, rtol=0, atol=1e-12):
            return name
    return None


def reshape_kernel(kernel: np.ndarray, size: int, channels: int) -> np.ndarray:
    """A kernel at another side or channel count: a preset is re-made at the new shape, typed
    weights are centred in (or cut from) the new side and their first channel copied to every
    channel."""
    name = matching_preset(kernel)
    if name is not None and name in preset_names(size, channels):
        return preset(name, size, channels)
    return np.repeat(resize_kernel(kernel, size)[..., :1], channels, axis=2)


def cell_name(row: int, col: int, channel: int | None = None) -> str:
    """'row 2, column 3' (1-based, as a learner counts), with the channel in colour mode."""
    name = f"row {row + 1}, column {col + 1}"
    return f"{name} of the {CHANNEL_NAMES[channel]} kernel" if channel is not None else name


def parse_cell(text: str, row: int, col: int, channel: int | None = None) -> float:
    """A kernel cell's text as a number: ``2``, ``-0.5``, ``−1`` or a fraction such as ``1/9``.

    Raises:
        KernelCellError: Empty, not a number, or not finite; the message names the cell.
    """
    cleaned = text.strip().replace("−", "-").replace(",", ".")
    name = cell_name(row, col, channel)
    where = name[0].upper() + name[1:]
    if not cleaned:
        raise KernelCellError(f"{where} is empty: type a number (0 if it should not count).")
    try:
        value = float(Fraction(cleaned)) if "/" in cleaned else float(cleaned)
    except (ValueError, ZeroDivisionError):
        raise KernelCellError(f"{where}: '{text.strip()}' is not a number.") from None
    if not math.isfinite(value):
        raise KernelCellError(f"{where}: '{text.strip()}' is not a finite number.")
    return value


def zero_notes(kernels: np.ndarray, bias: np.ndarray) -> list[str]:
    """A sentence for each filter of a (K, K, C, F) kernel whose weights are all zero."""
    notes = []
    for f in range(kernels.shape[3]):
        if not np.any(kernels[..., f]):
            which = f"Filter {f + 1}" if kernels.shape[3] > 1 else "The kernel"
            notes.append(f"{which} is all zeros: every output is just its bias, "
                         f"{format_number(float(bias[f]))}.")
    return notes


def stride_note(k: int, stride: int) -> str:
    """A sentence when windows ``stride`` apart leave pixels out ("" when they do not)."""
    if stride <= k:
        return ""
    return (f"The stride ({stride}) is larger than the {k} × {k} kernel: the windows do not "
            f"touch, so {stride - k} of every {stride} rows and columns are never looked at.")


def format_number(value: float, decimals: int = 2) -> str:
    """A value as a learner writes it: whole numbers without decimals, others rounded, with a
    real minus sign."""
    if abs(value - round(value)) < 1e-9:
        text = str(int(round(value)))
    else:
        text = f"{value:.{decimals}f}".rstrip("0").rstrip(".")
    return text.replace("-", "−") if text not in ("-0", "0") else "0"
