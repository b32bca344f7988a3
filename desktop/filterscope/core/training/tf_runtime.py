"""Loading TensorFlow as a job: 3-6 s, so the app does it in the background, once, when needed."""

from __future__ import annotations

import os

from filterscope.core.base.jobs import Cancel, Report, check_cancel


def load_tensorflow(*, report: Report, cancel: Cancel) -> str:
    """Import TensorFlow and Keras (quietly) and say which versions are running."""
    check_cancel(cancel)
    report.progress(0.0, "Loading TensorFlow…")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # no C++ start-up chatter on the console
    import keras
    import tensorflow as tf

    devices = ", ".join(d.device_type for d in tf.config.list_physical_devices())
    return f"TensorFlow {tf.__version__}, Keras {keras.__version__} ({devices})"
