"""A row of small images, one per class, each shown masked with the current settings."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import QHBoxLayout, QScrollArea, QToolButton, QWidget

from filterscope.core.data.thumbnails import ClassExample
from filterscope.core.masking.colordist import MaskParams, MaskSession
from filterscope.ui.widgets.image_view import to_qimage


class ExampleStripWidget(QScrollArea):
    """Shows where the mask eats leaves across classes at a glance; click to pick one."""

    sig_example_clicked = Signal(int)
    """Dataset index of the clicked example."""

    def __init__(self, parent: QWidget | None = None, *, size: int = 96) -> None:
        super().__init__(parent)
        self._size = size
        self._sessions: list[tuple[int, str, MaskSession]] = []
        self._buttons: list[QToolButton] = []
        self._inner = QWidget()
        self._row = QHBoxLayout(self._inner)
        self._row.setContentsMargins(2, 2, 2, 2)
        self._row.addStretch(1)
        self.setWidget(self._inner)
        self.setWidgetResizable(True)
        self.setFixedHeight(size + 58)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)

    def set_examples(self, examples: list[ClassExample]) -> None:
        """Replace the examples: one small image per class."""
        for button in self._buttons:
            button.deleteLater()
        self._buttons = []
        self._sessions = [(e.item, e.name, MaskSession(e.rgb)) for e in examples]
        for position, (index, name, _session) in enumerate(self._sessions):
            button = QToolButton()
            button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextUnderIcon)
            button.setIconSize(QPixmap(self._size, self._size).size())
            button.setText(name if len(name) <= 16 else name[:15] + "…")
            button.setToolTip(name)
            button.clicked.connect(lambda _=False, i=index: self.sig_example_clicked.emit(i))
            self._row.insertWidget(position, button)
            self._buttons.append(button)

    def apply(self, params: MaskParams) -> list[float]:
        """Mask every example with ``params``; returns their kept fractions."""
        kept = []
        for button, (_index, _name, session) in zip(self._buttons, self._sessions):
            result = session.render(params)
            image = result.image
            if image.ndim == 2:
                image = np.dstack([image] * 3)
            button.setIcon(QPixmap.fromImage(to_qimage(np.ascontiguousarray(image[..., :3]))))
            kept.append(result.kept)
        return kept
