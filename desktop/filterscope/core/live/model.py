"""The model the Live view predicts with: a training run, a ``.keras`` file or an ImageNet model,
loaded once per job, and one compiled call per frame.

Models are opened as the Visualise tab opens them (:func:`~filterscope.core.visualize.jobs.open_model`:
safe mode, a run's classes and input rule), so a frame is fed exactly as evaluation and prediction
feed an image: :func:`~filterscope.core.training.model_input.prepare_for_model` (the run's mask,
size and channels) and :meth:`InputRule.to_model` (its scaling). A run whose ``decisions.json``
holds a calibration of this very model file (its SHA-256) gets its temperature, so the bars show
the calibrated probabilities the Results tab shows; the calibration is read, never fitted here
(fitting predicts the whole validation set, which a live view must not wait for).

The model is called through one compiled function (``tf.function`` of ``model(x,
training=False)`` at the model's input shape): measured on EfficientNet-Lite0 at 224 px on two
busy cores, 27 ms a frame against 38 ms for ``predict_on_batch``, 154 ms for ``model.predict``
and 285 ms for an eager call.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np

from filterscope.core.base.fileio import file_sha256
from filterscope.core.base.jobs import Cancel, NullReport, Report
from filterscope.core.results.calibration import apply_temperature
from filterscope.core.results.policy import PolicyError, load_policy
from filterscope.core.training.data_plan import image_masker
from filterscope.core.training.model_input import prepare_for_model
from filterscope.core.training.saved_model import MODEL_FILES
from filterscope.core.transfer.bases import VGG16_TOP_SIZE
from filterscope.core.visualize.activations import ActivationMaps
from filterscope.core.visualize.inputs import prepare
from filterscope.core.visualize.jobs import open_model
from filterscope.core.visualize.layers import LayerInfo, VisualizeError, maps_layer
from filterscope.core.visualize.session import VisualSession

MASK_PIXELS = 640 * 480  # a camera frame's pixels: how the run's mask is computed (built once)


@dataclass
class LiveModel:
    """A model ready for the live view.

    Attributes:
        session: The model and its caches (Grad-CAM and feature maps are computed through it).
        classes: A name per output class.
        layers: Its layer table (those with feature maps are the live view's layer choices).
        temperature: The run's calibration temperature for this model file (1.0: none).
        notes: Plain sentences: whether the probabilities are calibrated, what was assumed.
    """

    session: VisualSession
    classes: list[str]
    layers: list[LayerInfo] = field(default_factory=list)
    temperature: float = 1.0
    notes: list[str] = field(default_factory=list)

    @property
    def name(self) -> str:
        """What to call it: a run's folder name, a file's name or ``EfficientNet-Lite0``."""
        return self.session.loaded.name

    def maps_layers(self) -> list[str]:
        """The layers whose feature maps can be shown, in order."""
        return [row.name for row in self.layers if row.maps]

    def predictor(self) -> Callable[[np.ndarray], np.ndarray]:
        """A function of an RGB uint8 frame (any size) giving the model's (C,) probabilities,
        fed as training fed its images; its compiled call is made once and kept in the session."""
        loaded = self.session.loaded
        rule = loaded.rule
        masker = None if rule.mask is None else image_masker(rule.mask, MASK_PIXELS, False, NullReport())
        call = self.session.compiled(("live", "predict"), lambda: self._compile(self.session.model))

        def predict(rgb: np.ndarray) -> np.ndarray:
            x = rule.to_model(prepare_for_model(rgb, rule, masker)[None])
            return np.asarray(call(x), np.float32)[0]

        return predict

    def _compile(self, model: Any) -> Callable:
        """``model(x, training=False)`` compiled for one frame."""
        import tensorflow as tf

        shape = (1, *self.session.loaded.input_shape)

        @tf.function(input_signature=[tf.TensorSpec(shape, tf.float32)])
        def call(x):
            return model(x, training=False)

        return call

    def feature_maps(self, rgb: np.ndarray, layer: str) -> ActivationMaps:
        """The feature maps of ``layer`` for a frame, as
        :func:`~filterscope.core.visualize.activations.activation_maps` gives them (the same cut
        model, the same preparation), through a compiled call: an eager Keras call holds Python's
        lock most of its time, and the GUI thread waited for it up to 100 ms.

        Raises:
            VisualizeError: No such layer, or its output is not feature maps.
        """
        session = self.session
        maps_layer(session.model, layer)
        cut = session.cut(("layer", layer), lambda: session.output_of(layer))
        call = session.compiled(("live", "maps", layer), lambda: self._compile(cut))
        prepared = prepare(session.loaded, rgb)
        return ActivationMaps(layer, np.asarray(call(prepared.batch), np.float32)[0], prepared)

    def calibrated(self, probabilities: np.ndarray) -> np.ndarray:
        """(C,) probabilities with the run's temperature applied (unchanged at 1.0)."""
        if self.temperature == 1.0:
            return probabilities
        return apply_temperature(probabilities[None], self.temperature)[0]


def run_temperature(run_dir: Path, model_file: Path, classes: list[str]) -> tuple[float, str]:
    """The temperature the run's policy holds for ``model_file`` and a sentence saying so.

    A calibration fitted for another version of the file (its SHA-256 differs), none at all, or
    a policy that cannot be read leaves the model's own probabilities (temperature 1).
    """
    which = next((w for w, name in MODEL_FILES.items() if name == model_file.name), None)
    try:
        fitted = load_policy(run_dir, classes).fitted.get(which or "")
    except PolicyError as exc:
        return 1.0, f"not calibrated: {exc}"
    if fitted is None or fitted.calibration.model_sha256 != file_sha256(model_file):
        return 1.0, ("not calibrated: the run has no calibration of this model yet (an evaluation "
                     "or a prediction in the Results tab fits one); the model's own probabilities")
    return fitted.calibration.temperature, f"calibrated probabilities (temperature {fitted.calibration.temperature:.2f})"


def open_live_model(source: str | os.PathLike, *, weights: str = "imagenet", size: int = VGG16_TOP_SIZE,
                    report: Report, cancel: Cancel) -> LiveModel:
    """Load ``source`` (a run folder, a ``.keras`` file, or an ImageNet model such as
    ``efficientnet-lite0``; ``weights`` and VGG16's ``size`` as the Visualise tab takes them) for
    the live view, once.

    Raises:
        VisualizeError: The model cannot be loaded, or it has no class scores to show.
        Cancelled: ``cancel`` was set.
    """
    opened = open_model(source, weights=weights, size=size, report=report, cancel=cancel)
    if opened.classes is None:
        raise VisualizeError(opened.classes_note or f"{source}: the model has no classes to predict")
    loaded = opened.session.loaded
    model = LiveModel(opened.session, opened.classes, opened.layers)
    run_dir = None if loaded.path is None else loaded.path if loaded.kind == "run" else loaded.path.parent
    if run_dir is not None and (run_dir / "run.json").is_file():  # a run, or a model file of one
        model.temperature, note = run_temperature(run_dir, run_dir / loaded.weights, opened.classes)
        model.notes.append(note)
    return model
