"""The Filters tab's settings as plain numpy a learner can read and run: the loops the chapter
describes (slice, multiply, sum, add the bias), then ReLU and 2 × 2 max pooling.

The code starts from ``image``, the (H, W, C) array the tab shows; running it with that array
gives the tab's ``output``, ``relu`` and ``pooled`` (a test runs it).
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np

from filterscope.core.filters.conv import pad_amounts
from filterscope.core.filters.kernels import CHANNEL_NAMES
from filterscope.core.filters.layer import FilterLayer


def _number(value: float) -> str:
    """Whole numbers bare, simple fractions as fractions (1 / 9 is the same float), else repr."""
    value = float(value)
    if value.is_integer():
        return str(int(value))
    fraction = Fraction(value).limit_denominator(100)
    if fraction.numerator / fraction.denominator == value:
        return f"{fraction.numerator} / {fraction.denominator}"
    return repr(value)


def _matrix(weights: np.ndarray, indent: int) -> str:
    """A K x K list of lists, one row a line, numbers right-aligned in columns."""
    texts = [[_number(v) for v in row] for row in weights]
    width = max(len(t) for row in texts for t in row)
    rows = ["[" + ", ".join(t.rjust(width) for t in row) + "]" for row in texts]
    return "[" + (",\n" + " " * (indent + 1)).join(rows) + "]"


def numpy_code(layer: FilterLayer, source: str | None = None) -> str:
    """Python that recomputes ``layer`` from ``image`` with numpy alone.

    Args:
        layer: The image's shape, the filters, stride and padding to write out.
        source: Where the image's values come from when they are not pixels (a model's step).

    Returns:
        The code; it defines ``kernels``, ``bias``, ``stride``, ``output``, ``relu``, ``pooled``.
    """
    height, width, channels = layer.image.shape
    k, filters = layer.k, layer.filters
    lines = [
        "import numpy as np",
        "",
        *([f"# image: the {height} x {width} x {channels} pixel values (0 to 255) the tab shows, as floats;",
           "# for an MNIST digit loaded as in the chapter: image = x_train[i][..., None].astype(float)"]
          if source is None else [f"# image: the {height} x {width} x {channels} values the tab shows: {source}"]),
        f"kernels = np.zeros(({k}, {k}, {channels}, {filters}))  # rows, columns, input channels, filters",
    ]
    for f in range(filters):
        for c in range(channels):
            head = f"kernels[:, :, {c}, {f}] = "
            name = f"  # filter {f + 1}" + (f", {CHANNEL_NAMES[c]}" if channels == 3 else "")
            lines.append(head + _matrix(layer.kernels[:, :, c, f], len(head)) + name)
    lines += [f"bias = np.array([{', '.join(_number(b) for b in layer.bias)}])",
              f"stride = {layer.stride}", ""]
    (top, bottom), (left, right) = (pad_amounts(n, k, layer.stride, layer.padding)
                                    for n in (height, width))
    if layer.padding == "same":
        lines += ["# 'same' padding: zeros around the image, as TensorFlow adds them (an odd one "
                  "goes at the bottom or right)",
                  f"image = np.pad(image, (({top}, {bottom}), ({left}, {right}), (0, 0)))"]
    else:
        lines.append("# 'valid' padding: no zeros; the window stays inside the image")
    lines += [
        "",
        "k = kernels.shape[0]",
        "out_h = (image.shape[0] - k) // stride + 1",
        "out_w = (image.shape[1] - k) // stride + 1",
        "output = np.zeros((out_h, out_w, kernels.shape[3]))",
        "for f in range(kernels.shape[3]):  # every filter gives one channel of the output",
        "    for row in range(out_h):",
        "        for col in range(out_w):",
        "            top, left = row * stride, col * stride",
        "            window = image[top:top + k, left:left + k]  # all channels at once",
        "            output[row, col, f] = np.sum(window * kernels[:, :, :, f]) + bias[f]",
        "",
        "relu = np.maximum(output, 0)  # negative responses become 0",
        "",
        "# 2 x 2 max pooling, Keras's MaxPooling2D(2): pools side by side, a leftover row or "
        "column dropped",
        "ph, pw = relu.shape[0] // 2, relu.shape[1] // 2",
        "pooled = relu[:2 * ph, :2 * pw].reshape(ph, 2, pw, 2, relu.shape[2]).max(axis=(1, 3))",
        "",
    ]
    return "\n".join(lines)
