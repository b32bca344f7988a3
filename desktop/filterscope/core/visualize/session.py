"""One model being looked into, with what it is worth keeping between pictures.

Cutting a model at a layer (``keras.Model(input, layer_output)``) makes early layers cheap: a
step at ``block1_conv1`` runs one convolution, not VGG16's sixteen layers. Compiling a step
(``tf.function``) costs a trace of a second or more. Both are kept per layer in a
:class:`VisualSession`, so ten pictures in a row at one layer cut and trace once; they are
released with the session when the model changes (:meth:`VisualSession.release`). A tab keeps one
session for the chosen model and releases it when another is chosen.

The cuts are taken from one symbolic graph per session. A loaded ``Sequential`` model has been
called several times while it was built, so ``layer.output`` may belong to another call than
the next layer's ``layer.input``, and a model cut at both would run two separate paths (the
gradient from one to the other is None). For a Sequential model the session calls its layers
once on a fresh input; a functional model's layers have one call each and are used as they are.
"""

from __future__ import annotations

import gc
import threading
from typing import Any, Callable, Hashable

from filterscope.core.visualize.layers import ClassHead, VisualizeError, class_head, class_names, layer_table
from filterscope.core.visualize.model_source import LoadedModel


class VisualSession:
    """A loaded model and its caches: cut models per layer, compiled functions per purpose."""

    def __init__(self, loaded: LoadedModel) -> None:
        self.loaded = loaded
        self._cuts: dict[Hashable, Any] = {}
        self._compiled: dict[Hashable, Any] = {}
        self._head: ClassHead | None = None
        self._graph: tuple[Any, dict, dict] | None = None
        self._lock = threading.RLock()  # a tab may start a picture while the last one winds down

    @property
    def model(self) -> Any:
        """The Keras model."""
        return self.loaded.model

    def head(self) -> ClassHead:
        """The model's class scores (see :func:`~filterscope.core.visualize.layers.class_head`)."""
        if self._head is None:
            try:
                self._head = class_head(self.model)
            except VisualizeError as exc:
                if self.loaded.kind == "vgg16":  # the convolutional base, without its classifier
                    raise VisualizeError(f"VGG16 at {self.loaded.input_shape[0]} px has no classes: "
                                         "only at 224 px does it keep its classifier") from exc
                raise
        return self._head

    def class_names(self) -> list[str]:
        """A name for every output of the model (``class N`` where the names are unknown)."""
        return class_names(self.loaded.classes, self.head().count)

    def _symbolic(self) -> tuple[Any, dict, dict]:
        """(input, {layer: its input tensor}, {layer: its output tensor}) of one graph."""
        with self._lock:
            if self._graph is None:
                import keras

                model, ins, outs = self.model, {}, {}
                if isinstance(model, keras.Sequential):
                    source = x = keras.Input(self.loaded.input_shape)
                    for layer in model.layers:
                        ins[layer.name] = x
                        x = outs[layer.name] = layer(x)
                else:
                    source = model.inputs[0]
                    for layer in model.layers:
                        try:
                            ins[layer.name], outs[layer.name] = layer.input, layer.output
                        except (AttributeError, ValueError):
                            continue  # a shared layer (several calls) has no single output
                self._graph = (source, ins, outs)
            return self._graph

    def output_of(self, layer: str) -> Any:
        """The symbolic output of ``layer`` in the session's graph."""
        outs = self._symbolic()[2]
        if layer not in outs:
            raise VisualizeError(f"{layer!r} is called several times in the model; choose another layer")
        return outs[layer]

    def input_of(self, layer: str) -> Any | None:
        """The symbolic input of ``layer`` in the session's graph; None when it is the image."""
        self.output_of(layer)  # a shared layer has no single input either
        source, ins, _ = self._symbolic()
        return None if ins[layer] is source else ins[layer]

    def head_tensor(self) -> Any:
        """The symbolic tensor the class scores are read from (see :class:`ClassHead`)."""
        head = self.head()
        return self._symbolic()[1][head.layer] if head.before else self.output_of(head.layer)

    def gradcam_layer(self) -> str:
        """The layer Grad-CAM weighs: the last convolution, or the ReLU layer that follows it
        (the chapter's models keep the activation in a layer of its own; EfficientNet-Lite and
        MobileNetV2 put a batch normalisation between), whose maps are rectified.

        Raises:
            VisualizeError: The model has no convolution.
        """
        import keras

        rows = layer_table(self.model)
        last = max((i for i, r in enumerate(rows) if r.conv), default=None)
        if last is None:
            raise VisualizeError("the model has no convolution layer, so there is nothing for "
                                 "Grad-CAM to weigh")
        _, ins, outs = self._symbolic()
        name = previous = rows[last].name
        for row in rows[last + 1:]:
            after = self.model.get_layer(row.name)
            if ins.get(row.name) is None or ins.get(row.name) is not outs.get(previous):
                break
            if isinstance(after, (keras.layers.Activation, keras.layers.ReLU)):
                return row.name
            if not isinstance(after, keras.layers.BatchNormalization):
                break
            previous = row.name
        return name

    def cut(self, key: Hashable, outputs: Callable[[], Any]) -> Any:
        """The model from the input to ``outputs()`` (symbolic tensors of the session's graph),
        made once per key."""
        with self._lock:
            if key not in self._cuts:
                import keras

                self._cuts[key] = keras.Model(self._symbolic()[0], outputs())
            return self._cuts[key]

    def compiled(self, key: Hashable, build: Callable[[], Any]) -> Any:
        """``build()`` (a compiled function) made once per key and kept."""
        with self._lock:
            if key not in self._compiled:
                self._compiled[key] = build()
            return self._compiled[key]

    def cached(self) -> int:
        """How many cut models and compiled functions are kept."""
        return len(self._cuts) + len(self._compiled)

    def release(self) -> None:
        """Drop every cut model and compiled function (the model itself stays loaded)."""
        with self._lock:
            self._cuts.clear()
            self._compiled.clear()
            self._head = None
            self._graph = None
        gc.collect()
