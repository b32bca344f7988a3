"""A step of a real model, opened in the Filters tab: one value a trained layer computed, set up
as the tab's hand-made lessons are (an input, one filter, its bias, the stride and padding), so
the same step-through works it out and arrives at the model's own value.

The numbers are the model's: the input is the real output of the layer below (or the image as
the model was fed it), the kernel the layer's own weights for the clicked output channel. Only
the arithmetic is redone, in float64 numpy, which is why the result equals the model's tile up to
float32 rounding. ReLU and 2 × 2 max pooling steps reuse the Filters tab's later stages; where no
convolution feeds them directly, a 1 × 1 kernel of weight 1 passes their input through unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from filterscope.core.filters.conv import Padding
from filterscope.core.filters.explain import conv_equation, pool_equation, relu_equation
from filterscope.core.filters.kernels import format_number
from filterscope.core.filters.layer import STAGES, FilterLayer

# The activations a Keras layer may apply after its sum, as numpy computes them.
ACTIVATIONS = {
    "linear": lambda x: x,
    "relu": lambda x: max(x, 0.0),
    "relu6": lambda x: min(max(x, 0.0), 6.0),
    "sigmoid": lambda x: float(1.0 / (1.0 + np.exp(-x))),
    "tanh": lambda x: float(np.tanh(x)),
    "silu": lambda x: float(x / (1.0 + np.exp(-x))),
    "swish": lambda x: float(x / (1.0 + np.exp(-x))),
}


@dataclass(frozen=True, eq=False)
class ModelStep:
    """One output value of a model's layer, as a Filters-tab lesson.

    Attributes:
        image: (H, W, C) the layer's real input, or the crop of it around the window.
        kernels: (K, K, C, 1) the convolution's weights for the clicked output channel (a
            1 × 1 × 1 weight of 1 where the stage has no convolution of its own).
        bias: (1,) its bias.
        stride: The convolution's stride.
        padding: As the Filters tab applies it to ``image`` (``'valid'`` on a crop: the crop
            already holds the zeros the model's 'same' padding adds at the border).
        stage: ``convolution``, ``relu`` or ``pooling``: the Filters-tab stage of the value.
        position: The step (row-major position) of that stage at the clicked value.
        activation: What the model applies after the convolution's sum (``linear``, ``relu``...):
            the clicked tile shows the value after it.
        tile: The model's own value at the clicked tile (float32, as Keras computed it).
        origin: Where it comes from, for the tab: model, layer, channel and position.
        output: What the convolution's output map is in the model (its layer and channel).
        notes: Sentences saying how the step maps onto the model (crop, padding, activation).
    """

    image: np.ndarray
    kernels: np.ndarray
    bias: np.ndarray
    stride: int
    padding: Padding
    stage: str
    position: int
    activation: str
    tile: float
    origin: str
    output: str = ""
    notes: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.stage not in STAGES:
            raise ValueError(f"stage must be one of {', '.join(STAGES)}, not {self.stage!r}")
        if self.activation not in ACTIVATIONS:
            raise ValueError(f"the activation {self.activation!r} cannot be worked out by hand")
        if not 0 <= self.position < self.layer.step_count(self.stage):
            raise ValueError(f"step {self.position} is outside the {self.stage} stage")

    @cached_property
    def layer(self) -> FilterLayer:
        """The Filters tab's layer for this step."""
        return FilterLayer(self.image, self.kernels, self.bias, self.stride, self.padding)

    @property
    def channels(self) -> int:
        """Input channels the kernel sums over."""
        return int(self.image.shape[2])

    @property
    def picks_channel(self) -> bool:
        """Whether its input is drawn one channel at a time: neither one channel (gray) nor
        three (R, G and B, drawn side by side)."""
        return self.channels not in (1, 3)

    def drawn_channel(self, channel: int) -> int | None:
        """The input channel drawn (0-based) for the ``channel`` setting (1-based), or None when
        every channel is drawn (see :attr:`picks_channel`)."""
        return channel - 1 if self.picks_channel else None

    def computed(self) -> float:
        """The value the Filters tab's arithmetic gives for the clicked tile (after the layer's
        own activation at the convolution stage)."""
        layer = self.layer
        if self.stage == "convolution":
            return float(ACTIVATIONS[self.activation](layer.conv_step(self.position).value))
        maps = layer.rectified if self.stage == "relu" else layer.pooled
        row, col = divmod(self.position, maps.shape[1])
        return float(maps[row, col, 0])

    def activation_note(self) -> str:
        """At the convolution stage with an activation inside the layer: the sum, then what the
        activation makes of it (the tile's value); else ""."""
        if self.stage != "convolution" or self.activation == "linear":
            return ""
        total = self.layer.conv_step(self.position).value
        return (f"This layer applies {self.activation} inside itself, so its tile shows "
                f"{self.activation}({format_number(total, 4)}) = {format_number(self.computed(), 4)}, "
                "not the sum.")

    def equation(self) -> str:
        """The step's arithmetic as the Filters tab writes it (with the activation, if any)."""
        layer = self.layer
        if self.stage == "convolution":
            text = conv_equation(layer.conv_step(self.position), self.kernels[..., 0])
            return " ".join(filter(None, (text, self.activation_note())))
        if self.stage == "relu":
            row, col = divmod(self.position, layer.output.shape[1])
            return relu_equation(float(layer.output[row, col, 0]), row, col)
        return pool_equation(layer.pool_step(self.position))

    def strongest_channel(self) -> int:
        """The input channel that adds most to the step's sum (at the convolution stage), else
        the one with the largest values: the one worth drawing first."""
        if self.stage == "convolution":
            products = self.layer.conv_step(self.position).products
            return int(np.argmax(np.abs(products.sum(axis=(0, 1)))))
        return int(np.argmax(np.abs(self.image).max(axis=(0, 1))))

    def display_scale(self, channel: int | None = None) -> float:
        """The largest input magnitude (of one input ``channel``, when one is drawn on its own):
        what the input's lightest cell stands for."""
        values = self.image if channel is None else self.image[..., channel]
        return float(np.abs(values).max()) or 1.0
