"""Pretrained bases as a model spec describes them, in plain Python (no TensorFlow).

A :class:`BaseSpec` says which base a model starts from (``vgg16``, the chapter's,
``mobilenetv2``, the small one, or ``efficientnet-lite0``, a small one whose ImageNet weights are
installed with the app; ``-lite1`` and ``-lite2`` when their optional packages are), which weights
it takes and how many of its top blocks train.
:func:`base_rows` gives the base's layer table (names, kinds, output shapes, parameters, what
trains) for any input size, exactly as Keras builds ``keras.applications`` with
``include_top=False`` (EfficientNet-Lite as ``core.transfer.efficientnet`` builds it), so the Train tab shows a VGG16 run's 14.8 million parameters before
TensorFlow is loaded. :func:`trains` is the one rule for which layers train when fine-tuning.

Weights themselves (where they are, checking a file) are ``filterscope.core.transfer``'s: this
module only records the choice.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import Callable

from filterscope.core.base.settings import check_declared, check_keys, setting
from filterscope.core.training import lite_spec
from filterscope.core.training.model_spec import ModelSpec, ModelSpecError, OptimizerSpec, check_number

BASE_NAMES = ("vgg16", "mobilenetv2", *lite_spec.installed_variants())
DISPLAY = {"vgg16": "VGG16", "mobilenetv2": "MobileNetV2",
           **{n: f"EfficientNet-Lite{n[-1]}" for n in lite_spec.VARIANTS}}
MIN_SIDE = {"vgg16": 32, "mobilenetv2": 32,  # what keras.applications accepts
            **dict.fromkeys(lite_spec.VARIANTS, 32)}
WEIGHTS_CHOICES = ("imagenet", "random")  # or the path of a weights file
_VGG_BLOCKS = ((2, 64), (2, 128), (3, 256), (3, 512), (3, 512))  # (convolutions, filters)
# MobileNetV2 (alpha 1.0): (expansion, output channels, repeats, first stride) per stage.
_MOBILENET_STAGES = ((1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1),
                     (6, 160, 3, 2), (6, 320, 1, 1))
_MOBILENET_TOP = 1280


def _mobilenet_blocks() -> list[tuple[str, ...]]:
    """Layer-name prefixes of MobileNetV2's blocks: the stem, its 17 inverted residual blocks
    and the final 1x1 convolution."""
    return [("Conv1", "bn_Conv1"), ("expanded_conv_",),
            *[(f"block_{i}_",) for i in range(1, 17)], ("Conv_1", "out_relu")]


BLOCK_PREFIXES: dict[str, list[tuple[str, ...]]] = {
    "vgg16": [(f"block{i}_",) for i in range(1, 6)],
    "mobilenetv2": _mobilenet_blocks(),
    **{n: lite_spec.block_prefixes(n) for n in BASE_NAMES[2:]},  # stem, MBConv blocks, head
}
MOST_BLOCKS = max(len(p) for p in BLOCK_PREFIXES.values())  # each base's own is block_count(name)


@dataclass(frozen=True)
class BaseSpec:
    """The pretrained base of a model.

    Attributes:
        name: One of BASE_NAMES.
        weights: ``imagenet`` (found on this computer by ``core.transfer``), ``random`` (an
            untrained base, recorded as such: for timing, not for accuracy) or a weights file.
        fine_tune_blocks: How many of the base's top blocks train (0: the base is frozen).
            Batch normalisation layers stay frozen either way.
        head_epochs: When fine-tuning: epochs the new head first trains alone on the frozen
            base's cached features, at ten times the run's learning rate, so that fine-tuning
            starts from a head that already works (a random head's large gradients would
            wreck the top blocks' ImageNet features). Ignored while the base is frozen.
    """

    name: str = setting("vgg16", "Base", kind=str, choices=tuple((n, DISPLAY[n]) for n in BASE_NAMES),
                        help="The pretrained base a new head is trained on")
    weights: str = "imagenet"
    fine_tune_blocks: int = setting(
        0, "Fine-tune blocks", low=0, high=MOST_BLOCKS, special="Frozen",
        help="Let the base's top blocks train (VGG16 has 5, MobileNetV2 19, EfficientNet-Lite0 18: "
        "its stem, 16 MBConv blocks and head); the learning rate "
        "then defaults to a tenth of the optimiser's. 0 keeps the base frozen")
    head_epochs: int = setting(
        0, "Head epochs first", low=0, high=1000, special="None",
        help="When fine-tuning: train the new head alone on the frozen base's cached features "
        "for this many epochs first (fast), at ten times the run's learning rate, so that "
        "fine-tuning starts from a head that already works. 0 fine-tunes from a random head")

    def __post_init__(self) -> None:
        check_declared(self, "base.", ModelSpecError)
        if not isinstance(self.weights, str) or not self.weights.strip():
            raise ModelSpecError("base.weights", "must be imagenet, random or a weights file")
        check_number("base.fine_tune_blocks", self.fine_tune_blocks, 0, block_count(self.name),
                     integer=True)

    @property
    def display(self) -> str:
        """The base's usual name (VGG16, MobileNetV2)."""
        return DISPLAY[self.name]

    def to_json(self) -> dict:
        """A JSON-able dict."""
        return {"name": self.name, "weights": self.weights, "fine_tune_blocks": self.fine_tune_blocks,
                "head_epochs": self.head_epochs}

    @classmethod
    def from_json(cls, data: object) -> BaseSpec:
        """Validate and build; ModelSpecError names the field (``base.name``)."""
        return cls(**check_keys("base", data, {f.name for f in fields(cls)}, error=ModelSpecError))


def block_count(name: str) -> int:
    """Blocks of a base that fine-tuning can unfreeze (VGG16 5, MobileNetV2 19, EfficientNet-Lite0
    18: its stem, 16 MBConv blocks and 1x1 head)."""
    return len(BLOCK_PREFIXES[name])


def block_of(name: str, layer: str) -> int | None:
    """The 1-based block of a base's layer (None for its input)."""
    for i, prefixes in enumerate(BLOCK_PREFIXES[name], start=1):
        if layer.startswith(prefixes):
            return i
    return None


def top_prefixes(base: BaseSpec) -> tuple[str, ...]:
    """Name prefixes of the layers in the blocks that train."""
    blocks = BLOCK_PREFIXES[base.name]
    return tuple(p for group in blocks[len(blocks) - base.fine_tune_blocks:] for p in group)


def trains(base: BaseSpec, layer: str, kind: str) -> bool:
    """The one rule: a base layer trains when it is in one of the top ``fine_tune_blocks``
    blocks and is not batch normalisation (whose statistics must stay ImageNet's)."""
    return base.fine_tune_blocks > 0 and kind != "BatchNormalization" \
        and layer.startswith(top_prefixes(base))


def _vgg16(h: int, w: int, add: Callable) -> tuple[int, int, int]:
    c = 3
    for b, (convs, filters) in enumerate(_VGG_BLOCKS, start=1):
        for k in range(1, convs + 1):
            add(f"block{b}_conv{k}", "Conv2D", (h, w, filters), 9 * c * filters + filters)
            c = filters
        h, w = h // 2, w // 2
        add(f"block{b}_pool", "MaxPooling2D", (h, w, c), 0)
    return h, w, c


def _bn_relu(add: Callable, bn: str, relu: str, shape: tuple) -> None:
    add(bn, "BatchNormalization", shape, 4 * shape[2])
    add(relu, "ReLU", shape, 0)


def _mobilenetv2(h: int, w: int, add: Callable) -> tuple[int, int, int]:
    h, w, c = -(-h // 2), -(-w // 2), 32
    add("Conv1", "Conv2D", (h, w, c), 27 * c)
    _bn_relu(add, "bn_Conv1", "Conv1_relu", (h, w, c))
    block = 0
    for expansion, out, repeats, first_stride in _MOBILENET_STAGES:
        for r in range(repeats):
            stride = first_stride if r == 0 else 1
            prefix = f"block_{block}_" if block else "expanded_conv_"
            inner = c * expansion
            if block:
                add(f"{prefix}expand", "Conv2D", (h, w, inner), c * inner)
                _bn_relu(add, f"{prefix}expand_BN", f"{prefix}expand_relu", (h, w, inner))
            if stride == 2:  # keras' correct_pad: one pixel less before an even side
                ph, pw = h + 2 - (1 - h % 2), w + 2 - (1 - w % 2)
                add(f"{prefix}pad", "ZeroPadding2D", (ph, pw, inner), 0)
                h, w = (ph - 3) // 2 + 1, (pw - 3) // 2 + 1
            add(f"{prefix}depthwise", "DepthwiseConv2D", (h, w, inner), 9 * inner)
            _bn_relu(add, f"{prefix}depthwise_BN", f"{prefix}depthwise_relu", (h, w, inner))
            add(f"{prefix}project", "Conv2D", (h, w, out), inner * out)
            add(f"{prefix}project_BN", "BatchNormalization", (h, w, out), 4 * out)
            if c == out and stride == 1:
                add(f"{prefix}add", "Add", (h, w, out), 0)
            c, block = out, block + 1
    add("Conv_1", "Conv2D", (h, w, _MOBILENET_TOP), c * _MOBILENET_TOP)
    _bn_relu(add, "Conv_1_bn", "out_relu", (h, w, _MOBILENET_TOP))
    return h, w, _MOBILENET_TOP


def base_rows(base: BaseSpec, height: int, width: int) -> tuple[list[dict], tuple[int, int, int]]:
    """The base's layer rows (as ``model_build.summary_rows`` gives them for the built model) and
    its output shape, for a ``height`` x ``width`` RGB input.

    Raises:
        ModelSpecError: The input is smaller than the base takes.
    """
    check_base_input(base, height, width)
    rows: list[dict] = []

    def add(layer: str, kind: str, shape: tuple, params: int) -> None:
        trainable = trains(base, layer, kind)
        rows.append({"layer": layer, "type": kind, "output_shape": (None, *shape), "params": params,
                     "trainable": trainable, "trainable_params": params if trainable else 0})

    if base.name in lite_spec.VARIANTS:
        out = lite_spec.lite_rows(base.name, height, width, add)
    else:
        out = (_vgg16 if base.name == "vgg16" else _mobilenetv2)(height, width, add)
    return rows, out


def check_base_input(base: BaseSpec, height: int, width: int) -> None:
    """Raise ModelSpecError with a plain message when the images are smaller than the base's
    minimum (32 px for every base)."""
    low = MIN_SIDE[base.name]
    if height < low or width < low:
        raise ModelSpecError("input_shape", f"{base.display} takes images of at least {low}x{low} "
                             f"px, not {height}x{width}; choose an image size of {low} or more")


def base_templates() -> dict[str, ModelSpec]:
    """Pretrained bases with a new head, frozen, on ImageNet's weights.

    ``vgg16`` is the chapter's: VGG16's convolutional base, Flatten and Dense(n_classes) with
    softmax. ``mobilenetv2`` is the small base for CPUs and small datasets: MobileNetV2's base,
    global average pooling (its 5x5x1280 maps at 150 px would flatten to 32,000 inputs per
    class) and Dense(n_classes). ``efficientnet-lite0`` (and Lite1, Lite2 when installed) takes
    the same pooled head on its 1280 maps. ``photo-transfer`` is EfficientNet-Lite0 with that
    head, fine-tuned: the model of the pretrained recipe for photos
    (:mod:`~filterscope.core.training.recipes`).
    """
    lite0 = BaseSpec(PHOTO_TRANSFER_BASE, fine_tune_blocks=PHOTO_TRANSFER_BLOCKS,
                     head_epochs=PHOTO_TRANSFER_HEAD_EPOCHS)
    return {"vgg16": ModelSpec("pretrained", (), name="vgg16", base=BaseSpec("vgg16")),
            **{n: ModelSpec("pretrained", (), name=n, base=BaseSpec(n), pooling="avg")
               for n in BASE_NAMES[1:]},
            "photo-transfer": ModelSpec("pretrained", (), name="photo-transfer", base=lite0, pooling="avg")}


PHOTO_TRANSFER_BASE = "efficientnet-lite0"
PHOTO_TRANSFER_BLOCKS = 12  # the head and the top 11 MBConv blocks (README: how it was chosen)
PHOTO_TRANSFER_HEAD_EPOCHS = 6


FINE_TUNE_LR_FACTOR = 0.1  # fine-tuning a pretrained base: 10x smaller steps than training a head


def head_optimizer(optimizer: OptimizerSpec) -> OptimizerSpec:
    """The optimiser of a head trained alone before fine-tuning (``head_epochs``): the run's,
    at 1 / FINE_TUNE_LR_FACTOR times its rate (0.003 for 0.0003, not 0.0029999999999999996)."""
    return replace(optimizer, learning_rate=float(f"{optimizer.learning_rate / FINE_TUNE_LR_FACTOR:.12g}"))


def default_optimizer(kind: str, model: ModelSpec) -> OptimizerSpec:
    """The optimiser's defaults for ``model``: the chapter's, or FINE_TUNE_LR_FACTOR times its
    learning rate when a pretrained base's top blocks train (large steps would wreck the
    features the base learned on ImageNet)."""
    spec = OptimizerSpec(kind)
    if model.base is None or not model.base.fine_tune_blocks:
        return spec
    return replace(spec, learning_rate=spec.learning_rate * FINE_TUNE_LR_FACTOR)
