"""The Dataset tab's class and subset filters: two combo boxes bound to the tab's
:class:`~filterscope.core.data.dataset_settings.DatasetSettings`. Their choices are the open
dataset's (filled, then the settings shown again); a class or subset the dataset lacks (a
project's, a folder scanned again) stays set and is named: its combo box says so in place of a
choice, and the status bar says why no image shows.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QComboBox, QWidget

from filterscope.core.data.dataset_settings import ALL_CLASSES, ALL_SUBSETS, DatasetSettings
from filterscope.core.data.datasets import Dataset
from filterscope.core.data.folder_layout import SUBSETS
from filterscope.ui.binding import Binding, bind


class DatasetFilters(QObject):
    """Holds the two combo boxes (the tab lays them out) and their bindings."""

    sig_status = Signal(str)
    """A sentence naming a filter the dataset does not have."""

    def __init__(self, settings: DatasetSettings, parent: QWidget) -> None:
        super().__init__(parent)
        self.settings = settings
        self.dataset: Dataset | None = None
        """The dataset whose choices the combo boxes offer."""
        self.class_combo = QComboBox()
        self.subset_combo = QComboBox()
        self.subset_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self._bindings: dict[str, Binding] = {}
        self.set_dataset(None)  # the items first: a binding fills an empty combo box with its own
        self._bindings = {"class_name": bind(self.class_combo, settings, "class_name", self._on_binding_error),
                          "subset": bind(self.subset_combo, settings, "subset", self._on_binding_error)}
        settings.events.subset.connect(self._on_subset_changed)

    def set_dataset(self, dataset: Dataset | None) -> None:
        """Offer ``dataset``'s classes and split folders, and show the settings among them."""
        self.dataset = dataset
        classes, folders = (dataset.classes, dataset.split_folders or {}) if dataset is not None else ([], {})
        _refill(self.class_combo, [(ALL_CLASSES, None), *((name, name) for name in classes)])
        _refill(self.subset_combo, [(ALL_SUBSETS, None), *((f"{folders[s]}/", s) for s in SUBSETS if s in folders)])
        for binding in self._bindings.values():
            binding.show_value()
        self._on_subset_changed()

    def _on_subset_changed(self, *_args: object) -> None:
        # Shown for split folders, and for a subset set on a dataset without them (to be named).
        folders = self.dataset is not None and bool(self.dataset.split_folders)
        self.subset_combo.setVisible(folders or self.settings.subset is not None)

    def _on_binding_error(self, path: str, message: str) -> None:
        combo = self.class_combo if path == "class_name" else self.subset_combo
        value = getattr(self.settings, path)
        shown = value if path == "class_name" else f"{value}/"
        combo.setPlaceholderText(f"{shown}: not in this dataset" if message else "")
        sentence = self.settings.missing(self.dataset).get(path) if message and self.dataset else None
        if sentence:
            self.sig_status.emit(sentence)


def _refill(combo: QComboBox, items: list[tuple[str, object]]) -> None:
    """Replace a filter's choices (text, data) without announcing it: the binding shows the
    setting among them."""
    combo.blockSignals(True)
    combo.clear()
    for text, data in items:
        combo.addItem(text, data)
    combo.blockSignals(False)
