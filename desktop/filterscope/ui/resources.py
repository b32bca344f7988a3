"""Access to the shipped resources (icons), through importlib.resources so that an installed
wheel, an editable install and a frozen build all find them."""

from __future__ import annotations

from importlib.resources import as_file, files

from PySide6.QtGui import QIcon


def icon(name: str) -> QIcon:
    """The icon ``resources/icons/<name>.svg``; rendered to pixmaps now, so no file stays open."""
    with as_file(files("filterscope.resources") / "icons" / f"{name}.svg") as path:
        source = QIcon(str(path))
        result = QIcon()
        for size in (16, 24, 32, 48, 64, 128, 256):
            result.addPixmap(source.pixmap(size, size))
    return result
