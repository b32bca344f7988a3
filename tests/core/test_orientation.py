"""Which chain suits a dataset, measured with EfficientNet-Lite0's ImageNet classifier: crops of
upright photos (a cat, a rocket, a motorcycle...) have an up, crops of views without one
(microscopy, coins, the moon, a deep-sky field) and seedlings seen from above do not."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest
from filterscope.core.base.jobs import NullReport
from filterscope.core.data.source import FolderSource
from filterscope.core.data.sources import open_source
from filterscope.core.transfer.orientation import UPRIGHT_MARGIN, propose_chain, sample_indices
from PIL import Image
pytestmark = pytest.mark.slow


def _crops(images: list[np.ndarray], root: Path, per: int = 6) -> Path:
    """Random crops (55-80 % of each side) of ``images``, in two classes."""
    rng = np.random.default_rng(0)
    for k, image in enumerate(images):
        image = image[..., :3] if image.ndim == 3 else np.stack([image] * 3, axis=-1)
        h, w = image.shape[:2]
        folder = root / f"class{k % 2}"
        folder.mkdir(parents=True, exist_ok=True)
        for j in range(per):
            s = rng.uniform(0.55, 0.8)
            ch, cw = int(h * s), int(w * s)
            y, x = rng.integers(0, h - ch + 1), rng.integers(0, w - cw + 1)
            Image.fromarray(np.ascontiguousarray(image[y:y + ch, x:x + cw])).save(folder / f"{k}_{j}.png")
    return root


def _proposal(root: Path):
    dataset = open_source(FolderSource(str(root)), report=NullReport(), cancel=threading.Event())
    return propose_chain(dataset, report=NullReport(), cancel=threading.Event())


def test_photos_with_an_up_get_the_upright_chain_and_views_from_nowhere_the_photos_chain(
        tmp_path: Path) -> None:
    import skimage.data as sd

    upright = _proposal(_crops([sd.astronaut(), sd.chelsea(), sd.coffee(), sd.rocket(),
                                sd.stereo_motorcycle()[0]], tmp_path / "upright"))
    assert (upright.preset, upright.upright, upright.photos) == ("upright", True, 30)
    assert upright.turned - upright.mirrored > UPRIGHT_MARGIN + 0.05
    assert "have an up" in upright.reason() and "30 photos" in upright.reason()
    around = _proposal(_crops([sd.hubble_deep_field(), sd.immunohistochemistry(), sd.retina(),
                               sd.coins(), sd.moon()], tmp_path / "around"))
    assert (around.preset, around.upright) == ("photos", False)
    assert around.turned - around.mirrored < UPRIGHT_MARGIN - 0.03
    assert around.to_json()["reason"] == around.reason() and "any angle" in around.reason()


def test_seedlings_seen_from_above_get_the_photos_chain(shared_plants: Path) -> None:
    assert _proposal(shared_plants).preset == "photos"


def test_the_sample_spreads_over_classes_and_unreadable_photos_are_left_out(tmp_path: Path) -> None:
    root = _crops([np.full((60, 60, 3), 128, np.uint8)] * 2, tmp_path / "grey", per=3)
    (root / "class0" / "broken.png").write_bytes(b"not a png")
    dataset = open_source(FolderSource(str(root)), report=NullReport(), cancel=threading.Event())
    picked = sample_indices(dataset, 4)
    assert sorted(dataset.labels[picked].tolist()) == [0, 0, 1, 1] and picked == sample_indices(dataset, 4)
    proposal = propose_chain(dataset, report=NullReport(), cancel=threading.Event(), count=7)
    assert proposal.photos == 6  # of 7 sampled, the broken file left out
