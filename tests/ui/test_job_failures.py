"""Jobs whose failures used to go nowhere now say why, where their result would have been."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QLabel

from filterscope.ui.state import AppState
from filterscope.ui.tabs.train_tab import TrainTab

from tests.results_runs import copy_run

WAIT_MS = 60_000


def test_a_run_whose_model_cannot_be_read_says_so_under_the_curves(qtbot, results_run: Path,
                                                                   tmp_path: Path) -> None:
    """Picking a listed run predicts a few validation images with its best model; a damaged
    best.keras used to leave the strip empty without a word."""
    run = copy_run(results_run, tmp_path / "runs" / results_run.name)
    (run / "best.keras").write_bytes(b"PK\x03\x04 half a zip")
    tab = TrainTab(AppState())
    qtbot.addWidget(tab)
    tab.resize(1200, 800)
    tab._state.set_runs_dir(run.parent)
    with qtbot.waitSignal(tab.runs_runner.sig_finished, timeout=WAIT_MS):
        tab.show()
    assert tab.runs_list.count() == 1
    with qtbot.waitSignal(tab.examples_runner.sig_failed, timeout=WAIT_MS) as failed:
        tab.runs_list.setCurrentRow(0)
    assert "best.keras" in failed.args[0]
    notes = [label.text() for label in tab.examples.findChildren(QLabel)]
    assert notes == [f"The example predictions could not be made: {failed.args[0]}"]
    assert tab.examples.isVisible() and not tab.examples.tiles
    assert tab.curves.epochs_drawn() >= 1  # the run's curves are still shown
    tab.runs_list.setCurrentRow(-1)
    with qtbot.waitSignal(tab.examples_runner.sig_failed, timeout=WAIT_MS):
        tab.runs_list.setCurrentRow(0)  # picked again: tried again, said again (once)
    qtbot.waitUntil(lambda: len(tab.examples.findChildren(QLabel)) == 1, timeout=5000)
