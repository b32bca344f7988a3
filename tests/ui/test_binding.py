"""ui/binding.py: a combo box bound to an optional choice setting offers None as its special text."""

from __future__ import annotations

from filterscope.core.results.settings import EvaluateSettings
from filterscope.ui.binding import bind
from PySide6.QtWidgets import QComboBox


def test_an_optional_choice_offers_none_first_as_its_special_text(qtbot) -> None:
    settings, combo = EvaluateSettings(), QComboBox()
    qtbot.addWidget(combo)
    bind(combo, settings, "subset")
    items = [(combo.itemText(i), combo.itemData(i)) for i in range(combo.count())]
    assert items == [("Default: test/ if any, else validation", None), ("The validation images", "val"),
                     ("The test/ folder", "test")]
    assert combo.currentIndex() == 0
    combo.setCurrentIndex(2)  # as a user picks it
    assert settings.subset == "test"
    settings.subset = None  # the model, from anywhere
    assert combo.currentIndex() == 0
    combo.setCurrentIndex(1)
    combo.setCurrentIndex(0)
    assert settings.subset is None
