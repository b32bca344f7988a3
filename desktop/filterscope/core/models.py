"""Model and optimizer specs (JSON), their Keras builders, and the layer table before and after.

A :class:`ModelSpec` is either the chapter's sanity baseline (``logistic``: Flatten, then
Dense(n_classes) with softmax) or a ``convnet``: conv blocks (Conv2D, activation, pooling, then
batchnorm and dropout, in the chapter's order), Flatten, optional hidden Dense layers and the
softmax output. Every layer gets a stable name (``block1_conv``, ``block1_relu``, ``output``...)
so that visualisation and saved models can find it again.

Nothing here imports Keras at module level: :func:`plan_rows` and :func:`check_input` compute
shapes and parameter counts in plain Python, so the app can show the layer table and refuse a
too-small input without paying for TensorFlow's import.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, fields, replace
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import keras

MODEL_FORMAT_VERSION = 1
KINDS = ("logistic", "convnet")
ACTIVATIONS = ("relu", "tanh", "sigmoid", "elu", "linear")
PADDINGS = ("valid", "same")
POOLS = ("none", "max", "avg")
OPTIMIZERS = ("sgd", "adam")
LOSS = "sparse_categorical_crossentropy"
# Wide enough for a teaching tool to show divergence, narrow enough to catch typos.
LEARNING_RATE_MAX = 1e6


class ModelSpecError(ValueError):
    """A spec that cannot be built; ``field`` is the JSON path at fault (``blocks[1].filters``)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}" if field else message)
        self.field, self.message = field, message


def _number(where: str, value: object, low: float, high: float, *, integer: bool = False,
            low_open: bool = False, high_open: bool = False) -> Any:
    kind = "a whole number" if integer else "a number"
    ok_type = isinstance(value, int) if integer else isinstance(value, (int, float))
    if isinstance(value, bool) or not ok_type or (not integer and not math.isfinite(value)):
        raise ModelSpecError(where, f"must be {kind}, not {value!r}")
    too_low = value <= low if low_open else value < low
    too_high = value >= high if high_open else value > high
    if too_low or too_high:
        span = (f"from {low:g} to {high:g}" if not (low_open or high_open) else
                f"{'above' if low_open else 'at least'} {low:g} and "
                f"{'below' if high_open else 'at most'} {high:g}")
        raise ModelSpecError(where, f"must be {span} (got {value:g})")
    return int(value) if integer else float(value)


def _choice(where: str, value: object, choices: tuple[str, ...]) -> str:
    if value not in choices:
        raise ModelSpecError(where, f"must be one of {', '.join(choices)} (got {value!r})")
    return str(value)


def _flag(where: str, value: object) -> bool:
    if not isinstance(value, bool):
        raise ModelSpecError(where, f"must be true or false, not {value!r}")
    return value


def _object(where: str, data: object, cls: type) -> dict:
    if not isinstance(data, dict):
        raise ModelSpecError(where, "must be a JSON object")
    unknown = set(data) - {f.name for f in fields(cls)}
    if unknown:
        raise ModelSpecError(where, f"unknown field(s) {', '.join(sorted(map(str, unknown)))}")
    return data


@dataclass(frozen=True)
class Penalty:
    """An L1/L2 weight penalty (``keras.regularizers.L1L2``); both zero means none."""

    l1: float = 0.0
    l2: float = 0.0

    def check(self, where: str) -> None:
        """Raise ModelSpecError unless both amounts are in [0, 10]."""
        for name in ("l1", "l2"):
            _number(f"{where}.{name}", getattr(self, name), 0.0, 10.0)

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
        return cls(*(_number(f"{where}.{n}", data.get(n, 0.0), 0.0, 10.0) for n in ("l1", "l2")))

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
                _number(path, value, low, high, integer=integer, high_open=f.name == "dropout")
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
           "pool_size": (1, 8, True), "units": (1, 8192, True), "dropout": (0.0, 1.0, False)}
_CHOICES = {"padding": PADDINGS, "activation": ACTIVATIONS, "pool": POOLS}


@dataclass(frozen=True)
class ConvBlock(_Layer):
    """Conv2D -> activation -> pooling -> batchnorm -> dropout (the chapter's order)."""

    filters: int = 6
    kernel_size: int = 3
    strides: int = 1
    padding: str = "valid"
    activation: str = "relu"
    pool: str = "max"
    pool_size: int = 2
    dropout: float = 0.0
    batchnorm: bool = False


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
    """A whole model; the default is the chapter's MNIST ConvNet (3,730 parameters on 28x28x1)."""

    kind: str = "convnet"
    blocks: tuple[ConvBlock, ...] = CHAPTER_BLOCKS
    dense: tuple[DenseLayer, ...] = ()
    output: OutputLayer = OutputLayer()
    name: str = "chapter-convnet"

    def __post_init__(self) -> None:
        object.__setattr__(self, "blocks", tuple(self.blocks))
        object.__setattr__(self, "dense", tuple(self.dense))
        _choice("kind", self.kind, KINDS)
        if not isinstance(self.name, str) or len(self.name) > 80:
            raise ModelSpecError("name", "must be text of at most 80 characters")
        if self.kind == "logistic" and (self.blocks or self.dense):
            raise ModelSpecError("blocks" if self.blocks else "dense",
                                 "a logistic model has no conv blocks or hidden layers")
        if self.kind == "convnet" and not 1 <= len(self.blocks) <= 16:
            raise ModelSpecError("blocks", "a convnet needs 1 to 16 conv blocks")
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
        return {"version": MODEL_FORMAT_VERSION, "name": self.name, "kind": self.kind,
                "blocks": [b.to_json() for b in self.blocks],
                "dense": [d.to_json() for d in self.dense], "output": self.output.to_json()}

    @classmethod
    def from_json(cls, data: object) -> ModelSpec:
        """Validate and build from a dict.

        Raises:
            ModelSpecError: Naming the field at fault, e.g. ``blocks[1].dropout``.
        """
        if not isinstance(data, dict):
            raise ModelSpecError("", "a model spec must be a JSON object")
        unknown = set(data) - {"version", "name", "kind", "blocks", "dense", "output"}
        if unknown:
            raise ModelSpecError("", f"unknown field(s) {', '.join(sorted(map(str, unknown)))}")
        version = data.get("version", MODEL_FORMAT_VERSION)
        if isinstance(version, bool) or not isinstance(version, int) \
                or not 1 <= version <= MODEL_FORMAT_VERSION:
            raise ModelSpecError("version", f"{version!r} is newer than this app understands")
        kind = _choice("kind", data.get("kind", "convnet"), KINDS)
        parts = {}
        for where, layer_cls in (("blocks", ConvBlock), ("dense", DenseLayer)):
            items = data.get(where, [] if kind == "logistic" or where == "dense" else None)
            if items is None:
                items = [b.to_json() for b in CHAPTER_BLOCKS]
            if not isinstance(items, list):
                raise ModelSpecError(where, "must be a list")
            parts[where] = tuple(layer_cls.from_json(f"{where}[{i}]", x) for i, x in enumerate(items))
        output = OutputLayer.from_json("output", data.get("output", {}))
        return cls(kind, parts["blocks"], parts["dense"], output, data.get("name", ""))


def templates() -> dict[str, ModelSpec]:
    """The chapter's models by name: its baseline, its ConvNet and its three regularised variants.

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
    }


# ---- shapes and parameter counts in plain Python -------------------------------------------

def _conv_size(n: int, kernel: int, strides: int, padding: str) -> int:
    if padding == "same":
        return -(-n // strides)
    return (n - kernel) // strides + 1 if n >= kernel else 0


def _pool_size(n: int, pool: int) -> int:
    return (n - pool) // pool + 1 if n >= pool else 0


def _trace(spec: ModelSpec, height: int, width: int) -> tuple[int, int, int, str]:
    """Spatial size after the conv stack, or where it first collapses: (h, w, block, stage)."""
    h, w = height, width
    for i, b in enumerate(spec.blocks, start=1):
        h, w = (_conv_size(n, b.kernel_size, b.strides, b.padding) for n in (h, w))
        if h < 1 or w < 1:
            return h, w, i, "convolution"
        if b.pool != "none":
            h, w = _pool_size(h, b.pool_size), _pool_size(w, b.pool_size)
            if h < 1 or w < 1:
                return h, w, i, "pooling"
    return h, w, 0, ""


def _smallest(spec: ModelSpec, axis: int) -> int:
    """The smallest input side (binary search; the trace is monotonic in the input size)."""
    low, high = 1, 1
    while _trace(spec, *(high, 1 << 20)[:: 1 if axis == 0 else -1])[2]:
        high *= 2
    while low < high:
        mid = (low + high) // 2
        if _trace(spec, *(mid, 1 << 20)[:: 1 if axis == 0 else -1])[2]:
            low = mid + 1
        else:
            high = mid
    return low


def _input_hwc(input_shape: object) -> tuple[int, int, int]:
    if not isinstance(input_shape, (tuple, list)) or len(input_shape) != 3 or not all(
            isinstance(n, int) and not isinstance(n, bool) and n >= 1 for n in input_shape):
        raise ModelSpecError("input_shape", f"must be (height, width, channels), not {input_shape!r}")
    return tuple(input_shape)  # type: ignore[return-value]


def check_input(spec: ModelSpec, input_shape: tuple[int, int, int]) -> None:
    """Raise ModelSpecError with a plain message when the input is too small for the conv stack.

    Example: "a 8x8 input shrinks to 0x0 at block 2's convolution; use at least 10x10 or
    padding='same'".
    """
    height, width, _ = _input_hwc(input_shape)
    h, w, block, stage = _trace(spec, height, width)
    if not block:
        return
    need_h, need_w = _smallest(spec, 0), _smallest(spec, 1)
    need = f"at least {max(need_h, height)}x{max(need_w, width)}"
    same = replace(spec, blocks=tuple(replace(b, padding="same") for b in spec.blocks))
    hint = " or padding='same'" if not _trace(same, height, width)[2] else \
        " or fewer pooling/strided blocks"
    raise ModelSpecError("input_shape", f"a {height}x{width} input shrinks to {max(h, 0)}x{max(w, 0)} "
                         f"at block {block}'s {stage}; use {need}{hint}")


def _activation_rows(prefix: str, activation: str, shape: tuple) -> list[dict]:
    if activation == "linear":
        return []
    return [_row(f"{prefix}_{activation}", "Activation", shape, 0)]


def _row(layer: str, kind: str, shape: tuple, params: int, trainable_params: int | None = None) -> dict:
    return {"layer": layer, "type": kind, "output_shape": (None, *shape), "params": params,
            "trainable": True, "trainable_params": params if trainable_params is None else trainable_params}


def _tail_rows(prefix: str, layer: ConvBlock | DenseLayer, shape: tuple) -> list[dict]:
    rows = []
    if layer.batchnorm:
        rows.append(_row(f"{prefix}_batchnorm", "BatchNormalization", shape, 4 * shape[-1], 2 * shape[-1]))
    if layer.dropout > 0:
        rows.append(_row(f"{prefix}_dropout", "Dropout", shape, 0))
    return rows


def plan_rows(spec: ModelSpec, input_shape: tuple[int, int, int], n_classes: int) -> list[dict]:
    """The rows :func:`summary_rows` will give for the built model, computed without Keras.

    Raises:
        ModelSpecError: The input is too small (see :func:`check_input`).
    """
    check_input(spec, input_shape)
    h, w, c = _input_hwc(input_shape)
    rows: list[dict] = []
    for i, b in enumerate(spec.blocks, start=1):
        prefix = f"block{i}"
        h, w = (_conv_size(n, b.kernel_size, b.strides, b.padding) for n in (h, w))
        rows.append(_row(f"{prefix}_conv", "Conv2D", (h, w, b.filters),
                         b.kernel_size ** 2 * c * b.filters + b.filters))
        c = b.filters
        rows += _activation_rows(prefix, b.activation, (h, w, c))
        if b.pool != "none":
            h, w = _pool_size(h, b.pool_size), _pool_size(w, b.pool_size)
            rows.append(_row(f"{prefix}_{b.pool}pool",
                             "MaxPooling2D" if b.pool == "max" else "AveragePooling2D", (h, w, c), 0))
        rows += _tail_rows(prefix, b, (h, w, c))
    units = h * w * c
    rows.append(_row("flatten", "Flatten", (units,), 0))
    for j, d in enumerate(spec.dense, start=1):
        prefix = f"dense{j}"
        rows.append(_row(prefix, "Dense", (d.units,), units * d.units + d.units))
        units = d.units
        rows += _activation_rows(prefix, d.activation, (units,))
        rows += _tail_rows(prefix, d, (units,))
    rows.append(_row("output", "Dense", (n_classes,), units * n_classes + n_classes))
    rows.append(_row("softmax", "Activation", (n_classes,), 0))
    return rows


# ---- Keras -------------------------------------------------------------------------------

def _add_tail(model: keras.Sequential, prefix: str, layer: ConvBlock | DenseLayer) -> None:
    import keras

    if layer.batchnorm:
        model.add(keras.layers.BatchNormalization(name=f"{prefix}_batchnorm"))
    if layer.dropout > 0:
        model.add(keras.layers.Dropout(layer.dropout, name=f"{prefix}_dropout"))


def _add_activation(model: keras.Sequential, prefix: str, activation: str) -> None:
    import keras

    if activation != "linear":
        model.add(keras.layers.Activation(activation, name=f"{prefix}_{activation}"))


def build_model(spec: ModelSpec, input_shape: tuple[int, int, int], n_classes: int) -> keras.Model:
    """A built, uncompiled ``keras.Sequential`` for ``spec``, in the chapter's layer order.

    Raises:
        ModelSpecError: The input is too small for the conv stack, or n_classes < 2.
    """
    import keras

    check_input(spec, input_shape)
    _number("n_classes", n_classes, 2, 100_000, integer=True)
    L = keras.layers
    model = keras.Sequential(name=re.sub(r"[^\w.-]", "_", spec.name) or "model")
    model.add(keras.Input(shape=tuple(input_shape), name="image"))
    for i, b in enumerate(spec.blocks, start=1):
        prefix = f"block{i}"
        model.add(L.Conv2D(b.filters, b.kernel_size, strides=b.strides, padding=b.padding,
                           name=f"{prefix}_conv", **b.regularizers()))
        _add_activation(model, prefix, b.activation)
        if b.pool != "none":
            pool = L.MaxPooling2D if b.pool == "max" else L.AveragePooling2D
            model.add(pool(b.pool_size, name=f"{prefix}_{b.pool}pool"))
        _add_tail(model, prefix, b)
    model.add(L.Flatten(name="flatten"))
    for j, d in enumerate(spec.dense, start=1):
        model.add(L.Dense(d.units, name=f"dense{j}", **d.regularizers()))
        _add_activation(model, f"dense{j}", d.activation)
        _add_tail(model, f"dense{j}", d)
    model.add(L.Dense(n_classes, name="output", **spec.output.regularizers()))
    model.add(L.Activation("softmax", name="softmax"))
    return model


def summary_rows(model: keras.Model) -> list[dict]:
    """One row per layer, as ``model.summary()`` shows it.

    Returns:
        Dicts with ``layer`` (name), ``type`` (class name), ``output_shape`` (tuple, batch
        dimension None), ``params`` (all weights), ``trainable`` (the layer's flag) and
        ``trainable_params`` (batchnorm's moving statistics are not trainable).
    """
    rows = []
    for layer in model.layers:
        trainable = sum(math.prod(v.shape) for v in layer.trainable_weights)
        rows.append({"layer": layer.name, "type": type(layer).__name__,
                     "output_shape": tuple(layer.output.shape), "params": int(layer.count_params()),
                     "trainable": bool(layer.trainable), "trainable_params": int(trainable)})
    return rows


@dataclass(frozen=True)
class OptimizerSpec:
    """SGD with momentum or Adam; unset values take the chapter's defaults.

    SGD: learning rate 0.01, momentum 0.9 (the chapter's ``SGD(lr=0.01, momentum=0.9)``).
    Adam: what the chapter trains with (``optimizer='adam'``): learning rate 0.001, beta_1 0.9,
    beta_2 0.999, and the chapter's epsilon 1e-08.
    """

    kind: str = "adam"
    learning_rate: float | None = None
    momentum: float | None = None
    beta_1: float | None = None
    beta_2: float | None = None
    epsilon: float | None = None

    _DEFAULTS = {"sgd": {"learning_rate": 0.01, "momentum": 0.9},
                 "adam": {"learning_rate": 0.001, "beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-8}}

    def __post_init__(self) -> None:
        kind = _choice("kind", self.kind, OPTIMIZERS)
        for name, default in self._DEFAULTS[kind].items():
            if getattr(self, name) is None:
                object.__setattr__(self, name, default)
        for name in ("momentum", "beta_1", "beta_2", "epsilon"):
            if name not in self._DEFAULTS[kind] and getattr(self, name) is not None:
                raise ModelSpecError(name, f"is not a setting of {kind}")
        _number("learning_rate", self.learning_rate, 0.0, LEARNING_RATE_MAX, low_open=True)
        for name in ("momentum", "beta_1", "beta_2"):
            if name in self._DEFAULTS[kind]:
                _number(name, getattr(self, name), 0.0, 1.0, high_open=True)
        if kind == "adam":
            _number("epsilon", self.epsilon, 0.0, 1.0, low_open=True)
        for name in self._DEFAULTS[kind]:
            object.__setattr__(self, name, float(getattr(self, name)))

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


def build_optimizer(spec: OptimizerSpec) -> Any:
    """The Keras optimizer for ``spec``."""
    return spec.build()
