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

from dataclasses import asdict, dataclass, replace

from filterscope.core.base.settings import (
    Settings,
    check_declared,
    like,
    setting,
)
from filterscope.core.transfer.bases import VGG16_TOP_SIZE
from filterscope.core.visualize.layers import VisualizeError

FILTER, CLASS = "filter", "class"
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

    steps: int = setting(500, "Steps", low=1, high=100_000, help="Gradient steps")
    lr: float | None = setting(
        None, "Learning rate", kind=float, optional=True, low=0.0, high=1e6, low_open=True,
        decimals=4, step=0.01, special="the preset's",
        help="Step size in the model's input units; the chapter's is 0.1 for filters and 0.01 for classes")
    start: str = setting("uniform", "Start", kind=str,
                         choices=(("uniform", "random (the chapter's)"), ("gray", "mid-gray")),
                         help="The picture the ascent starts from")
    jitter: int = setting(0, "Jitter", low=0, high=64, unit="px", special="Off",
                          help="Largest random shift, drawn anew each step")
    blur_every: int = setting(0, "Blur every", low=0, high=100_000, unit="steps", special="Never",
                              help="Blur the picture every this many steps")
    blur_sigma: float = setting(1.0, "Blur sigma", low=0.0, high=5.0, unit="px", decimals=2,
                                help="The blur's Gaussian sigma")
    decay: float = setting(0.0, "Decay", low=0.0, high=1.0, high_open=True, decimals=4,
                           help="Pull towards mid-gray each step")
    tv: float = setting(0.0, "Total variation", low=0.0, high=100.0, decimals=3,
                        help="Weight of the total-variation gradient against the objective's")
    octaves: int = setting(1, "Octaves", low=1, high=8, help="Coarse-to-fine stages")
    octave_scale: float = setting(1.4, "Octave scale", low=1.0, high=4.0, low_open=True, decimals=2,
                                  help="Size ratio between octaves")
    clip: bool = setting(False, "Clip", help="Keep pixels in the model's valid input range")
    class_score: str = setting("output", "Class score", kind=str,
                               choices=(("output", "the output (the chapter's)"),
                                        ("logit", "the score before the softmax")),
                               help="What a class's picture raises")
    seed: int = setting(0, "Seed", low=0, high=2**32 - 1, help="Seeds the start images and the jitter")
    preset: str = "chapter"

    def __post_init__(self) -> None:
        check_declared(self, error=VisualizeError)

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


PRESET_TEXT = {"chapter": "chapter: the chapter's recipe",
               "clean": "clean: jitter, blur, decay, total variation, octaves"}


@dataclass
class VisualizeSettings(Settings):
    """The Visualise tab's settings as an evented model: the model and layer looked into, and
    what Start paints with which recipe. A project stores them; choosing a preset resets its
    steps and learning rate to the preset's.

    Attributes:
        model: The model's source (a run folder, a ``.keras`` file or an ImageNet model such as
            ``efficientnet-lite0``), "" for none.
        weights: An ImageNet model's weights (``imagenet``, ``random`` or a file); "" for other
            models.
        size: VGG16's input side.
        layer: The layer chosen, "" for none yet.
    """

    model: str = setting("", "Model", kind=str,
                         help="A run folder, a .keras file or an ImageNet model (efficientnet-lite0, vgg16)")
    weights: str = setting("", "Weights", kind=str,
                           help="An ImageNet model's weights: imagenet, random or a file")
    size: int = setting(VGG16_TOP_SIZE, "VGG16 size", low=32, high=1024, step=32, unit="px",
                        help=f"VGG16's input side: at {VGG16_TOP_SIZE} px it keeps its classifier (ImageNet's "
                        "1,000 classes); smaller is faster, without classes")
    layer: str = setting("", "Layer", kind=str, help="The layer whose filters are painted")
    kind: str = setting(FILTER, "Paint", kind=str,
                        choices=((FILTER, "A filter of the chosen layer"), (CLASS, "An output class")),
                        help="A filter of the chosen layer, or an output class")
    filter: int = setting(0, "Filter", low=0, high=65_535, help="The filter of the layer to paint")
    class_index: int = setting(0, "Class", low=0, high=1_000_000, help="The output class to paint")
    mosaic: bool = setting(False, "Mosaic of", help="Paint the next filters (or classes) too")
    mosaic_count: int = setting(16, "Pictures", low=2, high=256, unit="pictures",
                                help="The next filters (or classes) from the one chosen, optimised "
                                "together as one batch")
    preset: str = setting("chapter", "Preset", kind=str, choices=tuple(PRESET_TEXT.items()),
                          help="The chapter's recipe, or one with regularisers")
    steps: int = like(AscentSettings, "steps")
    lr: float | None = like(AscentSettings, "lr")
    seed: int = like(AscentSettings, "seed")

    def __post_init__(self) -> None:
        super().__post_init__()
        self.events.preset.connect(self._on_preset_changed)

    def _on_preset_changed(self, name: str) -> None:
        """A preset chosen comes with its own steps and learning rate (not while a project's
        settings are put back as they were)."""
        if not self.updating:
            self.update({"steps": PRESETS[name].steps, "lr": None})

    def paint_class(self, model: str, index: int) -> None:
        """Choose ``model`` (with its ImageNet weights when it is an ImageNet model) and paint its
        class ``index`` with the clean preset (the Getting started guide's first look)."""
        clean = PRESETS["clean"]
        self.update({"model": model, "weights": "imagenet", "kind": CLASS, "class_index": index,
                     "mosaic": False, "preset": clean.preset, "steps": clean.steps, "lr": None})

    def ascent(self) -> AscentSettings:
        """The recipe of a gradient ascent with these settings.

        Raises:
            VisualizeError: A value the recipe refuses.
        """
        return preset(self.preset, steps=self.steps, lr=self.lr, seed=self.seed)

