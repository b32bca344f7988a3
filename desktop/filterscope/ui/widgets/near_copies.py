"""The Dataset tab's "Near-copies" list: groups of near-copies of the open dataset, found in a job.

The check (:func:`~filterscope.core.quality.duplicates.near_copies`) reads every image, so it
runs when asked, with progress and Cancel; its result is saved for evaluation, which then warns
about test photos with a near-copy in training. Opening another dataset clears the list and
cancels a running check.
"""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt, Slot
from PySide6.QtGui import QIcon, QPixmap
from PySide6.QtWidgets import (QHeaderView, QLabel, QPushButton, QTreeWidget, QTreeWidgetItem, QVBoxLayout,
                               QWidget)

from filterscope.core.data.datasets import Dataset
from filterscope.core.quality.duplicates import NearCopies, near_copies
from filterscope.ui.widgets.job_panel import JobPanelWidget
from filterscope.workers import JobRunner

THUMB = 48
PATH_ROLE = Qt.ItemDataRole.UserRole


class NearCopiesWidget(QWidget):
    """A Find button, the job's progress, and the groups (expand one for its photos)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._dataset: Dataset | None = None
        self.result: NearCopies | None = None
        self.runner = JobRunner(self, on_result=self._on_runner_finished, on_failure=self._on_runner_failed)
        self.find_button = QPushButton("Find near-copies")
        self.find_button.setToolTip("Compare every image (train, val and test) by perceptual hash; "
                                    "evaluation then warns about test photos copied in training")
        self.find_button.setEnabled(False)
        self.find_button.clicked.connect(self._on_find_clicked)
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        self.tree = QTreeWidget()
        self.tree.setHeaderLabels(["Group / photo", "Subset", "Class"])
        # columns as wide as their header and contents at any text size (presentation mode)
        for column in (0, 1):
            self.tree.header().setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        self.tree.setIconSize(QSize(THUMB, THUMB))
        self.tree.itemExpanded.connect(self._on_tree_item_expanded)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        for widget in (self.find_button, JobPanelWidget(self.runner), self.summary):
            layout.addWidget(widget)
        layout.addWidget(self.tree, 1)

    def set_dataset(self, dataset: Dataset | None) -> None:
        """Another dataset: cancel a running check and clear the list."""
        self.runner.cancel()
        self._dataset, self.result = dataset, None
        self.tree.clear()
        self.summary.setText("")
        self.find_button.setEnabled(dataset is not None)

    @Slot()
    def _on_find_clicked(self) -> None:
        if self._dataset is not None:
            self.tree.clear()
            self.summary.setText("")
            self.runner.start(near_copies, self._dataset.source)

    @Slot(str)
    def _on_runner_failed(self, message: str) -> None:
        self.summary.setText(f"Near-copy check failed: {message}")

    @Slot(object)
    def _on_runner_finished(self, result: object) -> None:
        if not isinstance(result, NearCopies):
            return
        self.result = result
        cross = result.cross_subset()
        leaked = len(result.leaked())
        self.summary.setText(
            f"{len(result.groups):,} group(s) among {result.n_images:,} images; across subsets: "
            f"train–test {cross['train-test']:,}, train–val {cross['train-val']:,}, val–test "
            f"{cross['val-test']:,} pair(s)"
            + (f". {leaked:,} test photo(s) have a near-copy in training." if leaked else "."))
        for n, group in enumerate(result.groups, 1):
            subsets = sorted({m["subset"] for m in group})
            top = QTreeWidgetItem([f"Group {n}: {len(group)} photos", ", ".join(subsets), ""])
            for m in group:
                child = QTreeWidgetItem([m["path"], m["subset"], m["label"]])
                child.setData(0, PATH_ROLE, m["path"])
                child.setToolTip(0, m["path"])
                top.addChild(child)
            self.tree.addTopLevelItem(top)

    @Slot(QTreeWidgetItem)
    def _on_tree_item_expanded(self, item: QTreeWidgetItem) -> None:
        """Thumbnails when a group is opened (a few small files; in-memory images have none)."""
        for i in range(item.childCount()):
            child = item.child(i)
            if child.icon(0).isNull():
                pixmap = QPixmap(child.data(0, PATH_ROLE))
                if not pixmap.isNull():
                    child.setIcon(0, QIcon(pixmap.scaled(THUMB, THUMB, Qt.AspectRatioMode.KeepAspectRatio)))
