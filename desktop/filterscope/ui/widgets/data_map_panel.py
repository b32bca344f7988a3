"""The Dataset tab's "Map of the data": make the map in a job, colour it, hover, lasso a selection.

The map is computed by :func:`~filterscope.core.quality.embedding.dataset_map` (the base's cached
features, then t-SNE) through a :class:`~filterscope.workers.JobRunner` with progress and cancel.
The hovered photo's thumbnail is read by a second runner (the latest hover wins) and kept in a
small cache, so hovering never waits on a disk read; "Thumbnails" draws photos on the map itself
(:mod:`.map_thumbnails`). Opening another dataset clears the map.

A lasso selection is a list of photos to act on outside the app: "Copy paths" (one per line, for a
script, a file manager or a message) and "Save list (CSV)…" (x, y, path, subset, label and, on
an evaluation's map, predicted; written atomically, never inside the dataset). A dataset map has no run: adding dataset photos to a run's
review list would file them under a model that may not have seen them, with no prediction to
review; the Results tab's map, which has one, adds to its run's review list.
"""

from __future__ import annotations

from collections import OrderedDict
from pathlib import Path

import numpy as np
from PySide6.QtCore import Qt, Slot
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import (
    QApplication,
    QCheckBox,
    QComboBox,
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from filterscope.core.data.datasets import Dataset
from filterscope.core.data.source import Source
from filterscope.core.quality.embedding import DataMap, dataset_map, point_thumbnail, write_map_csv
from filterscope.ui.state import AppState
from filterscope.ui.widgets.data_map import COLOUR_MODES, DataMapWidget, class_colour
from filterscope.ui.widgets.image_view import to_qimage
from filterscope.ui.widgets.job_panel import JobPanelWidget
from filterscope.ui.widgets.fitting import SidePanelWidget
from filterscope.ui.widgets.flow_layout import FlowLayout
from filterscope.workers import JobRunner

PREVIEW = 192
CACHED_PREVIEWS = 256
LISTED = 500  # the selection list shows this many paths; the count says how many there are


class DataMapPanel(QWidget):
    """A map of the data with its controls, the hovered photo and the lasso's selection."""

    empty_text = "Open a dataset first"

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.runner = JobRunner(self, on_result=self._on_runner_finished, on_failure=self._on_runner_failed)
        self.thumbs = JobRunner(self, on_result=self._on_thumbs_finished, on_failure=self._on_thumbs_failed)
        self.view = DataMapWidget()
        self.make_button = QPushButton("Make the map")
        self.make_button.setToolTip("t-SNE of the pretrained base's features of every photo "
                                    "(computed once and cached; a few minutes the first time)")
        self.colour_combo = QComboBox()
        for mode in COLOUR_MODES:
            self.colour_combo.addItem(f"Colour by {mode}", mode)
        self.legend, self.preview, self.caption, self.status = QLabel(), QLabel(), QLabel(), QLabel()
        self.preview.setFixedSize(PREVIEW, PREVIEW)
        self.preview.setAlignment(Qt.AlignmentFlag.AlignCenter)
        for label in (self.legend, self.caption, self.status):
            label.setWordWrap(True)
        self.thumbs_box = QCheckBox("Thumbnails")
        self.thumbs_box.setChecked(True)
        self.thumbs_box.setToolTip("Draw the photos of a spread-out sample of the points on screen; "
                                   "zoom in to see every point's photo")
        self.selection = QListWidget()
        self.copy_button = QPushButton("Copy paths")
        self.copy_button.setToolTip("Copy the selected photos' paths to the clipboard, one per line")
        self.save_button = QPushButton("Save list (CSV)…")
        self.save_button.setToolTip("Save the selected photos (x, y, path, subset, label) as CSV, outside the dataset")
        self.job_panel = JobPanelWidget(self.runner)
        self._source: object = None
        self._previews: OrderedDict[str, QPixmap] = OrderedDict()
        self._build_layout()
        self.make_button.clicked.connect(self._on_make_clicked)
        self.colour_combo.currentIndexChanged.connect(self._on_colour_changed)
        self.thumbs_box.toggled.connect(self.view.set_thumbnails)
        self.copy_button.clicked.connect(self._on_copy_clicked)
        self.save_button.clicked.connect(self._on_save_clicked)
        self.view.sig_hovered.connect(self._on_view_hovered)
        self.view.sig_selected.connect(self._on_view_selected)
        self.selection.currentRowChanged.connect(self._on_selection_row)
        self.set_source(None)

    def _build_layout(self) -> None:
        self.bar = bar = FlowLayout()  # wraps at large text rather than widening the tab
        for widget in (self.make_button, self.colour_combo, self.thumbs_box, self.status):
            bar.addWidget(widget)
        side = QWidget()
        side.setMaximumWidth(320)
        column = QVBoxLayout(side)
        for widget in (self.preview, self.caption, self.legend, QLabel("Lasso selection (drag on the map):")):
            column.addWidget(widget)
        column.addWidget(self.selection, 1)
        actions = QHBoxLayout()
        for button in (self.copy_button, self.save_button):
            actions.addWidget(button)
        column.addLayout(actions)
        scroll = SidePanelWidget(side)  # scrolls when large text leaves too little height (1280 x 720)
        scroll.setMaximumWidth(340)
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(self.view)
        split.addWidget(scroll)
        split.setStretchFactor(0, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(bar)
        layout.addWidget(split, 1)
        layout.addWidget(self.job_panel)

    def set_source(self, source: object) -> None:
        """The dataset to map (a ``Source``; None: none); clears the map shown."""
        self.runner.cancel()
        self._source = source
        self.set_map(None)
        self.make_button.setEnabled(source is not None)
        self.status.setText("" if source is not None else self.empty_text)

    def set_map(self, data_map: DataMap | None) -> None:
        """Show a map (from the job, or made elsewhere)."""
        self.view.set_map(data_map, self.image_source())
        for button in (self.copy_button, self.save_button):
            button.setEnabled(False)
        model = self.colour_combo.model()
        for row in range(1, self.colour_combo.count()):
            model.item(row).setEnabled(data_map is not None and data_map.predicted is not None)
        self.colour_combo.setCurrentIndex(0)
        self.selection.clear()
        self.preview.clear()
        self.caption.clear()
        self._show_legend()
        if data_map is not None:
            self.status.setText(f"{len(data_map):,} photos. " + " ".join(data_map.notes[:1]))

    def image_source(self) -> object:
        """The dataset whose in-memory items a point's path may name (a built-in's keys)."""
        return self._source if isinstance(self._source, Source) else None

    def _show_legend(self) -> None:
        data_map = self.view.data_map()
        if data_map is None:
            self.legend.clear()
            return
        if self.view.colour_mode() == "right/wrong":
            self.legend.setText("<span style='color:#2a9d4b'>●</span> right &nbsp; "
                                "<span style='color:#d62728'>●</span> wrong")
            return
        self.legend.setText("<br>".join(f"<span style='color:{class_colour(i).name()}'>●</span> {name}"
                                        for i, name in enumerate(data_map.classes)))

    @Slot()
    def _on_make_clicked(self) -> None:
        if self._source is not None:
            self.set_map(None)
            self.start_job(self._source)

    def start_job(self, source: object) -> None:
        """Start the job that makes the map of ``source``."""
        self.runner.start(dataset_map, source)

    @Slot(object)
    def _on_runner_finished(self, result: object) -> None:
        if isinstance(result, DataMap):
            self.set_map(result)

    @Slot(str)
    def _on_runner_failed(self, message: str) -> None:
        self.status.setText(f"No map: {message}")

    @Slot(int)
    def _on_colour_changed(self, _index: int) -> None:
        self.view.set_colour_mode(self.colour_combo.currentData() or "class")
        self._show_legend()

    @Slot(int)
    def _on_view_hovered(self, row: int) -> None:
        if row >= 0:
            self.show_point(row)

    def show_point(self, row: int) -> None:
        """Show a point's photo (from the cache, or read in the background) and what it is."""
        data_map = self.view.data_map()
        if data_map is None:
            return
        path = data_map.paths[row]
        caption = f"{Path(path).name}<br>{data_map.classes[data_map.labels[row]]} · {data_map.subsets[row]}"
        if data_map.predicted is not None:
            caption += f"<br>predicted {data_map.classes[data_map.predicted[row]]}"
        self.caption.setText(caption)
        if path in self._previews:
            self._previews.move_to_end(path)
            self.preview.setPixmap(self._previews[path])
        else:
            self.thumbs.start(point_thumbnail, path, PREVIEW, self.image_source())

    @Slot(object)
    def _on_thumbs_finished(self, result: object) -> None:
        path, rgb = result
        pixmap = QPixmap.fromImage(to_qimage(rgb))
        self._previews[path] = pixmap
        while len(self._previews) > CACHED_PREVIEWS:
            self._previews.popitem(last=False)
        self.preview.setPixmap(pixmap)

    @Slot(str)
    def _on_thumbs_failed(self, message: str) -> None:
        self.preview.setText("No preview")

    @Slot(object)
    def _on_view_selected(self, rows: np.ndarray) -> None:
        data_map = self.view.data_map()
        self.selection.clear()
        if data_map is None:
            return
        for row in rows[:LISTED]:
            path = Path(data_map.paths[row])
            self.selection.addItem(f"{path.parent.name}/{path.name}")
            self.selection.item(self.selection.count() - 1).setToolTip(str(path))
        more = f" (the first {LISTED} listed)" if len(rows) > LISTED else ""
        self.status.setText(f"{len(rows):,} of {len(data_map):,} photos selected{more}")
        for button in (self.copy_button, self.save_button):
            button.setEnabled(len(rows) > 0)

    def selected_paths(self) -> list[str]:
        """The paths of the lassoed photos, in map order."""
        data_map = self.view.data_map()
        return [] if data_map is None else [data_map.paths[i] for i in self.view.selected()]

    @Slot()
    def _on_copy_clicked(self) -> None:
        paths = self.selected_paths()
        QApplication.clipboard().setText("\n".join(paths))
        self.status.setText(f"{len(paths):,} paths copied")

    @Slot()
    def _on_save_clicked(self) -> None:
        out, _ = QFileDialog.getSaveFileName(self, "Save the selected photos", "selection.csv", "CSV (*.csv)")
        if out:
            self.save_selection(Path(out))

    def save_selection(self, out: Path) -> bool:
        """Write the lassoed photos as CSV to ``out`` (never inside the dataset); says so in the status."""
        data_map = self.view.data_map()
        if data_map is None or not len(self.view.selected()):
            return False
        try:
            written = write_map_csv(data_map, out, self.view.selected())
        except (ValueError, OSError) as exc:
            self.status.setText(f"Not saved: {exc}")
            return False
        self.status.setText(f"{len(self.view.selected()):,} photos saved to {written}")
        return True

    @Slot(int)
    def _on_selection_row(self, index: int) -> None:
        rows = self.view.selected()
        if 0 <= index < len(rows):
            self.show_point(int(rows[index]))


class DataMapDialog(QDialog):
    """The map of the current dataset in its own window; another dataset clears it."""

    def __init__(self, state: AppState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Map of the data")
        self.resize(1100, 700)
        self.panel = DataMapPanel()
        QVBoxLayout(self).addWidget(self.panel)
        self.panel.set_source(state.dataset.source if state.dataset is not None else None)
        state.sig_dataset_changed.connect(self._on_state_dataset_changed)

    @Slot(object)
    def _on_state_dataset_changed(self, dataset: Dataset) -> None:
        self.panel.set_source(dataset.source)


def map_button(parent: QWidget, state: AppState) -> QPushButton:
    """The Dataset tab's "Map of the data…" button: opens (or raises) the map's window."""
    button = QPushButton("Map of the data…", parent)
    button.setToolTip("Every photo as a point: similar photos close together (t-SNE of a pretrained base's "
                      "features), coloured by class; hover shows the photo, drag a lasso to select")

    def show() -> None:
        if getattr(button, "dialog", None) is None:
            button.dialog = DataMapDialog(state, parent)
        button.dialog.show()
        button.dialog.raise_()

    button.clicked.connect(show)
    return button
