"""What the tabs share: the current dataset, its split manifest, the class and subset the Dataset
tab shows of it, the Mask tab's mask and the Augment tab's chain, the Train tab's settings
(whether training applies that mask and chain is ``train.use_mask`` and ``train.use_chain``: one
switch each, shown in both tabs), and where training runs are kept."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import NamedTuple

import numpy as np
from PySide6.QtCore import QObject, Signal

from filterscope.core.augment.chain import ChainSpec
from filterscope.core.augment.settings import AugmentSettings
from filterscope.core.base.paths import data_dir
from filterscope.core.base.settings import Settings
from filterscope.core.data.dataset_settings import DatasetSettings
from filterscope.core.data.datasets import Dataset
from filterscope.core.data.splits import SplitManifest
from filterscope.core.filters.settings import FiltersSettings
from filterscope.core.live.capture_train import CaptureSettings
from filterscope.core.live.settings import LiveSettings
from filterscope.core.masking.colordist import MaskParams
from filterscope.core.masking.settings import MaskSettings
from filterscope.core.results.settings import EvaluateSettings
from filterscope.core.training.settings import TrainSettings
from filterscope.core.visualize.settings import VisualizeSettings


class ImageToLookAt(NamedTuple):
    """An image (RGB uint8) that is not a file or a dataset item, and what to call it."""

    rgb: np.ndarray
    name: str


class AppState(QObject):
    """Lives in the GUI thread; tabs read it and listen to its signals."""

    sig_dataset_changed = Signal(object)
    """The new current Dataset."""
    sig_manifest_changed = Signal(object)
    """The new SplitManifest for the current dataset (or None)."""
    sig_mask_changed = Signal(object)
    """The Mask tab's MaskParams (training applies them when ``train.use_mask``)."""
    sig_chain_changed = Signal(object)
    """The Augment tab's ChainSpec (training applies it when ``train.use_chain``)."""
    sig_runs_dir_changed = Signal(object)
    """The folder training runs are saved in and listed from (a Path)."""
    sig_look_at = Signal(object)
    """An image to look at through the network view (:class:`ImageToLookAt`), e.g. a live frame."""
    sig_run_saved = Signal(object)
    """A training run's folder (a Path) was saved or completed, just now, in this session."""
    sig_choosing_default = Signal(bool)
    """True: a tab starts choosing a value by itself (see :meth:`choosing_default`); False: done."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._dataset: Dataset | None = None
        self._manifest: SplitManifest | None = None
        self._mask: MaskParams | None = None
        self._runs_dir = data_dir() / "runs"
        self.browse = DatasetSettings()
        """The class and subset the Dataset tab shows (evented); another dataset resets them."""
        self.train = TrainSettings()
        """The Train tab's settings (an evented model: listen to ``train.events``)."""
        self.masking = MaskSettings()
        """The Mask tab's mask being edited (evented); ``mask`` is it, once the tab shows it."""
        self.augment = AugmentSettings()
        """The Augment tab's chain and preview settings (evented)."""
        self.augment.events.chain.connect(self._on_augment_chain_changed)
        self.visualize = VisualizeSettings()
        """The Visualise tab's model, layer and gradient-ascent settings (evented)."""
        self.evaluate = EvaluateSettings()
        """The Results tab's run, model and images, and the saved evaluation open (evented)."""
        self.filters = FiltersSettings()
        """The Filters tab's lesson: image, window, kernels, step position (evented)."""
        self.live = LiveSettings()
        """The Live tab's source, model, what each frame shows and where frames are saved (evented)."""
        self.capture = CaptureSettings()
        """The Live tab's capture-and-train: frames kept, model, epochs, validation share (evented)."""

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
        """The Mask tab's mask (None before the tab has one)."""
        return self._mask

    def set_mask(self, params: MaskParams | None) -> None:
        """The Mask tab's mask changed."""
        if params != self._mask:
            self._mask = params
            self.sig_mask_changed.emit(params)

    @property
    def chain(self) -> ChainSpec:
        """The Augment tab's chain (``augment.chain``)."""
        return self.augment.chain

    def set_chain(self, chain: ChainSpec) -> None:
        """Make ``chain`` the Augment tab's, as it is (a preset's, a recipe's)."""
        self.augment.update({"chain": chain})

    def project_settings(self) -> dict[str, Settings]:
        """The tabs' settings a project keeps, by the project's name for each, in the order a
        project puts them back."""
        return {"augment": self.augment, "training": self.train, "visualize": self.visualize,
                "evaluate": self.evaluate, "filters": self.filters, "live": self.live,
                "capture": self.capture, "browse": self.browse}

    def _on_augment_chain_changed(self, chain: ChainSpec) -> None:
        self.sig_chain_changed.emit(chain)

    def dataset_split(self) -> SplitManifest | None:
        """The Dataset tab's split when it belongs to the current dataset, else None (while
        ``sig_dataset_changed`` is handled, the previous dataset's split is still current)."""
        dataset, manifest = self._dataset, self._manifest
        if manifest is None or dataset is None or manifest.source != dataset.source:
            return None
        return manifest

    def training_mask(self) -> MaskParams | None:
        """The mask training applies: the Mask tab's, when ``train.use_mask``, else None."""
        return self._mask if self.train.use_mask else None

    def training_chain(self) -> ChainSpec | None:
        """The chain training augments with: the Augment tab's, when ``train.use_chain`` and
        it has an enabled step, else None."""
        chain = self.augment.chain if self.train.use_chain else None
        return chain if chain is not None and any(step.enabled for step in chain.steps) else None

    @property
    def runs_dir(self) -> Path:
        """The folder training runs are saved in (the Train tab's Runs folder)."""
        return self._runs_dir

    def set_runs_dir(self, folder: Path) -> None:
        """Set the runs folder (the Train tab does, when it lists a folder)."""
        if Path(folder) != self._runs_dir:
            self._runs_dir = Path(folder)
            self.sig_runs_dir_changed.emit(self._runs_dir)

    def look_at(self, rgb: np.ndarray, name: str) -> None:
        """Ask for ``rgb`` (RGB uint8) to be shown through every layer of the Visualise tab's
        model (the Live tab's frame goes there)."""
        self.sig_look_at.emit(ImageToLookAt(np.ascontiguousarray(rgb), name))

    @contextmanager
    def choosing_default(self) -> Iterator[None]:
        """Settings changed inside are the app's own choice, not the user's (a tab choosing the
        newest run when it is shown): a project unchanged before stays unchanged."""
        self.sig_choosing_default.emit(True)
        try:
            yield
        finally:
            self.sig_choosing_default.emit(False)

    def run_saved(self, run_dir: Path) -> None:
        """Announce a run that training has just saved (the Visualise tab offers it)."""
        self.sig_run_saved.emit(Path(run_dir))

    def set_dataset(self, dataset: Dataset) -> None:
        """Make ``dataset`` current; a split made for another dataset is dropped, and another
        dataset is shown whole (``browse`` reset before it is announced: a project's filters
        are put back after its dataset opens)."""
        previous, self._dataset = self._dataset, dataset
        if previous is None or previous.source != dataset.source:
            self.browse.reset()
        self.sig_dataset_changed.emit(dataset)
        if self._manifest is not None and self._manifest.source != dataset.source:
            self.set_manifest(None)

    def set_manifest(self, manifest: SplitManifest | None) -> None:
        """Make ``manifest`` the current split."""
        self._manifest = manifest
        self.sig_manifest_changed.emit(manifest)
