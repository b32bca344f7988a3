"""How a training run ended, in a sentence or two under the curves: its epochs and best
validation accuracy, where it was saved, the files left out (each listed in the tooltip)."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel, QWidget

from filterscope.core.training.runs import RunResult
from filterscope.ui.widgets.runs_list import run_summary


class RunOutcomeWidget(QLabel):
    """The outcome of the run just trained, read back or picked in the runs list; any other
    message (a failure, a stop) is set as plain text."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWordWrap(True)

    def show_finished(self, result: RunResult, summary: str) -> str:
        """The run just trained, listed as ``summary``; returns the text, for the status bar."""
        text = result.diverged or f"Finished {result.epochs_run} epochs: {summary}."
        if result.run_dir:
            text += f" Saved in {result.run_dir}."
        if result.skipped:
            text += (f" {len(result.skipped)} unreadable file(s) were left out, e.g. "
                     f"{result.skipped[0]['path']}: {result.skipped[0]['reason']}"
                     + (" (all listed in run.json)." if result.run_dir else "."))
        self.setToolTip("\n".join(f"{x['path']}: {x['reason']}" for x in result.skipped))
        self.setText(text)
        return text

    def show_saved(self, result: RunResult, summary: str) -> None:
        """A run read back from its folder (a stopped one), listed as ``summary``."""
        self.setText(f"{summary[0].upper()}{summary[1:]}. Saved in {result.run_dir}.")

    def show_picked(self, result: RunResult | None) -> None:
        """A run picked in the runs list, or nothing when none is picked."""
        self.setToolTip("")
        if result is None:
            self.clear()
            return
        saved = f" Saved in {result.run_dir}." if result.run_dir else ""
        self.setText(f"{result.run_dir.name if result.run_dir else 'Run'}: {run_summary(result)}.{saved}")
