"""Augmentation chains: a JSON ``ChainSpec`` of imgaug steps, built into an imgaug Sequential.

The chapter augments two ways: Keras's ``ImageDataGenerator`` parameters, which no longer exist
in Keras 3 and become their imgaug equivalents here (:func:`keras_chain`), and an imgaug chain.
Both are specs of the same shape, so the tab, the CLI and training share one code path.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

from filterscope.core.base.fileio import read_preset, read_spec_file
from filterscope.core.base.settings import Setting, SettingError, check_keys, check_number, declaration, setting

CHAIN_FORMAT_VERSION = 1
ALIASES = {"ContrastNormalization": "LinearContrast"}  # the chapter's (deprecated) name
FILL_MODES = ("constant", "edge", "symmetric", "reflect", "wrap")


class ChainError(SettingError):
    """A chain that cannot be built; the message names the step and the parameter."""


@dataclass(frozen=True)
class Param:
    """One parameter of an augmenter as the editor shows it.

    Attributes:
        name: The imgaug keyword (``translate_x``/``translate_y`` become ``translate_percent``).
        kind: ``prob``, ``range`` (two floats), ``int_range``, ``float``, ``bool`` or ``choice``.
        default: Default value (a list for ranges).
        low: Smallest allowed value.
        high: Largest allowed value.
        choices: For ``choice``.
        help: A short explanation for tooltips and the code view.
    """

    name: str
    kind: str
    default: Any
    low: float = 0.0
    high: float = 1.0
    choices: tuple[str, ...] = ()
    help: str = ""

    def setting(self) -> Setting:
        """The parameter as a setting's declaration: the limits, choices, decimals and help its
        control takes (ranges are two numbers; whole numbers for ``int_range``)."""
        kind = {"choice": str, "bool": bool, "int_range": tuple, "range": tuple}.get(self.kind, float)
        decimals = 0 if self.kind == "int_range" else 1 if self.kind == "range" and self.high > 5 else 2
        return Setting(self.name, help=self.help, kind=kind, low=self.low, high=self.high,
                       choices=tuple((c, c) for c in self.choices), decimals=decimals)


def _p(name: str, kind: str, default: Any, low: float = 0.0, high: float = 1.0, help: str = "",
       choices: tuple[str, ...] = ()) -> Param:
    return Param(name, kind, default, low, high, choices, help)


# The augmenters the editor offers, with sensible ranges; each is tested on uint8 batches.
CATALOGUE: dict[str, tuple[Param, ...]] = {
    "Fliplr": (_p("p", "prob", 0.5, help="probability of a left-right flip"),),
    "Flipud": (_p("p", "prob", 0.5, help="probability of an up-down flip"),),
    "Crop": (_p("percent", "range", [0.0, 0.1], 0.0, 0.5, "fraction cropped from each side"),),
    "Affine": (
        _p("rotate", "range", [-45.0, 45.0], -180.0, 180.0, "rotation in degrees"),
        _p("translate_x", "range", [0.0, 0.0], -0.5, 0.5, "shift as a fraction of the width"),
        _p("translate_y", "range", [0.0, 0.0], -0.5, 0.5, "shift as a fraction of the height"),
        _p("shear", "range", [0.0, 0.0], -45.0, 45.0, "shear in degrees"),
        _p("scale", "range", [1.0, 1.0], 0.25, 4.0, "zoom factor"),
        _p("mode", "choice", "constant", choices=FILL_MODES, help="how new pixels are filled"),
    ),
    "GaussianBlur": (_p("sigma", "range", [0.0, 0.5], 0.0, 5.0, "blur strength"),),
    "LinearContrast": (_p("alpha", "range", [0.75, 1.5], 0.0, 3.0, "contrast factor"),),
    "GammaContrast": (_p("gamma", "range", [0.7, 1.5], 0.1, 3.0, "gamma"),),
    "AdditiveGaussianNoise": (
        _p("scale", "range", [0.0, 12.75], 0.0, 64.0, "noise standard deviation (0-255 scale)"),
        _p("per_channel", "prob", 0.5, help="probability of noise per colour channel"),
    ),
    "Multiply": (
        _p("mul", "range", [0.8, 1.2], 0.0, 3.0, "brightness factor"),
        _p("per_channel", "prob", 0.2, help="probability of a factor per colour channel"),
    ),
    "Add": (
        _p("value", "int_range", [-20, 20], -128, 128, "value added to every pixel"),
        _p("per_channel", "prob", 0.0, help="probability of a value per colour channel"),
    ),
    "AddToHueAndSaturation": (_p("value", "int_range", [-20, 20], -100, 100, "hue/saturation shift"),),
    "Grayscale": (_p("alpha", "range", [0.0, 1.0], 0.0, 1.0, "how far towards gray"),),
    "Sharpen": (
        _p("alpha", "range", [0.0, 0.5], 0.0, 1.0, "blend with the sharpened image"),
        _p("lightness", "range", [0.8, 1.2], 0.0, 2.0, "brightness of the sharpened image"),
    ),
    "Dropout": (
        _p("p", "range", [0.0, 0.05], 0.0, 0.5, "fraction of pixels set to black"),
        _p("per_channel", "prob", 0.0, help="probability of dropping per channel"),
    ),
    "CoarseDropout": (
        _p("p", "range", [0.0, 0.05], 0.0, 0.5, "fraction of areas set to black"),
        _p("size_percent", "range", [0.02, 0.1], 0.01, 0.5, "size of the dropped areas"),
    ),
    "MotionBlur": (_p("k", "int_range", [3, 7], 3, 25, "kernel size in pixels"),),
    "PerspectiveTransform": (_p("scale", "range", [0.01, 0.1], 0.0, 0.3, "corner jitter"),),
    "ElasticTransformation": (
        _p("alpha", "range", [0.0, 5.0], 0.0, 50.0, "displacement strength"),
        _p("sigma", "float", 0.5, 0.1, 10.0, "smoothness of the displacement"),
    ),
    "Rot90": (_p("k", "int_range", [0, 3], 0, 3, "quarter turns"),),
}


@dataclass(frozen=True)
class Step:
    """One augmenter in a chain; ``sometimes`` wraps it in ``iaa.Sometimes(p, ...)``."""

    name: str
    params: dict[str, Any]
    sometimes: float | None = setting(None, "sometimes", kind=float, optional=True, low=0.0, high=1.0,
                                      decimals=2, step=0.1, special="always",
                                      help="Apply this step only to this fraction of images (iaa.Sometimes)")
    enabled: bool = True

    def to_json(self) -> dict:
        """A JSON-able dict."""
        return {"name": self.name, "params": dict(self.params), "sometimes": self.sometimes,
                "enabled": self.enabled}


@dataclass(frozen=True)
class ChainSpec:
    """An ordered augmentation chain; ``random_order`` shuffles the steps for every image."""

    steps: tuple[Step, ...] = ()
    random_order: bool = False
    name: str = ""
    version: int = field(default=CHAIN_FORMAT_VERSION)

    def to_json(self) -> dict:
        """A JSON-able dict."""
        return {"version": self.version, "name": self.name, "random_order": self.random_order,
                "steps": [s.to_json() for s in self.steps]}

    @classmethod
    def from_json(cls, data: object) -> ChainSpec:
        """Validate and build from a dict.

        Raises:
            ChainError: Naming the step and parameter at fault.
        """
        if not isinstance(data, dict):
            raise ChainError("a chain must be a JSON object")
        check_keys("", data, {"version", "name", "random_order", "steps"}, error=ChainError)
        version = data.get("version", CHAIN_FORMAT_VERSION)
        if isinstance(version, bool) or not isinstance(version, int) \
                or not 1 <= version <= CHAIN_FORMAT_VERSION:
            raise ChainError(f"chain version {version!r} is newer than this app understands")
        steps = data.get("steps", [])
        if not isinstance(steps, list):
            raise ChainError("steps must be a list")
        random_order = data.get("random_order", False)
        if not isinstance(random_order, bool):
            raise ChainError("random_order must be true or false")
        return cls(tuple(make_step(i, s) for i, s in enumerate(steps)), random_order,
                   str(data.get("name", "")))


def default_params(name: str) -> dict[str, Any]:
    """The catalogue defaults of augmenter ``name``."""
    return {p.name: (list(p.default) if isinstance(p.default, list) else p.default)
            for p in CATALOGUE[ALIASES.get(name, name)]}


def make_step(index: int, raw: object) -> Step:
    """Validate one step dict (position ``index``) into a Step with every parameter filled."""
    if not isinstance(raw, dict) or not isinstance(raw.get("name"), str):
        raise ChainError(f"step {index + 1}: needs a 'name'")
    name = ALIASES.get(raw["name"], raw["name"])
    where = f"step {index + 1} ({raw['name']})"
    if name not in CATALOGUE:
        raise ChainError(f"{where}: unknown augmenter; known: {', '.join(sorted(CATALOGUE))}")
    check_keys(where, raw, {"name", "params", "sometimes", "enabled"}, error=ChainError)
    given = raw.get("params", {})
    if not isinstance(given, dict):
        raise ChainError(f"{where}: params must be an object")
    specs = {p.name: p for p in CATALOGUE[name]}
    unknown = set(given) - set(specs)
    if unknown:
        raise ChainError(f"{where}: unknown parameter(s) {', '.join(sorted(unknown))}")
    params = default_params(name)
    for key, value in given.items():
        params[key] = _check(where, specs[key], value)
    sometimes = declaration(Step, "sometimes").check(f"{where}: sometimes", raw.get("sometimes"), ChainError)
    enabled = raw.get("enabled", True)
    if not isinstance(enabled, bool):
        raise ChainError(f"{where}: enabled must be true or false")
    return Step(name, params, None if sometimes is None else float(sometimes), enabled)


def _check(where: str, spec: Param, value: object) -> Any:
    name = f"{where}: {spec.name}"
    if spec.kind == "bool":
        if not isinstance(value, bool):
            raise ChainError(f"{name} must be true or false, not {value!r}")
        return value
    if spec.kind == "choice":
        if value not in spec.choices:
            raise ChainError(f"{name} must be one of {spec.choices}, not {value!r}")
        return value
    if spec.kind in ("prob", "float"):
        return check_number(name, value, spec.low, spec.high, error=ChainError)
    integer = spec.kind == "int_range"
    if not isinstance(value, (list, tuple)) or len(value) != 2:
        raise ChainError(f"{name} must be two numbers from {spec.low:g} to {spec.high:g}, not {value!r}")
    low, high = (check_number(name, int(v) if integer and isinstance(v, float) and v.is_integer() else v,
                              spec.low, spec.high, integer=integer, error=ChainError) for v in value)
    if low > high:
        raise ChainError(f"{name} range is inverted ({value[0]} > {value[1]})")
    return [low, high]


def load_chain(path: str | os.PathLike) -> ChainSpec:
    """Read a chain file; raises ChainError naming the file for anything wrong."""
    return read_spec_file(path, ChainSpec.from_json, ChainError, "chain")


CHAIN_PRESETS = ("chapter", "keras", "photos", "upright", "none")
"""The chains shipped in resources/presets/augment: the chapter's imgaug chain, its Keras
ImageDataGenerator settings, the photo-convnet recipe's rotations and flips (for photos with no up
and down, such as seedlings seen from above), upright photos' mirror flips, small turns, crops and
colour (cars, roofs, equipment: never upside down), and none."""


def builtin_chain(name: str) -> ChainSpec:
    """A chain shipped in resources/presets/augment (one of CHAIN_PRESETS)."""
    data = read_preset("augment", name) if name in CHAIN_PRESETS else None
    if data is None:
        raise ChainError(f"there is no built-in chain called {name!r} ({', '.join(CHAIN_PRESETS)})")
    return ChainSpec.from_json(data)


def keras_chain(*, rotation_range: float = 0.0, width_shift_range: float = 0.0,
                height_shift_range: float = 0.0, shear_range: float = 0.0, zoom_range: float = 0.0,
                horizontal_flip: bool = False, vertical_flip: bool = False,
                fill_mode: str = "nearest") -> ChainSpec:
    """The imgaug equivalent of Keras 2's ``ImageDataGenerator`` augmentation arguments.

    ``rescale`` is not augmentation: the training pipeline always rescales to [0, 1].
    Keras's ``shear_range`` is in degrees and ``zoom_range`` z means a zoom in [1 - z, 1 + z].
    """
    modes = {"nearest": "edge", "reflect": "symmetric", "wrap": "wrap", "constant": "constant"}
    if fill_mode not in modes:
        raise ChainError(f"fill_mode must be one of {tuple(modes)}, not {fill_mode!r}")
    affine = {"rotate": [-rotation_range, rotation_range],
              "translate_x": [-width_shift_range, width_shift_range],
              "translate_y": [-height_shift_range, height_shift_range],
              "shear": [-shear_range, shear_range],
              "scale": [1.0 - zoom_range, 1.0 + zoom_range], "mode": modes[fill_mode]}
    steps = [{"name": "Affine", "params": affine}]
    if horizontal_flip:
        steps.append({"name": "Fliplr", "params": {"p": 0.5}})
    if vertical_flip:
        steps.append({"name": "Flipud", "params": {"p": 0.5}})
    return ChainSpec.from_json({"name": "Keras ImageDataGenerator (chapter)", "steps": steps})
