"""The warnings a careful analyst would give with a result, each in plain words with what to try.

* ``baseline``: accuracy not clearly above always answering the largest class (the baseline
  inside accuracy's 95 % confidence interval, or less than CLEAR_MARGIN below it);
* ``rarely-predicted``: a class the model never, or almost never, answers;
* ``overfitting``: validation accuracy falling for several epochs while training accuracy rises
  (the chapter's "the model overfits"), naming the best epoch;
* ``few-images``: very few training images per class for the model's number of weights;
* ``trained-on``: the set holds images the run trained on, so the score flatters the model;
* ``chose-epoch``: the set is the validation images that also chose the epoch of ``best.keras``.

Each check is a pure function of figures a run and an evaluation already hold.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from filterscope.core.base.formats import percent
from filterscope.core.results.intervals import Interval
from filterscope.core.results.metrics import Baseline, Scores

CLEAR_MARGIN = 0.05  # accuracy must beat the baseline by this much at least (and its interval too)
RARE_SHARE = 0.1  # a class predicted for at most this share of its images is "almost never"
RARE_MIN_SUPPORT = 10  # below this many images, only "never" is said
OVERFIT_EPOCHS = 3  # epochs after the peak of validation accuracy
OVERFIT_DROP = 0.02  # validation accuracy below its peak by at least this
OVERFIT_RISE = 0.02  # training accuracy above its value at the peak by at least this
MAX_WEIGHTS_PER_IMAGE = 100
MIN_IMAGES_PER_CLASS = 20


@dataclass(frozen=True)
class Advice:
    """One warning: what is wrong (``message``) and what to try (``advice``)."""

    kind: str
    message: str
    advice: str

    def to_json(self) -> dict:
        """A JSON-able dict."""
        return {"kind": self.kind, "message": self.message, "advice": self.advice}

    def __str__(self) -> str:
        return f"{self.message} Try: {self.advice}"


def baseline_warning(accuracy: Interval, baseline: Baseline) -> Advice | None:
    """Accuracy below, or not clearly above, the majority baseline: the baseline lies inside (or
    above) accuracy's confidence interval, so chance could do as well, or accuracy beats it by
    less than CLEAR_MARGIN."""
    base = baseline.accuracy
    if accuracy.low > base and accuracy.value >= base + CLEAR_MARGIN:
        return None
    how = "below" if accuracy.value < base else "not clearly above" if accuracy.low <= base \
        else "barely above"
    inside = f" The baseline lies inside accuracy's {percent(accuracy.level, 0)} confidence " \
             "interval: chance could do as well." if accuracy.value >= base >= accuracy.low else ""
    return Advice("baseline",
                  f"Accuracy {accuracy.describe()} is {how} the {percent(base)} of {baseline.describe()}: "
                  f"the model has learned little that the class sizes do not already tell.{inside}",
                  "more images of the smaller classes, more epochs, a mask that removes the "
                  "background, or augmentation; check that the classes really look different in "
                  "the photos.")


def rarely_predicted(scores: Scores) -> list[Advice]:
    """One warning per class with images that the model never, or almost never, answers."""
    found = []
    for i, c in enumerate(scores.per_class):
        never = c.predicted == 0 and c.support > 0
        rare = c.support >= RARE_MIN_SUPPORT and c.predicted <= RARE_SHARE * c.support
        if not (never or rare):
            continue
        right = int(scores.confusion[i, i])
        times = "once" if c.predicted == 1 else f"{c.predicted} times"
        rightly = "rightly" if right == c.predicted else f"{right or 'none'} of them rightly"
        said = "never predicted" if c.predicted == 0 else \
            f"almost never predicted: {times} in all, {rightly}"
        found.append(Advice("rarely-predicted",
                            f"'{c.name}' ({c.support:,} images) was {said}; the model has not "
                            f"learned to recognise it.",
                            f"more (and more varied) '{c.name}' images, augmentation, or check "
                            f"that its photos are labelled and distinct from the class the model "
                            "answers instead (see the confusion matrix)."))
    return found


def overfitting_warning(history: list[dict], best_epoch: int | None) -> Advice | None:
    """Validation accuracy fell for OVERFIT_EPOCHS epochs or more after its best epoch while
    training accuracy rose."""
    rows = [r for r in history if r.get("val_accuracy") is not None and r.get("accuracy") is not None]
    if len(rows) <= OVERFIT_EPOCHS:
        return None
    best = next((r for r in rows if r["epoch"] == best_epoch), None) \
        or max(rows, key=lambda r: r["val_accuracy"])
    last = rows[-1]
    if last["epoch"] - best["epoch"] < OVERFIT_EPOCHS or \
            last["val_accuracy"] > best["val_accuracy"] - OVERFIT_DROP or \
            last["accuracy"] < best["accuracy"] + OVERFIT_RISE:
        return None
    return Advice("overfitting",
                  f"Validation accuracy peaked at {percent(best['val_accuracy'])} in epoch {best['epoch']:g} "
                  f"and fell to {percent(last['val_accuracy'])} by epoch {last['epoch']:g}, while training "
                  f"accuracy rose from {percent(best['accuracy'])} to {percent(last['accuracy'])}: the model "
                  "is overfitting, learning the training photos rather than what sets the classes "
                  "apart.",
                  f"best.keras keeps epoch {best['epoch']:g} (evaluate that one); train about "
                  f"{best['epoch']:g} epochs, add Dropout or L2 (the ConvNet templates), augment the "
                  "training images, or add photos.")


def few_images_warning(params: int, training_counts: np.ndarray | None,
                       classes: list[str], *, pretrained: bool = False) -> Advice | None:
    """More than MAX_WEIGHTS_PER_IMAGE weights per training image, or a class with fewer than
    MIN_IMAGES_PER_CLASS training images. A model that starts from pretrained (ImageNet) weights
    did not learn them from these images: only the few-images-per-class rule applies to it."""
    if training_counts is None or not len(training_counts) or params <= 0:
        return None
    n_train = int(training_counts.sum())
    fewest = int(np.argmin(training_counts))
    per_image = 0.0 if pretrained else params / max(n_train, 1)
    small = int(training_counts[fewest]) < MIN_IMAGES_PER_CLASS
    if per_image <= MAX_WEIGHTS_PER_IMAGE and not small:
        return None
    smallest = f"'{classes[fewest]}' with {int(training_counts[fewest]):,}"
    if per_image > MAX_WEIGHTS_PER_IMAGE:
        message = (f"The model has {params:,} weights and trained on {n_train:,} images "
                   f"({per_image:,.0f} weights an image; fewest: {smallest}): with so few images "
                   "for its size it can learn the training photos by heart.")
    else:
        message = (f"Very few training images per class: '{classes[fewest]}' has only "
                   f"{int(training_counts[fewest]):,} (under {MIN_IMAGES_PER_CLASS} leaves even a "
                   f"model of {params:,} weights little to learn a class from).")
    return Advice("few-images", message,
                  "more photos of the smallest classes, augmentation, or a smaller model (fewer "
                  "filters, a smaller image size, more pooling); compare it with the logistic "
                  "baseline.")


def trained_on_warning(trained_on: int, n_images: int) -> Advice | None:
    """Images of the evaluated set that the run trained on."""
    if trained_on <= 0:
        return None
    return Advice("trained-on",
                  f"{trained_on:,} of these {n_images:,} images are images the run trained on: the "
                  "accuracy flatters the model.",
                  "evaluate on images it never saw: a test folder, or the run's validation images.")


def chose_epoch_warning(eval_set: dict, model: str, run_source: str | None) -> Advice | None:
    """The evaluated images are the run's validation images, which also chose the epoch that
    ``best.keras`` keeps: its figure is optimistic.

    Args:
        eval_set: ``EvalSet.to_json()`` of the evaluated images.
        model: ``best`` or ``last``.
        run_source: The run's dataset source (``Source.to_json()``), None when unknown.
    """
    own_val = eval_set.get("kind") == "val" or (
        eval_set.get("subset") == "val" and run_source is not None and eval_set.get("source") == run_source)
    if model != "best" or not own_val:
        return None
    return Advice("chose-epoch",
                  "These images also chose the epoch (best.keras): the figure is optimistic.",
                  "evaluate on a test/ folder for a held-out figure.")
