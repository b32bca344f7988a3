"""Tiny trained runs for the results tests (core and CLI): real training, one epoch, small images.

``make_photos`` writes a dataset split into train/, val/ and test/ folders of generated photos
(classes told apart by colour); ``train_run`` trains the logistic template on it for one epoch
with :func:`filterscope.core.training.train.train`, as the Train tab does, and returns the run
folder. ``constant_model`` replaces a run's ``best.keras`` by a model that always answers one
class (the same input shape and classes), for constructed results.
"""

from __future__ import annotations

import shutil
import threading
import warnings
from pathlib import Path

import numpy as np
from filterscope.core.base.jobs import NullReport
from filterscope.core.training.data_spec import DataSpec
from filterscope.core.training.model_spec import templates
from filterscope.core.training.runs import RunSpec
from filterscope.core.training.train import train

from tests.split_tree import make_split_tree

LAYOUT = {"train": {"cat": 8, "dog": 8}, "val": {"cat": 3, "dog": 3}, "test": {"cat": 4, "dog": 3}}


def make_photos(root: Path, layout: dict | None = None) -> Path:
    """A dataset split into train/, val/ and test/ folders under ``root``."""
    make_split_tree(root, layout or LAYOUT)
    return root


def train_run(data: str | Path, out: Path, *, name: str = "tiny", mask: dict | None = None,
              chain: dict | None = None, model: str = "logistic",
              image_size: tuple[int, int] | None = (12, 16), epochs: int = 1) -> Path:
    """Train ``model`` on ``data`` (a folder, or ``builtin:<id>``) and return the run folder."""
    source = data if isinstance(data, str) else f"folder:{data}"
    run = RunSpec(DataSpec(source, image_size=image_size, mask=mask, chain=chain), templates()[model],
                  epochs=epochs, batch_size=8, name=name)
    result = train(run, out, report=NullReport(), cancel=threading.Event())
    return result.run_dir


def calibrated(run_dir: Path) -> Path:
    """The run with its best model's calibration fitted and saved (as its first evaluation or
    prediction would), so a run shared by many tests is the same whichever of them comes first."""
    from filterscope.core.results.policy import ensure_fitted
    from filterscope.core.training.saved_model import open_model

    job = {"report": NullReport(), "cancel": threading.Event()}
    ensure_fitted(open_model(run_dir, **job), **job)
    return run_dir


def copy_run(run_dir: Path, dest: Path) -> Path:
    """A copy of a run folder (without its evaluations)."""
    shutil.copytree(run_dir, dest, ignore=shutil.ignore_patterns("evaluations"))
    return dest


def constant_model(run_dir: Path, winner: int) -> None:
    """Make the run's best.keras answer class ``winner`` for every image (zero weights, a bias)."""
    import keras

    model = keras.saving.load_model(run_dir / "best.keras", compile=False)
    dense = model.layers[-1] if model.layers[-1].weights else model.layers[-2]
    kernel, bias = dense.get_weights()
    bias = np.full_like(bias, -5.0)
    bias[winner] = 5.0
    dense.set_weights([np.zeros_like(kernel), bias])
    with warnings.catch_warnings():  # Keras 3 + NumPy 2's "__array__ ... copy keyword": harmless
        warnings.simplefilter("ignore", DeprecationWarning)
        model.save(run_dir / "best.keras")


def favour_class(run_dir: Path, winner: int, shift: float = 20.0) -> None:
    """Make the run's best.keras answer class ``winner`` for (almost) every image by raising its
    bias, keeping the weights (so gradients, and Grad-CAM, still see the images)."""
    import keras

    model = keras.saving.load_model(run_dir / "best.keras", compile=False)
    dense = model.layers[-1] if model.layers[-1].weights else model.layers[-2]
    kernel, bias = dense.get_weights()
    bias[winner] += shift
    dense.set_weights([kernel, bias])
    model.save(run_dir / "best.keras")
