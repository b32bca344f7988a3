"""Writing a Keras model in each export format, and running an export in its own runtime.

The three writers are Keras 3's own ``model.export``, measured on TensorFlow 2.21 / Keras 3.15:
``format="onnx"`` (tf2onnx under the hood, which Keras patches for NumPy 2), ``format="litert"``
(TensorFlow's TFLiteConverter from a traced function) and ``format="tf_saved_model"``. Every one
is given one input signature, float32 NHWC named :data:`~.manifest.INPUT_NAME` with a free batch
size, so each export takes what ``InputRule.to_model`` gives. The ONNX output is renamed
:data:`~.manifest.ONNX_OUTPUT_NAME` (tf2onnx calls it ``Identity:0``).

Runtimes (:func:`open_runtime`): ONNX Runtime for ONNX; for TFLite the LiteRT interpreter
(``ai_edge_litert``) when installed, else TensorFlow's own ``tf.lite.Interpreter`` (deprecated in
favour of LiteRT but present and correct in 2.21; LiteRT's package is not needed by the app, so it
is not a dependency); ``tf.saved_model.load`` for a SavedModel.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np

from filterscope.core.export.manifest import INPUT_NAME, ONNX_OUTPUT_NAME
from filterscope.core.export.onnx_session import session as onnx_session


@dataclass
class Runtime:
    """An export loaded in its runtime.

    Attributes:
        predict: float32 (N, H, W, C) -> float32 (N, classes).
        name: ``onnxruntime``, ``tflite`` or ``tensorflow``.
        version: The runtime's version.
        input_name: The model's input, as the runtime names it.
        output_name: Its output.
    """

    predict: Callable[[np.ndarray], np.ndarray]
    name: str
    version: str
    input_name: str
    output_name: str


def _signature(model: Any) -> list:
    import tensorflow as tf

    return [tf.TensorSpec((None, *model.input_shape[1:]), tf.float32, name=INPUT_NAME)]


def write_model(model: Any, model_format: str, path: Path) -> None:
    """Write ``model`` to ``path`` in ``model_format`` with Keras's own exporter."""
    keras_format = {"onnx": "onnx", "tflite": "litert", "savedmodel": "tf_saved_model"}[model_format]
    with warnings.catch_warnings():  # tf2onnx's np.object probe, TF's deprecations: not ours
        warnings.simplefilter("ignore")
        model.export(str(path), format=keras_format, input_signature=_signature(model), verbose=False)
    if model_format == "onnx":
        rename_onnx_output(path, ONNX_OUTPUT_NAME)


def rename_onnx_output(path: Path, name: str) -> None:
    """Give the ONNX model's one output ``name`` (the nodes that produce or read it follow)."""
    import onnx

    proto = onnx.load(str(path))
    old = proto.graph.output[0].name
    for node in proto.graph.node:
        node.output[:] = [name if o == old else o for o in node.output]
        node.input[:] = [name if i == old else i for i in node.input]
    proto.graph.output[0].name = name
    onnx.save(proto, str(path))


def set_onnx_metadata(path: Path, key: str, text: str) -> None:
    """Store ``text`` in the ONNX model's ``metadata_props`` under ``key`` (replacing one there)."""
    import onnx

    proto = onnx.load(str(path))
    kept = [(p.key, p.value) for p in proto.metadata_props if p.key != key]
    del proto.metadata_props[:]
    for k, v in [*kept, (key, text)]:
        entry = proto.metadata_props.add()
        entry.key, entry.value = k, v
    onnx.save(proto, str(path))


def open_runtime(model_format: str, path: Path) -> Runtime:
    """Load an export in its own runtime."""
    return {"onnx": _onnx, "tflite": _tflite, "savedmodel": _saved_model}[model_format](path)


def _onnx(path: Path) -> Runtime:
    import onnxruntime as ort

    session = onnx_session(path)
    input_name, output_name = session.get_inputs()[0].name, session.get_outputs()[0].name

    def predict(x: np.ndarray) -> np.ndarray:
        return np.asarray(session.run([output_name], {input_name: x})[0], np.float32)

    return Runtime(predict, "onnxruntime", ort.__version__, input_name, output_name)


def _tflite_interpreter(path: Path) -> tuple[Any, str, str]:
    try:
        from importlib.metadata import version

        from ai_edge_litert.interpreter import Interpreter

        return Interpreter(model_path=str(path)), "ai-edge-litert", version("ai-edge-litert")
    except ImportError:
        import tensorflow as tf

        with warnings.catch_warnings():  # "tf.lite.Interpreter is deprecated": see the docstring
            warnings.simplefilter("ignore")
            return tf.lite.Interpreter(model_path=str(path)), "tflite", tf.__version__


def _tflite(path: Path) -> Runtime:
    interpreter, name, version = _tflite_interpreter(path)
    source, target = interpreter.get_input_details()[0], interpreter.get_output_details()[0]
    shape: list[tuple] = []

    def predict(x: np.ndarray) -> np.ndarray:
        if not shape or shape[0] != x.shape:  # the batch size is free: resize when it changes
            interpreter.resize_tensor_input(source["index"], x.shape)
            interpreter.allocate_tensors()
            shape[:] = [x.shape]
        interpreter.set_tensor(source["index"], x)
        interpreter.invoke()
        return np.array(interpreter.get_tensor(target["index"]), np.float32)

    return Runtime(predict, name, version, source["name"], target["name"])


def _saved_model(path: Path) -> Runtime:
    import tensorflow as tf

    loaded = tf.saved_model.load(str(path))
    (output_name,) = loaded.signatures["serving_default"].structured_outputs

    def predict(x: np.ndarray) -> np.ndarray:  # through ``loaded``: its variables live as long
        serve = loaded.signatures["serving_default"]
        return np.asarray(serve(**{INPUT_NAME: tf.constant(x)})[output_name], np.float32)

    return Runtime(predict, "tensorflow", tf.__version__, INPUT_NAME, output_name)
