"""The Mask tab's settings as plain numpy and OpenCV a learner can read and run.

The app computes the chapter's redmean distance through lookup tables and cleans the mask with a
box-count vote (both faster); the code written here does it the readable way, the chapter's
formula on whole arrays and ``cv2.medianBlur``, and gives the same pixels (a test runs it
against :class:`~filterscope.core.masking.colordist.MaskSession`).
"""

from __future__ import annotations

from filterscope.core.masking.colordist import MaskParams

_LOAD = ["# image: the RGB uint8 photo the tab shows; from a file:",
         "# image = cv2.cvtColor(cv2.imread('leaf.png'), cv2.COLOR_BGR2RGB)"]

_REDMEAN = [
    "def distance(image, target):",
    "    \"\"\"The chapter's low-cost 'redmean' RGB distance of every pixel to one colour.\"\"\"",
    "    r, g, b = (image[..., i].astype(np.int64) - target[i] for i in range(3))",
    "    rmean = (image[..., 0].astype(np.int64) + target[0]) // 2",
    "    return (((512 + rmean) * r * r) >> 8) + 4 * g * g + (((767 - rmean) * b * b) >> 8)",
]

_CIELAB = [
    "def lab(image):",
    "    \"\"\"CIELAB: L from 0 to 100, a and b about -128 to 127.\"\"\"",
    "    return cv2.cvtColor(image.astype(np.float32) / 255.0, cv2.COLOR_RGB2Lab)",
    "",
    "",
    "def distance(image, target):",
    "    \"\"\"CIE76 delta-E (perceptual) of every pixel to one colour.\"\"\"",
    "    diff = lab(image) - lab(np.array(target, np.uint8).reshape(1, 1, 3))[0, 0]",
    "    return np.sqrt(np.einsum('...c,...c->...', diff, diff))",
]


def _threshold(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def _body(params: MaskParams) -> list[str]:
    """The lines of ``mask_image(image) -> (out, kept)`` for the params' output mode."""
    median = params.median
    combine = "np.logical_or" if params.combine == "any" else "np.logical_and"
    rule = "near ANY target" if params.combine == "any" else "near EVERY target"
    lines = ["def mask_image(image):",
             "    \"\"\"The output image and the mask (True = kept) of an RGB uint8 image.\"\"\"",
             f"    # a pixel is kept when it is {rule}",
             "    near = [distance(image, rgb) <= threshold for rgb, threshold in TARGETS]",
             f"    raw = {combine}.reduce(near)"]
    if params.output == "chapter":
        lines += ["    # the chapter: black out the far pixels, then a median over the colour image",
                  "    out = image.copy()", "    out[~raw] = 0"]
        if median > 1:
            lines.append(f"    out = cv2.medianBlur(out, {median})")
        return lines + ["    return out, out.any(axis=2)"]
    if median > 1:
        lines += [f"    # clean the mask: the {median} x {median} median of the kept / removed pixels",
                  f"    kept = cv2.medianBlur(raw.astype(np.uint8) * 255, {median}) > 0"]
    else:
        lines.append("    kept = raw")
    if params.output == "mask":
        return lines + ["    return kept.astype(np.uint8) * 255, kept"]
    lines.append("    out = cv2.bitwise_and(image, image, mask=kept.astype(np.uint8))  # far pixels black")
    if params.output == "alpha":
        lines.append("    out = np.dstack([out, kept.astype(np.uint8) * 255])  # far pixels transparent")
    return lines + ["    return out, kept"]


def mask_function(params: MaskParams) -> list[str]:
    """Lines defining ``TARGETS``, ``distance`` and ``mask_image`` (no imports), for code that
    masks images as ``params`` does (the Results code reuses them for a run's mask)."""
    targets = ",\n".join(f"    ({t.rgb}, {_threshold(t.threshold)})" for t in params.targets)
    unit = "redmean units" if params.distance == "redmean" else "delta-E"
    lines = [f"TARGETS = [  # (R, G, B) to keep, and how far a pixel may be from it ({unit})",
             targets, "]", "", ""]
    lines += _REDMEAN if params.distance == "redmean" else _CIELAB
    return lines + ["", ""] + _body(params)


def mask_code(params: MaskParams) -> str:
    """Python that masks ``image`` as the Mask tab does with ``params``.

    Args:
        params: The tab's settings.

    Returns:
        The code; it defines ``mask_image`` and computes ``out`` (the tab's Result) and ``kept``
        (its Mask, True = kept) from ``image``.
    """
    lines = ["import cv2", "import numpy as np", "", *_LOAD, "", *mask_function(params), "", "",
             "out, kept = mask_image(image)",
             "print(f'Kept: {100 * kept.mean():.1f} % of pixels')", ""]
    return "\n".join(lines)
