"""The live view's top classes as bars: a class name over a bar of its probability, best first."""

from __future__ import annotations

from typing import Sequence

from PySide6.QtWidgets import QLabel, QProgressBar, QVBoxLayout, QWidget

from filterscope.core.base.formats import percent

STEPS = 1000  # a bar's resolution: 0.1 %


class PredictionBarsWidget(QWidget):
    """``count`` rows of a class name and a bar; empty rows say nothing."""

    def __init__(self, count: int = 3, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.names: list[QLabel] = []
        self.bars: list[QProgressBar] = []
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        for _ in range(count):
            name, bar = QLabel(), QProgressBar()
            name.setWordWrap(True)  # ImageNet's names are long ("German shepherd, police dog...")
            bar.setRange(0, STEPS)
            layout.addWidget(name)
            layout.addWidget(bar)
            self.names.append(name)
            self.bars.append(bar)
        layout.addStretch(1)
        self.clear()

    def set_top(self, classes: Sequence[str], probabilities: Sequence[float]) -> None:
        """Show the classes and their probabilities, best first."""
        for i, (name, bar) in enumerate(zip(self.names, self.bars)):
            if i < len(classes):
                name.setText(classes[i])
                bar.setValue(round(STEPS * min(max(probabilities[i], 0.0), 1.0)))
                bar.setFormat(percent(probabilities[i]))
            else:
                name.setText("")
                bar.setValue(0)
                bar.setFormat("")

    def clear(self) -> None:
        """No prediction shown."""
        self.set_top((), ())

    def shown(self) -> list[tuple[str, int]]:
        """(class, bar value in thousandths) of the rows shown, for tests and the status line."""
        return [(n.text(), b.value()) for n, b in zip(self.names, self.bars) if n.text()]
