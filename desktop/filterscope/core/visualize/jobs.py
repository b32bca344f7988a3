"""The Visualise tab's jobs besides :func:`~filterscope.core.visualize.ascent.ascend`: open a
model with what the controls offer, look at an image through it, draw a layer's weights.

Each is a long job (``report``, ``cancel``) that does all of its computing, pictures included,
so the tab only shows arrays.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import numpy as np

from filterscope.core.base.jobs import Cancel, Report, check_cancel
from filterscope.core.data.drawn import mnist_digit
from filterscope.core.visualize.activations import (
    ActivationMaps,
    FilterWeights,
    activation_maps,
    filter_weights,
)
from filterscope.core.visualize.gradcam import GradCam, grad_cam
from filterscope.core.visualize.layers import LayerInfo, VisualizeError, layer_table
from filterscope.core.visualize.model_source import load_source
from filterscope.core.visualize.network import NetworkView, network_view
from filterscope.core.visualize.session import VisualSession

MAPS_SHOWN = 64  # feature maps drawn for one layer (VGG16's deep layers have 512)
TOP_CAMS = 3  # Grad-CAM overlays for the model's best classes


@dataclass
class OpenedModel:
    """A model ready to look into.

    Attributes:
        session: The model and its caches.
        layers: Its layer table.
        classes: A name per output class, or None when it has no class scores.
        classes_note: Why there are no classes, when there are none.
    """

    session: VisualSession
    layers: list[LayerInfo]
    classes: list[str] | None
    classes_note: str | None = None


def open_model(source: str | os.PathLike, *, weights: str = "imagenet", size: int = 224,
               report: Report, cancel: Cancel) -> OpenedModel:
    """Load ``source`` (see :func:`~filterscope.core.visualize.model_source.load_source`) with
    its layer table and class names.

    Raises:
        VisualizeError: The model cannot be loaded or looked into (the message says why).
        Cancelled: ``cancel`` was set.
    """
    loaded = load_source(source, weights=weights, size=size, report=report, cancel=cancel)
    check_cancel(cancel)
    session = VisualSession(loaded)
    try:
        classes, note = session.class_names(), None
    except VisualizeError as exc:
        classes, note = None, str(exc)
    return OpenedModel(session, layer_table(loaded.model), classes, note)


@dataclass
class ImageProbe:
    """An image seen through a model: one layer's feature maps and Grad-CAM overlays.

    Attributes:
        maps: The layer's feature maps.
        maps_picture: The first MAPS_SHOWN of them as one mosaic (RGB uint8).
        shown: How many maps the mosaic holds.
        cams: Grad-CAM of the model's best classes, best first (empty without classes).
        overlays: Each cam over the image as the model saw it (RGB uint8).
        note: Why there are no Grad-CAMs, when there are none.
    """

    maps: ActivationMaps
    maps_picture: np.ndarray
    shown: int
    cams: list[GradCam] = field(default_factory=list)
    overlays: list[np.ndarray] = field(default_factory=list)
    note: str | None = None


def probe_image(session: VisualSession, image: np.ndarray, layer: str, *, top: int = TOP_CAMS,
                report: Report, cancel: Cancel) -> ImageProbe:
    """The feature maps of ``layer`` for ``image`` and Grad-CAM overlays for the ``top`` classes
    the model predicts (none for a model without class scores, with a note saying so).

    Raises:
        VisualizeError: ``layer`` has no feature maps.
        Cancelled: ``cancel`` was set.
    """
    check_cancel(cancel)
    report.progress(0.0, f"Feature maps of {layer}")
    maps = activation_maps(session, image, layer)
    shown = min(MAPS_SHOWN, maps.maps.shape[-1])
    probe = ImageProbe(maps, maps.picture(limit=shown), shown)
    try:
        session.head()
    except VisualizeError as exc:
        probe.note = str(exc)
        return probe
    probe.cams = top_cams(session, image, top, report=report, cancel=cancel)
    probe.overlays = [cam.overlay() for cam in probe.cams]
    report.progress(1.0, "")
    return probe


def top_cams(session: VisualSession, image: np.ndarray, top: int = TOP_CAMS, layer: str | None = None, *,
             report: Report, cancel: Cancel) -> list[GradCam]:
    """Grad-CAM of the ``top`` classes the model predicts for ``image``, best first (at most
    ``gradcam.TOP``), each weighing ``layer`` (None: the last convolution, after its ReLU).

    Raises:
        VisualizeError: A model without classes, a layer without feature maps.
        Cancelled: ``cancel`` was set.
    """
    best = grad_cam(session, image, layer=layer)  # the predicted class, and the ranking of the others
    cams = [best]
    for rank, runner_up in enumerate(best.top[1:top], start=1):
        check_cancel(cancel)
        report.progress(rank / top, f"Grad-CAM of {runner_up['name']}")
        cams.append(grad_cam(session, image, runner_up["index"], layer))
    return cams


@dataclass
class WeightsPicture:
    """A convolution's kernels as one picture.

    Attributes:
        weights: The kernels.
        picture: The first ``shown`` filters as a mosaic (RGB uint8).
        shown: How many filters the picture holds.
    """

    weights: FilterWeights
    picture: np.ndarray
    shown: int


def draw_weights(session: VisualSession, layer: str | None = None, *, limit: int = MAPS_SHOWN,
                 report: Report, cancel: Cancel) -> WeightsPicture:
    """The kernels of ``layer`` (default: the first convolution), the first ``limit`` filters.

    Raises:
        VisualizeError: No such convolution (the message lists them).
        Cancelled: ``cancel`` was set.
    """
    check_cancel(cancel)
    report.progress(0.0, "Weights")
    weights = filter_weights(session, layer)
    shown = min(limit, weights.kernels.shape[-1])
    return WeightsPicture(weights, weights.picture(limit=shown), shown)


@dataclass
class DrawnDigit:
    """A drawn digit seen through a model.

    Attributes:
        digit: (28, 28) uint8, the drawing made as MNIST's digits were made.
        network: Every layer's output for it (the prediction is the last).
        cam: Grad-CAM of the predicted class, or None for a model without class scores.
        overlay: The Grad-CAM over the digit as the model saw it (RGB uint8), or None.
        note: What to know about the model and the digit (another input size), or None.
    """

    digit: np.ndarray
    network: NetworkView
    cam: GradCam | None
    overlay: np.ndarray | None
    note: str | None = None


def look_at_drawing(session: VisualSession, ink: np.ndarray, *, report: Report,
                    cancel: Cancel) -> DrawnDigit:
    """A drawing (:func:`~filterscope.core.data.drawn.mnist_digit` makes it a 28 × 28 digit),
    fed as any image is, through every layer, with Grad-CAM of the predicted class.

    Raises:
        Cancelled: ``cancel`` was set.
    """
    digit = mnist_digit(ink)
    network = network_view(session, digit, report=report, cancel=cancel)
    shape = session.loaded.input_shape
    note = None if tuple(shape) == (28, 28, 1) else (
        f"{session.loaded.name} takes {' × '.join(map(str, shape))} images: the 28 × 28 digit is fed "
        "to it as any image is; a model trained on MNIST reads it best.")
    try:
        cam = grad_cam(session, digit)
    except VisualizeError as exc:
        return DrawnDigit(digit, network, None, None, str(exc))
    return DrawnDigit(digit, network, cam, cam.overlay(), note)
