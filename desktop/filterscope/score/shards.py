"""Scoring in shards: what a cluster worker runs (:func:`score_shard`, one ONNX Runtime session
per worker process) and how the driver puts the shards' answers back together (:class:`Merge`:
every input once, in the order listed; a path answered twice is kept once, a shard that could
not be scored marks each of its images failed with the reason).

Nothing here imports a cluster engine at module level: a worker imports this module, opens the
model once and keeps it for every later shard of the same file (the same path and SHA-256).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import numpy as np

from filterscope.core.base.jobs import NullReport, never_cancel
from filterscope.core.results.feed import BATCH_SIZE, FileImages, predict_images
from filterscope.core.training.model_input import InputRule
from filterscope.score.onnx_model import ModelError, OnnxModel, open_onnx

_SESSIONS: dict[tuple[str, str], OnnxModel] = {}
_OPENED: list[str] = []  # every session this process opened (tests: once per worker)
_LOCK = threading.Lock()  # a worker with several threads opens a model once


@dataclass
class ShardResult:
    """What a worker answers for one shard.

    Attributes:
        paths: The shard's paths, as sent.
        probabilities: float32 (len(paths), C); NaN rows for images that could not be read.
        errors: Position in ``paths`` -> why that image could not be read.
        worker: Who scored it (``host:pid``), for the log.
    """

    paths: list[str]
    probabilities: np.ndarray
    errors: dict[int, str]
    worker: str = ""


def worker_threads() -> int:
    """ONNX Runtime threads for a session on this worker: the worker's own thread count (a Dask
    worker's ``nthreads``), else 1 — never one per core of a machine that several workers share."""
    try:
        from distributed import get_worker

        return max(1, int(get_worker().state.nthreads))
    except (ImportError, ValueError, AttributeError):
        return 1


def worker_model(model_path: str, sha256: str) -> OnnxModel:
    """This process's session of the model, opened on first use.

    Raises:
        ModelError: The model cannot be opened here, or the file here is not the driver's.
    """
    key = (model_path, sha256)
    with _LOCK:
        model = _SESSIONS.get(key)
        if model is None:
            model = open_onnx(model_path, threads=worker_threads())
            if model.sha256 != sha256:
                raise ModelError(f"{model_path}: this worker's copy is not the model the driver opened "
                                 f"(SHA-256 {model.sha256[:12]}..., not {sha256[:12]}...)")
            _SESSIONS[key] = model
            _OPENED.append(model_path)
    return model


def opened_here() -> list[str]:
    """The model files this process has opened a session of (each once)."""
    return list(_OPENED)


def score_shard(model_path: str, sha256: str, paths: Sequence[str], batch_size: int = BATCH_SIZE
                ) -> ShardResult:
    """Probabilities of one shard of images, with this worker's session (the app's feed: the
    shared reader, the run's input rule, decoding in background threads)."""
    import os
    import socket

    model = worker_model(model_path, sha256)
    rule = InputRule.from_json(model.manifest.input)
    predicted = predict_images(model, FileImages([Path(p) for p in paths]), rule, report=NullReport(),
                               cancel=never_cancel(), batch_size=batch_size, pad=False)  # as score()
    return ShardResult(list(paths), predicted.probabilities, predicted.errors,
                       f"{socket.gethostname()}:{os.getpid()}")


def split(n: int, size: int) -> list[range]:
    """Positions ``0..n`` in consecutive shards of at most ``size``."""
    return [range(start, min(start + size, n)) for start in range(0, n, max(1, size))]


@dataclass
class Merge:
    """The driver's record of which input has an answer: every path once, by path.

    Attributes:
        paths: Every input, in the order of the CSV's rows.
        n_classes: The model's classes.
        duplicates: Answers for a path that had one already (ignored), e.g. a shard retried
            after its worker died having answered.
    """

    paths: list[Path]
    n_classes: int
    duplicates: int = 0
    _row: dict[str, int] = field(default_factory=dict, repr=False)
    _answered: set[int] = field(default_factory=set, repr=False)

    def __post_init__(self) -> None:
        self._row = {str(p): i for i, p in enumerate(self.paths)}
        self.probabilities = np.full((len(self.paths), self.n_classes), np.nan, np.float32)
        self.errors: dict[int, str] = {}

    def add(self, shard: ShardResult) -> int:
        """Record a worker's answers; returns how many were new."""
        new = 0
        for j, path in enumerate(shard.paths):
            row = self._row[path]
            if row in self._answered:
                self.duplicates += 1
                continue
            self._answered.add(row)
            new += 1
            if j in shard.errors:
                self.errors[row] = shard.errors[j]
            else:
                self.probabilities[row] = shard.probabilities[j]
        return new

    def fail(self, paths: Sequence[str], reason: str) -> int:
        """Mark the shard's unanswered images failed with ``reason``; returns how many."""
        rows = [self._row[p] for p in paths if self._row[p] not in self._answered]
        for row in rows:
            self._answered.add(row)
            self.errors[row] = f"not scored: {reason}"
        return len(rows)

    def missing(self) -> list[int]:
        """Rows without an answer yet."""
        return [i for i in range(len(self.paths)) if i not in self._answered]
