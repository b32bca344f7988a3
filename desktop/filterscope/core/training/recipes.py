"""Recipes: a model template together with the training settings it was measured with.

A template names layers; a recipe is what to train them with. Choosing a recipe's template (the
Train tab, ``filterscope train --model NAME``) starts from its settings: epochs, batch size,
optimiser, image size, augmentation chain and the fit options (class weights, early stopping,
the learning-rate schedule). Any of them can still be changed; a setting given explicitly wins.
The chapter's templates have no recipe: they train as the chapter does (10 epochs of 32, Adam,
nothing else).

``photo-transfer`` (EfficientNet-Lite0's ImageNet weights, shipped with the app, fine-tuned) is
the recommended start for photos; ``photo-convnet`` trains from scratch. Their numbers and how
they were chosen are in the README ("Recipes for photos"). Both augment as the dataset's photos
suit (:data:`MEASURED`): turned all the way round for views from above, never upside down for
photos with an up.
"""

from __future__ import annotations

from dataclasses import dataclass

from filterscope.core.training.base_spec import base_templates
from filterscope.core.data.datasets import Dataset
from filterscope.core.training.fit_options import FitOptions
from filterscope.core.training.model_input import input_shape
from filterscope.core.training.model_spec import ModelSpec, OptimizerSpec, templates


MEASURED = "measured"
"""A recipe's chain chosen per dataset: ``photos`` or ``upright``, as measured on its photos."""


@dataclass(frozen=True)
class Recipe:
    """A template's training settings.

    Attributes:
        model: The template.
        epochs: The most epochs to run (early stopping usually ends sooner).
        batch_size: Images per batch.
        optimizer: The optimiser and its learning rate.
        fit: Class weights, early stopping, learning-rate schedule.
        longest_side: The images' longer side in pixels (aspect kept); None keeps the
            dataset's own size.
        chain: An augmentation preset name (``resources/presets/augment``), :data:`MEASURED`
            (the preset :func:`filterscope.core.transfer.orientation.propose_chain` measures on
            the dataset), or None.
        summary: One sentence for the Train tab and ``--help``.
    """

    model: ModelSpec
    epochs: int
    batch_size: int
    optimizer: OptimizerSpec
    fit: FitOptions
    longest_side: int | None
    chain: str | None
    summary: str


def _photo_convnet() -> Recipe:
    return Recipe(templates()["photo-convnet"], epochs=60, batch_size=32, optimizer=OptimizerSpec("adam", 0.001),
                  fit=FitOptions(class_weights=True, early_stopping=12, reduce_lr_patience=3),
                  longest_side=96, chain=MEASURED,
                  summary="four conv blocks with group normalisation and global average pooling, "
                  "96 px, augmentation that suits the photos, balanced class weights, learning rate "
                  "halved on plateaus, early stopping")


def _photo_transfer() -> Recipe:
    return Recipe(base_templates()["photo-transfer"], epochs=14, batch_size=32,
                  optimizer=OptimizerSpec("adam", 0.0003),
                  fit=FitOptions(class_weights=True, early_stopping=5, reduce_lr_patience=2),
                  longest_side=224, chain=MEASURED,
                  summary="EfficientNet-Lite0 pretrained on ImageNet (shipped with the app): the "
                  "head first, then its top blocks fine-tuned; 224 px, augmentation that suits the "
                  "photos, balanced class weights, early stopping")


def recipes() -> dict[str, Recipe]:
    """Recipes by their template's name."""
    return {recipe.model.name: recipe for recipe in (_photo_transfer(), _photo_convnet())}


def proposed_template(dataset: Dataset) -> str | None:
    """The recipe proposed for ``dataset``: ``photo-transfer`` for colour photos (its base
    knows ImageNet's photos), None for grey images such as the digits, whose chapter models
    train in seconds."""
    return "photo-transfer" if input_shape(dataset)[2] == 3 else None


def recipe_for(model: ModelSpec) -> Recipe | None:
    """The recipe of ``model`` when it is a recipe's template as it is (not edited), else None."""
    recipe = recipes().get(model.name)
    return recipe if recipe is not None and recipe.model == model else None
