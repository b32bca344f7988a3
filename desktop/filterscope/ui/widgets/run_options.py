"""The settings of a training run: model template (the chapter's models, the photo-convnet recipe,
then pretrained bases with their weights, fine-tuning and cached features), optimiser, epochs,
batch size, image size, class weights, early stopping, the learning-rate schedule, validation.

Every control is bound (``ui.binding``) to the Train tab's
:class:`~filterscope.core.training.settings.TrainSettings`, which holds the state and its rules:
choosing a recipe's template (``core.training.recipes``) sets the recipe's values, and choosing
another template resets them."""

from __future__ import annotations

import json

from PySide6.QtCore import Signal, Slot
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from filterscope.core.base.settings import declared
from filterscope.core.training.fit_options import FitOptions
from filterscope.core.training.model_spec import ModelSpec, ModelSpecError
from filterscope.core.training.settings import TrainSettings, all_templates
from filterscope.ui.binding import bind, control_for, setting_of
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
    """The Train tab's settings column, bound to a :class:`TrainSettings` (see the module)."""

    sig_recipe_chosen = Signal(object)
    """The Recipe whose template the user just chose (its chain is the Augment tab's to set)."""
    sig_errors = Signal(str)
    """What the controls cannot take or show (fields, values and ranges), "" when nothing;
    shown in red under the settings too."""

    def __init__(self, settings: TrainSettings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.settings = settings
        self.template_combo = QComboBox()
        for name in all_templates():
            self.template_combo.addItem(name, name)
        self.template_combo.setPlaceholderText("edited model")
        self.edit_button = QPushButton("Edit…")
        self.recipe_label = QLabel()
        self.recipe_label.setWordWrap(True)
        self.base_options = BaseOptionsWidget(settings)
        self.optimizer_combo = QComboBox()
        self.val_combo = QComboBox()
        self.val_combo.addItem("Hold out a fraction of each class", False)
        self.val_combo.addItem("The Dataset tab's split", True)
        self.controls: dict[str, QWidget] = {}
        self._errors: dict[str, str] = {}
        form = self._form = QFormLayout(self)
        form.addRow("Model", self.template_combo)
        form.addRow("", self.edit_button)
        form.addRow(self.recipe_label)
        form.addRow(self.base_options)
        form.addRow("Optimiser", self.optimizer_combo)
        for path in ("optimizer.learning_rate", "optimizer.momentum", "optimizer.beta_1",
                     "optimizer.beta_2", "optimizer.epsilon", "epochs", "batch_size", "longest_side",
                     *(f"fit.{name}" for name in declared(FitOptions))):
            self._add(path)
        form.addRow("Validation", self.val_combo)
        for path in ("val_fraction", "seed", "use_mask", "use_chain"):
            self._add(path)
        self.errors = QLabel()
        self.errors.setWordWrap(True)
        self.errors.setStyleSheet("color: #b00020")
        form.addRow(self.errors)
        form.setRowVisible(self.errors, False)
        for value, label in setting_of(settings, "optimizer.kind").choices:
            self.optimizer_combo.addItem(label, value)  # a kind switches with its defaults: not bound
        self.template_combo.activated.connect(self._on_template_activated)
        self.optimizer_combo.activated.connect(self._on_optimizer_activated)
        self.val_combo.activated.connect(self._on_validation_activated)
        self.edit_button.clicked.connect(self._on_edit_clicked)
        for name in ("model", "optimizer", "fit", "use_split"):
            getattr(settings.events, name).connect(self._show_rows)
        self.set_split(None)
        self._show_rows()

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt override)
        super().resizeEvent(event)
        self._fit_recipe_label()

    def _fit_recipe_label(self) -> None:
        """A form row does not ask a wrapped label its height for the row's width, so the
        recipe's lines were clipped: the label asks for them itself."""
        label = self.recipe_label
        label.setMinimumHeight(label.heightForWidth(max(label.width(), 1)) if label.text() else 0)

    def _add(self, path: str) -> None:
        """A row for the setting at ``path``: its control, bound, under its label."""
        spec = setting_of(self.settings, path)
        widget = control_for(spec)
        bind(widget, self.settings, path, self._on_binding_error)
        self.controls[path] = widget
        if isinstance(widget, QCheckBox):
            self._form.addRow(widget)  # the box carries the label
        else:
            self._form.addRow(spec.label, widget)

    def _on_binding_error(self, path: str, message: str) -> None:
        """Say which settings were refused or cannot be shown as they are (field, value,
        range), under the settings; nothing once they can."""
        if message:
            self._errors[path] = message
        else:
            self._errors.pop(path, None)
        text = "\n".join(self._errors.values())
        self.errors.setText(text)
        self._form.setRowVisible(self.errors, bool(text))
        self.sig_errors.emit(text)

    def set_split(self, description: str | None) -> None:
        """Offer the Dataset tab's split (``description`` says what it holds), or, with None,
        say there is none: validation then holds out a fraction (``use_split`` is kept for
        when a split comes)."""
        item = self.val_combo.model().item(1)
        item.setEnabled(description is not None)
        item.setText("The Dataset tab's split" + (f" ({description})" if description else ""))
        self._show_rows()

    def split_offered(self) -> bool:
        """True when there is a split to validate on."""
        return self.val_combo.model().item(1).isEnabled()

    def uses_split(self) -> bool:
        """True when validation comes from the split, not a held-out fraction."""
        return self.settings.use_split and self.split_offered()

    @Slot()
    def _show_rows(self) -> None:
        """Only the settings that apply: the optimiser's own, the factor of a schedule that is
        on, the fraction when no split is used; the template, or none for an edited model."""
        settings = self.settings
        self.template_combo.setCurrentIndex(self.template_combo.findData(settings.template()))
        recipe = settings.recipe()
        self.recipe_label.setText("" if recipe is None else f"Recipe: {recipe.summary}.")
        self._form.setRowVisible(self.recipe_label, recipe is not None)
        self._fit_recipe_label()
        self.optimizer_combo.setCurrentIndex(self.optimizer_combo.findData(settings.optimizer.kind))
        sgd = settings.optimizer.kind == "sgd"
        for path, visible in (("optimizer.momentum", sgd), ("optimizer.beta_1", not sgd),
                              ("optimizer.beta_2", not sgd), ("optimizer.epsilon", not sgd),
                              ("fit.reduce_lr_factor", settings.fit.reduce_lr_patience > 0),
                              ("val_fraction", not self.uses_split())):
            self._form.setRowVisible(self.controls[path], visible)
        self.val_combo.setCurrentIndex(1 if self.uses_split() else 0)

    @Slot(int)
    def _on_template_activated(self, _index: int) -> None:
        self.choose_template(self.template_combo.currentData())

    def choose_template(self, name: str) -> None:
        """Train template ``name`` (as picking it does): a recipe's values, and its chain."""
        recipe = self.settings.choose_template(name)
        if recipe is not None:
            self.sig_recipe_chosen.emit(recipe)

    @Slot(int)
    def _on_optimizer_activated(self, _index: int) -> None:
        self.settings.set_optimizer_kind(self.optimizer_combo.currentData())

    @Slot(int)
    def _on_validation_activated(self, _index: int) -> None:
        self.settings.use_split = bool(self.val_combo.currentData())

    @Slot()
    def _on_edit_clicked(self) -> None:
        dialog = ModelEditDialog(self.settings.model, self)
        if dialog.exec():
            self.settings.model = dialog.spec
