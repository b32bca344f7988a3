"""The Train tab's settings as one evented model: :class:`TrainSettings`.

Every field is declared once, here or (with :func:`~filterscope.core.base.settings.like`) where
the run records it (``RunSpec``, ``DataSpec``, ``FitOptions``, ``OptimizerSpec``). The Train
tab's controls are bound to these fields, the Mask and Augment tabs bind their "use when
training" boxes to the same ``use_mask`` and ``use_chain``, and a project stores the model as
it is (:meth:`TrainSettings.to_json`). The rules that tie fields together live here too:

- choosing a template (:meth:`TrainSettings.choose_template`) sets a recipe's values, and
  choosing another one resets what the recipe set;
- a learning rate left at its default follows the default when the optimiser or fine-tuning
  changes (a tenth while a base's top blocks train);
- a run's spec is made by :meth:`TrainSettings.run_spec` and :meth:`TrainSettings.data_spec`.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from filterscope.core.base.settings import (
    SettingError,
    Settings,
    check_keys,
    declared,
    declared_default,
    like,
    setting,
)
from filterscope.core.training.base_spec import base_templates, default_optimizer
from filterscope.core.data.datasets import Dataset
from filterscope.core.training.data_spec import DataSpec
from filterscope.core.training.fit_options import FitOptions
from filterscope.core.training.model_input import image_size_for
from filterscope.core.training.model_spec import ModelSpec, ModelSpecError, OptimizerSpec, templates
from filterscope.core.training.recipes import Recipe, recipe_for
from filterscope.core.training.runs import RunSpec, cache_refusal

DEFAULT_TEMPLATE = "chapter-convnet"
SETTINGS_VERSION = 1


def all_templates() -> dict[str, ModelSpec]:
    """The templates a run can start from: the chapter's, then the pretrained bases."""
    return {**templates(), **base_templates()}


def _default_model() -> ModelSpec:
    return templates()[DEFAULT_TEMPLATE]


@dataclass
class TrainSettings(Settings):
    """What the Train tab trains (see the module); the defaults are the chapter's run.

    Attributes:
        model: The model spec (a template, or one edited as JSON).
        optimizer: The optimiser and its settings.
        fit: Class weights, early stopping and the learning-rate schedule.
        use_split: Validate on the Dataset tab's split (or the dataset's own val folder) when
            there is one; else a held-out fraction of each class.
        use_mask: Training applies the Mask tab's mask (the one switch both tabs show).
        use_chain: Training augments with the Augment tab's chain (both tabs show it).
    """

    model: ModelSpec = field(default_factory=_default_model)
    optimizer: OptimizerSpec = field(default_factory=OptimizerSpec)
    fit: FitOptions = field(default_factory=FitOptions)
    epochs: int = like(RunSpec, "epochs")
    batch_size: int = like(RunSpec, "batch_size")
    seed: int = like(RunSpec, "seed")
    cache_features: bool = like(RunSpec, "cache_features")
    longest_side: int | None = like(DataSpec, "longest_side")
    image_size: tuple[int, int] | None = like(DataSpec, "image_size")
    val_fraction: float = like(DataSpec, "val_fraction")
    use_split: bool = setting(True, "Validate on the split",
                              help="Validate on the Dataset tab's split (or the dataset's own val "
                              "folder) when there is one, else on a held-out fraction of each class")
    use_mask: bool = setting(False, "Apply the mask from the Mask tab",
                             help="Training and validation images are masked as the Mask tab shows")
    use_chain: bool = setting(False, "Augment with the Augment tab's chain",
                              help="Training images only: validation images are never augmented")

    def __post_init__(self) -> None:
        super().__post_init__()
        self._check_values()
        self.events.model.connect(self._on_model_changed)
        self.events.longest_side.connect(self._on_longest_side_changed)

    def _check_values(self) -> None:
        for name, kind in (("model", ModelSpec), ("optimizer", OptimizerSpec), ("fit", FitOptions)):
            if not isinstance(getattr(self, name), kind):
                raise SettingError(name, f"must be a {kind.__name__}")
        if self.longest_side is not None and self.image_size is not None:
            raise SettingError("longest_side", "give image_size or longest_side, not both")

    # --- rules between fields ---------------------------------------------------------------

    def template(self) -> str | None:
        """The name of the template the model is, unedited; None for an edited model."""
        name = self.model.name
        return name if all_templates().get(name) == self.model else None

    def recipe(self) -> Recipe | None:
        """The recipe of the model, when it is a recipe's template as it is."""
        return recipe_for(self.model)

    def choose_template(self, name: str) -> Recipe | None:
        """Train ``name``'s template: a recipe's template sets the recipe's values, and leaving
        one resets what it set (its epochs, size, schedule...) to the chapter's defaults.

        Returns:
            The new template's recipe (its chain is the Augment tab's to show), or None.

        Raises:
            KeyError: An unknown template name.
        """
        model = all_templates()[name]
        values: dict[str, Any] = {}
        old = self.recipe()
        if old is not None:
            values.update(_recipe_defaults(old))
        new = recipe_for(model)
        if new is not None:
            values.update(recipe_values(new))
        kind = values["optimizer"].kind if "optimizer" in values else self.optimizer.kind
        values.setdefault("optimizer", default_optimizer(kind, model))
        self.update({"model": model, **values})
        return new

    def set_optimizer_kind(self, kind: str) -> None:
        """Switch to ``kind`` with its defaults (the chapter's, for this model)."""
        if kind != self.optimizer.kind:
            self.optimizer = default_optimizer(kind, self.model)

    def _on_model_changed(self, new: ModelSpec, old: ModelSpec) -> None:
        """A learning rate left at its default follows it (a tenth while fine-tuning)."""
        if self.updating:
            return
        kind = self.optimizer.kind
        if self.optimizer.learning_rate == default_optimizer(kind, old).learning_rate:
            self.optimizer = replace(self.optimizer,
                                     learning_rate=default_optimizer(kind, new).learning_rate)

    def _on_longest_side_changed(self, side: int | None) -> None:
        """A longer side chosen replaces an exact size a run or project gave."""
        if not self.updating and side is not None and self.image_size is not None:
            self.image_size = None

    def cache_refusal(self) -> str | None:
        """Why the features cannot be cached with these settings (None when they can)."""
        return cache_refusal(self.model, augmented=self.use_chain)

    # --- runs -------------------------------------------------------------------------------

    def run_spec(self, data: DataSpec) -> RunSpec:
        """The run these settings describe on ``data`` (whose source, split, mask and chain the
        caller chose: :meth:`data_spec` makes it from the tab's state).

        Raises:
            ModelSpecError: Naming the field (cached features with fine-tuning, ...).
        """
        return RunSpec(data, self.model, self.optimizer, self.epochs, self.batch_size, self.seed,
                       cache_features=self.cache_features and self.model.base is not None, fit=self.fit)

    def data_spec(self, dataset: Dataset, *, split: dict | None = None, mask: dict | None = None,
                  chain: dict | None = None) -> DataSpec:
        """The data part of a run on ``dataset``: the validation fraction, seed and size shown
        (a longer side becomes the dataset's fitted height and width, as the run records it),
        and the split, mask and chain given when ``use_split``, ``use_mask``, ``use_chain``."""
        size = self.image_size or image_size_for(dataset, self.longest_side)
        return DataSpec(dataset.source, val_fraction=self.val_fraction, seed=self.seed, image_size=size,
                        mask=mask if self.use_mask else None, chain=chain if self.use_chain else None,
                        split=split if self.use_split else None)

    # --- JSON -------------------------------------------------------------------------------

    def to_json(self) -> dict:
        """A JSON-able dict (``from_json(to_json())`` gives equal settings)."""
        data = {name: getattr(self, name) for name in declared(self)}
        data["image_size"] = None if self.image_size is None else list(self.image_size)
        return {"version": SETTINGS_VERSION, "model": self.model.to_json(),
                "optimizer": self.optimizer.to_json(), "fit": self.fit.to_json(), **data}

    @classmethod
    def from_json(cls, data: object) -> TrainSettings:
        """Validate and build; missing keys take their defaults.

        Raises:
            SettingError: Naming the field at fault (``fit.early_stopping: ...``).
        """
        data = check_keys("", data, {"version", "model", "optimizer", "fit", *declared(cls)})
        if data.get("version", SETTINGS_VERSION) != SETTINGS_VERSION:
            raise SettingError("version", f"{data['version']!r} is not a version this app reads")
        values = {}
        for name, parse in (("model", ModelSpec.from_json), ("optimizer", OptimizerSpec.from_json),
                            ("fit", FitOptions.from_json)):
            if name in data:
                try:
                    values[name] = parse(data[name])
                except ModelSpecError as exc:
                    where = exc.field if exc.field.startswith(f"{name}.") or exc.field == name \
                        else f"{name}.{exc.field}".rstrip(".")
                    raise SettingError(where, exc.message) from exc
        for name, spec in declared(cls).items():
            if name in data:
                values[name] = spec.check(name, data[name])
        return cls(**values)


def recipe_values(recipe: Recipe) -> dict[str, Any]:
    """The settings a recipe's template starts from (its chain is the Augment tab's)."""
    return {"epochs": recipe.epochs, "batch_size": recipe.batch_size, "optimizer": recipe.optimizer,
            "fit": recipe.fit, "longest_side": recipe.longest_side, "image_size": None,
            "use_chain": recipe.chain is not None}


def _recipe_defaults(recipe: Recipe) -> dict[str, Any]:
    """The defaults of what ``recipe`` sets: leaving its template resets them."""
    return {name: declared_default(TrainSettings, name) for name in recipe_values(recipe)}
