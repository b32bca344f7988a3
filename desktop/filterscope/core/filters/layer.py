"""One convolution layer as the Filters tab shows it: an image, its filters, and every stage the
chapter's ConvNet puts after them (the output maps, ReLU, 2 × 2 max pooling), computed once."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from filterscope.core.filters.conv import (
    ConvStep,
    Padding,
    conv_step,
    convolve,
    explain_output_size,
    pad,
    pad_amounts,
    step_count,
)
from filterscope.core.filters.kernels import stride_note, zero_notes
from filterscope.core.filters.pooling import PoolStep, max_pool, pool_step, pool_step_count, relu

STAGES = ("convolution", "relu", "pooling")


@dataclass(frozen=True, eq=False)
class FilterLayer:
    """An image and the filters slid over it.

    Attributes:
        image: (H, W, C) pixel values.
        kernels: (K, K, C, F) weights, Keras's layout.
        bias: (F,) one bias per filter.
        stride: Step between windows.
        padding: ``'valid'`` or ``'same'``.
    """

    image: np.ndarray
    kernels: np.ndarray
    bias: np.ndarray
    stride: int = 1
    padding: Padding = "valid"

    @property
    def k(self) -> int:
        """The kernel's side."""
        return self.kernels.shape[0]

    @property
    def filters(self) -> int:
        """How many filters (channels of the output)."""
        return self.kernels.shape[3]

    @cached_property
    def padded(self) -> np.ndarray:
        """The image with the zeros the padding adds (the windows' coordinates refer to it)."""
        return pad(np.asarray(self.image, np.float64), self.k, self.stride, self.padding)

    def inside(self) -> np.ndarray:
        """(padded H, padded W) bool: True on the image's own pixels, False on padding."""
        (top, _), (left, _) = (pad_amounts(n, self.k, self.stride, self.padding)
                               for n in self.image.shape[:2])
        mask = np.zeros(self.padded.shape[:2], bool)
        mask[top:top + self.image.shape[0], left:left + self.image.shape[1]] = True
        return mask

    @cached_property
    def output(self) -> np.ndarray:
        """(out_h, out_w, F): what Conv2D outputs, one map per filter."""
        return convolve(self.image, self.kernels, self.bias, self.stride, self.padding)

    @cached_property
    def rectified(self) -> np.ndarray:
        """The output after ReLU."""
        return relu(self.output)

    @cached_property
    def pooled(self) -> np.ndarray:
        """The rectified output after 2 × 2 max pooling."""
        return max_pool(self.rectified)

    def step_count(self, stage: str) -> int:
        """Positions to step through in a stage (``convolution``, ``relu`` or ``pooling``)."""
        if stage == "pooling":
            return pool_step_count(self.rectified.shape)
        return step_count(self.image.shape, self.k, self.stride, self.padding)

    def conv_step(self, index: int, filter_index: int = 0) -> ConvStep:
        """The window, products and sum behind one output value."""
        return conv_step(self.image, self.kernels, self.bias, index, stride=self.stride,
                         padding=self.padding, filter_index=filter_index)

    def pool_step(self, index: int, filter_index: int = 0) -> PoolStep:
        """The 2 × 2 pool behind one pooled value of one channel."""
        return pool_step(self.rectified, index, channel=filter_index)

    def size_sentence(self) -> str:
        """How the output's size follows from the settings, with the output's full shape."""
        height, width = self.image.shape[:2]
        out_h, out_w = self.output.shape[:2]
        return (f"{explain_output_size(height, width, self.k, self.stride, self.padding)} "
                f"Output: {out_h} × {out_w} × {self.filters} ({self.filters} filter(s) give "
                f"{self.filters} channel(s) for the next layer).")

    def zero_notes(self) -> list[str]:
        """A sentence for each filter that is all zeros (its output is its bias)."""
        return zero_notes(self.kernels, self.bias)

    def stride_note(self) -> str:
        """A sentence when the stride skips pixels, else ""."""
        return stride_note(self.k, self.stride)
