"""Training's partial results: one small frozen dataclass per event, as the Visualise tab's
gradient ascent sends :class:`~filterscope.core.visualize.ascent.AscentFrame`.

``train()`` reports a :class:`StartFrame`, then :class:`BatchFrame` and :class:`EpochFrame` as
Keras trains, and a :class:`StoppedEarlyFrame` or :class:`DivergedFrame` when the run ends
before its last epoch. Consumers dispatch on the type. What is written to disk stays a dict:
:meth:`EpochFrame.row` is the ``history.json`` row.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from pathlib import Path


@dataclass(frozen=True)
class StartFrame:
    """The model is built and fitting begins.

    Attributes:
        epochs: Epochs asked for.
        steps: Training batches per epoch.
        classes: The class names, in label order.
        input_shape: The model's input (height, width, channels).
        summary: The layer table (``summary_rows``).
        params: The model's parameter count.
        run_dir: The run's folder, or None when nothing is saved.
    """

    epochs: int
    steps: int
    classes: tuple[str, ...]
    input_shape: tuple[int, ...]
    summary: tuple[dict, ...]
    params: int
    run_dir: Path | None


@dataclass(frozen=True)
class BatchFrame:
    """A training batch ended (epochs and steps 1-based).

    The values are the epoch's running means so far (what Keras 3 reports), not the batch's.
    """

    epoch: int
    step: int
    steps: int
    running_loss: float
    running_accuracy: float


@dataclass(frozen=True)
class EpochFrame:
    """An epoch completed; val_* are None without validation data.

    Attributes:
        learning_rate: The rate the epoch trained at.
        seconds: How long the epoch took.
        best: True when it is the best epoch so far.
    """

    epoch: int
    loss: float | None
    accuracy: float | None
    val_loss: float | None
    val_accuracy: float | None
    learning_rate: float | None
    seconds: float | None
    best: bool = False

    def row(self) -> dict:
        """The epoch as a ``history.json`` row (without ``best``: the history records that once)."""
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name != "best"}

    @classmethod
    def from_row(cls, row: dict) -> "EpochFrame":
        """An epoch of a saved history (a value the row lacks is None)."""
        return cls(int(row["epoch"]), *(row.get(f.name) for f in fields(cls)[1:-1]))


@dataclass(frozen=True)
class StoppedEarlyFrame:
    """Early stopping ended the run ``patience`` epochs after its best one."""

    epoch: int
    best_epoch: int
    message: str


@dataclass(frozen=True)
class DivergedFrame:
    """The loss exploded; ``message`` says where and what to try."""

    epoch: int
    step: int
    message: str


TrainingFrame = StartFrame | BatchFrame | EpochFrame | StoppedEarlyFrame | DivergedFrame
"""Any partial result of ``train()``."""
