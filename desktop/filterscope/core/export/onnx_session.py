"""ONNX Runtime sessions as the app opens them, and the graph optimisation chosen per model by
measurement when it is exported.

ONNX Runtime's default level (``all``) adds layout transformations (convolutions in a blocked
NCHWc layout) that help most models and cost on a few: measured on 2 cores, one thread, batches
of 16, EfficientNet-Lite0 and MobileNetV2 at 224 px ran 2.4-2.9x faster with ``all`` than with
``extended``, while the chapter's two-convolution ConvNet at 150 px took 35 % more CPU with it.
Both levels give the same numbers (differences of 0 to 3e-17 on those models), so the export
times the two on its verification images and records the faster in the manifest
(``onnxruntime.graph_optimization``), and the scorer opens the session with it.

Plain Python: onnxruntime is imported inside the functions, nothing of TensorFlow, Keras or Qt
(the light scorer uses this module).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np

LEVELS = ("all", "extended")  # ONNX Runtime's ORT_ENABLE_ALL / ORT_ENABLE_EXTENDED
DEFAULT_LEVEL = "all"  # ONNX Runtime's own default; a manifest without a measured choice
TIMING_BATCH = 8  # images a timing runs: enough to tell the levels apart, cheap on VGG16
TIMING_ROUNDS = 2


def session(path: str | Path, *, level: str = DEFAULT_LEVEL, threads: int = 0) -> Any:
    """An ``InferenceSession`` on the CPU with ``level`` graph optimisation and ``threads``
    intra-op threads (0: ONNX Runtime's choice) that wait without spinning: its default busy-wait
    between runs takes the cores the feed's decoding threads need.

    Raises:
        ValueError: ``level`` is not one of LEVELS.
        Exception: onnxruntime's own, for a file it cannot run.
    """
    import onnxruntime as ort

    if level not in LEVELS:
        raise ValueError(f"graph optimisation {level!r}: one of {', '.join(LEVELS)}")
    options = ort.SessionOptions()
    options.graph_optimization_level = getattr(ort.GraphOptimizationLevel, f"ORT_ENABLE_{level.upper()}")
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    options.add_session_config_entry("session.inter_op.allow_spinning", "0")
    options.log_severity_level = 3
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def fastest_level(path: str | Path, x: np.ndarray, *, threads: int = 1) -> tuple[str, dict[str, float]]:
    """The level under which the model runs ``x`` (a batch of TIMING_BATCH at most) fastest, and
    each level's CPU milliseconds per image (best of TIMING_ROUNDS; CPU time, not wall time, so
    other programs on the machine do not decide)."""
    batch = x[:TIMING_BATCH]
    per_image = {}
    for level in LEVELS:
        opened = session(path, level=level, threads=threads)
        feed = {opened.get_inputs()[0].name: batch}
        opened.run(None, feed)  # the first run allocates
        best = min(_cpu_seconds(opened, feed) for _ in range(TIMING_ROUNDS))
        per_image[level] = round(1000 * best / max(1, len(batch)), 4)
    return min(LEVELS, key=per_image.__getitem__), per_image


def _cpu_seconds(opened: Any, feed: dict) -> float:
    start = time.process_time()
    opened.run(None, feed)
    return time.process_time() - start
