"""What the Train tab proposes for the dataset open now, and why.

For colour photos it proposes the ``photo-transfer`` recipe (one click to take it), and for a
recipe that augments as the photos suit (:data:`~filterscope.core.training.recipes.MEASURED`) it
measures which chain that is (``core.transfer.orientation``, a job of a few seconds), makes it
the Augment tab's chain and says why. A measurement is kept per dataset; opening another
dataset clears what was said of the previous one.
"""

from __future__ import annotations

from PySide6.QtCore import Signal, Slot
from PySide6.QtWidgets import QLabel, QPushButton, QVBoxLayout, QWidget

from filterscope.core.augment.chain import builtin_chain
from filterscope.core.data.datasets import Dataset
from filterscope.core.training.recipes import MEASURED, proposed_template, recipes
from filterscope.core.training.settings import TrainSettings
from filterscope.core.transfer.orientation import ChainProposal, grey_proposal, propose_chain
from filterscope.ui.state import AppState
from filterscope.workers import JobRunner


class RecipeProposalWidget(QWidget):
    """The proposed recipe for the dataset, and the augmentation measured for it."""

    sig_use = Signal(str)
    """The user takes the proposed template (its name)."""

    def __init__(self, state: AppState, settings: TrainSettings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._state, self._settings = state, settings
        self._measured: dict[str, ChainProposal] = {}  # by dataset source
        self.runner = JobRunner(self, on_result=self._on_measured, on_failure=self._on_failed,
                                on_progress=lambda _f, text: self.chain_label.setText(
                                    f"Augmentation: measuring which suits these photos… {text}"))
        self.template_label = QLabel()
        self.template_label.setWordWrap(True)
        self.use_button = QPushButton()
        self.chain_label = QLabel()
        self.chain_label.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.template_label)
        layout.addWidget(self.use_button)
        layout.addWidget(self.chain_label)
        self.use_button.clicked.connect(self._on_use_clicked)
        state.sig_dataset_changed.connect(self._on_dataset_changed)
        settings.events.model.connect(self.refresh)
        self.refresh()

    def _source(self) -> str | None:
        dataset = self._state.dataset
        return None if dataset is None else str(dataset.source)

    @Slot()
    def refresh(self) -> None:
        """Say what is proposed for the dataset and the template chosen now."""
        dataset = self._state.dataset
        proposed = None if dataset is None else proposed_template(dataset)
        offer = proposed is not None and self._settings.template() != proposed
        if offer:
            self.template_label.setText(f"For colour photos, {proposed} is the proposed start.")
            self.template_label.setToolTip(f"{proposed}: {recipes()[proposed].summary}.")
            self.use_button.setText(f"Use {proposed}")
        self.template_label.setVisible(offer)
        self.use_button.setVisible(offer)
        recipe = self._settings.recipe()
        measured = dataset is not None and recipe is not None and recipe.chain == MEASURED
        shown = self._measured.get(self._source()) if measured else None
        if shown is not None:
            self.chain_label.setText(f"Augmentation proposed: {shown.preset}, because {shown.reason()}.")
            self.chain_label.setToolTip(builtin_chain(shown.preset).name)
        elif not self.runner.is_running():
            self.chain_label.clear()
        self.chain_label.setVisible(measured)
        self.updateGeometry()  # the wrapped lines change this widget's height

    def measure(self) -> None:
        """Make the measured chain the Augment tab's: at once when this dataset was measured
        before, else after measuring it (a job)."""
        dataset = self._state.dataset
        known = self._measured.get(self._source()) or (None if dataset is None else grey_proposal(dataset))
        if known is not None:
            self._measured[self._source()] = known
            self._state.set_chain(builtin_chain(known.preset))
            self.refresh()
        elif self._state.dataset is not None:
            self.chain_label.setText("Augmentation: measuring which suits these photos…")
            self.runner.start(propose_chain, self._state.dataset)
            self.refresh()

    def _on_measured(self, proposal: ChainProposal) -> None:
        self._measured[self._source()] = proposal
        recipe = self._settings.recipe()
        if recipe is not None and recipe.chain == MEASURED:
            self._state.set_chain(builtin_chain(proposal.preset))
        self.refresh()

    def _on_failed(self, message: str) -> None:
        self.chain_label.setText(f"Augmentation: could not measure which suits these photos "
                                 f"({message}); the Augment tab's chain is kept.")

    @Slot()
    def _on_use_clicked(self) -> None:
        proposed = proposed_template(self._state.dataset)
        if proposed is not None:
            self.sig_use.emit(proposed)

    @Slot(object)
    def _on_dataset_changed(self, _dataset: Dataset) -> None:
        self.runner.cancel()
        self.chain_label.clear()
        recipe = self._settings.recipe()
        if recipe is not None and recipe.chain == MEASURED:
            self.measure()
        self.refresh()
