"""Import imgaug 0.4 on numpy 2.

imgaug 0.4.0 (and its forks) use names numpy 2 removed: ``np.sctypes`` and the aliases
``np.bool``, ``np.int``, ``np.float``, ``np.complex``, ``np.object``, ``np.str``. Restoring them
before the first import makes every augmenter the app offers work; nothing else is patched.
Import ``iaa`` from here, never imgaug directly.
"""

from __future__ import annotations

import os

import numpy as np

_ALIASES = {"bool": bool, "int": int, "float": float, "complex": complex, "object": object, "str": str}


def _restore_numpy_names() -> None:
    for name, value in _ALIASES.items():
        if name not in np.__dict__:
            setattr(np, name, value)
    if "sctypes" not in np.__dict__:
        np.sctypes = {
            "int": [np.int8, np.int16, np.int32, np.int64],
            "uint": [np.uint8, np.uint16, np.uint32, np.uint64],
            "float": [np.float16, np.float32, np.float64],
            "complex": [np.complex64, np.complex128],
            "others": [bool, object, bytes, str, np.void],
        }


_restore_numpy_names()
# imgaug imports cv2, whose GUI build points QT_QPA_PLATFORM_PLUGIN_PATH at its own Qt plugins.
_qt_plugin_path = os.environ.get("QT_QPA_PLATFORM_PLUGIN_PATH")
import imgaug  # noqa: E402
import imgaug.augmenters as iaa  # noqa: E402

if _qt_plugin_path is None:
    os.environ.pop("QT_QPA_PLATFORM_PLUGIN_PATH", None)
else:
    os.environ["QT_QPA_PLATFORM_PLUGIN_PATH"] = _qt_plugin_path

__all__ = ["iaa", "imgaug"]
