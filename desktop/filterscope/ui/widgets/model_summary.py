"""The model a run would train, before TensorFlow is loaded: its layer table (layer, output
shape, parameters, what trains) and the run as Keras code, as two pages.

Both come from core: the input shape from ``model_input.input_shape`` (the one rule training
uses), the rows from ``model_build.plan_rows`` and the code from ``model_code.keras_code``.
"""

from __future__ import annotations

from PySide6.QtWidgets import QHeaderView, QLabel, QTableWidget, QTableWidgetItem, QTabWidget, QVBoxLayout, QWidget

from filterscope.core.data.datasets import Dataset
from filterscope.core.training.model_build import plan_rows
from filterscope.core.training.model_code import keras_code
from filterscope.core.training.model_input import input_shape, preprocessing
from filterscope.core.training.model_spec import ModelSpecError
from filterscope.core.training.settings import TrainSettings
from filterscope.ui.widgets.code_view import CodeViewWidget
from filterscope.ui.widgets.fitting import HeaderFit


class ModelSummaryWidget(QTabWidget):
    """"Model summary" and "Keras code" pages of the settings shown (see :meth:`show_run`)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.table = QTableWidget(0, 4)
        self.table.setHorizontalHeaderLabels(["Layer", "Output shape", "Parameters", "Trainable"])
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        # A narrow table (large text on a projector) puts a layer's type under its name.
        self.table.setWordWrap(True)
        self.table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        HeaderFit(self.table, words=True)
        self.total = QLabel()
        self.total.setWordWrap(True)
        self.code = CodeViewWidget("The model, compile and fit as Keras code:")
        layers = QWidget()
        layers_layout = QVBoxLayout(layers)
        layers_layout.setContentsMargins(0, 0, 0, 0)
        layers_layout.addWidget(self.table, 1)
        layers_layout.addWidget(self.total)
        self.addTab(layers, "Model summary")
        self.addTab(self.code, "Keras code")

    def show_run(self, dataset: Dataset, train: TrainSettings, *, masked: bool) -> bool:
        """Show what ``train`` would build on ``dataset``; False (and why, in red) when the
        model cannot be built on its images (too deep, too small for a base)."""
        spec = train.model
        try:
            shape = input_shape(dataset, image_size=train.image_size, longest=train.longest_side,
                                masked=masked, mode=preprocessing(spec))
            rows = plan_rows(spec, shape, len(dataset.classes))
        except ModelSpecError as exc:
            self.table.setRowCount(0)
            self.total.setText(f"<span style='color:#b00020'>{exc}</span>")
            self.code.setPlainText(f"# {exc}")
            return False
        self.code.setPlainText(keras_code(spec, train.optimizer, shape, dataset.classes,
                                          epochs=train.epochs, batch_size=train.batch_size, fit=train.fit))
        self.table.setRowCount(len(rows))
        for r, row in enumerate(rows):
            cells = (f"{row['layer']} ({row['type']})", str(tuple(row["output_shape"])),
                     f"{row['params']:,}", f"{row['trainable_params']:,}")
            for c, text in enumerate(cells):
                self.table.setItem(r, c, QTableWidgetItem(text))
        self.total.setText(f"{sum(row['params'] for row in rows):,} parameters on {shape} inputs, "
                           f"{len(dataset.classes)} classes")
        return True
