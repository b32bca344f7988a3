"""The pictures and facts a run report shows, each made by the core function the app uses for
it: the training curves (a matplotlib Figure, never pyplot), the run's mask and chain on a few of
its images (``apply_mask`` and the training pipeline's ``preview_batch``), the most confidently
wrong images (``EvalRows.wrong``) and the versions of what produced the report.

Every picture is PNG bytes; :mod:`~filterscope.core.project.report_html` embeds them as data URIs.
"""

from __future__ import annotations

import io
import os
import platform
from dataclasses import dataclass
from importlib import metadata

import numpy as np

from filterscope.core.base.jobs import Cancel, NullReport, check_cancel
from filterscope.core.base.opencv import cv2
from filterscope.core.data.images import ImageReadError
from filterscope.core.data.thumbnails import thumbnail
from filterscope.core.masking.colordist import apply_mask
from filterscope.core.results.eval_sets import EvalSet
from filterscope.core.results.evaluate import Evaluation
from filterscope.core.training.data_spec import DataSpec, PipelineError
from filterscope.core.training.model_input import training_mask
from filterscope.core.training.pipeline import preview_batch
from filterscope.core.visualize.render import png_bytes

# Longest sides in pixels, chosen so that a row of pictures fits an A4 page printed from Qt.
SAMPLE_SIDE = 120  # originals and masked copies
MODEL_SIDE = 80  # the model's inputs (enlarged without smoothing, so their pixels show)
VERSIONS = 3  # augmented versions of each sample image
MAX_SAMPLES = 4  # sample images (one per class, first classes)
MAX_WRONG = 12  # confidently wrong images shown
WRONG_SIDE = 120
# (shown name, distributions that provide it: the first one installed counts)
PACKAGES = (("Filterscope", ("filterscope",)), ("TensorFlow", ("tensorflow", "tensorflow-cpu")),
            ("Keras", ("keras",)), ("NumPy", ("numpy",)),
            ("OpenCV", ("opencv-python", "opencv-python-headless", "opencv-contrib-python")),
            ("imgaug", ("imgaug",)), ("scikit-learn", ("scikit-learn",)),
            ("matplotlib", ("matplotlib",)), ("PySide6", ("PySide6-Essentials", "PySide6")))


@dataclass
class Sample:
    """One dataset image through the run's mask and chain.

    Attributes:
        name: Its key in the dataset.
        true: Its class.
        original: PNG of the image as stored (downscaled).
        masked: PNG of the image masked as training masked it, or None without a mask.
        model: PNGs of what the model was fed in training (size, channels, mask, augmentation).
    """

    name: str
    true: str
    original: bytes
    masked: bytes | None
    model: list[bytes]


@dataclass
class WrongImage:
    """A misclassified image; ``png`` is None (and ``error`` says why) when it cannot be read."""

    name: str
    true: str
    predicted: str
    confidence: float
    png: bytes | None
    error: str | None = None


def curves_png(history: list[dict], best_epoch: int | None) -> bytes | None:
    """Loss and accuracy per epoch, training and validation, as the Train tab draws them."""
    if not history:
        return None
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    figure = Figure(figsize=(6.2, 2.6), dpi=150, layout="constrained")  # shown 620 px wide
    epochs = [row["epoch"] for row in history]
    for axes, key, title in zip(figure.subplots(1, 2), ("loss", "accuracy"), ("Loss", "Accuracy")):
        axes.plot(epochs, [_nan(row[key]) for row in history], "o-", color="#1f5f99", label="training")
        if any(row[f"val_{key}"] is not None for row in history):
            axes.plot(epochs, [_nan(row[f"val_{key}"]) for row in history], "s-", color="#d9731a",
                      label="validation")
        if best_epoch is not None:
            axes.axvline(best_epoch, color="#777777", ls=":", lw=1, label=f"best epoch ({best_epoch})")
        axes.set_title(title, fontsize="medium")
        axes.set_xlabel("epoch")
        axes.xaxis.set_major_locator(MaxNLocator(integer=True))
        axes.grid(alpha=0.3)
        axes.legend(fontsize="small", loc="best")
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


def _nan(value: float | None) -> float:
    return float("nan") if value is None else value


def samples(evaluated: EvalSet, classes: list[str], data: DataSpec, seed: int,
            cancel: Cancel) -> list[Sample]:
    """One validation image of each of the first classes, as stored, masked and as fed in training.

    Raises:
        PipelineError: The pipeline cannot feed the images (none readable).
        Cancelled: ``cancel`` was set.
    """
    dataset, rng = evaluated.images.dataset, np.random.default_rng(seed)
    mask = training_mask(data.mask_params())
    found = []
    for label in range(len(classes)):
        rows = np.flatnonzero(evaluated.labels == label)
        if len(rows) and len(found) < MAX_SAMPLES:
            found.append((int(evaluated.images.items[rng.choice(rows)]), classes[label]))
    made = []
    for item, true in found:
        check_cancel(cancel)
        try:
            image = dataset.load(item)
        except ImageReadError:
            continue  # the evaluation names unreadable files; a sample is just another image
        fed = preview_batch(dataset, data, [item] * VERSIONS, report=NullReport(), cancel=cancel)
        masked = None if mask is None else _picture(apply_mask(image, mask).image, SAMPLE_SIDE)
        made.append(Sample(dataset.keys[item], true, _picture(image, SAMPLE_SIDE), masked,
                           [_model_png(x) for x in fed.images]))
    if found and not made:
        raise PipelineError("none of the sample images could be read")
    return made


def _picture(image: np.ndarray, side: int) -> bytes:
    """PNG of an RGB or gray uint8 image with its longest side ``side``: a large one shrunk
    smoothly, a small one (a 28-pixel digit) enlarged without smoothing, so its pixels show."""
    image = image[..., 0] if image.ndim == 3 and image.shape[2] == 1 else image
    scale = side / max(image.shape[:2])
    size = (max(1, round(image.shape[1] * scale)), max(1, round(image.shape[0] * scale)))
    smooth = cv2.INTER_AREA if scale < 1 else cv2.INTER_NEAREST
    return png_bytes(cv2.resize(image, size, interpolation=smooth))


def _model_png(x: np.ndarray) -> bytes:
    """A [0, 1] float model input as a picture."""
    return _picture((np.clip(x, 0.0, 1.0) * 255).round().astype(np.uint8), MODEL_SIDE)


def wrong_images(evaluation: Evaluation, evaluated: EvalSet, cancel: Cancel) -> list[WrongImage]:
    """The misclassified images most confidently wrong first (the Results tab's order)."""
    rows, calibrated = evaluation.rows, evaluation.calibrated_confidence  # as the Results gallery shows
    position = {evaluated.images.name(i): i for i in range(len(evaluated.images))}
    dataset, shown = evaluated.images.dataset, []
    for row in rows.wrong()[:MAX_WRONG]:
        check_cancel(cancel)
        item = int(evaluated.images.items[position[rows.paths[row]]])
        picture, error = None, None
        try:
            picture = _picture(thumbnail(dataset, item, WRONG_SIDE), WRONG_SIDE)
        except ImageReadError as exc:
            error = exc.reason
        shown.append(WrongImage(dataset.keys[item], evaluation.classes[rows.true[row]],
                                evaluation.classes[rows.predicted[row]],
                                float(calibrated[row]), picture, error))
    return shown


def environment() -> list[tuple[str, str]]:
    """Python, the packages that shaped the result and the machine, as (name, value) rows."""
    rows = [("Python", f"{platform.python_version()} ({platform.python_implementation()})")]
    for shown, distributions in PACKAGES:
        rows.append((shown, next((v for v in map(_version, distributions) if v), "not installed")))
    rows += [("Platform", platform.platform()), ("Machine", f"{platform.machine() or '?'}, "
                                                             f"{os.cpu_count() or '?'} CPU core(s)")]
    return rows


def _version(distribution: str) -> str | None:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return None
