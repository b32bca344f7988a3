"""Training: a ``RunSpec`` (data, model, optimizer, epochs...) -> a trained, saved model.

:func:`train` is a long job (see :mod:`filterscope.core.base.jobs`). It reports through
:class:`KerasBridge`, a Keras callback: running-mean batch metrics (Keras 3 hands callbacks the
epoch's running mean, not the batch's loss), epoch metrics, progress with a time estimate. It
cancels within one batch, and stops by itself when the loss diverges (NaN, or an explosion such as
a learning rate of 1e6 gives), saying so in plain words.

Each run is saved in a folder of its own, as :mod:`filterscope.core.training.runs` describes: ``run.json``
when training starts, then ``best.keras``, ``last.keras`` and ``history.json`` after every epoch.
``run.json`` holds the run with its data as the pipeline settled it (the dataset's absolute
source and the split's file lists), so that it trains again from anywhere.

Neither TensorFlow nor Keras is imported until :func:`train` needs them.
"""

from __future__ import annotations

import contextlib
import math
import shutil
import tempfile
import warnings
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Callable

from filterscope.core.base.jobs import Cancel, Cancelled, Report, SubReport, check_cancel
from filterscope.core.training.fit_options import class_weight_map
from filterscope.core.training.frames import StartFrame
from filterscope.core.training.model_build import build_model, check_input, summary_rows
from filterscope.core.training.model_input import preprocessing
from filterscope.core.training.model_spec import LOSS, ModelSpecError
from filterscope.core.training.runs import (
    RUN_FORMAT_VERSION,
    RunFolder,
    RunResult,
    RunSpec,
    check_writable,
)

PREPARE_SHARE = 0.1  # of the progress bar, for opening and splitting the data


@dataclass
class BuiltModel:
    """What :func:`train` fits and what it saves: the same model, or (a head trained on cached
    features) the head it fits and the whole model, base and head sharing layers, it saves.

    Attributes:
        fit: The model ``fit`` trains (compiled by train()).
        saved: The model saved as best.keras and last.keras, and returned: it takes images.
        record: Facts for run.json (where a base's weights came from, the feature cache...).
    """

    fit: Any
    saved: Any
    record: dict = field(default_factory=dict)


Builder = Callable[[RunSpec, tuple[int, int, int], int], BuiltModel]
"""Builds a run's model for (run, image input shape, number of classes), within the strategy's
scope (``core.transfer`` builds models on a pretrained base this way)."""


def default_strategy() -> Any:
    """MirroredStrategy over the local GPUs when there are several, else the default strategy."""
    import tensorflow as tf

    gpus = tf.config.list_logical_devices("GPU")
    return tf.distribute.MirroredStrategy() if len(gpus) > 1 else tf.distribute.get_strategy()


def _batched(dataset: Any, input_shape: tuple, batch_size: int) -> Any:
    """Batch a stream of single images; pipeline streams come batched already."""
    rank = len(dataset.element_spec[0].shape)
    return dataset.batch(batch_size) if rank == len(input_shape) else dataset


def train(run: RunSpec, out_dir: Path | None, *, report: Report, cancel: Cancel, inputs: Any = None,
          strategy: Any = None, builder: Builder | None = None) -> RunResult:
    """Train ``run`` and save it in ``out_dir/<run-name>/`` (nothing is saved when out_dir is None).

    Args:
        run: What to train.
        out_dir: The runs folder; a new sub-folder is made for this run (never an existing one).
        report: Progress, and partials: a :class:`~filterscope.core.training.frames.StartFrame`,
            then the frames of :class:`KerasBridge`.
        cancel: Polled between batches; training stops within one batch.
        inputs: Prepared streams (``.train``, ``.val``, ``.classes``, ``.input_shape``,
            ``.n_train``, ``.n_val``, optionally ``.data``, the data spec to record); None
            builds them with ``pipeline.build_inputs(run.data)``, pixels scaled by the model's
            preprocessing (``model_input.preprocessing``).
        strategy: A ``tf.distribute.Strategy``; None takes :func:`default_strategy`. Under a
            multi-worker one (:mod:`~filterscope.core.training.multiworker`) ``run.batch_size``
            is the global batch, and only the chief writes the run folder: the other workers
            save into a temporary folder, removed afterwards, and return no ``run_dir``.
        builder: Builds the model (see :data:`Builder`); None builds ``run.model`` with
            ``model_build.build_model``. A model on a pretrained base needs one: train it with
            ``filterscope.core.transfer.train_run``, which finds its weights.

    Returns:
        The run's history, best epoch and model.

    Raises:
        TrainingError: The runs folder is not writable (checked before any data is read), or a
            save failed.
        ModelSpecError: The images are too small for the model's convolutions and poolings, or
            a pretrained base without a builder.
        PipelineError: The data cannot be opened or split.
        Cancelled: ``cancel`` was set; files saved before the cancel stay as they were, the
            history marked ``stopped``.
        WorkerLostError: A worker of a multi-worker cluster died or stopped answering.
    """
    check_cancel(cancel)
    if run.model.base is not None and builder is None:
        raise ModelSpecError("base", f"{run.model.base.display} needs its weights found: train it "
                             "with filterscope.core.transfer.train_run")
    out_dir = None if out_dir is None else Path(out_dir)
    if out_dir is not None:
        check_writable(out_dir)
    if inputs is None:
        from filterscope.core.training.pipeline import build_inputs

        inputs = build_inputs(run.data, batch_size=run.batch_size,
                              report=SubReport(report, 0.0, PREPARE_SHARE), cancel=cancel,
                              preprocessing=preprocessing(run.model))
    check_cancel(cancel)
    if getattr(inputs, "data", None) is not None:  # recorded: absolute source, the split's lists
        run = replace(run, data=inputs.data)
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
        if builder is None:
            model = build_model(run.model, input_shape, len(inputs.classes))
            built = BuiltModel(model, model)
        else:
            built = builder(run, input_shape, len(inputs.classes))
        built.fit.compile(optimizer=run.optimizer.build(), loss=LOSS, metrics=["accuracy"])
    check_cancel(cancel)
    from filterscope.core.training import multiworker

    distributed = multiworker.is_multi_worker(strategy)
    scratch = None  # a non-chief worker's run folder, removed afterwards
    if distributed and out_dir is not None and not multiworker.chief(strategy):
        scratch = Path(tempfile.mkdtemp(prefix="filterscope-worker-"))
    folder = None if out_dir is None else RunFolder(scratch or out_dir, run)
    try:
        result = _fit(run, built, inputs, input_shape, folder, report, cancel,
                      strategy.num_replicas_in_sync if distributed else 0)
    except BaseException as exc:
        if folder is not None:
            folder.discard_if_empty()
        lost = multiworker.lost_worker(exc, strategy) if distributed else None
        if lost is not None:
            raise lost from exc
        raise
    finally:
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)
    return replace(result, run_dir=None) if scratch is not None else result

def _fit(run: RunSpec, built: BuiltModel, inputs: Any, input_shape: tuple, folder: RunFolder | None,
         report: Report, cancel: Cancel, workers: int) -> RunResult:
    """Fit and save; ``workers`` > 0 under a multi-worker strategy, else 0."""
    skipped = getattr(inputs, "skipped", [])  # grows while the first epoch decodes
    model = built.saved
    validated = inputs.n_val > 0
    weights = class_weight_map(getattr(inputs, "train_labels", []), len(inputs.classes)) \
        if run.fit.class_weights else {}
    notes = list(getattr(inputs, "warnings", []))
    if not validated and (run.fit.early_stopping or run.fit.reduce_lr_patience):
        notes.append("without validation images, early stopping and the learning-rate schedule "
                     "watch the training accuracy and loss")
    info = {"version": RUN_FORMAT_VERSION, "run": run.to_json(), "classes": list(inputs.classes),
            "input_shape": list(input_shape), "preprocessing": preprocessing(run.model),
            "n_train": int(inputs.n_train), "n_val": int(inputs.n_val),
            "params": int(model.count_params()),
            "trainable_params": int(sum(math.prod(v.shape) for v in model.trainable_weights)),
            "warnings": notes, "skipped": list(skipped),
            "class_weights": {inputs.classes[c]: round(w, 6) for c, w in weights.items()} or None,
            "validation": getattr(inputs, "validation", ""), **built.record}
    if workers:
        info["workers"] = {"count": workers, "global_batch": run.batch_size,
                           "per_worker_batch": run.batch_size / workers}
        if run.batch_size % workers:
            notes.append(f"the batch of {run.batch_size} does not split evenly between {workers} "
                         "workers: some take one image more")
    if folder is not None:
        folder.write_json("run.json", info)
    steps = max(1, math.ceil(inputs.n_train / run.batch_size))
    from filterscope.core.training.keras_bridge import KerasBridge

    bridge = KerasBridge(report, cancel, epochs=run.epochs, steps=steps,
                         learning_rate=run.optimizer.learning_rate, folder=folder,
                         progress_start=PREPARE_SHARE, saved_model=model,
                         patience=run.fit.early_stopping)
    report.partial(StartFrame(run.epochs, steps, tuple(inputs.classes), input_shape,
                              tuple(summary_rows(model)), info["params"],
                              None if folder is None else folder.path))
    train_ds = _batched(inputs.train, input_shape, run.batch_size)
    val_ds = _batched(inputs.val, input_shape, run.batch_size) if validated else None
    fixes = contextlib.nullcontext()
    if workers:
        from filterscope.core.training import multiworker

        train_ds = multiworker.sharded(train_ds)
        val_ds = None if val_ds is None else multiworker.sharded(val_ds)
        fixes = multiworker.keras_fixes(built.fit, train_ds)
    try:
        with fixes:
            built.fit.fit(train_ds, validation_data=val_ds, epochs=run.epochs, verbose=0, shuffle=False,
                          callbacks=[bridge, *run.fit.callbacks(run.optimizer.learning_rate, validated=validated)],
                          class_weight=weights or None)
    except Exception:
        if workers and folder is not None and folder.saved_model:  # a worker lost: the saved epochs stay
            folder.write_json("history.json", bridge.history_json("stopped"))
        raise
    bridge.restore_best()
    if folder is not None and folder.saved_model and len(skipped) > len(info["skipped"]):
        folder.write_json("run.json", {**info, "skipped": list(skipped)})  # found while decoding
    if cancel.is_set():
        if folder is not None and folder.saved_model:  # the saved epochs stay; say they are all
            folder.write_json("history.json", bridge.history_json("stopped"))
        raise Cancelled()
    status = "diverged" if bridge.diverged else "finished"
    if folder is not None:
        folder.write_json("history.json", bridge.history_json(status))
    done = bridge.diverged or f"Done: {len(bridge.history)} epoch(s)" + (
        f", stopped early (no better epoch since {bridge.best_epoch})" if bridge.stopped_early else "")
    report.progress(1.0, done + (f"; {len(skipped)} unreadable file(s) skipped" if skipped else ""))
    return RunResult(None if folder is None else folder.path, status, bridge.history,
                     bridge.best_epoch, bridge.diverged, list(inputs.classes), input_shape, model,
                     run.to_json(), list(skipped), list(info["warnings"]), info["preprocessing"],
                     bridge.stopped_early)


