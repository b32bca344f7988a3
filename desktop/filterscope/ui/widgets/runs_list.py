"""The training runs of a runs folder: read in the background, one line each with its outcome;
picking a run shows it, ticking runs overlays their validation curves."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import QListWidget, QListWidgetItem, QWidget

from filterscope.core.base.formats import percent
from filterscope.core.training.runs import RunResult, SavedRuns, saved_runs
from filterscope.workers import JobRunner


def run_summary(result: RunResult) -> str:
    """A run's outcome in one line: its best validation accuracy, and how it ended."""
    best = result.best()
    summary = (f"best validation accuracy {percent(best['val_accuracy'])} (epoch {result.best_epoch})"
               if best and best.get("val_accuracy") is not None else "no validation metrics")
    # The mark leads the line, where a narrow list cannot clip it.
    if result.status == "stopped":  # the partial result of a run the user stopped
        return f"stopped after epoch {result.epochs_run} of {result.spec.get('epochs', '?')}: " + summary
    if result.status not in ("finished", "diverged"):
        return f"{result.status}: {summary}"
    if result.stopped_early:
        return f"stopped early after epoch {result.epochs_run}: " + summary
    return summary


class RunsListWidget(QListWidget):
    """The runs listed, keyed by folder name (a run listed again replaces its line)."""

    sig_run_picked = Signal(object)
    """The RunResult of the line picked, or None when no line is picked any more."""
    sig_overlays_changed = Signal(list)
    """The ticked runs as (name, {"val_loss": [...], "val_accuracy": [...]}), for the curves."""
    sig_message = Signal(str)
    """Folders that could not be read, or why the folder could not be listed."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._results: dict[str, RunResult] = {}
        self.runner = JobRunner(self, on_result=self._on_listed, on_failure=lambda message:
                                self.sig_message.emit(f"The runs folder could not be read: {message}"))
        self.itemChanged.connect(self._on_item_changed)
        self.currentItemChanged.connect(self._on_current_changed)

    def list_folder(self, folder: Path) -> None:
        """Read the runs saved in ``folder`` (a job) and list them instead of the current ones."""
        self.runner.start(saved_runs, folder)

    def add_run(self, result: RunResult) -> str:
        """List a run (replacing a line of the same name); returns its one-line summary."""
        name = result.run_dir.name if result.run_dir else f"run {len(self._results) + 1}"
        summary = run_summary(result)
        tags = "".join(f" · {tag}" for tag in result.tags())
        if name in self._results:
            for row in reversed(range(self.count())):
                if self.item(row).data(Qt.ItemDataRole.UserRole) == name:
                    self.takeItem(row)
        self._results[name] = result
        item = QListWidgetItem(f"{name}\n    {summary}{tags}")
        item.setData(Qt.ItemDataRole.UserRole, name)
        item.setToolTip(str(result.run_dir or "not saved"))
        item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
        item.setCheckState(Qt.CheckState.Unchecked)
        self.addItem(item)
        return summary

    @Slot(object)
    def _on_listed(self, found: SavedRuns) -> None:
        self.clear()
        self._results.clear()
        self.sig_overlays_changed.emit([])
        for result in found.runs:
            self.add_run(result)
        if found.problems:
            self.sig_message.emit(f"{len(found.problems)} run folder(s) could not be read: "
                                  + "; ".join(found.problems[:3]))

    @Slot(QListWidgetItem, QListWidgetItem)
    def _on_current_changed(self, item: QListWidgetItem | None, _previous: object = None) -> None:
        self.sig_run_picked.emit(None if item is None else
                                 self._results.get(item.data(Qt.ItemDataRole.UserRole)))

    @Slot(QListWidgetItem)
    def _on_item_changed(self, _item: QListWidgetItem) -> None:
        overlays = []
        for row in range(self.count()):
            item = self.item(row)
            if item.checkState() == Qt.CheckState.Checked:
                name = item.data(Qt.ItemDataRole.UserRole)
                history = self._results[name].history
                overlays.append((name, {key: [h.get(key) for h in history]
                                        for key in ("val_loss", "val_accuracy")}))
        self.sig_overlays_changed.emit(overlays)
