"""Loading TensorFlow: 3-6 s, so the app does it in the background, once, when needed; the CLI
does it quietly."""

from __future__ import annotations

import contextlib
import os
import sys
import threading
from types import ModuleType
from typing import Iterator

from filterscope.core.base.jobs import Cancel, Report, check_cancel

_quiet = False  # inside quiet_tensorflow(): the first import writes nothing to stderr
# Two workers importing TensorFlow at once (a tab loading it while another builds a pipeline)
# can break its half-built registries for the whole process ("Registering two gradient ...").
_IMPORT_LOCK = threading.RLock()


def load_tensorflow(*, report: Report, cancel: Cancel) -> str:
    """Import TensorFlow and Keras (quietly) and say which versions are running."""
    check_cancel(cancel)
    report.progress(0.0, "Loading TensorFlow…")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # no C++ start-up chatter on the console
    with _IMPORT_LOCK:
        import keras
        import tensorflow as tf

    devices = ", ".join(d.device_type for d in tf.config.list_physical_devices())
    return f"TensorFlow {tf.__version__}, Keras {keras.__version__} ({devices})"


@contextlib.contextmanager
def quiet_tensorflow() -> Iterator[None]:
    """Keep TensorFlow's C++ start-up and log lines off stderr while this lasts (the CLI's default).

    ``TF_CPP_MIN_LOG_LEVEL=3`` silences TensorFlow's own logging ("failed call to cuInit"), but
    not absl's "All log messages before absl::InitializeLog() is called..." nor the lines its
    libraries print as they load ("Could not find cuda drivers..."): C++ writes those straight to
    file descriptor 2, so :func:`import_tensorflow` points that at /dev/null for the import only.
    """
    global _quiet
    saved = os.environ.get("TF_CPP_MIN_LOG_LEVEL"), _quiet
    os.environ["TF_CPP_MIN_LOG_LEVEL"], _quiet = "3", True
    try:
        yield
    finally:
        if saved[0] is None:
            os.environ.pop("TF_CPP_MIN_LOG_LEVEL", None)
        else:
            os.environ["TF_CPP_MIN_LOG_LEVEL"] = saved[0]
        _quiet = saved[1]


def import_tensorflow() -> ModuleType:
    """``import tensorflow``; inside :func:`quiet_tensorflow`, with stderr silenced for the import
    (an ImportError still shows: it is raised after stderr is back)."""
    with _IMPORT_LOCK:
        return _import_tensorflow()


def _import_tensorflow() -> ModuleType:
    if not _quiet or "tensorflow" in sys.modules:
        import tensorflow as tf

        return tf
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "wb") as devnull:
            os.dup2(devnull.fileno(), 2)
        import tensorflow as tf
    finally:
        sys.stderr.flush()  # what Python wrote meanwhile goes where the C++ lines went
        os.dup2(saved, 2)
        os.close(saved)
    return tf
