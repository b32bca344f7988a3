"""Fixtures for pretrained bases: small colour datasets and weights files in Keras's own layout.

No test downloads weights: a "Keras cache" or "user's" weights file is a random-weights base
saved the way Keras's released files are (legacy HDF5, one group per layer), under the name
Keras gives the real one.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
from PIL import Image

COLOURS = ((200, 50, 40), (40, 180, 60), (50, 60, 200), (200, 200, 40))


def colour_folder(root: Path, n_classes: int = 3, per_class: int = 6, size: int = 40,
                  seed: int = 0) -> Path:
    """One class per colour (noisy patches), PNGs of ``size`` px, easy to tell apart."""
    rng = np.random.default_rng(seed)
    for c in range(n_classes):
        folder = root / f"class{c}"
        folder.mkdir(parents=True)
        colour = np.array(COLOURS[c % len(COLOURS)]) // (1 + c // len(COLOURS))
        for i in range(per_class):
            noise = rng.integers(-40, 40, (size, size, 3))
            Image.fromarray(np.clip(colour + noise, 0, 255).astype(np.uint8)).save(folder / f"{i}.png")
    return root


def write_weights(model, path: Path) -> Path:
    """Save ``model``'s weights as Keras's application files are: legacy HDF5, layer by layer."""
    import h5py
    from keras.src.legacy.saving import legacy_h5_format

    path.parent.mkdir(parents=True, exist_ok=True)
    with warnings.catch_warnings(), h5py.File(path, "w") as handle:
        # Keras reads TensorFlow variables through np.array(); NumPy 2 warns once per variable.
        warnings.filterwarnings("ignore", "__array__ implementation", DeprecationWarning)
        legacy_h5_format.save_weights_to_hdf5_group(handle, model)
    return path


def base_weights_file(name: str, path: Path, *, top: bool = False, side: int = 32) -> tuple[Path, object]:
    """A random-weights base (``keras.applications``, weights=None) saved to ``path``; returns the
    file and the model."""
    from filterscope.core.transfer.bases import keras_base

    model = keras_base(name, (side, side, 3), top=top)
    return write_weights(model, path), model
