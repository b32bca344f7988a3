"""Which augmentation suits a dataset's photos, measured: do they have an up?

Seedlings photographed from above look like seedlings at any angle, so the ``photos`` chain
turns them all the way round and flips them both ways; a car upside down is not a car photo,
so photos with an up take the ``upright`` chain (mirror flips, small turns). Which kind a
dataset is, is measured rather than guessed from its name: EfficientNet-Lite0, trained on
upright ImageNet photos, looks at a sample of the dataset's images as they are, mirrored and
upside down. Its guesses move about as much either way for photos without an up, and much
more upside down than mirrored for photos with one.

Measured here (the share of probability that moves between ImageNet's classes, on average):
upside down 0.21 to 0.24 and mirrored 0.14 to 0.17 for the shared seedling photos; 0.54 and 0.18
for eight upright photos (a cat, a rocket, a motorcycle, a portrait...), 0.44 and 0.12 for 30
crops of five of them; 0.28 and 0.16 for 30 crops of microscopy, coins, the moon and a deep-sky
field. The photos have an up when upside down moves at least :data:`UPRIGHT_MARGIN` more than
mirrored (0.07 to 0.12 without an up, 0.31 to 0.36 with one).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from filterscope.core.base.jobs import Cancel, Report, SubReport, check_cancel
from filterscope.core.data.datasets import Dataset
from filterscope.core.data.images import ImageReadError
from filterscope.core.data.source import Source
from filterscope.core.training.base_spec import BaseSpec
from filterscope.core.training.model_input import input_shape, prepare_image, preprocess

BASE = "efficientnet-lite0"
SIDE = 224  # the size its classifier was trained at
SAMPLE = 32  # photos looked at, spread over the classes
UPRIGHT_MARGIN = 0.2
FOR_PHOTOS = {True: "upright", False: "photos"}  # has an up -> the chain preset


@dataclass(frozen=True)
class ChainProposal:
    """The augmentation chain proposed for a dataset, and why.

    Attributes:
        preset: The chain preset (``upright`` or ``photos``; ``none`` for grey images).
        upright: Whether the photos were found to have an up (grey images: True).
        photos: How many photos were measured (0: grey images, not measured).
        turned: How much ImageNet's guesses move with the photos upside down (the mean total
            variation distance between the class probabilities, 0 to 1).
        mirrored: How much they move with the photos mirrored.
    """

    preset: str
    upright: bool
    photos: int
    turned: float
    mirrored: float

    def reason(self) -> str:
        """One sentence: what was measured and what it means."""
        if not self.photos:
            return ("grey images such as digits are not photos: they are neither turned nor "
                    "flipped (a 6 upside down is a 9, a mirrored 2 no digit)")
        moved = (f"EfficientNet-Lite0's ImageNet guesses moved {self.turned:.2f} upside down, "
                 f"{self.mirrored:.2f} mirrored, over {self.photos} photos")
        if self.upright:
            return f"these photos have an up ({moved}), so they are never turned upside down"
        return (f"these photos look alike at any angle, as photos taken from above do ({moved}), "
                "so they are turned and flipped every way")

    def to_json(self) -> dict:
        """A JSON-able dict."""
        return {"preset": self.preset, "upright": self.upright, "photos": self.photos,
                "turned": round(self.turned, 4), "mirrored": round(self.mirrored, 4),
                "reason": self.reason()}


def grey_proposal(dataset: Dataset) -> ChainProposal | None:
    """For grey images (the model's rule: one channel), the proposal with nothing to measure:
    no augmentation. None for colour photos, which are measured."""
    if input_shape(dataset)[2] != 1:
        return None
    return ChainProposal("none", upright=True, photos=0, turned=0.0, mirrored=0.0)


def sample_indices(dataset: Dataset, count: int = SAMPLE, seed: int = 0) -> list[int]:
    """Up to ``count`` items spread evenly over the classes (seeded, so a dataset is always
    measured on the same photos)."""
    rng = np.random.default_rng(seed)
    per_class = [rng.permutation(np.flatnonzero(dataset.labels == c)).tolist()
                 for c in range(len(dataset.classes))]
    picked: list[int] = []
    while len(picked) < count and any(per_class):
        for items in per_class:
            if items and len(picked) < count:
                picked.append(int(items.pop()))
    return picked


def propose_chain(dataset: Dataset, *, report: Report, cancel: Cancel, count: int = SAMPLE) -> ChainProposal:
    """Measure whether ``dataset``'s photos have an up, and propose the chain that suits them
    (grey images: :func:`grey_proposal`, at once).

    Unreadable photos are left out (the Dataset tab and training name them).

    Raises:
        ValueError: No photo of the sample could be read.
        WeightsUnavailable: EfficientNet-Lite0's weights package is not installed.
        Cancelled: ``cancel`` was set.
    """
    from filterscope.core.training.tf_runtime import import_tensorflow
    from filterscope.core.transfer.models import load_base

    grey = grey_proposal(dataset)
    if grey is not None:
        return grey
    images = []
    indices = sample_indices(dataset, count)
    for done, index in enumerate(indices):
        check_cancel(cancel)
        report.progress(0.5 * done / max(len(indices), 1), f"Reading {dataset.keys[index]}")
        try:
            images.append(prepare_image(dataset.load(index), (SIDE, SIDE), None))
        except ImageReadError:
            continue
    if not images:
        raise ValueError(f"none of the {len(indices)} photos sampled from {dataset.name} could be read")
    check_cancel(cancel)
    report.progress(0.5, "Loading EfficientNet-Lite0 with its ImageNet classifier")
    import_tensorflow()
    model = load_base(BaseSpec(BASE), (SIDE, SIDE, 3), top=True).model
    check_cancel(cancel)
    report.progress(0.8, f"Looking at {len(images)} photos as they are, mirrored and upside down")
    x = np.stack(images).astype(np.float32)
    if x.ndim == 3:  # grey images
        x = np.repeat(x[..., None], 3, axis=-1)
    views = [model.predict(preprocess(v.copy(), "lite"), verbose=0) for v in (x, x[:, ::-1], x[:, :, ::-1])]
    turned, mirrored = (float(0.5 * np.abs(views[0] - v).sum(axis=1).mean()) for v in views[1:])
    upright = turned - mirrored >= UPRIGHT_MARGIN
    report.progress(1.0, "")
    return ChainProposal(FOR_PHOTOS[upright], upright, len(images), turned, mirrored)


def propose_for_source(source: Source, *, report: Report, cancel: Cancel) -> ChainProposal:
    """:func:`propose_chain` for the dataset ``source`` names (opened first: scanned, or loaded)."""
    from filterscope.core.data.sources import open_source

    dataset = open_source(source, report=SubReport(report, 0.0, 0.2), cancel=cancel)
    return propose_chain(dataset, report=SubReport(report, 0.2, 0.8), cancel=cancel)
