"""The one place OpenCV is imported: ``from filterscope.core.base.opencv import cv2``.

opencv-python (the GUI build, which imgaug requires) ships a Qt 5 of its own, and its
``cv2/__init__`` points ``QT_QPA_PLATFORM_PLUGIN_PATH`` at its Qt 5 plugin folder and
``QT_QPA_FONTDIR`` at a font folder it does not ship. The app's Qt 6 would then look for its
platform plugin among Qt 5 ones first; in a bundle that carries both Qt builds (PyInstaller) that
is the well-known "could not load the Qt platform plugin" failure. Importing cv2 here puts every
``QT_*`` variable back as it was; any later ``import cv2`` (imgaug's too) takes the module from
``sys.modules`` without running that code again. An import-linter contract keeps other modules
from importing cv2 themselves.
"""

from __future__ import annotations

import os
from pathlib import Path


def _qt_variables() -> dict[str, str]:
    return {name: value for name, value in os.environ.items() if name.startswith("QT_")}


def _inside(value: str, folder: Path) -> bool:
    try:
        return Path(value).resolve().is_relative_to(folder)
    except (OSError, ValueError):
        return False


def _restore(before: dict[str, str], cv2_folder: Path) -> None:
    """Put the ``QT_*`` variables back; a value inside cv2's folder came from an earlier
    ``import cv2`` (a test's, a plugin's) and is dropped."""
    for name in set(_qt_variables()) - set(before):
        del os.environ[name]
    for name, value in before.items():
        if _inside(value, cv2_folder):
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


_before = _qt_variables()
import cv2  # noqa: E402  (the point of this module: after the snapshot)

_restore(_before, Path(cv2.__file__).resolve().parent)

__all__ = ["cv2"]
