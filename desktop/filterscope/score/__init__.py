"""``filterscope-score``: score a folder with an exported model, without TensorFlow or Qt.

The light install: ONNX Runtime runs the model a run was exported to
(:mod:`filterscope.core.export.manifest`); everything else is the app's own code, imported
without TensorFlow: the reader, the input rule (resize, channels, mask, scaling), the batched
feed, calibration, decisions and the predictions CSV with its audit sidecar. An import-linter
contract (pyproject.toml) keeps tensorflow, keras and PySide6 out of this package's import graph.
"""
