"""Why a run's model answered what it did for one photo: Grad-CAM of a few classes, side by side
(the Results tab's "Why?": the predicted class and the true one, or the two most probable).

The photo is read by the shared reader (an image of a built-in dataset held in memory, by the
dataset's loader: :func:`~filterscope.core.data.item_images.item_image`) and fed by the run's rule (:attr:`LoadedModel.rule`,
through :func:`~filterscope.core.visualize.inputs.prepare`), so the model sees the very array
evaluation and prediction fed it; the heatmaps are :func:`~filterscope.core.visualize.gradcam.grad_cam`'s,
the ones ``filterscope explain`` draws.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

from filterscope.core.base.jobs import Cancel, Report, SubReport, check_cancel
from filterscope.core.data.images import ImageReadError
from filterscope.core.data.item_images import item_image
from filterscope.core.data.source import Source
from filterscope.core.training.saved_model import ModelLoadError, open_model
from filterscope.core.visualize.gradcam import GradCam, grad_cam
from filterscope.core.visualize.layers import VisualizeError
from filterscope.core.visualize.model_source import loaded_from_opened
from filterscope.core.visualize.session import VisualSession

BEST_TWO = 2  # classes explained when none are named


@dataclass
class Explanation:
    """Grad-CAM heatmaps of one photo for a few classes of one model.

    Attributes:
        path: The photo.
        cams: One per class asked for, in the order asked.
        session: The model with its compiled Grad-CAM, to explain the next photo without tracing
            it again.
        source: (run folder or file, ``best``/``last``) the model was opened from.
    """

    path: Path
    cams: list[GradCam]
    session: VisualSession = field(repr=False)
    source: tuple[Path, str]


def explain_image(session: VisualSession, path: str | os.PathLike, classes: Sequence[int] | None = None,
                  *, data: Source | str | None = None, report: Report, cancel: Cancel) -> list[GradCam]:
    """Grad-CAM of the photo at ``path`` for each of ``classes`` (None: its two most probable);
    ``path`` may be the key of an image of the in-memory dataset ``data`` (an evaluation's
    ``eval_set["source"]``).

    Raises:
        VisualizeError: The image cannot be read (or is gone), the model has no convolution
            layer or no classes, a class is out of range.
        Cancelled: ``cancel`` was set.
    """
    path = Path(path)
    try:
        image = item_image(str(path), data, report=report, cancel=cancel)
    except ImageReadError as err:
        raise VisualizeError(f"{path}: {err.reason}: there is no photo to explain") from err
    layer = session.gradcam_layer()  # the clear message for a model without convolutions, first
    cams: list[GradCam] = []
    wanted: list[int | None] = list(classes) if classes is not None else [None]
    while wanted:
        check_cancel(cancel)
        report.progress(len(cams) / max(len(wanted) + len(cams), 1),
                        f"Grad-CAM of {path.name} at {layer}")
        cams.append(grad_cam(session, image, wanted.pop(0), layer))
        if classes is None and len(cams) < min(BEST_TWO, len(cams[0].top)):
            wanted.append(cams[0].top[len(cams)]["index"])
    check_cancel(cancel)
    report.progress(1.0, f"Explained {path.name}")
    return cams


def explain_run_image(source: str | os.PathLike, path: str | os.PathLike,
                      classes: Sequence[int] | None = None, *, data: Source | str | None = None,
                      which: str = "best", session: VisualSession | None = None, report: Report,
                      cancel: Cancel) -> Explanation:
    """Job: open a run's model (or a ``.keras`` file) as evaluation opens it, and explain a photo
    (:func:`explain_image`).

    Args:
        source: The run folder or ``.keras`` file.
        path: The photo (or the key of an image of ``data``).
        classes: The classes to explain; None: the two most probable.
        data: The source of the dataset an evaluated image belongs to, for images held in memory.
        which: ``best`` or ``last``.
        session: The session of an earlier explanation of the same model, kept to skip opening
            and tracing again; None opens the model.
        report: Progress.
        cancel: Polled before the model is opened and between classes.

    Raises:
        VisualizeError: A model that cannot be opened or explained, a photo that cannot be read.
        Cancelled: ``cancel`` was set.
    """
    source = Path(source)
    if session is None:
        try:
            opened = open_model(source, which=which, report=SubReport(report, 0.0, 0.4), cancel=cancel)
        except ModelLoadError as exc:
            raise VisualizeError(str(exc)) from exc
        session = VisualSession(loaded_from_opened(opened, source))
    check_cancel(cancel)
    cams = explain_image(session, path, classes, data=data, report=SubReport(report, 0.4, 0.6),
                         cancel=cancel)
    return Explanation(Path(path), cams, session, (source, which))
