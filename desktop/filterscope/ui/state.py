"""What the tabs share: the current dataset, its split manifest, what training will apply, and
where training runs are kept."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, Signal

from filterscope.core.augment.chain import ChainSpec
from filterscope.core.base.paths import data_dir
from filterscope.core.data.datasets import Dataset
from filterscope.core.data.splits import SplitManifest
from filterscope.core.masking.colordist import MaskParams


class AppState(QObject):
    """Lives in the GUI thread; tabs read it and listen to its signals."""

    sig_dataset_changed = Signal(object)
    """The new current Dataset."""
    sig_manifest_changed = Signal(object)
    """The new SplitManifest for the current dataset (or None)."""
    sig_mask_changed = Signal(object)
    """The MaskParams training should apply (or None for no mask)."""
    sig_chain_changed = Signal(object)
    """The ChainSpec training should apply to training images (or None)."""
    sig_image_side_changed = Signal(object)
    """The longer image side training uses (int), or None for the dataset's own size."""
    sig_runs_dir_changed = Signal(object)
    """The folder training runs are saved in and listed from (a Path)."""
    sig_run_saved = Signal(object)
    """A training run's folder (a Path) was saved or completed, just now, in this session."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._dataset: Dataset | None = None
        self._manifest: SplitManifest | None = None
        self._mask: MaskParams | None = None
        self._chain: ChainSpec | None = None
        self._image_side: int | None = None
        self._runs_dir = data_dir() / "runs"

    @property
    def dataset(self) -> Dataset | None:
        """The current dataset."""
        return self._dataset

    @property
    def manifest(self) -> SplitManifest | None:
        """The current split, if one was made for the current dataset."""
        return self._manifest

    @property
    def mask(self) -> MaskParams | None:
        """The background mask training should apply, or None."""
        return self._mask

    def set_mask(self, params: MaskParams | None) -> None:
        """Set (or clear) the mask that training reads."""
        if params != self._mask:
            self._mask = params
            self.sig_mask_changed.emit(params)

    @property
    def chain(self) -> ChainSpec | None:
        """The augmentation chain training applies to training images, or None."""
        return self._chain

    def set_chain(self, chain: ChainSpec | None) -> None:
        """Set (or clear) the augmentation chain that training reads."""
        if chain != self._chain:
            self._chain = chain
            self.sig_chain_changed.emit(chain)

    @property
    def image_side(self) -> int | None:
        """The longer image side chosen for training, or None for the dataset's own size."""
        return self._image_side

    def set_image_side(self, side: int | None) -> None:
        """Set the longer image side training uses (the Train tab's Image size)."""
        if side != self._image_side:
            self._image_side = side
            self.sig_image_side_changed.emit(side)

    @property
    def runs_dir(self) -> Path:
        """The folder training runs are saved in (the Train tab's Runs folder)."""
        return self._runs_dir

    def set_runs_dir(self, folder: Path) -> None:
        """Set the runs folder (the Train tab does, when it lists a folder)."""
        if Path(folder) != self._runs_dir:
            self._runs_dir = Path(folder)
            self.sig_runs_dir_changed.emit(self._runs_dir)

    def run_saved(self, run_dir: Path) -> None:
        """Announce a run that training has just saved (the Visualise tab offers it)."""
        self.sig_run_saved.emit(Path(run_dir))

    def set_dataset(self, dataset: Dataset) -> None:
        """Make ``dataset`` current; a split made for another dataset is dropped."""
        self._dataset = dataset
        self.sig_dataset_changed.emit(dataset)
        if self._manifest is not None and self._manifest.source != dataset.source:
            self.set_manifest(None)

    def set_manifest(self, manifest: SplitManifest | None) -> None:
        """Make ``manifest`` the current split."""
        self._manifest = manifest
        self.sig_manifest_changed.emit(manifest)
