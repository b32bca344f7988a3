"""Step-through controls: which stage (convolution, ReLU, max pooling), which filter, the input
channel a colour step shows at large text, and the position, moved one click at a time or on a
timer. They are the lesson's (:class:`~filterscope.core.filters.settings.FiltersSettings`): the
controls set and show them."""

from __future__ import annotations

from PySide6.QtCore import QTimer, Signal, Slot
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QPushButton, QSpinBox, QVBoxLayout, QWidget

from filterscope.core.filters.kernels import CHANNEL_NAMES
from filterscope.core.filters.settings import FiltersSettings
from filterscope.ui.binding import bind


class StepControlsWidget(QWidget):
    """Moves the lesson's step position (None: the whole result, no window); holds the play
    timer and how many positions the stage has."""

    sig_changed = Signal()
    """The stage, the filter or the position changed."""

    def __init__(self, settings: FiltersSettings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.settings = settings
        self._count = 0
        self.stage_combo = QComboBox()
        self.filter_combo = QComboBox()
        self.channel_combo = QComboBox()  # R, G or B: a colour step's channel at large text
        for number, name in enumerate(CHANNEL_NAMES, 1):
            self.channel_combo.addItem(f"Channel {name}", number)
        self.channel_combo.setToolTip("The colour channel whose window, kernel and products the step "
                                      "shows; the sum runs over all three")
        self.channel_combo.hide()
        self.start_button = QPushButton("Start")
        self.back_button = QPushButton("◀ Back")
        self.step_button = QPushButton("Step ▶")
        self.play_button = QPushButton("Play")
        self.play_button.setCheckable(True)
        self.all_button = QPushButton("Show all")
        self.speed_spin = QSpinBox()
        self.position_label = QLabel()
        self.timer = QTimer(self)
        self.position_label.setWordWrap(True)
        choices = QHBoxLayout()
        for widget in (QLabel("Stage"), self.stage_combo, self.filter_combo, self.channel_combo,
                       QLabel("Speed"), self.speed_spin):
            choices.addWidget(widget)
        choices.addStretch(1)
        buttons = QHBoxLayout()
        for widget in (self.start_button, self.back_button, self.step_button, self.play_button,
                       self.all_button):
            buttons.addWidget(widget)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(choices)
        layout.addLayout(buttons)
        layout.addWidget(self.position_label)
        bind(self.stage_combo, settings, "stage")
        bind(self.speed_spin, settings, "interval")
        bind(self.channel_combo, settings, "channel")
        self.set_filters(1)
        self._filter_binding = bind(self.filter_combo, settings, "filter_index")
        settings.events.stage.connect(self._on_stage_changed)
        for name in ("filter_index", "position"):
            getattr(settings.events, name).connect(self._on_step_changed)
        self.start_button.clicked.connect(lambda: self.set_position(0))
        self.back_button.clicked.connect(self._on_back_clicked)
        self.step_button.clicked.connect(self.step)
        self.play_button.toggled.connect(self._on_play_toggled)
        self.all_button.clicked.connect(lambda: self.set_position(None))
        settings.events.interval.connect(self._on_interval_changed)
        self.timer.setInterval(settings.interval)
        self.timer.timeout.connect(self._on_timer_timeout)
        self._update()

    def _on_interval_changed(self, interval: int) -> None:
        self.timer.setInterval(interval)

    def stage(self) -> str:
        """``convolution``, ``relu`` or ``pooling``."""
        return self.settings.stage

    def filter_index(self) -> int:
        """The filter (output channel) being stepped through."""
        return self.settings.filter_index

    def position(self) -> int | None:
        """The position shown (row-major), or None when the whole result is shown: the lesson's,
        within the positions the stage has."""
        position = self.settings.position
        if position is None or not self._count:
            return None
        return min(position, self._count - 1)

    def set_filters(self, count: int) -> None:
        """Offer ``count`` filters to step through (the choice hides for one)."""
        self.filter_combo.blockSignals(True)
        self.filter_combo.clear()
        for i in range(count):
            self.filter_combo.addItem(f"Filter {i + 1}", i)
        self.filter_combo.blockSignals(False)
        if hasattr(self, "_filter_binding"):
            self._filter_binding.show_value()
        self.filter_combo.setVisible(count > 1)

    def set_count(self, count: int, *, keep: bool = False) -> None:
        """The number of positions of the stage; a position past the end moves to the last
        (unless ``keep``: while the image the lesson names is read, its position waits)."""
        self._count = count
        position = self.settings.position
        if not keep and position is not None and position >= count:
            self.settings.position = count - 1 if count else None
        self._update()

    def set_position(self, position: int | None) -> None:
        """Go to ``position`` (clamped), or None for the whole result."""
        if position is not None:
            position = min(max(position, 0), self._count - 1) if self._count else None
        if position is None:
            self.play_button.setChecked(False)
        self.settings.position = position

    @Slot()
    def step(self) -> None:
        """One position on (the first, from the whole result); stop playing at the last."""
        position = self.position()
        if position is None:
            self.set_position(0)
        elif position + 1 < self._count:
            self.set_position(position + 1)
        else:
            self.play_button.setChecked(False)

    def is_playing(self) -> bool:
        """True while the timer steps."""
        return self.timer.isActive()

    @Slot()
    def _on_back_clicked(self) -> None:
        self.set_position(max((self.position() or 0) - 1, 0))

    @Slot(bool)
    def _on_play_toggled(self, on: bool) -> None:
        self.play_button.setText("Stop" if on else "Play")
        if on:
            position = self.position()
            if position is None or position + 1 >= self._count:
                self.set_position(0)
            self.timer.start()
        else:
            self.timer.stop()

    @Slot()
    def _on_timer_timeout(self) -> None:
        self.step()

    def _on_stage_changed(self, _stage: str) -> None:
        self.play_button.setChecked(False)
        self._on_step_changed()

    def _on_step_changed(self, *_args: object) -> None:
        self._update()
        self.sig_changed.emit()

    def _update(self) -> None:
        position = self.position()
        if position is None:
            self.position_label.setText(f"{self._count} positions: press Step to go one by one")
        else:
            self.position_label.setText(f"Position {position + 1} of {self._count}")
        for button in (self.back_button, self.start_button):
            button.setEnabled(position is not None and position > 0)
        self.step_button.setEnabled(self._count > 0 and position != self._count - 1)
        self.play_button.setEnabled(self._count > 0)
