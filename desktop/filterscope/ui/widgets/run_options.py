"""The settings of a training run: model template (the chapter's models, the photo-convnet recipe,
then pretrained bases with their weights, fine-tuning and cached features), optimiser, epochs,
batch size, image size, class weights, early stopping, the learning-rate schedule, validation.

Choosing a recipe's template (``core.training.recipes``) sets the recipe's values in every
control; each can still be changed."""

from __future__ import annotations

import json

from PySide6.QtCore import Signal, Slot
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from filterscope.core.training.base_spec import base_templates, default_optimizer
from filterscope.core.training.data_spec import DataSpec
from filterscope.core.training.fit_options import FitOptions
from filterscope.core.training.model_spec import ModelSpec, ModelSpecError, OptimizerSpec, templates
from filterscope.core.training.recipes import Recipe, recipe_for
from filterscope.core.training.runs import RunSpec
from filterscope.ui.widgets.base_options import BaseOptionsWidget


class ModelEditDialog(QDialog):
    """Free editing of a model as JSON, checked before it is accepted."""

    def __init__(self, spec: ModelSpec, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Edit model")
        self.spec = spec
        self.text = QPlainTextEdit(json.dumps(spec.to_json(), indent=2))
        self.error = QLabel()
        self.error.setStyleSheet("color: #b00020")
        self.error.setWordWrap(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok |
                                   QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.try_accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("Blocks, dense layers, regularisers, dropout and batchnorm, as JSON:"))
        layout.addWidget(self.text, 1)
        layout.addWidget(self.error)
        layout.addWidget(buttons)
        self.resize(560, 640)

    @Slot()
    def try_accept(self) -> bool:
        """Accept only a valid spec; otherwise say what is wrong and stay open."""
        try:
            self.spec = ModelSpec.from_json(json.loads(self.text.toPlainText()))
        except (ValueError, ModelSpecError) as exc:
            self.error.setText(str(exc))
            return False
        self.accept()
        return True


class RunOptionsWidget(QWidget):
    """Emits sig_model_changed whenever the model changes (the summary table follows it)."""

    sig_model_changed = Signal(object)
    """The new ModelSpec."""
    sig_changed = Signal()
    """Any setting changed (the model, the optimiser, epochs, batch size, validation...)."""
    sig_recipe_chosen = Signal(object)
    """The Recipe whose template the user just chose (its chain is the Augment tab's to set)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._templates = {**templates(), **base_templates()}  # the chapter's, then pretrained bases
        self._model = self._templates["chapter-convnet"]
        self.template_combo = QComboBox()
        for name in self._templates:
            self.template_combo.addItem(name, name)
        self.template_combo.setCurrentIndex(self.template_combo.findData("chapter-convnet"))
        self.template_combo.setPlaceholderText("edited model")
        self.edit_button = QPushButton("Edit…")
        self.recipe_label = QLabel()
        self.recipe_label.setWordWrap(True)
        self.base_options = BaseOptionsWidget()
        self.optimizer_combo = QComboBox()
        self.optimizer_combo.addItem("Adam", "adam")
        self.optimizer_combo.addItem("SGD with momentum", "sgd")
        self.lr_spin = QDoubleSpinBox(decimals=5, minimum=0.00001, maximum=10.0, singleStep=0.0005)
        self.momentum_spin = QDoubleSpinBox(decimals=3, minimum=0.0, maximum=0.999, singleStep=0.05)
        self.beta1_spin = QDoubleSpinBox(decimals=3, minimum=0.0, maximum=0.999, singleStep=0.01)
        self.beta2_spin = QDoubleSpinBox(decimals=4, minimum=0.0, maximum=0.9999, singleStep=0.001)
        self.epsilon_spin = QDoubleSpinBox(decimals=10, minimum=1e-10, maximum=1.0, singleStep=1e-8)
        self.epochs_spin = QSpinBox(minimum=1, maximum=10_000, value=5)
        self.batch_spin = QSpinBox(minimum=1, maximum=65_536, value=32)
        self.val_combo = QComboBox()
        self.val_combo.addItem("Hold out a fraction of each class", "fraction")
        self.val_combo.addItem("The Dataset tab's split", "split")
        self.val_spin = QDoubleSpinBox(decimals=2, minimum=0.05, maximum=0.9, singleStep=0.05, value=0.2)
        self.seed_spin = QSpinBox(minimum=0, maximum=2**31 - 1)
        self.size_spin = QSpinBox(minimum=0, maximum=1024, singleStep=8, suffix=" px")
        self.size_spin.setSpecialValueText("Dataset's size")
        self.size_spin.setToolTip("Longer side of the images the model sees (aspect kept). The "
                                  "dataset's size is used up to 256 px; larger photos go to 150 px, "
                                  "as in the chapter.")
        self.class_weights_box = QCheckBox("Balance the classes")
        self.class_weights_box.setToolTip(
            "Class weights: each class's images weigh n / (classes x images of the class) in the "
            "loss, so a small class counts as much as a big one.")
        self.early_spin = QSpinBox(minimum=0, maximum=10_000, suffix=" epochs")
        self.early_spin.setSpecialValueText("Off")
        self.early_spin.setToolTip("Early stopping: stop when no epoch has beaten the best "
                                   "validation accuracy for this many epochs; the model is the "
                                   "best epoch's (best.keras).")
        self.plateau_spin = QSpinBox(minimum=0, maximum=10_000, suffix=" epochs")
        self.plateau_spin.setSpecialValueText("Off")
        self.plateau_spin.setToolTip("Reduce the learning rate (times the factor below) when the "
                                     "validation loss has not improved for this many epochs, down "
                                     "to a hundredth of the start.")
        self.factor_spin = QDoubleSpinBox(decimals=2, minimum=0.05, maximum=0.95, singleStep=0.05,
                                          value=FitOptions().reduce_lr_factor)
        form = QFormLayout(self)
        form.addRow("Model", self.template_combo)
        form.addRow("", self.edit_button)
        form.addRow(self.recipe_label)
        form.addRow(self.base_options)
        form.addRow("Optimiser", self.optimizer_combo)
        form.addRow("Learning rate", self.lr_spin)
        form.addRow("Momentum", self.momentum_spin)
        form.addRow("Adam beta 1", self.beta1_spin)
        form.addRow("Adam beta 2", self.beta2_spin)
        form.addRow("Adam epsilon", self.epsilon_spin)
        form.addRow("Epochs", self.epochs_spin)
        form.addRow("Batch size", self.batch_spin)
        form.addRow("Image size", self.size_spin)
        form.addRow("Class weights", self.class_weights_box)
        form.addRow("Early stopping", self.early_spin)
        form.addRow("Reduce LR after", self.plateau_spin)
        form.addRow("LR factor", self.factor_spin)
        form.addRow("Validation", self.val_combo)
        form.addRow("Validation fraction", self.val_spin)
        form.addRow("Seed", self.seed_spin)
        self._form = form
        self.template_combo.activated.connect(self._on_template_activated)
        self.edit_button.clicked.connect(self._on_edit_clicked)
        self.optimizer_combo.currentIndexChanged.connect(self._on_optimizer_changed)
        self.val_combo.currentIndexChanged.connect(self._on_validation_changed)
        self.base_options.sig_changed.connect(self._on_base_options_changed)
        self.sig_model_changed.connect(self.sig_changed)
        for combo in (self.optimizer_combo, self.val_combo):
            combo.currentIndexChanged.connect(self.sig_changed)
        for spin in (self.lr_spin, self.momentum_spin, self.beta1_spin, self.beta2_spin,
                     self.epsilon_spin, self.epochs_spin, self.batch_spin, self.val_spin,
                     self.seed_spin, self.size_spin, self.early_spin, self.plateau_spin,
                     self.factor_spin):
            spin.valueChanged.connect(self.sig_changed)
        self.class_weights_box.toggled.connect(self.sig_changed)
        self.plateau_spin.valueChanged.connect(self._on_plateau_changed)
        self._on_plateau_changed()
        self._on_optimizer_changed()
        self._form.setRowVisible(self.recipe_label, False)
        self.set_split(None)

    def model(self) -> ModelSpec:
        """The model to train, with the base's weights and fine-tuning shown."""
        return self.base_options.with_settings(self._model)

    def set_model(self, spec: ModelSpec) -> None:
        """Use ``spec`` (a template or an edited model)."""
        self._model = spec
        self.template_combo.setCurrentIndex(self.template_combo.findData(spec.name)
                                            if self._templates.get(spec.name) == spec else -1)
        self.base_options.set_base(spec.base)
        recipe = recipe_for(spec)
        self.recipe_label.setText("" if recipe is None else f"Recipe: {recipe.summary}.")
        self._form.setRowVisible(self.recipe_label, recipe is not None)
        self._follow_learning_rate()
        self.sig_model_changed.emit(self.model())

    def cache_features(self) -> bool:
        """True when the head trains on the base's cached features (a run's cache_features)."""
        return self.base_options.cache_features()

    def set_split(self, description: str | None) -> None:
        """Offer the Dataset tab's split (``description`` says what it holds) and choose it, or,
        with None, fall back to holding out a fraction."""
        item = self.val_combo.model().item(1)
        item.setEnabled(description is not None)
        item.setText("The Dataset tab's split" + (f" ({description})" if description else ""))
        self.val_combo.setCurrentIndex(0 if description is None else 1)
        self._on_validation_changed()

    def longest_side(self) -> int | None:
        """The chosen longer image side, or None for the dataset's own size."""
        return self.size_spin.value() or None

    def use_split(self) -> bool:
        """True when validation comes from the Dataset tab's split, not a held-out fraction."""
        return self.val_combo.currentData() == "split"

    def optimizer(self) -> OptimizerSpec:
        """The optimiser with the values shown."""
        if self.optimizer_combo.currentData() == "sgd":
            return OptimizerSpec("sgd", self.lr_spin.value(), self.momentum_spin.value())
        return OptimizerSpec("adam", self.lr_spin.value(), beta_1=self.beta1_spin.value(),
                             beta_2=self.beta2_spin.value(), epsilon=self.epsilon_spin.value())

    def fit_options(self) -> FitOptions:
        """Class weights, early stopping and the learning-rate schedule shown."""
        return FitOptions(self.class_weights_box.isChecked(), self.early_spin.value(),
                          self.plateau_spin.value(), round(self.factor_spin.value(), 2))

    def run_spec(self, data: DataSpec, cache_features: bool) -> RunSpec:
        """The run the settings shown describe, on ``data``.

        Raises:
            ModelSpecError: ``cache_features`` with fine-tuning or augmentation.
        """
        return RunSpec(data, self.model(), self.optimizer(), self.epochs_spin.value(),
                       self.batch_spin.value(), self.seed_spin.value(), cache_features=cache_features,
                       fit=self.fit_options())

    def set_run_spec(self, run: RunSpec, cache_features: bool) -> None:
        """Show a run's settings (a project's): its model, optimiser, epochs, batch size, seed,
        image side, validation fraction and fit options, and whether features are cached."""
        self.set_model(run.model)
        optimizer = run.optimizer
        self.optimizer_combo.setCurrentIndex(self.optimizer_combo.findData(optimizer.kind))
        for spin, name in ((self.lr_spin, "learning_rate"), (self.momentum_spin, "momentum"),
                           (self.beta1_spin, "beta_1"), (self.beta2_spin, "beta_2"),
                           (self.epsilon_spin, "epsilon")):
            if getattr(optimizer, name) is not None:
                spin.setValue(getattr(optimizer, name))
        self.epochs_spin.setValue(run.epochs)
        self.batch_spin.setValue(run.batch_size)
        self.seed_spin.setValue(run.seed)
        size = run.data.image_size
        self.size_spin.setValue(run.data.longest_side or (max(size) if size else 0))
        self.val_spin.setValue(run.data.val_fraction)
        self.class_weights_box.setChecked(run.fit.class_weights)
        self.early_spin.setValue(run.fit.early_stopping)
        self.plateau_spin.setValue(run.fit.reduce_lr_patience)
        self.factor_spin.setValue(run.fit.reduce_lr_factor)
        self.base_options.cache_box.setChecked(cache_features)

    def choose_split(self, use: bool) -> None:
        """Validate on the Dataset tab's split (when there is one) or on a held-out fraction."""
        split_offered = self.val_combo.model().item(1).isEnabled()
        self.val_combo.setCurrentIndex(1 if use and split_offered else 0)

    def apply_recipe(self, recipe: Recipe) -> None:
        """Show a recipe's settings (its model, optimiser, epochs, batch, size and fit options)."""
        self.set_model(recipe.model)
        self.optimizer_combo.setCurrentIndex(self.optimizer_combo.findData(recipe.optimizer.kind))
        self.lr_spin.setValue(recipe.optimizer.learning_rate)
        self.epochs_spin.setValue(recipe.epochs)
        self.batch_spin.setValue(recipe.batch_size)
        self.size_spin.setValue(recipe.longest_side or 0)
        fit = recipe.fit
        self.class_weights_box.setChecked(fit.class_weights)
        self.early_spin.setValue(fit.early_stopping)
        self.plateau_spin.setValue(fit.reduce_lr_patience)
        self.factor_spin.setValue(fit.reduce_lr_factor)

    @Slot(int)
    def _on_template_activated(self, _index: int) -> None:
        spec = self._templates[self.template_combo.currentData()]
        recipe = recipe_for(spec)
        if recipe is None:
            self.set_model(spec)
            return
        self.apply_recipe(recipe)
        self.sig_recipe_chosen.emit(recipe)

    @Slot()
    def _on_plateau_changed(self) -> None:
        self._form.setRowVisible(self.factor_spin, self.plateau_spin.value() > 0)

    @Slot()
    def _on_edit_clicked(self) -> None:
        dialog = ModelEditDialog(self.model(), self)
        if dialog.exec():
            self.set_model(dialog.spec)

    @Slot()
    def _on_optimizer_changed(self) -> None:
        """Show the chapter's defaults of the chosen optimiser, and only its settings."""
        defaults = default_optimizer(self.optimizer_combo.currentData(), self.model())
        self.lr_spin.setValue(defaults.learning_rate)
        self._lr_default = defaults.learning_rate
        sgd = defaults.kind == "sgd"
        for spin, name, visible in ((self.momentum_spin, "momentum", sgd),
                                    (self.beta1_spin, "beta_1", not sgd),
                                    (self.beta2_spin, "beta_2", not sgd),
                                    (self.epsilon_spin, "epsilon", not sgd)):
            if visible:
                spin.setValue(getattr(defaults, name))
            self._form.setRowVisible(spin, visible)

    def _follow_learning_rate(self) -> None:
        """A learning rate left at its default follows it (a tenth while fine-tuning)."""
        default = default_optimizer(self.optimizer_combo.currentData(), self.model()).learning_rate
        if round(self.lr_spin.value(), 5) == round(self._lr_default, 5):
            self.lr_spin.setValue(default)
        self._lr_default = default

    @Slot()
    def _on_base_options_changed(self) -> None:
        self._follow_learning_rate()
        self.sig_model_changed.emit(self.model())

    @Slot()
    def _on_validation_changed(self) -> None:
        self._form.setRowVisible(self.val_spin, not self.use_split())
