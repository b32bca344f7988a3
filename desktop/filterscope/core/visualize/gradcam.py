"""Grad-CAM: where in an image the evidence for a class lies (Selvaraju et al. 2017).

The gradient of the class score (before the softmax, where the model has one) with respect to
the feature maps of the last convolution, averaged over each map, weighs the maps; their weighted
sum, rectified (only evidence for the class), scaled to [0, 1] and resized over the image is the
heatmap. The maps are those after the convolution's ReLU when the model keeps it in a layer of
its own, as the chapter's models do.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from filterscope.core.visualize.inputs import PreparedImage, prepare
from filterscope.core.visualize.layers import check_indices, maps_layer
from filterscope.core.visualize.render import overlay
from filterscope.core.visualize.session import VisualSession

TOP = 5


@dataclass
class GradCam:
    """A Grad-CAM heatmap for one class of one image.

    Attributes:
        layer: The layer whose maps were weighed.
        class_index: The class explained.
        class_name: Its name.
        probability: The model's output for that class (a probability for softmax models).
        heatmap: (h, w) float32 in [0, 1] at the layer's resolution.
        image: The image as fed.
        top: The model's best classes, ``{"index", "name", "probability"}``, best first.
        weights: (channels,) the mean gradient of each map.
        output: (classes,) the model's whole output for the image (the live view's prediction).
    """

    layer: str
    class_index: int
    class_name: str
    probability: float
    heatmap: np.ndarray
    image: PreparedImage
    top: list[dict] = field(default_factory=list)
    weights: np.ndarray | None = field(default=None, repr=False)
    output: np.ndarray | None = field(default=None, repr=False)

    @property
    def predicted(self) -> dict:
        """The model's best class."""
        return self.top[0]

    def overlay(self, alpha: float = 0.4) -> np.ndarray:
        """The heatmap over the image as the model saw it, at the image's own resolution."""
        return overlay(self.image.seen, self.heatmap, alpha)

    def to_json(self) -> dict:
        """A JSON-able summary (without the pixels)."""
        return {"layer": self.layer, "class": self.class_index, "class_name": self.class_name,
                "probability": self.probability, "predicted": self.predicted, "top": self.top,
                "heatmap_size": list(self.heatmap.shape)}


def _compiled(session: VisualSession, layer: str):
    """A compiled (maps, output, gradient of the class score wrt the maps) for the layer."""
    import tensorflow as tf

    maps_layer(session.model, layer)
    head = session.head()
    cut = session.cut(("gradcam", layer), lambda: [session.output_of(layer), session.head_tensor()])
    h, w, c = session.loaded.input_shape

    def build():
        @tf.function(input_signature=[tf.TensorSpec((1, h, w, c), tf.float32),
                                      tf.TensorSpec((), tf.int32), tf.TensorSpec((), tf.bool)])
        def run(x, index, pick_best):
            with tf.GradientTape() as tape:
                maps, tensor = cut(x, training=False)
                logits = head.to_logits(tensor)
                output = tf.nn.softmax(logits, axis=-1) if head.softmax else logits
                chosen = tf.where(pick_best, tf.argmax(output[0], output_type=tf.int32), index)
                score = logits[0, chosen]
            return maps, output, tape.gradient(score, maps), chosen

        return run

    return session.compiled(("gradcam", layer), build)


def grad_cam(session: VisualSession, image: np.ndarray, class_index: int | None = None,
             layer: str | None = None) -> GradCam:
    """Grad-CAM for ``image`` fed as in training, for ``class_index`` (None: the predicted class).

    Args:
        session: The model.
        image: Any image array (RGB, gray, any size).
        class_index: The class to explain; None explains the model's prediction.
        layer: The layer with maps to weigh; None takes the last convolution (after its ReLU).

    Raises:
        VisualizeError: A model without classes or convolutions, a class out of range, a layer
            without feature maps.
    """
    names = session.class_names()
    if class_index is not None:
        class_index = check_indices([class_index], len(names), "class", "the model")[0]
    layer = layer or session.gradcam_layer()
    run = _compiled(session, layer)
    prepared = prepare(session.loaded, image)
    maps, output, grads, chosen = run(prepared.batch, np.int32(class_index or 0), class_index is None)
    maps, output, grads = (np.asarray(t, np.float32)[0] for t in (maps, output, grads))
    weights = grads.mean(axis=(0, 1))
    cam = np.maximum(maps @ weights, 0.0)
    peak = float(cam.max())
    heat = (cam / peak if peak > 0 else cam).astype(np.float32)
    order = np.argsort(-output)[:TOP]
    top = [{"index": int(i), "name": names[i], "probability": float(output[i])} for i in order]
    index = int(chosen)
    return GradCam(layer, index, names[index], float(output[index]), heat, prepared, top, weights, output)
