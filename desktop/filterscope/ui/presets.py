"""Load and save JSON presets (mask settings, augmentation chains) with dialogs and clear errors."""

from __future__ import annotations

from pathlib import Path
from typing import Callable, TypeVar

from PySide6.QtWidgets import QFileDialog, QMessageBox, QWidget

from filterscope.core.base.fileio import atomic_write_json

T = TypeVar("T")


def load_preset_file(parent: QWidget, what: str, loader: Callable[[Path], T],
                     errors: type[Exception], path: Path) -> T | None:
    """``loader(path)``, or None after telling the user what is wrong (current settings kept)."""
    try:
        return loader(path)
    except errors as exc:
        QMessageBox.warning(parent, f"{what} not loaded", f"{exc}\n\nThe current settings are kept.")
        return None


def ask_open(parent: QWidget, what: str) -> Path | None:
    """A JSON file the user picks, or None."""
    path, _ = QFileDialog.getOpenFileName(parent, f"Load {what.lower()}", "", f"{what} (*.json)")
    return Path(path) if path else None


def save_preset(parent: QWidget, what: str, data: dict, suggested: str) -> None:
    """Ask where, then write ``data`` as JSON atomically; an OS error is shown, not raised."""
    path, _ = QFileDialog.getSaveFileName(parent, f"Save {what.lower()}", suggested, f"{what} (*.json)")
    if path:
        try:
            atomic_write_json(path, data)
        except OSError as exc:
            QMessageBox.warning(parent, f"{what} not saved", f"{path}: {exc.strerror or exc}")
