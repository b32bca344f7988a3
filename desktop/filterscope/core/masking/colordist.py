"""The chapter's colour-distance ("colordist") background mask, fast enough for live sliders.

The chapter blacks out every pixel whose low-cost "redmean" RGB distance to each of four leaf
greens exceeds that green's threshold, then runs ``cv2.medianBlur(img, 9)`` over the colour image.
Here the distance is computed exactly as the chapter does (integer arithmetic, ``>> 8``) but
through lookup tables, one distance map per target is cached so that moving a threshold is only
a comparison, and the 9x9 median of the binary mask is computed as the vote it is (a box count
compared with half the window), which gives the same pixels as a median far faster. The
chapter's own output (median over the masked colour image) stays available, pixel-exact, as the
``chapter`` output mode.
"""

from __future__ import annotations

import functools
import os
import threading
from dataclasses import asdict, dataclass, field, replace

import numpy as np

from filterscope.core.base.fileio import read_preset, read_spec_file
from filterscope.core.base.jobs import Cancel, Report, check_cancel
from filterscope.core.base.settings import (
    SettingError,
    check_declared,
    check_keys,
    check_number,
    declaration,
    setting,
)
from filterscope.core.base.opencv import cv2

DISTANCE_CHOICES = (("redmean", "Redmean RGB (the chapter's)"), ("cielab", "CIELAB ΔE (perceptual)"))
COMBINE_CHOICES = (("any", "Keep if near any target (chapter)"), ("all", "Keep only if near all targets"))
OUTPUT_CHOICES = (("black", "Black background (fast)"), ("chapter", "Chapter: median over the masked image"),
                  ("alpha", "Transparent background"), ("mask", "Mask only"))
DISTANCES, COMBINES, OUTPUTS = (tuple(v for v, _ in c) for c in (DISTANCE_CHOICES, COMBINE_CHOICES,
                                                                  OUTPUT_CHOICES))
MAX_THRESHOLD = {"redmean": 200_000.0, "cielab": 200.0}
DEFAULT_THRESHOLD = {"redmean": 1600.0, "cielab": 12.0}  # a new target's, in each distance's units
MAX_MEDIAN = 31
MASK_FORMAT_VERSION = 1


class MaskParamsError(SettingError):
    """A preset that is malformed or out of range; the message names the field."""


@dataclass(frozen=True)
class Target:
    """A colour to keep, and how far (in the distance's own units) a pixel may be from it."""

    rgb: tuple[int, int, int]
    threshold: float


CHAPTER_TARGETS = (
    Target((71, 86, 38), 1600.0),
    Target((65, 79, 19), 1600.0),
    Target((95, 106, 56), 1600.0),
    Target((56, 63, 43), 500.0),
)


@dataclass(frozen=True)
class MaskParams:
    """Everything that decides a mask; round-trips through JSON.

    Attributes:
        targets: Colours to keep (RGB, as the chapter gives them) with thresholds.
        distance: ``redmean`` (the chapter's formula) or ``cielab`` (CIE76 delta-E, perceptual).
        median: Odd median window to clean the mask; 1 turns cleaning off.
        combine: ``any``: a pixel is kept when it is near any target (the chapter's rule);
            ``all``: only when it is near every target.
        output: ``black`` (background set to black, mask cleaned by the fast vote), ``chapter``
            (the chapter's median over the masked colour image), ``alpha`` (RGBA, background
            transparent) or ``mask`` (the mask itself, white = kept).
    """

    targets: tuple[Target, ...] = CHAPTER_TARGETS
    distance: str = setting("redmean", "Distance", kind=str, choices=DISTANCE_CHOICES,
                            help="How far a pixel's colour is from a target: the chapter's redmean "
                            "formula, or CIELAB ΔE (perceptual; thresholds in ΔE units)")
    median: int = setting(9, "Clean-up", low=1, high=MAX_MEDIAN, step=2,
                          help="An odd median window that removes specks (the chapter uses 9x9); "
                          "1 is off")
    combine: str = setting("any", "Combine", kind=str, choices=COMBINE_CHOICES,
                           help="Keep a pixel near any target (the chapter's rule), or near all")
    output: str = setting("black", "Output", kind=str, choices=OUTPUT_CHOICES,
                          help="What the mask makes of the image")
    name: str = ""
    version: int = field(default=MASK_FORMAT_VERSION)

    def __post_init__(self) -> None:
        check_declared(self, error=MaskParamsError)
        if self.median % 2 == 0:
            raise MaskParamsError("median", f"must be an odd number (a window has a centre), not {self.median}")

    def to_json(self) -> dict:
        """A JSON-able dict."""
        data = asdict(self)
        data["targets"] = [{"rgb": list(t.rgb), "threshold": t.threshold} for t in self.targets]
        return data

    @classmethod
    def from_json(cls, data: object) -> MaskParams:
        """Validate and build from a dict (as read from a preset file).

        Raises:
            MaskParamsError: Naming the bad field and what is allowed.
        """
        if not isinstance(data, dict):
            raise MaskParamsError("a mask preset must be a JSON object")
        check_keys("", data, cls.__dataclass_fields__, error=MaskParamsError)
        distance = declaration(cls, "distance").check("distance", data.get("distance", "redmean"),
                                                     MaskParamsError)
        raw_targets = data.get("targets", [t.__dict__ for t in CHAPTER_TARGETS])
        if not isinstance(raw_targets, list) or not raw_targets:
            raise MaskParamsError("targets must be a non-empty list")
        targets = tuple(_target(i, t, distance) for i, t in enumerate(raw_targets))
        median = data.get("median", 9)
        version = check_number("version", data.get("version", MASK_FORMAT_VERSION), 1, None, integer=True,
                               error=MaskParamsError)
        if version > MASK_FORMAT_VERSION:
            raise MaskParamsError(f"preset version {version!r} is newer than this app understands")
        if not isinstance(data.get("name", ""), str):
            raise MaskParamsError(f"name must be text, not {data['name']!r}")
        return cls(targets=targets, distance=distance, median=median,
                   combine=data.get("combine", "any"), output=data.get("output", "black"),
                   name=data.get("name", ""))

    def with_target(self, index: int, **changes: object) -> MaskParams:
        """A copy with target ``index`` changed (``rgb=`` or ``threshold=``)."""
        targets = list(self.targets)
        targets[index] = replace(targets[index], **changes)
        return replace(self, targets=tuple(targets))


def _target(index: int, raw: object, distance: str) -> Target:
    where = f"target {index + 1}"
    if not isinstance(raw, dict) or set(raw) != {"rgb", "threshold"}:
        raise MaskParamsError(f"{where}: needs exactly 'rgb' and 'threshold'")
    rgb, threshold = raw["rgb"], raw["threshold"]
    if not isinstance(rgb, (list, tuple)) or len(rgb) != 3:
        raise MaskParamsError(f"{where}: rgb must be three whole numbers from 0 to 255, not {rgb!r}")
    rgb = tuple(check_number(f"{where}: rgb", c, 0, 255, integer=True, error=MaskParamsError) for c in rgb)
    threshold = check_number(f"{where}: threshold ({distance})", threshold, 0, MAX_THRESHOLD[distance],
                             error=MaskParamsError)
    return Target(rgb, threshold)


def load_params(path: str | os.PathLike) -> MaskParams:
    """Read a preset file; raises MaskParamsError (naming the file) for anything wrong."""
    return read_spec_file(path, MaskParams.from_json, MaskParamsError, "preset")


def builtin_preset(name: str) -> MaskParams:
    """A preset shipped in resources/presets/mask (``chapter``)."""
    data = read_preset("mask", name)
    if data is None:
        raise MaskParamsError(f"there is no built-in mask preset called {name!r}")
    return MaskParams.from_json(data)


def picked_colour(img: np.ndarray, x: int, y: int) -> tuple[int, int, int]:
    """The target colour a click at pixel (``x``, ``y``) picks: the median of the 3 × 3 pixels
    around it, so that one noisy pixel does not set the target."""
    patch = img[max(y - 1, 0):y + 2, max(x - 1, 0):x + 2, :3].reshape(-1, 3)
    return tuple(int(v) for v in np.median(patch, axis=0))


# --- distances ---------------------------------------------------------------------------


def colordist(img: np.ndarray, target: tuple[int, int, int]) -> np.ndarray:
    """The chapter's redmean distance of every pixel of an RGB uint8 image to ``target``.

    Exactly ``(((512+rmean)*r2)>>8) + 4*g2 + (((767-rmean)*b2)>>8)`` with
    ``rmean = int((R + tR) / 2)``, computed through lookup tables: the red and green terms
    depend on one channel each, the blue term on red and blue.

    Returns:
        int32 (H, W) distances.
    """
    red_term, green_term, blue_term = _redmean_tables(tuple(int(c) for c in target))
    r, g, b = img[..., 0], img[..., 1], img[..., 2]
    rb = (r.astype(np.uint16) << 8) | b
    return red_term[r] + green_term[g] + blue_term[rb]


_TABLES: dict[tuple[int, int, int], tuple[np.ndarray, np.ndarray, np.ndarray]] = {}


def _redmean_tables(target: tuple[int, int, int]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    if target not in _TABLES:
        t_r, t_g, t_b = target
        values = np.arange(256, dtype=np.int32)
        rmean = (values + t_r) // 2  # non-negative, so // equals the chapter's int((a + b) / 2.)
        red = ((512 + rmean) * (values - t_r) ** 2) >> 8
        green = 4 * (values - t_g) ** 2
        blue = (((767 - rmean)[:, None] * ((values - t_b) ** 2)[None, :]) >> 8).ravel()
        _TABLES[target] = (red.astype(np.int32), green.astype(np.int32), blue.astype(np.int32))
    return _TABLES[target]


def lab_image(img: np.ndarray) -> np.ndarray:
    """CIELAB (L in 0..100, a and b about -128..127) of an RGB uint8 image, float32."""
    return cv2.cvtColor(img.astype(np.float32) / 255.0, cv2.COLOR_RGB2Lab)


def delta_e(lab: np.ndarray, target: tuple[int, int, int]) -> np.ndarray:
    """CIE76 delta-E of every pixel of a :func:`lab_image` to an RGB target, float32 (H, W)."""
    ref = lab_image(np.asarray(target, np.uint8).reshape(1, 1, 3))[0, 0]
    diff = lab - ref
    return np.sqrt(np.einsum("...c,...c->...", diff, diff))


# --- masks -------------------------------------------------------------------------------


def clean_mask(mask: np.ndarray, size: int) -> np.ndarray:
    """The ``size`` x ``size`` median of a boolean mask, computed as a vote.

    The median of 0/1 values is 1 exactly when more than half of the window is 1, so a box count
    compared with half the window gives the same pixels as ``cv2.medianBlur`` (same replicated
    border) in a fraction of the time.
    """
    if size <= 1:
        return mask
    counts = cv2.boxFilter(mask.view(np.uint8), cv2.CV_16U, (size, size), normalize=False,
                           borderType=cv2.BORDER_REPLICATE)
    return counts > (size * size) // 2


@dataclass
class MaskResult:
    """What a mask does to one image: the output image, the final mask, the kept fraction."""

    image: np.ndarray
    mask: np.ndarray
    kept: float


@dataclass(frozen=True)
class RenderedMask:
    """A full-resolution render and the settings it was made with."""

    params: MaskParams
    result: MaskResult


class MaskSession:
    """One image with cached distance maps, so that moving a threshold is only a comparison.

    Distance maps are cached per (distance, target colour); the comparison with a threshold is
    cached per target too, so changing one target's threshold recomputes one comparison.
    """

    def __init__(self, img: np.ndarray) -> None:
        self.lock = threading.Lock()  # held by render_job: a session may outlive a cancelled job
        self.img = np.ascontiguousarray(img[..., :3])
        self._distances: dict[tuple[str, tuple[int, int, int]], np.ndarray] = {}
        self._near: dict[tuple[str, tuple[int, int, int], float], np.ndarray] = {}
        self._lab: np.ndarray | None = None

    def distance(self, distance: str, rgb: tuple[int, int, int]) -> np.ndarray:
        """The cached distance map of the image to one colour."""
        key = (distance, tuple(rgb))
        if key not in self._distances:
            if distance == "cielab":
                if self._lab is None:
                    self._lab = lab_image(self.img)
                self._distances[key] = delta_e(self._lab, key[1])
            else:
                self._distances[key] = colordist(self.img, key[1])
        return self._distances[key]

    def raw_mask(self, params: MaskParams) -> np.ndarray:
        """Kept pixels before cleaning (True = kept), combined over the targets."""
        wanted = set()
        near = []
        for target in params.targets:
            key = (params.distance, target.rgb, target.threshold)
            wanted.add(key)
            if key not in self._near:
                self._near[key] = self.distance(params.distance, target.rgb) <= target.threshold
            near.append(self._near[key])
        for key in [k for k in self._near if k not in wanted]:
            del self._near[key]  # only the current thresholds are worth keeping
        combine = np.logical_or if params.combine == "any" else np.logical_and
        return combine.reduce(near) if len(near) > 1 else near[0].copy()

    def render(self, params: MaskParams) -> MaskResult:
        """The output image of ``params`` for this image."""
        return _render(self.img, self.raw_mask(params), params)


def _render(img: np.ndarray, raw: np.ndarray, params: MaskParams) -> MaskResult:
    if params.output == "chapter":
        out = img.copy()
        out[~raw] = 0
        if params.median > 1:
            out = cv2.medianBlur(out, params.median)
        kept = out.any(axis=2)
        return MaskResult(out, kept, float(kept.mean()))
    mask = clean_mask(raw, params.median)
    kept = float(mask.mean()) if mask.size else 0.0
    if params.output == "mask":
        return MaskResult(mask.astype(np.uint8) * 255, mask, kept)
    out = cv2.bitwise_and(img, img, mask=mask.view(np.uint8))
    if params.output == "alpha":
        out = np.dstack([out, mask.astype(np.uint8) * 255])
    return MaskResult(out, mask, kept)


@functools.lru_cache(maxsize=4)
def colour_table(params: MaskParams) -> np.ndarray:
    """Whether each of the 2**24 RGB colours is kept (before clean-up), for fixed settings.

    Built once per settings (16 MB), it turns masking a whole dataset or a training stream into
    one lookup per pixel; the answers are those of raw_mask exactly.
    """
    if params.distance == "redmean":
        return _redmean_table(params)
    return _table_by_sessions(params)


def _redmean_table(params: MaskParams) -> np.ndarray:
    """The redmean table by intervals (about 0.1 s): for one target the distance is
    red[r] + 4 (g - tg)**2 + blue[r, b], so for each (r, b) the kept greens are |g - tg| <= k,
    k the largest whole number with 4 k**2 <= threshold - red[r] - blue[r, b]."""
    greens = np.arange(256, dtype=np.int64)[None, :, None]
    keep_any = params.combine == "any"
    kept = np.full((256, 256, 256), not keep_any)  # indexed [r, g, b]
    for target in params.targets:
        red, _, blue = _redmean_tables(target.rgb)
        rest = int(np.floor(target.threshold)) - red[:, None].astype(np.int64) - blue.reshape(256, 256)
        k = np.floor(np.sqrt(np.maximum(rest, 0) / 4.0)).astype(np.int64)
        k = np.where(4 * (k + 1) ** 2 <= rest, k + 1, k)  # settle float sqrt's last unit
        k = np.where(4 * k ** 2 > rest, k - 1, k)  # -1 where even g == tg is too far
        near = np.abs(greens - target.rgb[1]) <= k[:, None, :]
        kept = (kept | near) if keep_any else (kept & near)
    return kept.ravel()


def _table_by_sessions(params: MaskParams) -> np.ndarray:
    """Any distance: raw_mask over all colours, a million at a time (about 1.5 s for CIELAB)."""
    table = np.empty(1 << 24, dtype=bool)
    chunk = 1 << 20
    for start in range(0, 1 << 24, chunk):
        codes = np.arange(start, start + chunk, dtype=np.uint32)
        rgb = np.stack([(codes >> 16) & 255, (codes >> 8) & 255, codes & 255], axis=-1)
        table[start:start + chunk] = MaskSession(rgb.astype(np.uint8)[None]).raw_mask(params)[0]
    return table


def make_mask(img: np.ndarray, params: MaskParams) -> np.ndarray:
    """The final boolean mask (True = kept) of an RGB uint8 image."""
    return apply_mask(img, params).mask


def apply_mask(img: np.ndarray, params: MaskParams) -> MaskResult:
    """Mask an RGB uint8 image with fixed settings, through the colour table.

    The batch job and the training pipeline call this on every image; the live tab uses
    MaskSession instead, whose cached distances suit thresholds that keep moving.
    """
    img = np.ascontiguousarray(img[..., :3])
    codes = (img[..., 0].astype(np.uint32) << 16) | (img[..., 1].astype(np.uint32) << 8) | img[..., 2]
    return _render(img, colour_table(params)[codes], params)


def render_job(session: MaskSession, params: MaskParams, *, report: Report,
               cancel: Cancel) -> RenderedMask:
    """Job form of ``session.render`` for full-resolution previews (latest request wins).

    Returns:
        The params rendered (so the caller can drop a result that is no longer current) with
        the result.
    """
    with session.lock:
        check_cancel(cancel)
        report.progress(0.0, "Full resolution")
        return RenderedMask(params, session.render(params))
