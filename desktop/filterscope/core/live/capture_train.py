"""Train a model on a capture folder in seconds: the capture-and-train job.

The run is an ordinary run spec trained by the Train tab's own job
(:func:`filterscope.core.transfer.run.train_run`) into a new folder of the runs folder, so it is
listed, evaluated and opened like any run. Its model is a new head on EfficientNet-Lite0's
frozen ImageNet base, trained on the base's cached features (the base runs once per frame; the
head's epochs then take milliseconds), when Lite0's weights are installed (they come with the
app); otherwise, or when asked, the chapter's small ConvNet trained from scratch on 64-pixel
frames. Either way a stratified fifth of each class's frames is held out for validation, and
``best.keras`` is the epoch that did best on them.

What a user can change is declared once in :class:`CaptureSettings` (the capture panel's
controls, the command's flags).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from filterscope.core.base.jobs import Cancel, Report
from filterscope.core.base.settings import Settings, like, setting
from filterscope.core.data.split_settings import SplitSettings
from filterscope.core.live.capture import CaptureError, CaptureFolder
from filterscope.core.training.base_spec import PHOTO_TRANSFER_BASE, BaseSpec
from filterscope.core.training.data_spec import DataSpec
from filterscope.core.training.fit_options import FitOptions
from filterscope.core.training.model_spec import ModelSpec, OptimizerSpec, templates
from filterscope.core.training.runs import RunResult, RunSpec

PRETRAINED, CONVNET = "pretrained", "convnet"
MIN_FRAMES = 4  # per class: at least one validation frame and a few to train on


@dataclass(frozen=True)
class CaptureRecipe:
    """How one of the two models trains on captured frames.

    Attributes:
        epochs: Most epochs (the best one is kept).
        learning_rate: Adam's.
        longest_side: Frames are scaled to this longer side (aspect kept).
        early_stopping: Epochs without a better one before stopping.
        batch_size: Frames per step.
    """

    epochs: int
    learning_rate: float
    longest_side: int
    early_stopping: int
    batch_size: int


# Measured on 3 classes x 50 frames of the test videos (tests/benchmarks/test_capture.py): the
# head reaches full validation accuracy in its first epoch at 0.003 (ten times the photo recipe's
# head rate: a few classes, no fine-tuning). Every epoch saves the whole model with its base (a
# second or more on two busy cores), so the head takes few epochs of small batches: more steps
# for the same saves. 160 px keeps Lite0's features of a 640x480 camera's frames quick. The
# ConvNet needs more epochs, but each takes a tenth of a second at 64 px.
RECIPES = {PRETRAINED: CaptureRecipe(epochs=3, learning_rate=0.003, longest_side=160, early_stopping=2,
                                     batch_size=8),
           CONVNET: CaptureRecipe(epochs=20, learning_rate=0.002, longest_side=64, early_stopping=6,
                                  batch_size=16)}


@dataclass
class CaptureSettings(Settings):
    """The capture panel's settings: what a held button saves, and how Train trains."""

    every: int = setting(1, "Save every", low=1, high=60, unit="frames", special="Every frame",
                         help="While a class's button is held, save every n-th frame (1 saves them "
                         "all; more gives frames that differ more from each other)")
    model: str = setting(PRETRAINED, "Model", kind=str,
                         choices=((PRETRAINED, "EfficientNet-Lite0 head (pretrained)"),
                                  (CONVNET, "Small ConvNet (from scratch)")),
                         help="A new head on EfficientNet-Lite0's ImageNet features (its weights "
                         "come with the app; without them the small ConvNet trains instead), or "
                         "the chapter's small ConvNet trained from scratch")
    epochs: int | None = setting(None, "Epochs", kind=int, optional=True, low=1, high=500,
                                 special="Model's own",
                                 help="Most epochs to train (the best one on the held-out frames "
                                 f"is kept); empty takes the model's own ({RECIPES[PRETRAINED].epochs} for "
                                 f"the head, {RECIPES[CONVNET].epochs} for the ConvNet)")
    val_fraction: float = like(SplitSettings, "val_fraction")


def pretrained_missing() -> str | None:
    """Why the pretrained base cannot be used here, or None when its weights are installed."""
    from filterscope.core.transfer.imagenet import weights_missing

    return weights_missing(PHOTO_TRANSFER_BASE, top=False)


def model_used(settings: CaptureSettings) -> str:
    """The model that trains: the one chosen, the ConvNet when Lite0's weights are missing."""
    return CONVNET if settings.model == CONVNET or pretrained_missing() else PRETRAINED


def check_frames(counts: dict[str, int]) -> None:
    """Raise CaptureError unless at least two classes have at least MIN_FRAMES frames each."""
    few = [name for name, n in counts.items() if n < MIN_FRAMES]
    if few:
        listed = ", ".join(f"{name!r} ({counts[name]})" for name in few)
        raise CaptureError(f"capture at least {MIN_FRAMES} frames of every class before training "
                           f"(or remove the class): {listed}")
    if len(counts) < 2:
        raise CaptureError("a model needs at least two classes to tell apart: add a class and "
                           "capture its frames")


def capture_run(root: str | Path, settings: CaptureSettings, model: str, seed: int = 0) -> RunSpec:
    """The run spec that trains ``model`` (PRETRAINED or CONVNET) on capture folder ``root``."""
    recipe = RECIPES[model]
    data = DataSpec(str(Path(root).absolute()), val_fraction=settings.val_fraction, seed=seed,
                    longest_side=recipe.longest_side)
    if model == PRETRAINED:
        spec = ModelSpec(PRETRAINED, (), name=PHOTO_TRANSFER_BASE, base=BaseSpec(PHOTO_TRANSFER_BASE),
                         pooling="avg")
    else:
        spec = templates()["chapter-convnet"]
    return RunSpec(data, spec, OptimizerSpec("adam", recipe.learning_rate),
                   epochs=settings.epochs or recipe.epochs, batch_size=recipe.batch_size, seed=seed,
                   cache_features=model == PRETRAINED,
                   fit=FitOptions(early_stopping=recipe.early_stopping))


def train_capture(root: str | Path, runs_dir: str | Path, settings: CaptureSettings | None = None, *,
                  report: Report, cancel: Cancel, cache_dir: Path | None = None) -> RunResult:
    """The capture-and-train job: train on capture folder ``root`` into a new run of ``runs_dir``
    through the Train tab's job.

    Raises:
        CaptureError: ``root`` is not a capture folder, or too few classes or frames.
        And what :func:`~filterscope.core.transfer.run.train_run` raises.
    """
    from filterscope.core.live.capture import read_marker
    from filterscope.core.transfer.run import train_run

    if read_marker(root) is None:
        raise CaptureError(f"{root} is not a capture folder: train a dataset in the Train tab")
    settings = settings or CaptureSettings()
    check_frames(CaptureFolder.open(root).counts())
    model = model_used(settings)
    report.progress(0.0, "Training a head on EfficientNet-Lite0's features" if model == PRETRAINED
                    else "Training the small ConvNet")
    return train_run(capture_run(root, settings, model), Path(runs_dir), report=report, cancel=cancel,
                     cache_dir=cache_dir)
