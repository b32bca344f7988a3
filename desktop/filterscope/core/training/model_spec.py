"""Model and optimizer specs (JSON), validated, with the chapter's templates.

A :class:`ModelSpec` is the chapter's sanity baseline (``logistic``: Flatten, then
Dense(n_classes) with softmax), a ``convnet``: conv blocks (Conv2D, activation, pooling, then
batchnorm and dropout, in the chapter's order), Flatten (or global average pooling), optional
hidden Dense layers and the softmax output, or a ``pretrained`` base (see
:mod:`~filterscope.core.training.base_spec`) with the same kind of head. Every layer gets a stable
name (``block1_conv``, ``block1_relu``, ``output``...) so that visualisation and saved models can
find it again.

The shapes, parameter counts and Keras builders live in :mod:`filterscope.core.training.model_build`.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from functools import partial
from typing import Any

from filterscope.core.base.settings import SettingError, check_declared, check_keys, check_number, setting

MODEL_FORMAT_VERSION = 1
KINDS = ("logistic", "convnet", "pretrained")
POOLINGS = ("flatten", "avg")  # how the last feature maps become a vector: Flatten or global average
ACTIVATIONS = ("relu", "tanh", "sigmoid", "elu", "linear")
PADDINGS = ("valid", "same")
POOLS = ("none", "max", "avg")
OPTIMIZERS = ("sgd", "adam")
LOSS = "sparse_categorical_crossentropy"
# Wide enough for a teaching tool to show divergence, narrow enough to catch typos.
LEARNING_RATE_MAX = 1e6


class ModelSpecError(SettingError):
    """A spec that cannot be built; ``field`` is the JSON path at fault (``blocks[1].filters``)."""


check_number = partial(check_number, error=ModelSpecError)
"""The one range checker (``core.base.settings``), raising ModelSpecError."""


def _choice(where: str, value: object, choices: tuple[str, ...]) -> str:
    if value not in choices:
        raise ModelSpecError(where, f"must be one of {', '.join(choices)} (got {value!r})")
    return str(value)


def _flag(where: str, value: object) -> bool:
    if not isinstance(value, bool):
        raise ModelSpecError(where, f"must be true or false, not {value!r}")
    return value


def _object(where: str, data: object, cls: type) -> dict:
    return check_keys(where, data, {f.name for f in fields(cls)}, error=ModelSpecError)


@dataclass(frozen=True)
class Penalty:
    """An L1/L2 weight penalty (``keras.regularizers.L1L2``); both zero means none."""

    l1: float = 0.0
    l2: float = 0.0

    def check(self, where: str) -> None:
        """Raise ModelSpecError unless both amounts are in [0, 10]."""
        for name in ("l1", "l2"):
            check_number(f"{where}.{name}", getattr(self, name), 0.0, 10.0)

    @property
    def active(self) -> bool:
        """True when the penalty adds anything to the loss."""
        return self.l1 > 0 or self.l2 > 0

    def to_json(self) -> dict:
        """A JSON-able dict."""
        return {"l1": self.l1, "l2": self.l2}

    @classmethod
    def from_json(cls, where: str, data: object) -> Penalty:
        """Parse; ModelSpecError names ``where``."""
        data = _object(where, data, cls)
        return cls(*(check_number(f"{where}.{n}", data.get(n, 0.0), 0.0, 10.0) for n in ("l1", "l2")))

    def build(self) -> Any:
        """The Keras regularizer, or None."""
        import keras

        return keras.regularizers.L1L2(l1=self.l1, l2=self.l2) if self.active else None


NO_PENALTY = Penalty()
_PENALTIES = ("kernel_regularizer", "bias_regularizer", "activity_regularizer")


@dataclass(frozen=True, kw_only=True)
class _Layer:
    """Fields and JSON shared by conv blocks, hidden dense layers and the output layer."""

    kernel_regularizer: Penalty = NO_PENALTY
    bias_regularizer: Penalty = NO_PENALTY
    activity_regularizer: Penalty = NO_PENALTY

    def check(self, where: str) -> None:
        """Raise ModelSpecError naming the first bad field below ``where``."""
        for f in fields(self):
            value, path = getattr(self, f.name), f"{where}.{f.name}"
            if f.name in _PENALTIES:
                if not isinstance(value, Penalty):
                    raise ModelSpecError(path, "must be an object with l1 and l2")
                value.check(path)
            elif f.name in _LIMITS:
                low, high, integer = _LIMITS[f.name]
                check_number(path, value, low, high, integer=integer, high_open=f.name == "dropout")
            elif f.name in _CHOICES:
                _choice(path, value, _CHOICES[f.name])
            elif f.name == "batchnorm":
                _flag(path, value)

    def to_json(self) -> dict:
        """A JSON-able dict."""
        names = [f.name for f in fields(self) if f.name not in _PENALTIES] + list(_PENALTIES)
        return {n: (getattr(self, n).to_json() if n in _PENALTIES else getattr(self, n)) for n in names}

    @classmethod
    def from_json(cls, where: str, data: object) -> Any:
        """Parse and validate; ModelSpecError names the field."""
        data = dict(_object(where, data, cls))
        for name in _PENALTIES:
            if name in data:
                data[name] = Penalty.from_json(f"{where}.{name}", data[name])
        layer = cls(**data)
        layer.check(where)
        return layer

    def regularizers(self) -> dict[str, Any]:
        """Keras keyword arguments for the three regularizers."""
        return {name: getattr(self, name).build() for name in _PENALTIES}


_LIMITS = {"filters": (1, 1024, True), "kernel_size": (1, 31, True), "strides": (1, 8, True),
           "groupnorm": (0, 1024, True),
           "pool_size": (1, 8, True), "units": (1, 8192, True), "dropout": (0.0, 1.0, False)}
_CHOICES = {"padding": PADDINGS, "activation": ACTIVATIONS, "pool": POOLS}


@dataclass(frozen=True)
class ConvBlock(_Layer):
    """Conv2D -> activation -> pooling -> batchnorm or groupnorm -> dropout (the chapter's order).

    ``groupnorm`` (0: none) normalises each image's feature maps in that many groups of channels
    (``keras.layers.GroupNormalization``) instead of over the batch: its training and inference
    behave alike. BatchNormalization's do not on masked photos, whose batches differ widely
    (some mostly black, some mostly leaf): a batch-normalised model's validation accuracy jumps by
    tens of points from epoch to epoch there, as measured for photo-convnet (see the README).
    """

    filters: int = 6
    kernel_size: int = 3
    strides: int = 1
    padding: str = "valid"
    activation: str = "relu"
    pool: str = "max"
    pool_size: int = 2
    dropout: float = 0.0
    batchnorm: bool = False
    groupnorm: int = 0

    def check(self, where: str) -> None:
        """As :meth:`_Layer.check`, and one normalisation whose groups divide the filters."""
        super().check(where)
        if self.groupnorm and self.batchnorm:
            raise ModelSpecError(f"{where}.groupnorm", "a block takes batchnorm or groupnorm, not both")
        if self.groupnorm and self.filters % self.groupnorm:
            raise ModelSpecError(f"{where}.groupnorm", f"must divide the block's {self.filters} filters "
                                 f"(got {self.groupnorm})")


@dataclass(frozen=True)
class DenseLayer(_Layer):
    """A hidden Dense layer -> activation -> batchnorm -> dropout."""

    units: int = 64
    activation: str = "relu"
    dropout: float = 0.0
    batchnorm: bool = False


@dataclass(frozen=True)
class OutputLayer(_Layer):
    """The final Dense(n_classes) with softmax; only its regularizers are configurable."""


CHAPTER_BLOCKS = (ConvBlock(6), ConvBlock(12))


@dataclass(frozen=True)
class ModelSpec:
    """A whole model; the default is the chapter's MNIST ConvNet (3,730 parameters on 28x28x1).

    ``base`` is the pretrained base (a ``BaseSpec``) of a ``pretrained`` model, else None;
    ``pooling`` turns the last feature maps into a vector (``flatten`` or ``avg``).
    """

    kind: str = "convnet"
    blocks: tuple[ConvBlock, ...] = CHAPTER_BLOCKS
    dense: tuple[DenseLayer, ...] = ()
    output: OutputLayer = OutputLayer()
    name: str = "chapter-convnet"
    base: Any = None
    pooling: str = "flatten"

    def __post_init__(self) -> None:
        from filterscope.core.training.base_spec import BaseSpec

        object.__setattr__(self, "blocks", tuple(self.blocks))
        object.__setattr__(self, "dense", tuple(self.dense))
        _choice("kind", self.kind, KINDS)
        _choice("pooling", self.pooling, POOLINGS)
        if not isinstance(self.name, str) or len(self.name) > 80:
            raise ModelSpecError("name", "must be text of at most 80 characters")
        if self.kind == "logistic" and (self.blocks or self.dense or self.pooling != "flatten"):
            raise ModelSpecError("blocks" if self.blocks else "dense" if self.dense else "pooling",
                                 "a logistic model has no conv blocks, hidden layers or pooling")
        if self.kind == "convnet" and not 1 <= len(self.blocks) <= 16:
            raise ModelSpecError("blocks", "a convnet needs 1 to 16 conv blocks")
        if self.kind == "pretrained" and self.blocks:
            raise ModelSpecError("blocks", "a pretrained model's convolutions are its base's")
        if (self.kind == "pretrained") != isinstance(self.base, BaseSpec):
            raise ModelSpecError("base", "a pretrained model needs a base (and only it has one)")
        if len(self.dense) > 8:
            raise ModelSpecError("dense", "at most 8 hidden dense layers")
        for where, items, cls in (("blocks", self.blocks, ConvBlock), ("dense", self.dense, DenseLayer)):
            for i, item in enumerate(items):
                if not isinstance(item, cls):
                    raise ModelSpecError(f"{where}[{i}]", f"must be a {cls.__name__}")
                item.check(f"{where}[{i}]")
        if not isinstance(self.output, OutputLayer):
            raise ModelSpecError("output", "must be an OutputLayer")
        self.output.check("output")

    def to_json(self) -> dict:
        """A JSON-able dict (``from_json(to_json())`` gives an equal spec)."""
        data = {"version": MODEL_FORMAT_VERSION, "name": self.name, "kind": self.kind,
                "blocks": [b.to_json() for b in self.blocks],
                "dense": [d.to_json() for d in self.dense], "output": self.output.to_json(),
                "pooling": self.pooling}
        if self.base is not None:
            data["base"] = self.base.to_json()
        return data

    @classmethod
    def from_json(cls, data: object) -> ModelSpec:
        """Validate and build from a dict.

        Raises:
            ModelSpecError: Naming the field at fault, e.g. ``blocks[1].dropout``.
        """
        check_keys("", data, {"version", "name", "kind", "blocks", "dense", "output", "pooling", "base"},
                   error=ModelSpecError)
        version = data.get("version", MODEL_FORMAT_VERSION)
        if isinstance(version, bool) or not isinstance(version, int) \
                or not 1 <= version <= MODEL_FORMAT_VERSION:
            raise ModelSpecError("version", f"{version!r} is newer than this app understands")
        kind = _choice("kind", data.get("kind", "convnet"), KINDS)
        parts = {}
        for where, layer_cls in (("blocks", ConvBlock), ("dense", DenseLayer)):
            items = data.get(where, [] if kind != "convnet" or where == "dense" else None)
            if items is None:
                items = [b.to_json() for b in CHAPTER_BLOCKS]
            if not isinstance(items, list):
                raise ModelSpecError(where, "must be a list")
            parts[where] = tuple(layer_cls.from_json(f"{where}[{i}]", x) for i, x in enumerate(items))
        output = OutputLayer.from_json("output", data.get("output", {}))
        base = None
        if data.get("base") is not None:
            from filterscope.core.training.base_spec import BaseSpec

            base = BaseSpec.from_json(data["base"])
        return cls(kind, parts["blocks"], parts["dense"], output, data.get("name", ""), base,
                   data.get("pooling", "flatten"))


def _photo_block(filters: int, dropout: float = 0.0) -> ConvBlock:
    return ConvBlock(filters, 3, padding="same", pool="max", groupnorm=8, dropout=dropout)


def templates() -> dict[str, ModelSpec]:
    """The chapter's models by name: its baseline, its ConvNet and its three regularised variants,
    then ``photo-convnet``, the model of the from-scratch recipe for photos
    (:mod:`~filterscope.core.training.recipes`).

    The variants copy the chapter exactly: dropout 0.2 and batchnorm after each pooling, L2(0.01)
    on the first conv's kernel and the second conv's activity, and in all three an L2(0.01) bias
    penalty on the output Dense.
    """
    l2 = Penalty(l2=0.01)
    out = OutputLayer(bias_regularizer=l2)
    first, second = CHAPTER_BLOCKS
    return {
        "logistic": ModelSpec("logistic", (), name="logistic"),
        "chapter-convnet": ModelSpec(),
        "convnet-dropout": ModelSpec(blocks=(replace(first, dropout=0.2), replace(second, dropout=0.2)),
                                     output=out, name="convnet-dropout"),
        "convnet-batchnorm": ModelSpec(blocks=(replace(first, batchnorm=True),
                                               replace(second, batchnorm=True)),
                                       output=out, name="convnet-batchnorm"),
        "convnet-l2": ModelSpec(blocks=(replace(first, kernel_regularizer=l2),
                                        replace(second, activity_regularizer=l2)),
                                output=out, name="convnet-l2"),
        "photo-convnet": ModelSpec(blocks=(_photo_block(32), _photo_block(64), _photo_block(128),
                                           _photo_block(256, 0.3)),
                                   pooling="avg", name="photo-convnet"),
    }


def _rate(default: float | None, label: str, help: str, **limits: Any) -> Any:
    return setting(default, label, kind=float, optional=True, help=help, **limits)


@dataclass(frozen=True)
class OptimizerSpec:
    """SGD with momentum or Adam; unset values take the chapter's defaults.

    SGD: learning rate 0.01, momentum 0.9 (the chapter's ``SGD(lr=0.01, momentum=0.9)``).
    Adam: what the chapter trains with (``optimizer='adam'``): learning rate 0.001, beta_1 0.9,
    beta_2 0.999, and the chapter's epsilon 1e-08.
    """

    kind: str = setting("adam", "Optimiser", kind=str, flag="--optimizer",
                        choices=(("adam", "Adam"), ("sgd", "SGD with momentum")),
                        help="Adam or SGD with momentum, with the chapter's defaults")
    learning_rate: float | None = _rate(
        None, "Learning rate", "Step size of each update (Adam 0.001, SGD 0.01; a tenth of that "
        "while fine-tuning a pretrained base)", low=0.0, high=LEARNING_RATE_MAX, low_open=True,
        decimals=5, step=0.0005, flag="--lr")
    momentum: float | None = _rate(None, "Momentum", "SGD's momentum (the chapter's 0.9)",
                                   low=0.0, high=1.0, high_open=True, decimals=3, step=0.05)
    beta_1: float | None = _rate(None, "Adam beta 1", "Adam's decay of the mean gradient (0.9)",
                                 low=0.0, high=1.0, high_open=True, decimals=3, step=0.01)
    beta_2: float | None = _rate(None, "Adam beta 2", "Adam's decay of the squared gradient (0.999)",
                                 low=0.0, high=1.0, high_open=True, decimals=4, step=0.001)
    epsilon: float | None = _rate(None, "Adam epsilon", "Adam's guard against division by zero "
                                  "(the chapter's 1e-08)", low=0.0, high=1.0, low_open=True,
                                  decimals=10, step=1e-8)

    _DEFAULTS = {"sgd": {"learning_rate": 0.01, "momentum": 0.9},
                 "adam": {"learning_rate": 0.001, "beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-8}}

    def __post_init__(self) -> None:
        check_declared(self, error=ModelSpecError)
        for name, default in self._DEFAULTS[self.kind].items():
            if getattr(self, name) is None:
                object.__setattr__(self, name, default)
        for name in ("momentum", "beta_1", "beta_2", "epsilon"):
            if name not in self._DEFAULTS[self.kind] and getattr(self, name) is not None:
                raise ModelSpecError(name, f"is not a setting of {self.kind}")

    def to_json(self) -> dict:
        """A JSON-able dict with the settings of this kind only."""
        return {"kind": self.kind, **{n: getattr(self, n) for n in self._DEFAULTS[self.kind]}}

    @classmethod
    def from_json(cls, data: object) -> OptimizerSpec:
        """Validate and build; ModelSpecError names the field."""
        data = _object("optimizer", data, cls)
        return cls(**data)

    def build(self) -> Any:
        """The Keras optimizer."""
        import keras

        if self.kind == "sgd":
            return keras.optimizers.SGD(learning_rate=self.learning_rate, momentum=self.momentum)
        return keras.optimizers.Adam(learning_rate=self.learning_rate, beta_1=self.beta_1,
                                     beta_2=self.beta_2, epsilon=self.epsilon)

