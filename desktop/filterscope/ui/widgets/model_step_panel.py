"""Where a model's step in the Filters tab comes from: the model, layer, channel and position,
how the step maps onto the model (its input, kernel, crop, activation), the value the tab's
arithmetic gives against the model's own, a picker for the input channel drawn, and the way
back to the hand-made lesson."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QSpinBox, QVBoxLayout, QWidget

from filterscope.core.filters.kernels import format_number
from filterscope.core.filters.model_step import ModelStep
from filterscope.core.filters.settings import FiltersSettings
from filterscope.ui.binding import bind
from filterscope.ui.widgets.filter_views import wrap


class ModelStepPanelWidget(QWidget):
    """Says what model step is shown, picks the input channel drawn (the lesson's ``channel``
    setting), and emits when the way back is chosen."""

    sig_back = Signal()
    """Back to the hand-made kernels."""

    def __init__(self, settings: FiltersSettings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.origin_label = QLabel()
        self.notes_label = QLabel()
        self.value_label = QLabel()
        self.value_label.setStyleSheet("font-weight: bold")
        self.channel_spin = QSpinBox()
        self._channel = bind(self.channel_spin, settings, "channel")
        self.channel_label = QLabel("Input channel drawn")
        # Long sentences wrap to the side panel's width rather than widen it (large text).
        for label in (self.origin_label, self.notes_label, self.value_label, self.channel_label):
            wrap(label)
        self.back_button = QPushButton("Back to hand-made kernels")
        channel = QHBoxLayout()
        channel.addWidget(self.channel_spin)
        channel.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        for widget in (self.origin_label, self.value_label, self.notes_label, self.channel_label):
            layout.addWidget(widget)
        layout.addLayout(channel)
        layout.addWidget(self.back_button)
        self.back_button.clicked.connect(self.sig_back)

    def show_step(self, step: ModelStep) -> None:
        """Describe ``step``; the channel picker offers its input channels when there are
        neither one nor three (those are drawn whole)."""
        self.origin_label.setText(step.origin)
        self.notes_label.setText(" ".join(step.notes))
        self.value_label.setText(f"The Filters tab's arithmetic gives {format_number(step.computed(), 4)}; "
                                 f"the model computed {format_number(step.tile, 4)}. "
                                 + step.activation_note())
        picked = step.picks_channel
        # The declaration's limit narrowed to this step's channels (without the clamp writing
        # the setting), then the setting's value shown again.
        self.channel_spin.blockSignals(True)
        self.channel_spin.setMaximum(step.channels)
        self.channel_spin.blockSignals(False)
        self._channel.show_value()
        self.channel_spin.setVisible(picked)
        self.channel_label.setVisible(picked)
        if picked:
            self.channel_label.setText(f"Input channel drawn (the sum runs over all {step.channels}; "
                                       "the one adding most to it first)")
