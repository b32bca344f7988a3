"""Near-copies of images within a dataset and across its train / validation / test subsets.

Method, chosen by measurement: a 64-bit perceptual hash (imagehash's pHash: the signs of the
lowest 8 x 8 DCT frequencies of the 32 x 32 grey image) of every image, pairs at Hamming distance
MAX_DISTANCE or less, groups = connected components of those pairs. Measured on 1,080 real
seedling photos (600 training photos of the shared ``plant-seedlings-150-train``, 12 classes; a
``test/`` folder of 240 near-copies of training photos, resized to 80 % and re-encoded as JPEG
quality 70, mixed with 240 distinct photos of the same classes, all seedlings on gravel):

=============================  ========  ============  ============
method                         recall    false groups  false pairs
=============================  ========  ============  ============
pHash distance <= 4            100 %     1             8
pHash distance <= 6 / 8        100 %     2             9
pHash distance <= 10 / 12      100 %     4 / 6         12 / 16
pHash distance <= 16           100 %     58            119
dHash distance <= 8            100 %     4             12
wHash distance <= 8            100 %     9             30
feature cosine >= 0.80         86 %      23            18,615
feature cosine >= 0.90         10 %      25            682
=============================  ========  ============  ============

(A false group joins photos that are not copies of each other.) The copies lay at pHash distance
4 or less (95 % at 2 or less); the two "false" groups at <= 8 are duplicates the source data
already holds (three pixel-identical Common_wheat photos, two Fat_Hen photos of one plant with the
crop shifted), so at MAX_DISTANCE = 8 every group found among distinct photos was a real
near-copy. The base's pooled features (EfficientNet-Lite0, 1,280 averaged maps) are the wrong tool
here: they describe what is in the photo, not the photo, so a copy's cosine to its original
(median 0.83) is below that of many distinct seedlings on gravel, and its original was its
nearest neighbour for only 52 % of the copies. Hashing costs one decode per image (1 ms each
here, through the app's one reader); pairs come from a blocked XOR + popcount over packed hashes
(BLOCK rows against all at a time: 10,000 images are 10 blocks), never a Python loop over pairs.

The result of a check is saved in the app's feature cache folder, keyed by the dataset
(:func:`save_near_copies`, :func:`load_near_copies`), never in the dataset: evaluation reads it to
say how many test photos have a near-copy in training, and never hashes a dataset itself (a check
is a job the user starts, with progress and cancel; evaluation must not start one unasked).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from filterscope.core.base.fileio import atomic_write_json
from filterscope.core.base.jobs import Cancel, Report, SubReport, check_cancel
from filterscope.core.quality.saved import saved_file

MAX_DISTANCE = 8
BLOCK = 1024
METHOD = "perceptual hash (pHash, 64 bits), Hamming distance"
TRAINING = ("train", "val")
FOLDER = "near-copies"
VERSION = 1


@dataclass
class NearCopies:
    """The near-copy groups of a dataset.

    Attributes:
        source: The dataset (``Source.to_json()``).
        method: How images were compared.
        threshold: The Hamming distance of two hashes at or below which images are near-copies.
        n_images: Images compared.
        groups: Each group a list of members ``{"path", "key", "subset", "label"}``; largest first.
        created: When, as ISO 8601 UTC.
        skipped: ``{"path", "reason"}`` of the images that could not be read.
    """

    source: str
    method: str
    threshold: int
    n_images: int
    groups: list[list[dict]] = field(default_factory=list)
    created: str = ""
    skipped: list[dict] = field(default_factory=list)

    def cross_subset(self) -> dict[str, int]:
        """Pairs of near-copies lying in two different subsets (``train-test``, ``train-val``,
        ``val-test``), counted within each group."""
        counts = {"train-test": 0, "train-val": 0, "val-test": 0}
        for group in self.groups:
            have = [m["subset"] for m in group]
            for pair in counts:
                a, b = pair.split("-")
                counts[pair] += have.count(a) * have.count(b)
        return counts

    def leaked(self) -> set[str]:
        """Absolute paths of the test images with a near-copy among the training or validation
        images (validation chose the epoch and the calibration: it is part of training)."""
        found: set[str] = set()
        for group in self.groups:
            if any(m["subset"] in TRAINING for m in group):
                found.update(m["path"] for m in group if m["subset"] == "test")
        return found

    def to_json(self) -> dict:
        """A JSON-able dict (the CLI's ``--json`` and the saved check)."""
        return {"version": VERSION, "source": self.source, "method": self.method,
                "threshold": self.threshold, "n_images": self.n_images, "created": self.created,
                "n_groups": len(self.groups), "n_in_groups": sum(len(g) for g in self.groups),
                "cross_subset": self.cross_subset(), "test_with_copy_in_training": len(self.leaked()),
                "groups": [{"members": list(g)} for g in self.groups], "skipped": list(self.skipped)}

    @classmethod
    def from_json(cls, data: dict) -> NearCopies:
        """The inverse of :meth:`to_json`."""
        return cls(str(data["source"]), str(data["method"]), int(data["threshold"]),
                   int(data["n_images"]), [list(g["members"]) for g in data["groups"]],
                   str(data.get("created", "")), list(data.get("skipped", [])))


def hash_image(image: np.ndarray) -> np.uint64:
    """The 64-bit perceptual hash (pHash) of an RGB or grey uint8 image."""
    import imagehash
    from PIL import Image

    pixels = image[..., 0] if image.ndim == 3 and image.shape[2] == 1 else image
    bits = imagehash.phash(Image.fromarray(pixels)).hash.reshape(-1)
    return np.packbits(bits).view(">u8")[0].astype(np.uint64)


def close_pairs(hashes: np.ndarray, max_distance: int = MAX_DISTANCE, *, cancel: Cancel | None = None,
                report: Report | None = None, block: int = BLOCK) -> tuple[np.ndarray, np.ndarray]:
    """Index pairs ``(i, j)``, i < j, of 64-bit hashes at Hamming distance ``max_distance`` or less.

    Blocked: ``block`` hashes against all at a time, so memory stays at ``block x N`` bytes.
    """
    h = np.asarray(hashes, np.uint64)
    firsts, seconds = [np.zeros(0, np.int64)], [np.zeros(0, np.int64)]
    for start in range(0, len(h), block):
        if cancel is not None:
            check_cancel(cancel)
        distance = np.bitwise_count(h[start:start + block, None] ^ h[None, :])
        i, j = np.nonzero(distance <= max_distance)
        i = i + start
        keep = j > i
        firsts.append(i[keep])
        seconds.append(j[keep])
        if report is not None:
            report.progress(min(1.0, (start + block) / len(h)), "Comparing images")
    return np.concatenate(firsts).astype(np.int64), np.concatenate(seconds).astype(np.int64)


def group_pairs(n: int, first: np.ndarray, second: np.ndarray) -> list[np.ndarray]:
    """Connected components of ``n`` items joined by the pairs, with two members or more; largest
    first, then by first member."""
    from scipy.sparse import coo_matrix  # here, not at the top: the app starts without scipy
    from scipy.sparse.csgraph import connected_components

    graph = coo_matrix((np.ones(len(first), np.int8), (first, second)), shape=(n, n))
    _count, component = connected_components(graph, directed=False)
    sizes = np.bincount(component, minlength=1)
    groups = [np.flatnonzero(component == c) for c in np.flatnonzero(sizes >= 2)]
    return sorted(groups, key=lambda g: (-len(g), int(g[0])))


def _images(source, cancel: Cancel, report: Report, seed: int) -> tuple[str, object, list, list[dict]]:
    """The dataset's images as ``(item, subset)``: train and val as a run of it would split them
    (its folders, its manifest or the seeded split), and its ``test/`` folder."""
    from filterscope.core.data.source import Source
    from filterscope.core.training.data_plan import plan
    from filterscope.core.training.data_spec import DataSpec

    parsed = source if isinstance(source, Source) else Source.parse(str(source), bare=True)
    planned = plan(DataSpec(parsed, image_size=(32, 32), seed=seed), report, cancel, 0)
    dataset = planned.dataset
    items = [(int(i), name) for name, (found, _labels) in planned.subsets.items() for i in found]
    if "test" in dataset.subsets():
        items += [(int(i), "test") for i in dataset.select(subset="test")]
    return parsed.to_json(), dataset, items, list(planned.skipped)


def near_copies(source, *, report: Report, cancel: Cancel, cache_dir: str | os.PathLike | None = None,
                max_distance: int = MAX_DISTANCE, seed: int = 0, save: bool = True) -> NearCopies:
    """Find the near-copies of a dataset and save the result in the cache folder for evaluation.

    Args:
        source: A dataset folder (split into ``train/``, ``val/``, ``test/`` or not), a built-in
            dataset or a split manifest (``str`` or ``Source``).
        report: Progress: opening, hashing every image (most of it), comparing.
        cancel: Polled between images and blocks.
        cache_dir: The feature cache folder the result is saved in (default: the app's).
        max_distance: Hamming distance of two pHashes at or below which images are near-copies.
        seed: The seed of the split that says which images are validation ones.
        save: Save the result for evaluation to find.

    Raises:
        PipelineError: The dataset cannot be opened.
        Cancelled: ``cancel`` was set.
    """
    from filterscope.core.data.images import ImageReadError

    text, dataset, items, skipped = _images(source, cancel, SubReport(report, 0.0, 0.05), seed)
    hashes, members = [], []
    for n, (item, subset) in enumerate(items):
        check_cancel(cancel)
        path = dataset.path(item)
        where = os.path.abspath(path) if path is not None else dataset.keys[item]
        try:
            hashes.append(hash_image(dataset.load(item)))
        except (ImageReadError, OSError, ValueError) as exc:
            skipped.append({"path": where, "reason": str(exc)})
            continue
        members.append({"path": where, "key": dataset.keys[item], "subset": subset,
                        "label": dataset.classes[int(dataset.labels[item])]})
        if n % 64 == 0:
            report.progress(0.05 + 0.9 * n / len(items), f"Hashing {n:,} of {len(items):,} images")
    first, second = close_pairs(np.asarray(hashes, np.uint64), max_distance, cancel=cancel,
                                report=SubReport(report, 0.95, 0.04))
    groups = [[members[i] for i in g] for g in group_pairs(len(members), first, second)]
    result = NearCopies(text, METHOD, int(max_distance), len(members), groups,
                        datetime.now(timezone.utc).isoformat(timespec="seconds"), skipped)
    if save:
        save_near_copies(result, cache_dir)
    report.progress(1.0, f"{len(groups):,} groups of near-copies among {len(members):,} images")
    return result


def save_near_copies(result: NearCopies, cache_dir: str | os.PathLike | None = None) -> Path:
    """Save a check where :func:`load_near_copies` finds it (the feature cache, never the dataset)."""
    path = saved_file(result.source, FOLDER, cache_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    return atomic_write_json(path, result.to_json())


def load_near_copies(source, cache_dir: str | os.PathLike | None = None) -> NearCopies | None:
    """The last saved check of a dataset (a ``Source`` or its text), or None when there is none or
    it cannot be read (a damaged file is the same as no check: evaluation then says nothing)."""
    try:
        path = saved_file(source, FOLDER, cache_dir)
        return NearCopies.from_json(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError, KeyError, TypeError):
        return None
