"""Models that leave the app: exports (ONNX, TFLite, SavedModel) and the manifest beside them."""
