"""What to maximise and how: the target (filters of a layer, or classes) and the recipe.

Two presets:

- ``chapter``: the chapter's recipe. A random start (uniform [0, 1] in the model's input units),
  the mean activation of the filter (or the model's output for a class), the gradient divided
  by its RMS (+ K.epsilon(), 1e-7), steps of 0.1 for filters and 0.01 for classes, 500 steps.
- ``clean``: the same ascent with regularisers that turn the high-frequency noise small models
  give into readable pictures: a mid-gray start, jitter (a random shift each step), a blur
  every few steps, a pull back towards gray (L2 decay), a total-variation penalty, pixels kept
  in the valid range, and for classes the score before the softmax (raising a probability
  mostly lowers the other classes).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, replace

from filterscope.core.visualize.layers import VisualizeError

FILTER, CLASS = "filter", "class"
STARTS = ("uniform", "gray")
CLASS_SCORES = ("output", "logit")
CHAPTER_LR = {FILTER: 0.1, CLASS: 0.01}
CLEAN_LR = {FILTER: 0.02, CLASS: 0.02}  # in units of the input's range (1, or 255 for VGG16)


@dataclass(frozen=True)
class Target:
    """What to maximise.

    Attributes:
        kind: ``filter`` (mean activation of a filter of ``layer``) or ``class`` (a class score).
        indices: Filters of the layer, or classes; one picture each.
        layer: The convolution layer for filters; None for classes.
    """

    kind: str
    indices: tuple[int, ...]
    layer: str | None = None

    @classmethod
    def filters(cls, layer: str, indices: int | range | list[int] | tuple[int, ...]) -> Target:
        """One filter or several filters of a layer."""
        return cls(FILTER, (int(indices),) if isinstance(indices, int) else tuple(int(i) for i in indices),
                   layer)

    @classmethod
    def classes(cls, indices: int | list[int] | tuple[int, ...]) -> Target:
        """One class or several classes of the model's output."""
        return cls(CLASS, (int(indices),) if isinstance(indices, int) else tuple(int(i) for i in indices))

    def __post_init__(self) -> None:
        if self.kind not in (FILTER, CLASS):
            raise VisualizeError(f"a target is a filter or a class, not {self.kind!r}")
        if self.kind == FILTER and not self.layer:
            raise VisualizeError("name the convolution layer whose filters to visualise")


@dataclass(frozen=True)
class AscentSettings:
    """The recipe of a gradient ascent.

    Attributes:
        steps: Gradient steps.
        lr: Step size in the model's input units; None takes the preset's default (chapter: 0.1
            for filters, 0.01 for classes; clean: 0.02 of the input's range).
        start: ``uniform`` (the chapter's ``np.random.rand``) or ``gray`` (mid-gray, faint noise).
        jitter: Largest random shift in pixels, drawn anew each step (0: none).
        blur_every: Blur the image every this many steps (0: never).
        blur_sigma: The blur's Gaussian sigma in pixels.
        decay: Pull towards mid-gray each step (x <- mid + (x - mid)(1 - decay)).
        tv: Weight of the total-variation gradient against the objective's (both RMS-normalised).
        octaves: Coarse-to-fine stages: in early ones the gradient is smoothed by resizing it down
            (by octave_scale per stage) and back, so large shapes form before fine detail.
        octave_scale: Size ratio between octaves.
        clip: Keep pixels in the model's valid input range ([0, 1] images, 0-255 for VGG16).
        class_score: ``output`` (the model's output, as the chapter) or ``logit`` (before softmax).
        seed: Seeds the start images and the jitter.
        preset: The preset these settings came from.
    """

    steps: int = 500
    lr: float | None = None
    start: str = "uniform"
    jitter: int = 0
    blur_every: int = 0
    blur_sigma: float = 1.0
    decay: float = 0.0
    tv: float = 0.0
    octaves: int = 1
    octave_scale: float = 1.4
    clip: bool = False
    class_score: str = "output"
    seed: int = 0
    preset: str = "chapter"

    def __post_init__(self) -> None:
        _check("steps", self.steps, 1, 100_000, whole=True)
        if self.lr is not None:
            _check("lr", self.lr, 0.0, 1e6, low_open=True)
        _check("jitter", self.jitter, 0, 64, whole=True)
        _check("blur_every", self.blur_every, 0, 100_000, whole=True)
        _check("blur_sigma", self.blur_sigma, 0.0, 5.0)
        _check("decay", self.decay, 0.0, 1.0, high_open=True)
        _check("tv", self.tv, 0.0, 100.0)
        _check("octaves", self.octaves, 1, 8, whole=True)
        _check("octave_scale", self.octave_scale, 1.0, 4.0, low_open=True)
        _check("seed", self.seed, 0, 2**32 - 1, whole=True)
        if self.start not in STARTS:
            raise VisualizeError(f"start: one of {', '.join(STARTS)}, not {self.start!r}")
        if self.class_score not in CLASS_SCORES:
            raise VisualizeError(f"class_score: one of {', '.join(CLASS_SCORES)}, not {self.class_score!r}")

    def step_size(self, kind: str, pixel_range: float) -> float:
        """The learning rate for a target kind on a model whose input spans ``pixel_range``."""
        if self.lr is not None:
            return float(self.lr)
        if self.preset == "clean":
            return CLEAN_LR[kind] * pixel_range
        return CHAPTER_LR[kind]

    def to_json(self) -> dict:
        """A JSON-able dict."""
        return asdict(self)


def _check(name: str, value: object, low: float, high: float, *, whole: bool = False,
           low_open: bool = False, high_open: bool = False) -> None:
    ok = isinstance(value, int) if whole else isinstance(value, (int, float))
    ok = ok and not isinstance(value, bool) and math.isfinite(value)
    if ok:
        ok = (value > low if low_open else value >= low) and (value < high if high_open else value <= high)
    if not ok:
        kind = "a whole number" if whole else "a number"
        raise VisualizeError(f"{name}: must be {kind} from {low:g} to {high:g}"
                             f"{' (exclusive)' if low_open or high_open else ''}, not {value!r}")


PRESETS = {
    "chapter": AscentSettings(),
    "clean": AscentSettings(steps=200, start="gray", jitter=2, blur_every=4, blur_sigma=0.8,
                            decay=0.005, tv=0.3, octaves=3, clip=True, class_score="logit",
                            preset="clean"),
}


def preset(name: str, **changes: object) -> AscentSettings:
    """A preset by name, with ``changes`` (steps, lr, seed...) applied.

    Raises:
        VisualizeError: An unknown preset or a bad value.
    """
    if name not in PRESETS:
        raise VisualizeError(f"no preset called {name!r}; choose {' or '.join(PRESETS)}")
    try:
        return replace(PRESETS[name], **changes)
    except TypeError as exc:
        raise VisualizeError(f"unknown setting: {exc}") from exc
