"""The Results tab's "Suspect labels" page: the list fills, "Label looks wrong" writes the run's
review list, another run clears the list; the dataset is never changed."""

from __future__ import annotations

import json
from pathlib import Path

from filterscope.ui.widgets.suspect_labels import SuspectLabelsWidget

from tests.corpus import tree_digest
from tests.results_runs import copy_run


def test_find_mark_and_switch(qtbot, results_run, results_photos, tmp_path: Path) -> None:
    before = tree_digest(results_photos)
    run, other = copy_run(results_run, tmp_path / "run"), copy_run(results_run, tmp_path / "other")
    widget = SuspectLabelsWidget()
    qtbot.addWidget(widget)
    widget.set_run(run)
    assert widget.table.rowCount() == 0 and widget.find_button.isEnabled()
    assert not widget.wrong_button.isEnabled()
    with qtbot.waitSignal(widget.runner.sig_finished, timeout=120_000):
        widget.find_button.click()
    assert widget.table.rowCount() == 29 and (run / "suspect_labels.json").is_file()
    first = widget.result().images[0]
    assert widget.table.item(0, 1).text() == first.given and widget.table.item(0, 2).text() == first.suggested
    assert not widget.table.item(0, 0).icon().isNull()  # the photo's thumbnail
    widget.table.selectRow(0)
    assert widget.wrong_button.isEnabled()
    widget.wrong_button.click()
    review = json.loads((run / "review.json").read_text(encoding="utf-8"))["images"]
    assert [(e["path"], e["labelled"], e["predicted"]) for e in review] == [
        (first.path, first.given, first.suggested)]
    widget.set_run(other)  # another run: the list is cleared
    assert widget.table.rowCount() == 0 and widget.result() is None
    widget.set_run(run)  # the result kept with the run opens without computing
    assert widget.table.rowCount() == 29 and not widget.runner.is_running()
    assert tree_digest(results_photos) == before
