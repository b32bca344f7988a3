"""Training: a ``RunSpec`` (data, model, optimizer, epochs...) -> a trained, saved model.

:func:`train` is a long job (see :mod:`filterscope.core.jobs`). It reports through
:class:`KerasBridge`, a Keras callback: running-mean batch metrics (Keras 3 hands callbacks the
epoch's running mean, not the batch's loss), epoch metrics, progress with a time estimate. It
cancels within one batch, and stops by itself when the loss diverges (NaN, or an explosion such as
a learning rate of 1e6 gives), saying so in plain words.

Each run is saved in a folder of its own, as :mod:`filterscope.core.runs` describes: ``run.json``
when training starts, then ``best.keras``, ``last.keras`` and ``history.json`` after every epoch.

Neither TensorFlow nor Keras is imported until :func:`train` needs them.
"""

from __future__ import annotations

import math
import time
import warnings
from pathlib import Path
from typing import Any

from filterscope.core.jobs import Cancel, Cancelled, Report, SubReport, check_cancel
from filterscope.core.model_build import build_model, check_input, summary_rows
from filterscope.core.models import LOSS, ModelSpecError
from filterscope.core.runs import (
    RUN_FORMAT_VERSION,
    RunFolder,
    RunResult,
    RunSpec,
    check_writable,
    is_better,
)

# A loss above both of these has exploded (the first batch's loss of a fresh classifier is about
# ln(n_classes)); the chapter's unscaled-pixel L2 model starts near 60,000 and recovers, so a
# high start alone is not divergence.
DIVERGE_FACTOR = 100.0
DIVERGE_FLOOR = 1000.0
BATCH_REPORT_INTERVAL = 0.05  # seconds between batch partials: the GUI needs no more than 20/s
PREPARE_SHARE = 0.1  # of the progress bar, for opening and splitting the data


def default_strategy() -> Any:
    """MirroredStrategy over the local GPUs when there are several, else the default strategy."""
    import tensorflow as tf

    gpus = tf.config.list_logical_devices("GPU")
    return tf.distribute.MirroredStrategy() if len(gpus) > 1 else tf.distribute.get_strategy()


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


def _batched(dataset: Any, input_shape: tuple, batch_size: int) -> Any:
    """Batch a stream of single images; pipeline streams come batched already."""
    rank = len(dataset.element_spec[0].shape)
    return dataset.batch(batch_size) if rank == len(input_shape) else dataset


def train(run: RunSpec, out_dir: Path | None, *, report: Report, cancel: Cancel, inputs: Any = None,
          strategy: Any = None) -> RunResult:
    """Train ``run`` and save it in ``out_dir/<run-name>/`` (nothing is saved when out_dir is None).

    Args:
        run: What to train.
        out_dir: The runs folder; a new sub-folder is made for this run (never an existing one).
        report: Progress, and partials: ``start``, ``batch``, ``epoch``, ``diverged`` (see
            :class:`KerasBridge`).
        cancel: Polled between batches; training stops within one batch.
        inputs: Prepared streams (``.train``, ``.val``, ``.classes``, ``.input_shape``,
            ``.n_train``, ``.n_val``); None builds them with ``pipeline.build_inputs(run.data)``.
        strategy: A ``tf.distribute.Strategy``; None takes :func:`default_strategy`.

    Returns:
        The run's history, best epoch and model.

    Raises:
        TrainingError: The runs folder is not writable (checked before any data is read), or a
            save failed.
        ModelSpecError: The images are too small for the model's convolutions and poolings.
        PipelineError: The data cannot be opened or split.
        Cancelled: ``cancel`` was set; files saved before the cancel stay as they were.
    """
    check_cancel(cancel)
    out_dir = None if out_dir is None else Path(out_dir)
    if out_dir is not None:
        check_writable(out_dir)
    if inputs is None:
        from filterscope.core.pipeline import build_inputs

        inputs = build_inputs(run.data, batch_size=run.batch_size,
                              report=SubReport(report, 0.0, PREPARE_SHARE), cancel=cancel)
    check_cancel(cancel)
    input_shape = tuple(int(n) for n in inputs.input_shape)
    check_input(run.model, input_shape)
    if len(inputs.classes) < 2:
        raise ModelSpecError("data", f"training needs at least two classes, not {len(inputs.classes)}")
    report.progress(PREPARE_SHARE, "Building the model")
    # A stream that drops damaged files has no known length: Keras learns it in the first epoch
    # and warns that the data "ran out", which is expected here.
    warnings.filterwarnings("ignore", message="Your input ran out of data", category=UserWarning)
    import keras

    keras.backend.clear_session()  # ten runs in one process must not pile up Keras's global state
    keras.utils.set_random_seed(run.seed)
    strategy = default_strategy() if strategy is None else strategy
    with strategy.scope():
        model = build_model(run.model, input_shape, len(inputs.classes))
        model.compile(optimizer=run.optimizer.build(), loss=LOSS, metrics=["accuracy"])
    check_cancel(cancel)
    folder = None if out_dir is None else RunFolder(out_dir, run)
    try:
        return _fit(run, model, inputs, input_shape, folder, report, cancel)
    except BaseException:
        if folder is not None:
            folder.discard_if_empty()
        raise


def _fit(run: RunSpec, model: Any, inputs: Any, input_shape: tuple, folder: RunFolder | None,
         report: Report, cancel: Cancel) -> RunResult:
    skipped = getattr(inputs, "skipped", [])  # grows while the first epoch decodes
    info = {"version": RUN_FORMAT_VERSION, "run": run.to_json(), "classes": list(inputs.classes),
            "input_shape": list(input_shape), "n_train": int(inputs.n_train),
            "n_val": int(inputs.n_val), "params": int(model.count_params()),
            "warnings": list(getattr(inputs, "warnings", [])), "skipped": list(skipped)}
    if folder is not None:
        folder.write_json("run.json", info)
    steps = max(1, math.ceil(inputs.n_train / run.batch_size))
    bridge = _bridge_class()(report, cancel, epochs=run.epochs, steps=steps,
                         learning_rate=run.optimizer.learning_rate, folder=folder,
                         progress_start=PREPARE_SHARE)
    report.partial({"kind": "start", "epochs": run.epochs, "steps": steps,
                    "classes": list(inputs.classes), "input_shape": list(input_shape),
                    "summary": summary_rows(model), "params": info["params"],
                    "run_dir": None if folder is None else str(folder.path)})
    train_ds = _batched(inputs.train, input_shape, run.batch_size)
    val_ds = _batched(inputs.val, input_shape, run.batch_size) if inputs.n_val > 0 else None
    model.fit(train_ds, validation_data=val_ds, epochs=run.epochs, verbose=0, shuffle=False,
              callbacks=[bridge])
    if folder is not None and folder.saved_model and len(skipped) > len(info["skipped"]):
        folder.write_json("run.json", {**info, "skipped": list(skipped)})  # found while decoding
    if cancel.is_set():
        if folder is not None and folder.saved_model:  # the saved epochs stay; say they are all
            folder.write_json("history.json", bridge.history_json("cancelled"))
        raise Cancelled()
    status = "diverged" if bridge.diverged else "finished"
    if folder is not None:
        folder.write_json("history.json", bridge.history_json(status))
    done = bridge.diverged or f"Done: {len(bridge.history)} epoch(s)"
    report.progress(1.0, done + (f"; {len(skipped)} unreadable file(s) skipped" if skipped else ""))
    return RunResult(None if folder is None else folder.path, status, bridge.history,
                     bridge.best_epoch, bridge.diverged, list(inputs.classes), input_shape, model,
                     run.to_json(), list(skipped), list(info["warnings"]))


def _define_bridge() -> type:
    """KerasBridge subclasses ``keras.callbacks.Callback``; defined on first use so that importing
    this module does not import Keras."""
    import keras

    class KerasBridge(keras.callbacks.Callback):
        """Turns Keras's callback calls into the job protocol: partials, progress, cancel, saving.

        Partials (epochs and steps 1-based):

        - ``{"kind": "batch", "epoch", "step", "steps", "running_loss", "running_accuracy"}``,
          at most every ``BATCH_REPORT_INTERVAL`` seconds and at each epoch's last batch; the
          values are the epoch's running means so far (what Keras 3 reports), not the batch's.
        - ``{"kind": "epoch", "epoch", "loss", "accuracy", "val_loss", "val_accuracy",
          "seconds", "best"}`` after each completed epoch (val_* None without validation data).
        - ``{"kind": "diverged", "epoch", "step", "message"}`` when the loss explodes.
        """

        def __init__(self, report: Report, cancel: Cancel, *, epochs: int, steps: int,
                     learning_rate: float, folder: RunFolder | None = None,
                     progress_start: float = 0.0) -> None:
            super().__init__()
            self.report, self.cancel, self.folder = report, cancel, folder
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
                self.report.partial({"kind": "batch", "epoch": self._epoch, "step": step,
                                     "steps": self.steps, "running_loss": loss,
                                     "running_accuracy": float(logs.get("accuracy", math.nan))})
                self._progress(step, f"loss {loss:.4f} (epoch mean so far)")

        def _diverged(self, loss: float, step: int) -> str | None:
            problem = divergence(loss, self._first_loss, self.learning_rate)
            if problem is None:
                return None
            message = f"Training stopped in epoch {self._epoch}, batch {step}: {problem}."
            self.report.partial({"kind": "diverged", "epoch": self._epoch, "step": step,
                                 "message": message})
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
                   "seconds": round(time.monotonic() - self._epoch_t0, 3)}
            val_loss = row["val_loss"]
            if val_loss is not None and not math.isfinite(val_loss):
                self.diverged = f"Training stopped after epoch {epoch + 1}: the validation " \
                                f"loss became {val_loss}; the learning rate ({self.learning_rate:g}) " \
                                "is probably too high."
                self.report.partial({"kind": "diverged", "epoch": epoch + 1, "step": self.steps,
                                     "message": self.diverged})
                self.model.stop_training = True
                return
            best = is_better(row, self.best())
            self.report.partial({"kind": "epoch", **row, "best": best})
            if self.cancel.is_set():  # cancelled as the epoch ended: it is neither kept nor saved
                self.model.stop_training = True
                return
            self.history.append(row)
            self.best_epoch = row["epoch"] if best else self.best_epoch
            self._save(best)

        def best(self) -> dict | None:
            return None if self.best_epoch is None else self.history[self.best_epoch - 1]

        def _save(self, best: bool) -> None:
            if self.folder is None:
                return
            self._progress(self.steps, "saving")
            if best:
                self.folder.save_model(self.model, "best.keras")
            self.folder.save_model(self.model, "last.keras")
            self.folder.write_json("history.json", self.history_json("running"))
            if self.cancel.is_set():
                self.model.stop_training = True

        def history_json(self, status: str) -> dict:
            return {"version": RUN_FORMAT_VERSION, "status": status, "best_epoch": self.best_epoch,
                    "monitor": "val_accuracy", "diverged": self.diverged, "epochs": self.history}

    return KerasBridge


def _value(logs: dict, key: str) -> float | None:
    value = logs.get(key)
    return None if value is None else float(value)


def _bridge_class() -> type:
    if "KerasBridge" not in globals():
        globals()["KerasBridge"] = _define_bridge()
    return globals()["KerasBridge"]


def __getattr__(name: str) -> Any:
    if name == "KerasBridge":
        return _bridge_class()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
