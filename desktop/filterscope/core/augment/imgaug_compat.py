"""Import imgaug 0.4 on numpy 2.

imgaug 0.4.0 (and its forks) use names numpy 2 removed: ``np.sctypes`` and the aliases
``np.bool``, ``np.int``, ``np.float``, ``np.complex``, ``np.object``, ``np.str``. Restoring them
before the first import makes every augmenter the app offers work; nothing else is patched.
Import ``iaa`` from here, never imgaug directly.
"""

from __future__ import annotations

import numpy as np

from filterscope.core.base.opencv import cv2  # noqa: F401  (cleanly, before imgaug imports it)

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
import imgaug  # noqa: E402  (imgaug's own cv2 import finds the clean one imported above)
import imgaug.augmenters as iaa  # noqa: E402

__all__ = ["iaa", "imgaug"]
