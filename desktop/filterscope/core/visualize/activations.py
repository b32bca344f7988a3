"""What a layer makes of an image: its feature maps, and the learned weights of a convolution.

The chapter shows a vertical-line filter's output: strong positive values on one side of a line
and negative ones on the other. Convolutions without a built-in activation (the chapter's models
put ReLU in a layer of its own) give such signed maps, so they are drawn in a diverging colour
map (blue negative, white zero, red positive) on one scale for the whole layer; maps that are
never negative (after a ReLU, a pooling) are drawn in a sequential one.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from filterscope.core.visualize.inputs import PreparedImage, prepare
from filterscope.core.visualize.layers import VisualizeError, conv_layer, layer_table, maps_layer
from filterscope.core.visualize.render import (
    SEQUENTIAL,
    colormap,
    enlarge,
    factor_for,
    mosaic,
    signed_colours,
)
from filterscope.core.visualize.session import VisualSession

TILE_SIDE = 48  # maps and kernels are enlarged to at least this many pixels a side


@dataclass
class ActivationMaps:
    """A layer's feature maps for one image.

    Attributes:
        layer: The layer's name.
        maps: (h, w, channels) float32, the layer's output for the image.
        image: The image as fed (see :class:`~filterscope.core.visualize.inputs.PreparedImage`).
    """

    layer: str
    maps: np.ndarray
    image: PreparedImage

    @property
    def signed(self) -> bool:
        """True when some values are negative (drawn in a diverging colour map)."""
        return bool((self.maps < 0).any())

    def tiles(self, limit: int | None = None) -> np.ndarray:
        """(N, side, side', 3) uint8: the first ``limit`` maps coloured on one shared scale."""
        maps = np.moveaxis(self.maps, -1, 0)[:limit]
        vmax = float(np.abs(self.maps).max()) or 1.0
        coloured = signed_colours(maps, vmax) if self.signed else colormap(maps, SEQUENTIAL, 0.0, vmax)
        factor = factor_for(min(self.maps.shape[:2]), TILE_SIDE)
        return np.stack([enlarge(tile, factor) for tile in coloured])

    def picture(self, limit: int | None = None, columns: int | None = None) -> np.ndarray:
        """The maps as one mosaic."""
        return mosaic(self.tiles(limit), columns=columns, background=255)


def activation_maps(session: VisualSession, image: np.ndarray, layer: str) -> ActivationMaps:
    """The feature maps of ``layer`` for ``image`` fed as in training.

    Raises:
        VisualizeError: No such layer, or its output is not feature maps.
    """
    maps_layer(session.model, layer)
    cut = session.cut(("layer", layer), lambda: session.output_of(layer))
    prepared = prepare(session.loaded, image)
    maps = np.asarray(cut(prepared.batch, training=False))[0]
    return ActivationMaps(layer, maps.astype(np.float32), prepared)


def maps_layers(session: VisualSession) -> list[str]:
    """Names of the layers with feature maps, in order (the choices for activation maps)."""
    return [row.name for row in layer_table(session.model) if row.maps]


@dataclass
class FilterWeights:
    """A convolution's learned kernels as small pictures.

    Attributes:
        layer: The layer's name.
        kernels: (kh, kw, in, out) float32 as Keras keeps them.
        colour: True when each kernel is drawn as one RGB picture (the first layer of an RGB
            model); otherwise each (input channel, filter) slice is drawn in a diverging map.
        vmax: The largest weight magnitude: the scale of every picture.
    """

    layer: str
    kernels: np.ndarray
    colour: bool
    vmax: float

    def tiles(self, limit: int | None = None, channels: int = 1) -> np.ndarray:
        """(N, side, side, 3) uint8: one per filter (colour) or per filter and input channel
        (the first ``channels`` of them), enlarged so a 3x3 kernel stays visible."""
        kernels = np.moveaxis(self.kernels, -1, 0)[:limit]  # (out, kh, kw, in)
        if self.colour:
            pictures = np.clip(0.5 + kernels / (2 * self.vmax), 0, 1)
            coloured = (pictures * 255 + 0.5).astype(np.uint8)
        else:
            slices = np.moveaxis(kernels[..., :channels], -1, 1).reshape(-1, *kernels.shape[1:3])
            coloured = signed_colours(slices, self.vmax)
        factor = factor_for(min(self.kernels.shape[:2]), TILE_SIDE)
        return np.stack([enlarge(tile, factor) for tile in coloured])

    def picture(self, limit: int | None = None, channels: int = 1) -> np.ndarray:
        """The kernels as one mosaic (a row per filter when several channels are shown)."""
        columns = None if self.colour or channels == 1 else min(channels, self.kernels.shape[2])
        return mosaic(self.tiles(limit, channels), columns=columns, background=255)


def filter_weights(session: VisualSession, layer: str | None = None) -> FilterWeights:
    """The kernels of ``layer`` (default: the first convolution).

    The first layer of an RGB model is drawn in colour, 0.5 gray for a zero weight, so a filter
    that looks for a red-to-green edge shows it; VGG16's kernels act on BGR input and are turned
    to RGB for the picture.

    Raises:
        VisualizeError: No such layer, not a convolution, or a model without one.
    """
    rows = [r.name for r in layer_table(session.model) if r.conv]
    if layer is None:
        if not rows:
            raise VisualizeError("the model has no convolution layer")
        layer = rows[0]
    conv = conv_layer(session.model, layer)
    kernel = getattr(conv, "kernel", None)  # depthwise and separable convolutions have two
    kernels = None if kernel is None else np.asarray(kernel, np.float32)
    if kernels is None or kernels.ndim != 4:
        raise VisualizeError(f"{layer!r} has no 2-D kernels to draw")
    first = layer == rows[0] and session.loaded.input_shape[2] == 3 and kernels.shape[2] == 3
    if first and session.loaded.preprocessing == "caffe":
        kernels = kernels[:, :, ::-1, :]
    vmax = float(np.abs(kernels).max()) or 1.0
    return FilterWeights(layer, kernels, first, vmax)
