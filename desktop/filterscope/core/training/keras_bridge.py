"""The Keras callback that connects ``model.fit`` to the job protocol (Keras is imported here).

:class:`KerasBridge` turns Keras's callback calls into partials, progress with a time estimate,
cancel within one batch, divergence detection and saving after every epoch. Only
:func:`filterscope.core.training.train.train` imports this module, when training starts, so that
nothing else pays for importing Keras.
"""

from __future__ import annotations

import math
import time

import keras

from filterscope.core.base.jobs import Cancel, Report
from filterscope.core.training.frames import BatchFrame, DivergedFrame, EpochFrame, StoppedEarlyFrame
from filterscope.core.training.runs import RUN_FORMAT_VERSION, RunFolder, is_better

# A loss above both of these has exploded (the first batch's loss of a fresh classifier is about
# ln(n_classes)); the chapter's unscaled-pixel L2 model starts near 60,000 and recovers, so a
# high start alone is not divergence.
DIVERGE_FACTOR = 100.0
DIVERGE_FLOOR = 1000.0
BATCH_REPORT_INTERVAL = 0.05  # seconds between batch partials: the GUI needs no more than 20/s


def _duration(seconds: float) -> str:
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60:02d} s"
    return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"


def divergence(loss: float, first: float | None, lr: float) -> str | None:
    """A plain sentence when ``loss`` (a running mean) shows training has diverged, else None.

    Args:
        loss: The loss now.
        first: The first batch's loss of the run (None before it is known).
        lr: The learning rate, named in the advice.
    """
    advice = f"the learning rate ({lr:g}) is probably too high; try one ten times smaller"
    if not math.isfinite(loss):
        return f"the loss became {'NaN (not a number)' if math.isnan(loss) else 'infinite'}: {advice}"
    if first is not None and loss > DIVERGE_FLOOR and loss > DIVERGE_FACTOR * first:
        return (f"the loss exploded to {loss:,.4g} (it started at {first:,.4g}): {advice}, or "
                "check the regularization amounts")
    return None


class KerasBridge(keras.callbacks.Callback):
    """Turns Keras's callback calls into the job protocol: partials, progress, cancel, saving.

    Partials (see :mod:`~filterscope.core.training.frames`): a :class:`BatchFrame` at most every
    ``BATCH_REPORT_INTERVAL`` seconds and at each epoch's last batch; an :class:`EpochFrame`
    after each completed epoch; a :class:`StoppedEarlyFrame` when early stopping ends the run;
    a :class:`DivergedFrame` when the loss explodes.
    """

    def __init__(self, report: Report, cancel: Cancel, *, epochs: int, steps: int,
                 learning_rate: float, folder: RunFolder | None = None,
                 progress_start: float = 0.0, saved_model: object = None,
                 patience: int = 0) -> None:
        super().__init__()
        self.patience = patience  # early stopping: epochs without a better one; 0 is off
        self.stopped_early: int | None = None
        self._best_weights: list | None = None
        self.report, self.cancel, self.folder = report, cancel, folder
        self.saved_model = saved_model  # what to save when it is not the model fitted
        self.epochs, self.steps, self.learning_rate = epochs, steps, learning_rate
        self.start, self.span = progress_start, 1.0 - progress_start
        self.history: list[dict] = []
        self.best_epoch: int | None = None
        self.diverged: str | None = None
        self._first_loss: float | None = None
        self._epoch = 0
        self._last_report = 0.0
        self._epoch_t0 = time.monotonic()
        self._eta_base: tuple[float, float] | None = None  # (time, fraction done) after batch 1

    # -- training --
    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self._epoch, self._epoch_t0 = epoch + 1, time.monotonic()
        self.steps = self.params.get("steps") or self.steps

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        logs = logs or {}
        loss = float(logs.get("loss", math.nan))
        step = batch + 1
        if self._first_loss is None and math.isfinite(loss):
            self._first_loss = loss
        self.diverged = self.diverged or self._diverged(loss, step)
        if self.cancel.is_set() or self.diverged:
            self.model.stop_training = True
            return
        now = time.monotonic()
        if now - self._last_report >= BATCH_REPORT_INTERVAL or step >= self.steps:
            self._last_report = now
            self.report.partial(BatchFrame(self._epoch, step, self.steps, loss,
                                           float(logs.get("accuracy", math.nan))))
            self._progress(step, f"loss {loss:.4f} (epoch mean so far)")

    def _diverged(self, loss: float, step: int) -> str | None:
        problem = divergence(loss, self._first_loss, self.learning_rate)
        if problem is None:
            return None
        message = f"Training stopped in epoch {self._epoch}, batch {step}: {problem}."
        self.report.partial(DivergedFrame(self._epoch, step, message))
        return message

    def _progress(self, step: int, what: str) -> None:
        done = ((self._epoch - 1) * self.steps + min(step, self.steps)) / (self.epochs * self.steps)
        now = time.monotonic()
        # The first batch includes tracing the model (seconds): time the rest from its end.
        if self._eta_base is None:
            self._eta_base = (now, done)
        since, done_then = self._eta_base
        eta = f", about {_duration((now - since) * (1 - done) / (done - done_then))} left" \
            if done > done_then else ""
        self.report.progress(self.start + self.span * done,
                             f"Epoch {self._epoch}/{self.epochs}, batch {min(step, self.steps)}/"
                             f"{self.steps}: {what}{eta}")

    # -- validation --
    def on_test_begin(self, logs: dict | None = None) -> None:
        if not (self.cancel.is_set() or self.diverged):
            self._progress(self.steps, "validating")

    def on_test_batch_end(self, batch: int, logs: dict | None = None) -> None:
        if self.cancel.is_set() or self.diverged:
            self.model.stop_evaluating = True

    # -- end of an epoch: report, then save unless stopped --
    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        if self.cancel.is_set() or self.diverged:
            self.model.stop_training = True
            return  # an interrupted epoch's metrics are partial: report and save nothing
        logs = logs or {}
        row = {"epoch": epoch + 1, "loss": _value(logs, "loss"),
               "accuracy": _value(logs, "accuracy"), "val_loss": _value(logs, "val_loss"),
               "val_accuracy": _value(logs, "val_accuracy"),
               "learning_rate": float(self.model.optimizer.learning_rate.numpy()),
               "seconds": round(time.monotonic() - self._epoch_t0, 3)}
        val_loss = row["val_loss"]
        if val_loss is not None and not math.isfinite(val_loss):
            self.diverged = f"Training stopped after epoch {epoch + 1}: the validation " \
                            f"loss became {val_loss}; the learning rate ({self.learning_rate:g}) " \
                            "is probably too high."
            self.report.partial(DivergedFrame(epoch + 1, self.steps, self.diverged))
            self.model.stop_training = True
            return
        best = is_better(row, self.best())
        self.report.partial(EpochFrame(**row, best=best))
        if self.cancel.is_set():  # cancelled as the epoch ended: it is neither kept nor saved
            self.model.stop_training = True
            return
        self.history.append(row)
        self.best_epoch = row["epoch"] if best else self.best_epoch
        model = self.model if self.saved_model is None else self.saved_model
        if best and self.patience:
            self._best_weights = model.get_weights()
        self._save(best)
        if self.patience and row["epoch"] - self.best_epoch >= self.patience \
                and row["epoch"] < self.epochs:
            self._stop_early(row["epoch"])

    def _stop_early(self, epoch: int) -> None:
        watched = "validation" if self.history[-1]["val_accuracy"] is not None else "training"
        self.stopped_early = epoch
        self.model.stop_training = True
        self.report.partial(StoppedEarlyFrame(
            epoch, self.best_epoch, f"Stopped early after epoch {epoch} of {self.epochs}: no better "
            f"{watched} accuracy for {self.patience} epochs; the model is epoch {self.best_epoch}'s."))

    def restore_best(self) -> None:
        """Early stopping hands back the best epoch's weights (``best.keras`` holds them too)."""
        if self.stopped_early is not None and self._best_weights is not None:
            model = self.model if self.saved_model is None else self.saved_model
            model.set_weights(self._best_weights)

    def best(self) -> dict | None:
        return None if self.best_epoch is None else self.history[self.best_epoch - 1]

    def _save(self, best: bool) -> None:
        if self.folder is None:
            return
        self._progress(self.steps, "saving")
        model = self.model if self.saved_model is None else self.saved_model
        if best:
            self.folder.save_model(model, "best.keras")
        self.folder.save_model(model, "last.keras")
        self.folder.write_json("history.json", self.history_json("running"))
        if self.cancel.is_set():
            self.model.stop_training = True

    def history_json(self, status: str) -> dict:
        return {"version": RUN_FORMAT_VERSION, "status": status, "best_epoch": self.best_epoch,
                "monitor": "val_accuracy", "diverged": self.diverged,
                "stopped_early": self.stopped_early, "epochs": self.history}


def _value(logs: dict, key: str) -> float | None:
    value = logs.get(key)
    return None if value is None else float(value)
