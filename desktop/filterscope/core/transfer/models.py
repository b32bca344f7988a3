"""Models on a pretrained base: the base with its weights, frozen or fine-tuned, and the head.

:func:`load_base` is the one place a base gets its weights (training, feature extraction and
visualisation all come here). :func:`builder` gives ``training.train`` the model of a run: the
base joined to the head of the run's model spec (the chapter's VGG16 + Flatten + Dense(12) has
14,813,004 parameters, 98,316 of them trainable), or, on cached features, the head alone to fit
and the joined model to save, so that every run's ``best.keras`` takes images.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from filterscope.core.training.base_spec import BaseSpec
from filterscope.core.training.model_build import check_input, head_layers
from filterscope.core.training.runs import RunSpec
from filterscope.core.training.train import Builder, BuiltModel
from filterscope.core.transfer.bases import join, keras_base, set_trainable
from filterscope.core.transfer.weights import WeightsSource, find_weights, load_checked, remember


@dataclass
class LoadedBase:
    """A base with its weights, and where they came from."""

    model: Any
    source: WeightsSource


def load_base(base: BaseSpec, input_shape: tuple[int, int, int], *, top: bool = False) -> LoadedBase:
    """The base of ``base`` for ``input_shape``, its weights loaded (a given file is checked
    first, and remembered once it loads), frozen or fine-tuned as ``base`` says.

    Raises:
        WeightsUnavailable: ImageNet weights asked for and not on this computer.
        WeightsError: A weights file that does not fit.
    """
    size = int(input_shape[0]) if input_shape[0] == input_shape[1] else None
    source = find_weights(base.name, base.weights, top=top, size=size)
    model = keras_base(base.name, input_shape, top=top)
    if source.file is not None:
        load_checked(model, source.file, base.name, top=top)
        if source.origin == "given":
            remember(base.name, source.file, top=top, size=size)
    set_trainable(model, base)
    return LoadedBase(model, source)


def model_name(run: RunSpec) -> str:
    """A Keras model name for the run's model."""
    return re.sub(r"[^\w.-]", "_", run.model.name) or run.model.base.name


def builder(*, cached: Any = None, head_weights: dict[str, list] | None = None,
            head_record: dict | None = None) -> Builder:
    """The :data:`~filterscope.core.training.train.Builder` of a run on a pretrained base.

    The base is loaded afresh inside ``train()`` (after its ``clear_session`` and seeding), so
    random weights come out as the same seed made them for the feature cache.

    Args:
        cached: A ``FeatureSet`` (``core.transfer.features``): fit the head alone on its
            features; its ``pooled`` says the head's pooling was applied when caching.
        head_weights: The head's trained weights by layer name (fine-tuning after the head
            trained alone): the head starts from them instead of random values.
        head_record: What run.json says of that head's training (``head``).
    """

    def build(run: RunSpec, input_shape: tuple[int, int, int], n_classes: int) -> BuiltModel:
        check_input(run.model, input_shape)
        base = load_base(run.model.base, input_shape)
        head = head_layers(run.model, n_classes)
        whole = join(base.model, head, model_name(run))
        for name, weights in (head_weights or {}).items():
            whole.get_layer(name).set_weights(weights)
        record = {"weights": base.source.to_json(), **({"head": head_record} if head_record else {})}
        if cached is None:
            return BuiltModel(whole, whole, record)
        from filterscope.core.transfer.bases import head_model

        fitted = head_model(head[1:] if cached.pooled else head, cached.feature_shape, model_name(run))
        return BuiltModel(fitted, whole, {**record, "features": cached.describe()})

    return build
