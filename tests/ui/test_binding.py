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


def test_a_slider_moves_in_the_settings_steps_from_its_lowest_value(qtbot) -> None:
    """The mask's clean-up takes odd windows only (declared low 1, step 2): the slider's
    positions 0, 1, 2... are windows 1, 3, 5..., both ways, and its last is the highest."""
    from filterscope.core.masking.colordist import MAX_MEDIAN
    from filterscope.core.masking.settings import MaskSettings
    from PySide6.QtWidgets import QSlider

    settings, slider = MaskSettings(), QSlider()
    qtbot.addWidget(slider)
    bind(slider, settings, "params.median")
    assert (slider.minimum(), slider.maximum()) == (0, (MAX_MEDIAN - 1) // 2)
    assert slider.value() == (settings.params.median - 1) // 2
    slider.setValue(2)  # as a user drags it
    assert settings.params.median == 5
    settings.edit(median=1)  # the model, from anywhere
    assert slider.value() == 0
    slider.setValue(slider.maximum())
    assert settings.params.median == MAX_MEDIAN


def test_every_augmenter_parameter_shows_and_reads_back_through_the_binding(qtbot) -> None:
    """Each parameter of the chain editor's catalogue, through its own control (sliders, range
    sliders, combo and check boxes): its default shown reads back equal, and so do its limits."""
    from filterscope.core.augment.chain import CATALOGUE
    from filterscope.ui.binding import read_value, show_value
    from filterscope.ui.widgets.chain_editor import _control

    checked = 0
    for name, params in CATALOGUE.items():
        for param in params:
            spec, control = param.setting(), _control(param)
            qtbot.addWidget(control)
            default = list(param.default) if isinstance(param.default, (list, tuple)) else param.default
            assert show_value(control, spec, param.default) is None, (name, param.name)
            assert read_value(control, spec) == default, (name, param.name)
            if param.kind in ("range", "int_range"):
                show_value(control, spec, [param.low, param.high])
                assert read_value(control, spec) == [param.low, param.high], (name, param.name)
            elif param.kind in ("prob", "float"):
                show_value(control, spec, param.high)
                assert read_value(control, spec) == param.high, (name, param.name)
            checked += 1
    assert checked > 20
