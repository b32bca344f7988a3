"""The convolution a Keras ``Conv2D`` layer computes, in numpy, one window at a time if asked.

A Conv2D layer slides each filter over the image: at every position it multiplies the filter
element-wise with the slice of the image under it (all channels at once), sums the products and
adds the filter's bias (the chapter's Z = sum(A * F) + b). Strictly this is a cross-correlation:
the kernel is not flipped. 'same' padding adds zeros as TensorFlow does: enough for
ceil(n / stride) outputs, and when the total is odd the extra zero goes on the bottom and right.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np

Padding = Literal["valid", "same"]
PADDINGS: tuple[Padding, ...] = ("valid", "same")


def output_size(n: int, k: int, stride: int, padding: Padding) -> int:
    """How many positions a ``k``-wide window takes along a side of ``n`` pixels (Keras's rule).

    Args:
        n: Input side, in pixels.
        k: Kernel side.
        stride: Step between windows.
        padding: ``'valid'`` (no zeros, the window stays inside) or ``'same'`` (zeros around).

    Returns:
        The output side; 0 when a 'valid' window does not fit at all.
    """
    _check(n, k, stride, padding)
    if padding == "same":
        return math.ceil(n / stride)
    return max((n - k) // stride + 1, 0)


def pad_amounts(n: int, k: int, stride: int, padding: Padding) -> tuple[int, int]:
    """Zeros added before and after one side: TensorFlow's 'same' puts the odd one after."""
    if padding == "valid":
        return 0, 0
    total = max((output_size(n, k, stride, padding) - 1) * stride + k - n, 0)
    return total // 2, total - total // 2


def explain_output_size(height: int, width: int, k: int, stride: int, padding: Padding) -> str:
    """One sentence saying how the output's size follows from the input, kernel, stride and padding."""
    out_h, out_w = (output_size(n, k, stride, padding) for n in (height, width))
    size = f"{out_h} × {out_w}"
    if padding == "same":
        (top, bottom), (left, right) = (pad_amounts(n, k, stride, padding) for n in (height, width))
        zeros = (f"{top} row(s) of zeros above and {bottom} below, {left} column(s) left and "
                 f"{right} right")
        return (f"'same' padding adds {zeros}, so the output is ceil({height} / {stride}) × "
                f"ceil({width} / {stride}) = {size}.")
    if out_h == 0 or out_w == 0:
        return (f"With 'valid' padding a {k} × {k} kernel does not fit in a {height} × {width} "
                "image: there is no output.")
    return (f"With 'valid' padding the {k} × {k} window stays inside the image, so the output is "
            f"({height} − {k}) // {stride} + 1 = {out_h} by ({width} − {k}) // {stride} + 1 = "
            f"{out_w}: {size}.")


def pad(image: np.ndarray, k: int, stride: int, padding: Padding) -> np.ndarray:
    """The (H, W, C) image with the zeros ``padding`` adds around it."""
    (top, bottom), (left, right) = (pad_amounts(n, k, stride, padding) for n in image.shape[:2])
    return np.pad(image, ((top, bottom), (left, right), (0, 0)))


def convolve(image: np.ndarray, kernels: np.ndarray, bias: np.ndarray, stride: int = 1,
             padding: Padding = "valid") -> np.ndarray:
    """What ``keras.layers.Conv2D`` outputs for one image, before any activation.

    Args:
        image: (H, W, C) pixel values.
        kernels: (K, K, C, F): F filters, each K × K over all C channels (Keras's kernel layout).
        bias: (F,) one bias per filter.
        stride: Step between windows, the same along both sides.
        padding: ``'valid'`` or ``'same'``.

    Returns:
        (out_h, out_w, F) float64, one map (channel of the next layer) per filter.

    Raises:
        ValueError: Shapes that do not match, or a stride or kernel below 1.
    """
    image, kernels, bias = _checked_arrays(image, kernels, bias)
    k = kernels.shape[0]
    out_h, out_w = (output_size(n, k, stride, padding) for n in image.shape[:2])
    if out_h == 0 or out_w == 0:
        return np.zeros((out_h, out_w, kernels.shape[3]))
    padded = pad(image, k, stride, padding)
    windows = np.lib.stride_tricks.sliding_window_view(padded, (k, k), axis=(0, 1))
    windows = windows[: out_h * stride : stride, : out_w * stride : stride]  # (oh, ow, C, K, K)
    return np.einsum("hwcij,ijcf->hwf", windows, kernels) + bias


@dataclass(frozen=True)
class ConvStep:
    """One output value of one filter, worked out the way the chapter describes it.

    Attributes:
        index: Position in row-major order over the output.
        row: Output row.
        col: Output column.
        top: The window's top row in the padded input.
        left: The window's left column in the padded input.
        window: (K, K, C) the slice of the padded input under the filter.
        products: (K, K, C) the window times the filter, element by element.
        bias: The filter's bias.
    """

    index: int
    row: int
    col: int
    top: int
    left: int
    window: np.ndarray
    products: np.ndarray
    bias: float

    @property
    def total(self) -> float:
        """The sum of the products."""
        return float(self.products.sum())

    @property
    def value(self) -> float:
        """The output value: the sum plus the bias."""
        return self.total + self.bias


def step_count(image_shape: tuple[int, ...], k: int, stride: int, padding: Padding) -> int:
    """How many positions the window takes (output height × width)."""
    return output_size(image_shape[0], k, stride, padding) * output_size(image_shape[1], k, stride,
                                                                         padding)


def conv_step(image: np.ndarray, kernels: np.ndarray, bias: np.ndarray, index: int, *,
              stride: int = 1, padding: Padding = "valid", filter_index: int = 0) -> ConvStep:
    """The window, products and sum behind output position ``index`` of one filter.

    Args:
        image, kernels, bias, stride, padding: As for :func:`convolve`.
        index: Output position in row-major order, from 0 to :func:`step_count` − 1.
        filter_index: Which filter (output channel).

    Raises:
        IndexError: ``index`` or ``filter_index`` is out of range.
    """
    image, kernels, bias = _checked_arrays(image, kernels, bias)
    k = kernels.shape[0]
    out_w = output_size(image.shape[1], k, stride, padding)
    count = step_count(image.shape, k, stride, padding)
    if not 0 <= index < count:
        raise IndexError(f"step {index} is outside the {count} positions of the window")
    if not 0 <= filter_index < kernels.shape[3]:
        raise IndexError(f"there is no filter {filter_index + 1}; there are {kernels.shape[3]}")
    row, col = divmod(index, out_w)
    top, left = row * stride, col * stride
    window = pad(image, k, stride, padding)[top:top + k, left:left + k]
    return ConvStep(index, row, col, top, left, window, window * kernels[..., filter_index],
                    float(bias[filter_index]))


def _check(n: int, k: int, stride: int, padding: str) -> None:
    if padding not in PADDINGS:
        raise ValueError(f"padding must be 'valid' or 'same', not {padding!r}")
    if k < 1 or stride < 1 or n < 1:
        raise ValueError(f"sizes must be at least 1 (image {n}, kernel {k}, stride {stride})")


def _checked_arrays(image: np.ndarray, kernels: np.ndarray,
                    bias: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    image = np.asarray(image, np.float64)
    kernels = np.asarray(kernels, np.float64)
    bias = np.atleast_1d(np.asarray(bias, np.float64))
    if image.ndim != 3 or kernels.ndim != 4 or kernels.shape[0] != kernels.shape[1]:
        raise ValueError(f"expected an (H, W, C) image and (K, K, C, F) kernels, got {image.shape} "
                         f"and {kernels.shape}")
    if kernels.shape[2] != image.shape[2] or bias.shape != (kernels.shape[3],):
        raise ValueError(f"the kernels {kernels.shape} and bias {bias.shape} do not fit an image "
                         f"with {image.shape[2]} channel(s)")
    return image, kernels, bias
