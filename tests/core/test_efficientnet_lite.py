"""EfficientNet-Lite0's ImageNet weights, read from their package without torch, are right: the
Keras stem and first blocks equal a NumPy forward pass on the .pth arrays, batch normalisation's
running means match natural photos (and do not when strides are ignored), and skimage's sample
photos get their ImageNet classes."""

from __future__ import annotations

import numpy as np
import pytest
from filterscope.core.base.opencv import cv2
from filterscope.core.training.base_spec import BaseSpec
from filterscope.core.training.lite_spec import blocks
from filterscope.core.training.model_input import preprocess
from filterscope.core.transfer import pth
from filterscope.core.transfer.models import load_base
from filterscope.core.transfer.package_weights import keras_layers, pth_file
from filterscope.core.transfer.imagenet import imagenet_classes
from numpy.lib.stride_tricks import sliding_window_view

from tests.conftest import SHARED_DATA

NAME = "efficientnet-lite0"
SIDE = 224


@pytest.fixture(scope="module")
def state() -> dict[str, np.ndarray]:
    return pth.read_state_dict(pth_file(NAME))


@pytest.fixture(scope="module")
def model():
    """Lite0 with its classifier, loaded the app's way (converted from the package, offline)."""
    return load_base(BaseSpec(NAME), (SIDE, SIDE, 3), top=True).model


def _square(image: np.ndarray, side: int = SIDE) -> np.ndarray:
    """The centre square, resized: float RGB 0-255."""
    h, w = image.shape[:2]
    s = min(h, w)
    crop = image[(h - s) // 2:(h - s) // 2 + s, (w - s) // 2:(w - s) // 2 + s, :3]
    return cv2.resize(crop, (side, side), interpolation=cv2.INTER_AREA).astype(np.float32)


# --- a NumPy forward pass on the .pth arrays (TensorFlow's "same" padding) -------------------------

def _same(x: np.ndarray, k: int, s: int) -> np.ndarray:
    def pads(n: int) -> tuple[int, int]:
        total = max(k - s, 0) if n % s == 0 else max(k - n % s, 0)
        return total // 2, total - total // 2
    return np.pad(x, (pads(x.shape[0]), pads(x.shape[1]), (0, 0)))


def _windows(x: np.ndarray, k: int, s: int) -> np.ndarray:
    return sliding_window_view(_same(x, k, s), (k, k), axis=(0, 1))[::s, ::s]  # (H, W, C, k, k)


def _conv(x, w, s=1):
    return np.einsum("hwcij,ocij->hwo", _windows(x, w.shape[2], s), w)


def _depthwise(x, w, s):
    return np.einsum("hwcij,cij->hwc", _windows(x, w.shape[2], s), w[:, 0])


def _bn(x, state, key):
    g, b, m, v = (state[f"{key}.{t}"] for t in ("weight", "bias", "running_mean", "running_var"))
    return (x - m) / np.sqrt(v + 1e-3) * g + b


def _relu6(x):
    return np.clip(x, 0.0, 6.0)


def _reference(x: np.ndarray, state: dict, n_blocks: int) -> np.ndarray:
    """Stem and the first ``n_blocks`` MBConv blocks in float64."""
    s = {k: v.astype(np.float64) for k, v in state.items()}
    x = _relu6(_bn(_conv(x, s["_conv_stem.weight"], 2), s, "_bn0"))
    for k, block in enumerate(blocks(NAME)[:n_blocks]):
        key, inputs = f"_blocks.{k}.", x
        if block.expansion != 1:
            x = _relu6(_bn(_conv(x, s[f"{key}_expand_conv.weight"]), s, f"{key}_bn0"))
        x = _relu6(_bn(_depthwise(x, s[f"{key}_depthwise_conv.weight"], block.stride), s, f"{key}_bn1"))
        x = _bn(_conv(x, s[f"{key}_project_conv.weight"]), s, f"{key}_bn2")
        if block.residual:
            x = x + inputs
    return x


@pytest.mark.parametrize("shape", [(SIDE, SIDE), (57, 70)], ids=["224", "odd-57x70"])
def test_the_stem_and_first_blocks_equal_a_numpy_forward_pass(model, state, shape) -> None:
    import keras
    import skimage.data

    x = preprocess(_square(skimage.data.astronaut())[:shape[0], :shape[1]], "lite").astype(np.float64)
    # block2b: expansion, a stride-2 depthwise convolution (asymmetric "same" padding), a residual add.
    want = _reference(x, state, 3)
    if shape != (SIDE, SIDE):  # the classifier fixes the size; the convolutions do not depend on it
        from filterscope.core.transfer.efficientnet import efficientnet_lite

        other = efficientnet_lite(NAME, (*shape, 3))
        other.set_weights([w for layer in other.layers for w in model.get_layer(layer.name).get_weights()])
        probe = keras.Model(other.input, other.get_layer("block2b_add").output)
    else:
        probe = keras.Model(model.input, model.get_layer("block2b_add").output)
    got = probe.predict(x[None].astype(np.float32), verbose=0)[0]
    assert got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=1e-3, atol=2e-3 * np.abs(want).max())


def _bn_errors(model, photos: np.ndarray) -> np.ndarray:
    """Per batch normalisation layer: the median over channels of |mean of its input over
    ``photos`` - running mean| / running standard deviation. (A correlation across channels
    says less: the expansions' running means barely vary across channels.)"""
    import keras

    layers = [layer for layer in model.layers if isinstance(layer, keras.layers.BatchNormalization)]
    probe = keras.Model(model.input, [layer.input for layer in layers])
    sums = [0.0] * len(layers)
    for start in range(0, len(photos), 8):
        outs = probe.predict(photos[start:start + 8], verbose=0)
        sums = [total + o.astype(np.float64).mean(axis=(1, 2)).sum(axis=0) for total, o in zip(sums, outs)]
    return np.array([np.median(np.abs(total / len(photos) - np.asarray(layer.moving_mean))
                               / np.sqrt(np.asarray(layer.moving_variance) + 1e-3))
                     for total, layer in zip(sums, layers)])


@pytest.fixture(scope="module")
def photos() -> np.ndarray:
    if not SHARED_DATA.is_dir():
        pytest.skip("../shared/data/plant-seedlings-150 is not on this machine")
    files = sorted(SHARED_DATA.glob("*/*"))[::3][:32]
    images = [cv2.cvtColor(cv2.imread(str(f)), cv2.COLOR_BGR2RGB) for f in files]
    return preprocess(np.stack([_square(i) for i in images]), "lite")


def test_batchnorm_running_means_match_natural_photos(model, photos) -> None:
    errors = _bn_errors(model, photos)
    assert len(errors) == 49 and errors.max() < 0.5, np.round(errors, 2)


def test_a_reader_that_ignores_strides_fails_the_batchnorm_check(model, photos, monkeypatch) -> None:
    def contiguous(ref: pth._TensorRef) -> np.ndarray:  # the classic bug: data read in size order
        return ref.storage.data[ref.offset:ref.offset + int(np.prod(ref.size))].reshape(ref.size).copy()

    monkeypatch.setattr(pth._TensorRef, "array", contiguous)
    wrong = pth.read_state_dict(pth_file(NAME))
    from filterscope.core.transfer.efficientnet import efficientnet_lite

    bad = efficientnet_lite(NAME, (SIDE, SIDE, 3), include_top=True)
    for layer, weights in keras_layers(wrong, NAME, top=True):
        bad.get_layer(layer).set_weights([w for _, w in weights])
    errors = _bn_errors(bad, photos)
    assert np.mean(errors > 0.5) > 0.9, np.round(errors, 2)


@pytest.mark.parametrize("photo, expected", [
    ("chelsea", {"Egyptian Mau"}), ("coffee", {"espresso"}), ("motorcycle", {"moped", "motor scooter"}),
])
def test_skimage_photos_get_their_imagenet_classes(model, photo: str, expected: set[str]) -> None:
    import skimage.data

    image = skimage.data.stereo_motorcycle()[0] if photo == "motorcycle" else getattr(skimage.data, photo)()
    probabilities = model.predict(preprocess(_square(image)[None], "lite"), verbose=0)[0]
    names = imagenet_classes()
    top5 = [names[i] for i in np.argsort(probabilities)[::-1][:5]]
    assert expected & set(top5), top5
