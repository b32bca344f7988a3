"""The Mask tab's presets: the chapter's settings, a preset file to load, the settings to save."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Signal, Slot
from PySide6.QtWidgets import QHBoxLayout, QPushButton, QWidget

from filterscope.core.masking.colordist import MaskParamsError, builtin_preset, load_params
from filterscope.core.masking.settings import MaskSettings
from filterscope.ui.presets import ask_open, load_preset_file, save_preset


class MaskPresetsWidget(QWidget):
    """"Chapter preset", "Load…" and "Save…": a preset replaces all of the settings."""

    sig_status = Signal(str)
    """A line for the main window's status bar."""

    def __init__(self, settings: MaskSettings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._settings = settings
        self.chapter_button = QPushButton("Chapter preset")
        self.load_button = QPushButton("Load…")
        self.save_button = QPushButton("Save…")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        for widget in (self.chapter_button, self.load_button, self.save_button):
            layout.addWidget(widget)
        self.chapter_button.clicked.connect(self._on_chapter_clicked)
        self.load_button.clicked.connect(self._on_load_clicked)
        self.save_button.clicked.connect(self._on_save_clicked)

    def load(self, path: Path) -> bool:
        """Load a preset file; on any problem say what and keep the current settings."""
        params = load_preset_file(self, "Mask preset", load_params, MaskParamsError, path)
        if params is None:
            return False
        self._settings.use(params)
        self.sig_status.emit(f"Loaded mask preset {path.name}")
        return True

    @Slot()
    def _on_chapter_clicked(self) -> None:
        self._settings.use(builtin_preset("chapter"))

    @Slot()
    def _on_load_clicked(self) -> None:
        path = ask_open(self, "Mask preset")
        if path:
            self.load(path)

    @Slot()
    def _on_save_clicked(self) -> None:
        save_preset(self, "Mask preset", self._settings.params.to_json(), "mask.json")
