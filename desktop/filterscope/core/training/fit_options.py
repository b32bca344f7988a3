"""How a run fits beyond its epochs: class weights, early stopping and the learning-rate schedule.

The chapter trains for a fixed number of epochs at one learning rate, every image counting the
same. On small, imbalanced photo datasets three settings help, each off by default (the chapter's
way) and on in the ``photo-convnet`` recipe (:mod:`filterscope.core.training.recipes`):

- ``class_weights``: each class's images weigh ``n / (n_classes * n_class)`` in the loss
  (scikit-learn's "balanced" weights), so a class with a third of the images of another counts
  as much in total.
- ``early_stopping``: stop when the best epoch (best validation accuracy, the rule ``best.keras``
  is chosen by) is this many epochs old, and hand back that epoch's weights; 0 is off.
- ``reduce_lr_patience``: multiply the learning rate by ``reduce_lr_factor`` when the validation
  loss has not improved for this many epochs (Keras's ``ReduceLROnPlateau``), down to a hundredth
  of the starting rate; 0 is off.
- ``warmup_epochs``: start at a fraction of the learning rate and raise it to the full rate over
  this many epochs (Keras's ``LearningRateScheduler``); 0 is off.

Without validation images both watch the training metrics instead (a run says so). A fit option
is declared here once, with its callbacks (:meth:`FitOptions.callbacks`), its Keras code
(:meth:`FitOptions.code`) and its names: the Train tab's controls, the ``filterscope train``
flags and the run's JSON follow from the declaration. Nothing here imports Keras until
:meth:`FitOptions.callbacks` is called.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from filterscope.core.base.settings import check_declared, declared_from_json, declared_json, setting
from filterscope.core.training.model_spec import ModelSpecError

MIN_LR_SHARE = 0.01  # the schedule's floor, as a share of the starting learning rate


class FitOptionsError(ModelSpecError):
    """A setting out of range; ``field`` names it (``fit.early_stopping``)."""


@dataclass(frozen=True)
class FitOptions:
    """Class weights, early stopping and learning-rate reduction on plateau (see the module)."""

    class_weights: bool = setting(
        False, "Class weights", flag="--class-weights",
        help="Balance the classes: each class's images weigh n / (classes x images of the class) "
        "in the loss, so a small class counts as much as a big one")
    early_stopping: int = setting(
        0, "Early stopping", low=0, high=10_000, unit="epochs", special="Off",
        help="Stop when no epoch has beaten the best validation accuracy for this many epochs; "
        "the model is the best epoch's (best.keras). 0 is off")
    reduce_lr_patience: int = setting(
        0, "Reduce LR after", low=0, high=10_000, unit="epochs", special="Off",
        help="Multiply the learning rate by the factor when the validation loss has not improved "
        "for this many epochs, down to a hundredth of the start. 0 is off")
    reduce_lr_factor: float = setting(
        0.5, "LR factor", low=0.0, high=1.0, low_open=True, high_open=True, decimals=2, step=0.05,
        help="What the learning rate is multiplied by on a plateau")
    warmup_epochs: int = setting(
        0, "Warm-up", low=0, high=1_000, unit="epochs", special="Off",
        help="Raise the learning rate step by step over the first epochs (epoch k of N trains at "
        "k/N of the rate), so a high rate or a fresh head does not wreck the first updates. 0 is off")

    def __post_init__(self) -> None:
        check_declared(self, "fit.", FitOptionsError)

    def to_json(self) -> dict:
        """A JSON-able dict."""
        return declared_json(self)

    @classmethod
    def from_json(cls, data: object) -> FitOptions:
        """Validate and build; missing keys take the defaults (runs saved before these settings
        existed read as the chapter's fixed schedule).

        Raises:
            FitOptionsError: Naming the field.
        """
        if data is None:
            return cls()
        return cls(**declared_from_json(cls, data, "fit", error=FitOptionsError))

    def describe(self) -> list[str]:
        """Plain phrases for the settings that are on (for summaries and the run list)."""
        parts = []
        if self.class_weights:
            parts.append("balanced class weights")
        if self.early_stopping:
            parts.append(f"early stopping after {self.early_stopping} epochs without a better one")
        if self.reduce_lr_patience:
            parts.append(f"learning rate x{self.reduce_lr_factor:g} after {self.reduce_lr_patience} "
                         "epochs without a lower validation loss")
        if self.warmup_epochs:
            parts.append(f"learning rate warmed up over the first {self.warmup_epochs} epochs")
        return parts

    def tags(self) -> list[str]:
        """Short names of the settings that are on (the runs list, the report)."""
        return [name for key, name in (("class_weights", "class weights"),
                                       ("reduce_lr_patience", "lr schedule"),
                                       ("early_stopping", "early stopping"),
                                       ("warmup_epochs", "warm-up")) if getattr(self, key)]

    @property
    def changes_learning_rate(self) -> bool:
        """True when the learning rate can change during the run (its rows record it)."""
        return bool(self.reduce_lr_patience or self.warmup_epochs)

    def callbacks(self, learning_rate: float, *, validated: bool) -> list[Any]:
        """The Keras callbacks of these settings (early stopping is the training bridge's own,
        which shares its rule with ``best.keras``)."""
        if not self.changes_learning_rate:
            return []
        import keras

        callbacks = []
        if self.warmup_epochs:
            callbacks.append(keras.callbacks.LearningRateScheduler(WarmUp(learning_rate, self.warmup_epochs)))
        if self.reduce_lr_patience:
            callbacks.append(keras.callbacks.ReduceLROnPlateau(
                monitor="val_loss" if validated else "loss", factor=self.reduce_lr_factor,
                patience=self.reduce_lr_patience, min_lr=learning_rate * MIN_LR_SHARE, verbose=0))
        return callbacks

    def code(self, learning_rate: float) -> FitCode:
        """These settings as the Keras code of a ``fit`` call (the Train tab's code view)."""
        code = FitCode()
        if self.class_weights:
            code.imports += ["import numpy as np",
                             "from sklearn.utils.class_weight import compute_class_weight"]
            code.before += ["present = np.unique(y_train)",
                            'class_weight = dict(zip(present.tolist(), compute_class_weight("balanced", '
                            'classes=present, y=y_train)))']
            code.arguments.append("class_weight=class_weight")
        if self.early_stopping:
            code.callbacks.append(f'keras.callbacks.EarlyStopping(monitor="val_accuracy", '
                                  f'patience={self.early_stopping}, restore_best_weights=True)')
        if self.warmup_epochs:
            n = self.warmup_epochs
            code.callbacks.append(f"keras.callbacks.LearningRateScheduler(lambda epoch, lr: "
                                  f"{learning_rate!r} * (epoch + 1) / {n} if epoch < {n} else lr)")
        if self.reduce_lr_patience:
            code.callbacks.append(f'keras.callbacks.ReduceLROnPlateau(monitor="val_loss", '
                                  f'factor={self.reduce_lr_factor!r}, patience={self.reduce_lr_patience}, '
                                  f'min_lr={learning_rate * MIN_LR_SHARE!r})')
        return code


@dataclass(frozen=True)
class WarmUp:
    """Keras's schedule for warm-up: epoch k (from 0) of the first ``epochs`` trains at
    (k + 1) / epochs of ``learning_rate``; later epochs keep the rate they have (a plateau's
    reduction stands)."""

    learning_rate: float
    epochs: int

    def __call__(self, epoch: int, lr: float) -> float:
        return self.learning_rate * (epoch + 1) / self.epochs if epoch < self.epochs else float(lr)


@dataclass
class FitCode:
    """Lines of Keras code: imports, lines before ``fit``, its extra arguments and callbacks."""

    imports: list[str] = field(default_factory=list)
    before: list[str] = field(default_factory=list)
    arguments: list[str] = field(default_factory=list)
    callbacks: list[str] = field(default_factory=list)


def fit_tags(data: object) -> list[str]:
    """The tags of a run's recorded ``fit`` (none for a record this app cannot read)."""
    try:
        return FitOptions.from_json(data).tags()
    except FitOptionsError:
        return []


def class_weight_map(labels: np.ndarray, n_classes: int) -> dict[int, float]:
    """scikit-learn's balanced weight of each class with training images; ``{}`` for none.

    A class without training images gets no weight (it cannot be learnt either way).
    """
    from sklearn.utils.class_weight import compute_class_weight

    labels = np.asarray(labels, dtype=np.int64)
    present = np.unique(labels)
    if len(present) == 0:
        return {}
    weights = compute_class_weight("balanced", classes=present, y=labels)
    mapped = {int(c): float(w) for c, w in zip(present, weights)}
    return {c: mapped.get(c, 1.0) for c in range(n_classes)}
