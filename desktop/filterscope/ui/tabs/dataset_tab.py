"""Dataset tab: open a folder or a built-in set, see its classes, images and problems, split it.

The class and subset shown are the AppState's ``browse`` settings (bound to the two filters):
the tab shows what they name, and another dataset shows all of it again (``set_dataset``)."""

from __future__ import annotations

from html import escape
from pathlib import Path

from PySide6.QtCore import QEvent, Qt, Signal, Slot
from PySide6.QtWidgets import (
    QBoxLayout,
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from filterscope.core.data.datasets import Dataset, Problem
from filterscope.core.data.source import BuiltinSource, FolderSource, Source
from filterscope.core.data.sources import builtin_infos, fetch_source, open_source
from filterscope.core.data.splits import SplitManifest, split_job
from filterscope.core.training.data_plan import split_folders_sentence
from filterscope.ui.split_dialog import SplitDialog
from filterscope.ui.state import AppState
from filterscope.ui.widgets.class_summary import ClassSummaryWidget
from filterscope.ui.widgets.data_map_panel import map_button
from filterscope.ui.widgets.dataset_filters import DatasetFilters
from filterscope.ui.widgets.fitting import SidePanelWidget, stacked_direction
from filterscope.ui.widgets.image_pane import ImagePaneWidget
from filterscope.ui.widgets.job_panel import JobPanelWidget, status_failure
from filterscope.ui.widgets.problems_table import ProblemsTableWidget
from filterscope.ui.widgets.thumbnail_grid import ThumbnailGridWidget
from filterscope.ui.widgets.side_drawer import SideDrawerWidget
from filterscope.ui.widgets.near_copies import NearCopiesWidget
from filterscope.workers import JobRunner

SPLIT_TIP = "Make a validation split (a manifest; nothing is moved)"


class DatasetTab(QWidget):
    """Browse any folder-per-class dataset without changing a byte of it."""

    title = "Dataset"
    sig_status = Signal(str)
    """A line for the main window's status bar."""

    def __init__(self, state: AppState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._state = state
        self.runner = JobRunner(self, on_result=self._on_runner_finished, on_failure=self._on_runner_failed)
        self.source_combo = QComboBox()
        self.source_combo.setMinimumContentsLength(28)
        self.open_button = QPushButton("Open folder…")
        self.fetch_button = QPushButton("Download")
        self.import_button = QPushButton("From file…")
        self.import_button.setToolTip("Use a copy of the archive you already have (offline machines)")
        self.split_button = QPushButton("Split…")
        self.split_button.setToolTip(SPLIT_TIP)
        self.filters = DatasetFilters(state.browse, self)
        self.class_filter, self.subset_filter = self.filters.class_combo, self.filters.subset_combo
        self.info = QLabel()
        self.info.setWordWrap(True)
        self.info.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.classes = ClassSummaryWidget()
        self.problems = ProblemsTableWidget()
        self.near_copies = NearCopiesWidget()
        self.grid = ThumbnailGridWidget()
        self.image_pane = ImagePaneWidget()
        self.job_panel = JobPanelWidget(self.runner)
        self._build_layout()
        self._fill_sources()
        self.source_combo.activated.connect(self._on_source_activated)
        self.open_button.clicked.connect(self._on_open_clicked)
        self.fetch_button.clicked.connect(self._on_fetch_clicked)
        self.import_button.clicked.connect(self._on_import_clicked)
        self.split_button.clicked.connect(self._on_split_clicked)
        state.browse.events.class_name.connect(self._on_browse_class_changed)
        state.browse.events.subset.connect(self._on_browse_subset_changed)
        self.filters.sig_status.connect(self.sig_status)
        self.grid.sig_item_selected.connect(self._on_grid_item_selected)
        self.grid.sig_thumbnail_failed.connect(self._on_grid_thumbnail_failed)
        self.grid.sig_failed.connect(status_failure(self.sig_status, "Thumbnails not made"))
        self._fallback: str | None = None
        self._split_saved_to: Path | None = None
        state.sig_dataset_changed.connect(self._on_state_dataset_changed)

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802 (Qt override)
        super().changeEvent(event)
        if event.type() == QEvent.Type.FontChange:  # the buttons under the dataset at large text
            self.top.setDirection(stacked_direction(self))

    def _build_layout(self) -> None:
        source, buttons = QHBoxLayout(), QHBoxLayout()
        for widget in (QLabel("Dataset:"), self.source_combo):
            source.addWidget(widget)
        for widget in (self.fetch_button, self.import_button, self.open_button,
                       self.split_button, map_button(self, self._state), self.subset_filter):
            buttons.addWidget(widget)
        buttons.addStretch(1)
        self.top = top = QBoxLayout(QBoxLayout.Direction.LeftToRight)  # stacked at large text
        top.addLayout(source)
        top.addLayout(buttons, 1)
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.addWidget(self.info)
        left_layout.addWidget(self.classes, 4)
        left_layout.addWidget(QLabel("Problems"))
        left_layout.addWidget(self.problems, 1)
        left_layout.addWidget(self.near_copies, 2)
        middle = QWidget()
        middle_layout = QVBoxLayout(middle)
        middle_layout.addWidget(self.class_filter)
        middle_layout.addWidget(self.grid, 1)
        images = QSplitter(Qt.Orientation.Horizontal)
        images.addWidget(middle)
        images.addWidget(self.image_pane)
        self.drawer = SideDrawerWidget(SidePanelWidget(left), images)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.drawer, 1)
        layout.addWidget(self.job_panel)

    def _fill_sources(self) -> None:
        current = self.source_combo.currentData()
        self.source_combo.clear()
        for info in builtin_infos():
            label = info.title + ("" if info.available else "  (download)")
            self.source_combo.addItem(label, BuiltinSource(info.id))
            self.source_combo.setItemData(self.source_combo.count() - 1, info.description,
                                          Qt.ItemDataRole.ToolTipRole)
        dataset = self._state.dataset
        if dataset is not None and isinstance(dataset.source, FolderSource):
            self.source_combo.addItem(f"Folder: {dataset.name}", dataset.source)
        self._select_source(current if current else None)

    def _select_source(self, source: Source | None) -> None:
        # findData compares Python objects by identity, not by value
        index = next((i for i in range(self.source_combo.count())
                      if source is not None and self.source_combo.itemData(i) == source), -1)
        if index >= 0:
            self.source_combo.setCurrentIndex(index)
        self._update_fetch_button()

    def _update_fetch_button(self) -> None:
        source = self.source_combo.currentData()
        info = next((i for i in builtin_infos() if BuiltinSource(i.id) == source), None)
        self.fetch_button.setVisible(info is not None and not info.available)
        self.import_button.setVisible(self.fetch_button.isVisible())
        if info is not None and not info.available:
            self.fetch_button.setToolTip(f"Download from {info.download_url}")

    def open_source(self, source: Source) -> None:
        """Open a dataset in the background (a folder or a built-in one)."""
        self.runner.start(open_source, source)

    def open_initial(self, source: Source, fallback: Source) -> None:
        """Open the last dataset at start-up; if it is gone, say so and open ``fallback``."""
        self._fallback = fallback if source != fallback else None
        self.open_source(source)

    @Slot(str)
    def _on_runner_failed(self, message: str) -> None:
        fallback, self._fallback = self._fallback, None
        if fallback is not None and self._state.dataset is None:
            self.sig_status.emit(f"Could not reopen the last dataset ({message}); "
                                 "opened the built-in digits instead")
            self.open_source(fallback)

    @Slot(int)
    def _on_source_activated(self, _index: int) -> None:
        self._update_fetch_button()
        source = self.source_combo.currentData()
        if not self.fetch_button.isVisible() and source:
            self.open_source(source)

    @Slot()
    def _on_open_clicked(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Open a folder with one sub-folder per class")
        if folder:
            self.open_source(FolderSource.at(folder))

    @Slot()
    def _on_fetch_clicked(self) -> None:
        self.fetch()

    @Slot()
    def _on_import_clicked(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Archive you already have", "",
                                              "Archives (*.zip *.npz);;All files (*)")
        if path:
            self.fetch(path)

    def fetch(self, url: str | None = None) -> None:
        """Get the selected built-in: from its official address, a mirror or a local file."""
        source = self.source_combo.currentData()
        if isinstance(source, BuiltinSource):
            self.runner.start(fetch_source, source.id, url=url)

    @Slot()
    def _on_split_clicked(self) -> None:
        dataset = self._state.dataset
        if dataset is None:
            return
        dialog = SplitDialog(dataset, self)
        if dialog.exec():
            self._split_saved_to = dialog.save_path
            self.runner.start(split_job, dataset, save_to=dialog.save_path, **dialog.settings())

    @Slot(object)
    def _on_runner_finished(self, result: object) -> None:
        if isinstance(result, Dataset):
            self._state.set_dataset(result)
        elif isinstance(result, SplitManifest):
            self._state.set_manifest(result)
            where = f" and saved to {self._split_saved_to}" if self._split_saved_to else ""
            self.sig_status.emit(f"Split made{where}")
        elif isinstance(result, BuiltinSource):  # a fetch job returns the source it made available
            self._fill_sources()
            self._select_source(result)
            self.open_source(result)

    @Slot(object)
    def _on_state_dataset_changed(self, dataset: Dataset) -> None:
        self._fill_sources()
        self._select_source(dataset.source)
        self.problems.show_problems(dataset.problems)
        self.near_copies.set_dataset(dataset)
        self._show_info(dataset)
        self.filters.set_dataset(dataset)
        self._show_filtered(counts=True)
        self.image_pane.clear()
        self.split_button.setEnabled(len(dataset) > 0 and not dataset.split_folders)
        self.split_button.setToolTip(SPLIT_TIP if not dataset.split_folders else
                                     "Not needed: this dataset comes split into its own "
                                     "train/val/test folders, and training uses them")
        if self.grid.model().rowCount():
            self.grid.setCurrentIndex(self.grid.model().index(0))

    def _show_info(self, dataset: Dataset) -> None:
        """The dataset's overview (core's sentences), how training uses its split folders, then
        its warnings."""
        styles = {"title": "<b>{}</b>", "synthetic": "<i>{}</i>", "warning": "<span style='color:#b35c00'>{}</span>"}
        lines, split = dataset.overview(), split_folders_sentence(dataset)
        lines = [line for line in lines if line[0] != "warning"] + ([("split", split)] if split else []) + \
            [line for line in lines if line[0] == "warning"]
        self.info.setText("<br>".join(styles.get(kind, "{}").format(escape(text)) for kind, text in lines))

    def _on_browse_class_changed(self, _name: str | None) -> None:
        self._show_filtered(counts=False)

    def _on_browse_subset_changed(self, _subset: str | None) -> None:
        self._show_filtered(counts=True)

    def _show_filtered(self, counts: bool) -> None:
        """The grid (and, for a new subset, the class counts) for the class and subset set,
        once the filters offer the current dataset's (a new dataset resets them first)."""
        dataset, browse = self._state.dataset, self._state.browse
        if dataset is None or self.filters.dataset is not dataset:
            return
        if counts:
            self.classes.set_dataset(dataset, browse.subset)
        self.grid.set_dataset(dataset, browse.select(dataset))

    @Slot(int)
    def _on_grid_item_selected(self, item: int) -> None:
        self.image_pane.show_item(self._state.dataset, item)

    @Slot(int, str)
    def _on_grid_thumbnail_failed(self, item: int, reason: str) -> None:
        dataset = self._state.dataset
        if dataset is not None:
            problem = Problem(dataset.keys[item], "corrupt", f"{reason}; found while browsing")
            dataset.problems.append(problem)
            self.problems.append(problem)
