"""What the Dataset tab shows of the dataset, declared once: :class:`DatasetSettings` (one class
or all, one subset of split folders or all). A project keeps it, so it names a class by its
name (not its place in a list that another scan may order differently) and a subset by what it
is (``val``, whatever its folder is called); opening another dataset shows all of it again.
Both are views (:attr:`~filterscope.core.base.settings.Setting.view`): browsing another class
is not a change to save.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from filterscope.core.base.settings import Settings, setting
from filterscope.core.data.datasets import Dataset
from filterscope.core.data.folder_layout import SUBSETS

ALL_CLASSES, ALL_SUBSETS = "All classes", "All subsets"


@dataclass
class DatasetSettings(Settings):
    """The class and the subset the Dataset tab's grid (and, for a subset, its class counts)
    shows; None: all. A class or subset the dataset does not have stays set, shows no image,
    and is named (:meth:`missing`)."""

    class_name: str | None = setting(None, "Class", kind=str, optional=True, special=ALL_CLASSES,
                                     help="The class whose images are shown (by its folder's name)", view=True)
    subset: str | None = setting(None, "Subset", kind=str, optional=True,
                                 choices=tuple((subset, f"{subset}/") for subset in SUBSETS),
                                 special=ALL_SUBSETS,
                                 help="The split is the dataset's own: its train, val and test folders",
                                 view=True)

    def label(self, dataset: Dataset) -> int | None:
        """The class's label in ``dataset`` (None: all classes, or a class it does not have)."""
        if self.class_name is None or self.class_name not in dataset.classes:
            return None
        return dataset.classes.index(self.class_name)

    def select(self, dataset: Dataset) -> np.ndarray:
        """The indices of ``dataset``'s items shown (none for a class or subset it lacks)."""
        if self.missing(dataset):
            return np.zeros(0, np.int64)
        return dataset.select(self.label(dataset), self.subset)

    def missing(self, dataset: Dataset) -> dict[str, str]:
        """A sentence per filter ``dataset`` does not have, by field name ({} when it has both)."""
        sentences = {}
        if self.class_name is not None and self.class_name not in dataset.classes:
            sentences["class_name"] = f"{dataset.name} has no class {self.class_name!r}: no image is shown"
        if self.subset is not None and self.subset not in dataset.subsets():
            sentences["subset"] = f"{dataset.name} has no {self.subset}/ folder: no image is shown"
        return sentences
