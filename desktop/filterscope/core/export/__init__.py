"""Models that leave the app: ONNX, TFLite and SavedModel exports, each verified in its own
runtime before it is written, with a versioned sidecar (:mod:`.manifest`) a scorer reads."""
