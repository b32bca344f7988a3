"""The Dataset tab's Near-copies list: a job fills it with the groups; another dataset clears it."""

from __future__ import annotations

from pathlib import Path

from filterscope.core.data.source import FolderSource

from tests.core.test_quality_duplicates import leaky_photos
from tests.ui.test_dataset_tab import WAIT_MS, open_window


def test_list_fills_with_groups_and_switching_dataset_clears_it(qtbot, settings, tmp_path: Path,
                                                                data_dir: Path) -> None:
    root = tmp_path / "leaky"
    copies = leaky_photos(root)
    window, tab = open_window(qtbot, settings, f"folder:{root}")
    widget = tab.near_copies
    assert widget.tree.topLevelItemCount() == 0 and widget.find_button.isEnabled()
    widget.find_button.click()
    qtbot.waitUntil(lambda: widget.tree.topLevelItemCount() == 3, timeout=WAIT_MS)
    tree = widget.tree
    members = {tree.topLevelItem(g).child(i).text(0): tree.topLevelItem(g).child(i).text(1)
               for g in range(3) for i in range(tree.topLevelItem(g).childCount())}
    assert {p for p, subset in members.items() if subset == "test"} == copies
    assert sorted(members.values()) == ["test"] * 3 + ["train"] * 3
    assert "3 test photo(s) have a near-copy in training" in widget.summary.text()
    tree.expandItem(tree.topLevelItem(0))
    assert not tree.topLevelItem(0).child(0).icon(0).isNull()  # a thumbnail once opened
    other = tmp_path / "other"
    leaky_photos(other)
    tab.open_source(FolderSource.at(str(other)))
    qtbot.waitUntil(lambda: window.state.dataset.root == other, timeout=WAIT_MS)
    assert widget.tree.topLevelItemCount() == 0 and widget.summary.text() == "" and widget.result is None
    window.close()
