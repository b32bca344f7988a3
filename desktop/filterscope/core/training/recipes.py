"""Recipes: a model template together with the training settings it was measured with.

A template names layers; a recipe is what to train them with. Choosing a recipe's template (the
Train tab, ``filterscope train --model NAME``) starts from its settings: epochs, batch size,
optimiser, image size, augmentation chain and the fit options (class weights, early stopping,
the learning-rate schedule). Any of them can still be changed; a setting given explicitly wins.
The chapter's templates have no recipe: they train as the chapter does (10 epochs of 32, Adam,
nothing else).

``photo-convnet`` is the recommended start for photos without pretrained weights; its numbers
and how they were chosen are in the README ("A from-scratch recipe for photos").
"""

from __future__ import annotations

from dataclasses import dataclass

from filterscope.core.training.fit_options import FitOptions
from filterscope.core.training.model_spec import ModelSpec, OptimizerSpec, templates


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
        chain: An augmentation preset name (``resources/presets/augment``), or None.
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
                  longest_side=96, chain="photos",
                  summary="four conv blocks with group normalisation and global average pooling, "
                  "96 px, rotations and flips, balanced class weights, learning rate halved on "
                  "plateaus, early stopping")


def recipes() -> dict[str, Recipe]:
    """Recipes by their template's name."""
    photo = _photo_convnet()
    return {photo.model.name: photo}


def recipe_for(model: ModelSpec) -> Recipe | None:
    """The recipe of ``model`` when it is a recipe's template as it is (not edited), else None."""
    recipe = recipes().get(model.name)
    return recipe if recipe is not None and recipe.model == model else None
