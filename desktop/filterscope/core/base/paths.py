"""Where Filterscope keeps its own files (never inside a user's dataset)."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs


def data_dir() -> Path:
    """The app's data folder: built-in datasets, downloads, caches.

    ``FILTERSCOPE_DATA_DIR`` overrides the platform default (tests and portable installs use it).
    """
    override = os.environ.get("FILTERSCOPE_DATA_DIR")
    path = Path(override) if override else Path(platformdirs.user_data_dir("Filterscope", False))
    path.mkdir(parents=True, exist_ok=True)
    return path


def keras_home() -> Path:
    """Keras's cache root (``KERAS_HOME`` or ``~/.keras``), where ``datasets/mnist.npz`` lives."""
    override = os.environ.get("KERAS_HOME")
    return Path(override) if override else Path.home() / ".keras"
