"""The jobs of transfer learning: train any run, extract features, build a model without
training.

:func:`train_run` is the training job for every run spec: a model trained from scratch goes
straight to ``training.train``; a model on a pretrained base goes there with its builder (the
base's weights found offline, its own preprocessing); with ``cache_features`` the frozen base
first runs once over the dataset (:mod:`~filterscope.core.transfer.features`) and the head trains
on the cached features, through the same ``train()``: the same partials, curves and run folder,
and a ``best.keras`` that takes images.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from filterscope.core.base.jobs import Cancel, Report, SubReport, check_cancel
from filterscope.core.base.paths import data_dir
from filterscope.core.training.base_spec import head_optimizer
from filterscope.core.training.data_plan import Plan, plan
from filterscope.core.training.data_spec import DataSpec
from filterscope.core.training.model_build import (
    POOLING_LAYERS,
    build_model,
    check_input,
    head_layers,
    summary_rows,
)
from filterscope.core.training.model_input import preprocessing
from filterscope.core.training.model_spec import ModelSpec
from filterscope.core.training.pipeline import Inputs
from filterscope.core.training.runs import RunResult, RunSpec, check_writable
from filterscope.core.training.tf_runtime import import_tensorflow
from filterscope.core.training.train import train
from filterscope.core.transfer.features import OK, FeatureSet, extract, feature_key
from filterscope.core.transfer.models import builder, load_base
from filterscope.core.transfer.weights import WeightsError, find_weights

PLAN_SHARE, FEATURES_SHARE = 0.05, 0.45  # of the progress bar, before the head trains
HEAD_SHARE = 0.3  # of the progress bar: the head's epochs before fine-tuning


def default_cache_dir() -> Path:
    """Where features are cached unless told otherwise: the app's data folder."""
    return data_dir() / "features"


def train_run(run: RunSpec, out_dir: Path | None, *, report: Report, cancel: Cancel,
              cache_dir: Path | None = None, strategy: Any = None) -> RunResult:
    """Train ``run`` (any model) and save it in a new folder of ``out_dir``, as ``training.train``.

    Args:
        run: What to train.
        out_dir: The runs folder.
        report: Progress and ``training.train``'s partials.
        cancel: Polled throughout; a cancelled feature extraction resumes next time.
        cache_dir: Where cached features are kept (default :func:`default_cache_dir`).
        strategy: As ``training.train``'s.

    Raises:
        WeightsUnavailable: ImageNet weights asked for and not on this computer.
        WeightsError: A weights file that does not fit the base.
        FeatureCacheError: A cache folder inside the dataset.
        And what ``training.train`` raises.
    """
    if run.model.base is None:
        return train(run, out_dir, report=report, cancel=cancel, strategy=strategy)
    if run.model.base.fine_tune_blocks and run.model.base.head_epochs:
        return _head_then_fine_tune(run, out_dir, report=report, cancel=cancel, cache_dir=cache_dir,
                                    strategy=strategy)
    if not run.cache_features:
        return train(run, out_dir, report=report, cancel=cancel, strategy=strategy, builder=builder())
    if out_dir is not None:
        check_writable(Path(out_dir))  # before the features: they can take a while
    planned = plan(run.data, SubReport(report, 0.0, PLAN_SHARE), cancel, None, preprocessing(run.model))
    check_input(run.model, (*planned.size, planned.channels))
    features = cache_features(planned, run.model, run.seed, cache_dir or default_cache_dir(),
                              batch_size=run.batch_size,
                              report=SubReport(report, PLAN_SHARE, FEATURES_SHARE), cancel=cancel)
    inputs = feature_inputs(planned, features, run.batch_size, run.data.seed)
    start = PLAN_SHARE + FEATURES_SHARE
    return train(run, out_dir, report=SubReport(report, start, 1.0 - start), cancel=cancel,
                 inputs=inputs, strategy=strategy, builder=builder(cached=features))


def head_run(run: RunSpec) -> RunSpec:
    """The first part of fine-tuning with ``head_epochs``: the head alone on the frozen base's
    cached features (the images as they are: no augmentation) for ``head_epochs`` epochs, at
    ten times the run's learning rate (the run's own rate, a tenth of the optimiser's usual
    one, is for the top blocks), with the run's class weights and nothing that watches
    for a plateau."""
    base = run.model.base
    frozen = replace(run.model, base=replace(base, fine_tune_blocks=0, head_epochs=0))
    optimizer = head_optimizer(run.optimizer)
    return replace(run, model=frozen, optimizer=optimizer, epochs=base.head_epochs, cache_features=True,
                   data=replace(run.data, chain=None), name="",
                   fit=replace(run.fit, early_stopping=0, reduce_lr_patience=0))


def _head_then_fine_tune(run: RunSpec, out_dir: Path | None, *, report: Report, cancel: Cancel,
                         cache_dir: Path | None, strategy: Any) -> RunResult:
    """Train :func:`head_run`'s head, then the whole run (its top blocks and the head) starting
    from that head; the run folder holds the fine-tuning epochs, run.json the head's."""
    if out_dir is not None:
        check_writable(Path(out_dir))
    head = train_run(head_run(run), None, report=SubReport(report, 0.0, HEAD_SHARE), cancel=cancel,
                     cache_dir=cache_dir, strategy=strategy)
    record = {"epochs": head.epochs_run, "best_epoch": head.best_epoch, "history": head.history}
    return train(run, out_dir, report=SubReport(report, HEAD_SHARE, 1.0), cancel=cancel, strategy=strategy,
                 builder=builder(head_weights=head_weights(head.model), head_record=record))


def head_weights(model: Any) -> dict[str, list]:
    """The weights of a joined model's head (its layers from the pooling on), by layer name."""
    pooling = {name for name, _ in POOLING_LAYERS.values()}
    start = next(i for i, layer in enumerate(model.layers) if layer.name in pooling)
    return {layer.name: layer.get_weights() for layer in model.layers[start:] if layer.weights}


def cache_features(planned: Plan, model: ModelSpec, seed: int, cache_dir: Path, *, batch_size: int,
                   report: Report, cancel: Cancel) -> FeatureSet:
    """The cached features of a plan's images through ``model``'s frozen base (computing what is
    missing). Random weights are made from ``seed`` exactly as ``training.train`` makes them."""
    check_cancel(cancel)
    report.progress(0.0, f"Loading {model.base.display}")
    import_tensorflow()  # quietly, in the CLI: before keras brings it in
    import keras

    keras.backend.clear_session()
    keras.utils.set_random_seed(seed)
    loaded = load_base(model.base, (*planned.size, 3))
    net, pooled = loaded.model, model.pooling == "avg"
    if pooled:  # the head's first step, done once: a vector per image instead of maps
        net = keras.Model(net.input, keras.layers.GlobalAveragePooling2D()(net.output))
    key, items = feature_key(planned, model.base.name, loaded.source.to_json(), pooled, seed)
    return extract(planned, net, key, items, Path(cache_dir), batch_size=batch_size, report=report,
                   cancel=cancel)


def extract_features(data: DataSpec, model: ModelSpec, cache_dir: Path, *, batch_size: int = 32,
                     seed: int = 0, report: Report, cancel: Cancel) -> FeatureSet:
    """The ``filterscope features`` job: run ``model``'s frozen base over a dataset (all its
    training and validation images) into the feature cache, resuming an interrupted run.

    Raises:
        PipelineError: The dataset cannot be opened.
        ModelSpecError: Not a pretrained model, a fine-tuned one, or images too small for it.
        WeightsUnavailable, WeightsError, FeatureCacheError: As :func:`train_run`.
    """
    RunSpec(data, model, cache_features=True)  # the same refusals as a run (no chain, frozen)
    planned = plan(data, SubReport(report, 0.0, PLAN_SHARE), cancel, None, preprocessing(model))
    check_input(model, (*planned.size, planned.channels))
    return cache_features(planned, model, seed, cache_dir, batch_size=batch_size,
                          report=SubReport(report, PLAN_SHARE, 1.0 - PLAN_SHARE), cancel=cancel)


def feature_inputs(planned: Plan, features: FeatureSet, batch_size: int, seed: int) -> Inputs:
    """``training.train``'s inputs from cached features: batches of rows gathered from the
    memory-mapped file, training ones reshuffled every epoch; unreadable images left out."""
    tf = import_tensorflow()
    shape = features.feature_shape
    streams, counts, train_labels = {}, {}, np.zeros(0, np.int32)
    for subset in ("train", "val"):
        items, labels = planned.subsets[subset]
        rows = np.array([features.rows[int(i)] for i in items], np.int64)
        keep = features.status[rows] == OK if len(rows) else np.zeros(0, bool)
        rows, labels = rows[keep], labels[keep]
        counts[subset] = len(rows)
        if subset == "train":
            train_labels = labels
        ds = tf.data.Dataset.from_tensor_slices((rows, labels))
        if subset == "train":
            ds = ds.shuffle(max(len(rows), 1), seed=seed, reshuffle_each_iteration=True)

        def gather(r: Any, y: Any) -> tuple[Any, Any]:
            x = tf.numpy_function(lambda idx: np.asarray(features.features[idx]), [r], tf.float32)
            x.set_shape((None, *shape))
            return x, y

        streams[subset] = ds.batch(batch_size).map(tf.autograph.experimental.do_not_convert(gather)) \
            .prefetch(2)
    planned_keys = {planned.dataset.keys[int(i)] for s in planned.subsets.values() for i in s[0]}
    skipped = list(planned.skipped) + [s for s in features.skipped if s["path"] in planned_keys]
    return Inputs(streams["train"], streams["val"], list(planned.classes), (*planned.size, 3),
                  counts["train"], counts["val"], skipped, list(planned.warnings),
                  validation=planned.validation, data=planned.data, train_labels=train_labels)


@dataclass
class ModelPlan:
    """A run's model built without training (``filterscope train --dry-run``).

    Attributes:
        name: The model's name.
        input_shape: (H, W, C) of the images it takes.
        classes: The classes it would learn.
        preprocessing: How its pixels are scaled (``model_input.preprocess``).
        total_params: All its parameters.
        trainable_params: Those training changes.
        layers: ``summary_rows`` of the built model.
        weights: For a pretrained base: the choice, whether the weights are on this computer,
            where (``file``, ``label``) or why not (``message``).
    """

    name: str
    input_shape: tuple[int, int, int]
    classes: list[str]
    preprocessing: str
    total_params: int
    trainable_params: int
    layers: list[dict] = field(repr=False)
    weights: dict | None = None

    def to_json(self) -> dict:
        """A JSON-able dict."""
        return {"name": self.name, "input_shape": list(self.input_shape), "classes": list(self.classes),
                "preprocessing": self.preprocessing, "total_params": self.total_params,
                "trainable_params": self.trainable_params, "weights": self.weights,
                "layers": [{**row, "output_shape": list(row["output_shape"])} for row in self.layers]}


def dry_run(run: RunSpec, *, report: Report, cancel: Cancel) -> ModelPlan:
    """Build ``run``'s model on its data (random weights: nothing is loaded or trained) and say
    whether a base's weights are there."""
    from filterscope.core.transfer.bases import join, keras_base, set_trainable

    mode = preprocessing(run.model)
    planned = plan(run.data, SubReport(report, 0.0, 0.8), cancel, None, mode)
    shape = (*planned.size, planned.channels)
    check_input(run.model, shape)
    report.progress(0.9, "Building the model")
    import_tensorflow()
    weights, n = None, len(planned.classes)
    if run.model.base is None:
        model = build_model(run.model, shape, n)
    else:
        base = run.model.base
        try:
            source = find_weights(base.name, base.weights, size=shape[0] if shape[0] == shape[1] else None)
            weights = {**source.to_json(), "available": True}
        except WeightsError as exc:
            weights = {"choice": base.weights, "available": False, "message": str(exc)}
        net = keras_base(base.name, shape)
        set_trainable(net, base)
        model = join(net, head_layers(run.model, n), run.model.name or base.name)
    rows = summary_rows(model)
    return ModelPlan(run.model.name or run.model.kind, shape, list(planned.classes), mode,
                     sum(r["params"] for r in rows), sum(r["trainable_params"] for r in rows), rows,
                     weights)
