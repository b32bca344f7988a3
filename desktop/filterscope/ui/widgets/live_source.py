"""The Live tab's source: a camera by its number, or a video file (with real-time playback)."""

from __future__ import annotations

from PySide6.QtCore import Slot
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QWidget,
)

from filterscope.core.live.settings import CAMERA, LiveSettings
from filterscope.ui.binding import bind

VIDEO_FILTER = "Videos (*.mp4 *.avi *.mov *.mkv *.webm *.m4v *.mpg *.mpeg *.wmv);;All files (*)"


class LiveSourceWidget(QWidget):
    """Source kind, camera number or video file, real time; every control bound to ``settings``."""

    def __init__(self, settings: LiveSettings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._settings = settings
        self.kind_combo = QComboBox()
        self.camera_spin = QSpinBox()
        self.video_edit = QLineEdit()
        self.video_edit.setPlaceholderText("a video file")
        self.browse_button = QPushButton("Choose…")
        self.realtime_check = QCheckBox()
        for widget, name in ((self.kind_combo, "kind"), (self.camera_spin, "camera"),
                             (self.video_edit, "video"), (self.realtime_check, "realtime")):
            bind(widget, settings, name)
        video_row = QWidget()
        row = QHBoxLayout(video_row)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.video_edit, 1)
        row.addWidget(self.browse_button)
        self.form = QFormLayout(self)
        self.form.setContentsMargins(0, 0, 0, 0)
        self.form.addRow("Source", self.kind_combo)
        self.form.addRow("Camera", self.camera_spin)
        self.form.addRow("Video", video_row)
        self.form.addRow(self.realtime_check)
        self.browse_button.clicked.connect(self._on_browse_clicked)
        settings.events.kind.connect(self._show_kind)
        self._show_kind()

    def _show_kind(self) -> None:
        """Only the rows of the chosen kind of source."""
        camera = self._settings.kind == CAMERA
        self.form.setRowVisible(1, camera)
        self.form.setRowVisible(2, not camera)
        self.form.setRowVisible(3, not camera)

    @Slot()
    def _on_browse_clicked(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open a video", self._settings.video, VIDEO_FILTER)
        if path:
            self._settings.video = path
