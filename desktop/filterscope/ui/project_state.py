"""Between a Project and the window: gather it from the AppState and the tabs' controls, put
it back into them, and the signals that say it may have changed.

A project opens its dataset in the background (the Dataset tab's job); its split, mask,
chain and the tabs' settings models are put back once the dataset is there, in that order, because
each tab follows the AppState (a new dataset drops a split made for another one). The Train
tab's settings are the AppState's ``train`` model (the Augment, Visualise and Results tabs' are
``augment``, ``visualize`` and ``evaluate``): a project stores a copy and puts its values back.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import SignalInstance
from PySide6.QtWidgets import QWidget

from filterscope.core.project.project import Project
from filterscope.ui.state import AppState
from filterscope.ui.tabs.augment_tab import AugmentTab
from filterscope.ui.tabs.dataset_tab import DatasetTab
from filterscope.ui.tabs.mask_tab import MaskTab
from filterscope.ui.tabs.train_tab import TrainTab


class ProjectBridge:
    """The tabs a project reads and sets (see :meth:`find`)."""

    def __init__(self, state: AppState, dataset_tab: DatasetTab, mask_tab: MaskTab,
                 augment_tab: AugmentTab, train_tab: TrainTab) -> None:
        self.state = state
        self.dataset_tab, self.mask_tab = dataset_tab, mask_tab
        self.augment_tab, self.train_tab = augment_tab, train_tab

    @classmethod
    def find(cls, window: QWidget, state: AppState) -> ProjectBridge | None:
        """The bridge to ``window``'s tabs, found by their types; None when the window lacks
        one of them (a window with other tabs has no projects)."""
        tabs = [window.findChild(kind) for kind in (DatasetTab, MaskTab, AugmentTab, TrainTab)]
        return None if None in tabs else cls(state, *tabs)

    def gather(self, runs: tuple[Path, ...]) -> Project | None:
        """The project the window shows (None while no dataset is open yet)."""
        state = self.state
        if state.dataset is None:
            return None
        source = state.dataset.source
        split = state.manifest if state.manifest is not None and state.manifest.source == source else None
        return Project(source, split, self.mask_tab.params, runs_dir=state.runs_dir, runs=runs,
                       **{key: model.copy() for key, model in state.project_settings().items()})

    def needs_dataset(self, project: Project) -> bool:
        """True when the project's dataset is not the one open (it must be opened first)."""
        return self.state.dataset is None or self.state.dataset.source != project.dataset

    def open_dataset(self, project: Project) -> None:
        """Open the project's dataset in the Dataset tab (a background job)."""
        self.dataset_tab.open_source(project.dataset)

    def apply(self, project: Project) -> None:
        """Put the project's split, mask, chain, tabs' settings and runs folder back (its
        dataset, when it opened, is already the current one)."""
        state = self.state
        dataset = state.dataset
        same = dataset is not None and dataset.source == project.dataset
        state.set_manifest(project.split if same else None)
        if project.mask is not None:
            self.mask_tab.set_params(project.mask)
        # A part the project lacks puts the tab's defaults back. The Filters tab shows the
        # lesson's digit or reads its file again; its step position waits for that image.
        for key, model in state.project_settings().items():
            model.update((getattr(project, key) or type(model)()).values())
        if project.runs_dir is not None:
            self.train_tab.set_runs_folder(project.runs_dir)

    def change_signals(self) -> list[SignalInstance]:
        """Qt signals after which the gathered project may differ (the window title's '*');
        the settings models' own events are :meth:`model_events`."""
        state = self.state
        return [state.sig_dataset_changed, state.sig_manifest_changed, state.sig_mask_changed,
                state.sig_chain_changed, state.sig_runs_dir_changed, state.sig_run_saved]

    def model_events(self) -> list[Any]:
        """The settings models' event groups (any field's change modifies the project)."""
        return [self.state.masking.events, *(model.events for model in self.state.project_settings().values())]
