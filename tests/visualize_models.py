"""Models for the visualisation tests: a real run trained on the built-in MNIST, small Keras
models with particular heads, and model files that safe mode must refuse."""

from __future__ import annotations

import threading
import warnings
from pathlib import Path
from types import SimpleNamespace

import numpy as np
from filterscope.core.base.jobs import NullReport
from filterscope.core.data.source import BuiltinSource

RUN_NAME = "mnist-1-epoch"
N_TRAIN, N_VAL = 600, 100


def train_mnist_run(out_dir: Path) -> Path:
    """The chapter's ConvNet trained for one epoch on 600 built-in MNIST digits (a random,
    seeded sample of the 5,000 that ship with the app), saved as a run folder by ``train()``."""
    import tensorflow as tf
    from filterscope.core.data.sources import open_source
    from filterscope.core.training.data_plan import DataSpec
    from filterscope.core.training.runs import RunSpec
    from filterscope.core.training.train import train

    digits = open_source(BuiltinSource("mnist"), report=NullReport(), cancel=threading.Event())
    chosen = np.random.default_rng(0).permutation(len(digits))[:N_TRAIN + N_VAL]
    x = digits.pixels[chosen].reshape(-1, 28, 28, 1).astype(np.float32) / 255.0
    y = digits.labels[chosen].astype(np.int32)

    def stream(part: slice):
        return tf.data.Dataset.from_tensor_slices((x[part], y[part])).batch(16)

    inputs = SimpleNamespace(train=stream(slice(0, N_TRAIN)), val=stream(slice(N_TRAIN, None)),
                             classes=list(digits.classes), input_shape=(28, 28, 1), n_train=N_TRAIN,
                             n_val=N_VAL)
    run = RunSpec(DataSpec("builtin:mnist"), epochs=1, batch_size=16, name=RUN_NAME)
    result = train(run, out_dir, report=NullReport(), cancel=threading.Event(), inputs=inputs)
    return result.run_dir


def mnist_digit(label: int) -> np.ndarray:
    """A built-in MNIST digit of class ``label`` (28x28 uint8), from the end of the set."""
    from filterscope.core.data.sources import open_source

    digits = open_source(BuiltinSource("mnist"), report=NullReport(), cancel=threading.Event())
    return digits.pixels[np.flatnonzero(digits.labels == label)[-1]]


def rgb_model(size: int = 24, classes: int = 3, seed: int = 0):
    """A small functional RGB ConvNet whose last layer is a Dense with a softmax inside it (as
    keras.applications models end), ReLU inside its convolutions."""
    import keras

    keras.utils.set_random_seed(seed)
    inputs = keras.Input((size, size, 3), name="image")
    x = keras.layers.Conv2D(8, 3, activation="relu", name="conv1")(inputs)
    x = keras.layers.MaxPooling2D(name="pool1")(x)
    x = keras.layers.Conv2D(16, 3, activation="relu", name="conv2")(x)
    x = keras.layers.GlobalAveragePooling2D(name="gap")(x)
    outputs = keras.layers.Dense(classes, activation="softmax", name="predictions")(x)
    return keras.Model(inputs, outputs, name="rgb")


def colour_model(size: int = 150, classes: int = 4, seed: int = 0):
    """An RGB ConvNet with what the network view must get right, trained one epoch on random
    pictures: a stride-2 'same' convolution on an input larger than the Filters tab's crop (odd
    'same' padding: the extra zero at the bottom and right), its own ReLU layer and pooling, a
    convolution with ReLU inside, batch normalisation before a ReLU layer, and a softmax."""
    import keras

    keras.utils.set_random_seed(seed)
    L = keras.layers
    inputs = keras.Input((size, size, 3), name="image")
    x = L.Conv2D(6, 3, strides=2, padding="same", activation="relu", name="conv_a")(inputs)
    x = L.Conv2D(8, 3, padding="same", name="conv_b")(x)
    x = L.Activation("relu", name="relu_a")(x)
    x = L.MaxPooling2D(name="pool_a")(x)
    x = L.Conv2D(8, 5, strides=2, padding="same", name="conv_c")(x)
    x = L.BatchNormalization(name="batchnorm")(x)
    x = L.ReLU(name="relu_b")(x)
    x = L.MaxPooling2D(name="pool_b")(x)
    x = L.Flatten(name="flatten")(x)
    outputs = L.Dense(classes, activation="softmax", name="predictions")(x)
    model = keras.Model(inputs, outputs, name="colour")
    model.compile("adam", "sparse_categorical_crossentropy")
    rng = np.random.default_rng(seed)
    model.fit(rng.random((16, size, size, 3), np.float32), rng.integers(0, classes, 16), batch_size=8,
              epochs=1, verbose=0)
    return model


def loaded(model, name: str = "test", classes: list[str] | None = None):
    """A LoadedModel around an in-memory model taking [0, 1] images."""
    from filterscope.core.visualize.model_source import LoadedModel, image_input

    return LoadedModel(model, name, "file", image_input(model, name), weights="in memory",
                       classes=classes)


def lambda_model_file(path: Path) -> Path:
    """A .keras file with a Lambda layer (Python code in the file)."""
    import keras

    model = keras.Sequential([keras.Input((8, 8, 1)), keras.layers.Conv2D(2, 3, name="conv"),
                              keras.layers.Lambda(lambda t: t * 2.0, name="double"),
                              keras.layers.Flatten(), keras.layers.Dense(2, activation="softmax")])
    with warnings.catch_warnings():  # Keras saving through np.array() on numpy 2 (see runs.py)
        warnings.filterwarnings("ignore", "__array__ implementation", DeprecationWarning)
        model.save(path)
    return path
