"""Masked PNG copies of one image or of a whole folder-per-class dataset, never into the source.

A dataset job writes ``<out>/<class>/<stem>.png`` per image in parallel threads (cv2 and numpy
release the GIL), each atomically, so what is on disk after a cancel, crash or full disk is whole.
An output that cannot be written (a name too long for the file system, a folder in the way) is a
failure of that image, and the others are still written; a full or read-only disk stops the job.
``<out>/filterscope-mask.json`` (settings, source, output names) is written first: a re-run with
the same settings skips the files already there; other settings or another source are refused.
"""

from __future__ import annotations

import errno
import json
import os
import time
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from dataclasses import asdict, dataclass, field
from pathlib import Path, PurePosixPath
from typing import Callable

import numpy as np

from filterscope.core.base.fileio import (
    TEMP_PREFIX,
    TEMP_SUFFIX,
    atomic_write_bytes,
    atomic_write_json,
    refuse_inside,
)
from filterscope.core.base.jobs import Cancel, Report, check_cancel
from filterscope.core.base.opencv import cv2
from filterscope.core.data.datasets import Dataset, scan_folder
from filterscope.core.data.images import IMAGE_SUFFIXES, ImageReadError, read_image
from filterscope.core.data.source import Source
from filterscope.core.masking.colordist import MaskParams, MaskResult, apply_mask, colour_table

MANIFEST = "filterscope-mask.json"
_NOT_FAILURES = frozenset({"duplicate", "empty-class", "nested-folder", "not-in-class"})
PARTIAL_BATCH = 32  # images per partial report (or 0.25 s): a live table, not a signal per image


PNG_END = b"\x00\x00\x00\x00IEND\xaeB`\x82"
# Write errors of the disk rather than of one file: every later image would fail the same way.
_DISK_ERRORS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EIO})


class MaskBatchError(OSError):
    """An output that cannot be written (read-only folder, full disk...); names path and reason.

    ``errno`` is the failed write's error number (None when unknown); ``reason`` says what went
    wrong without the path, as a row of a batch's ``failed`` list does.
    """

    def __init__(self, message: str, code: int | None = None, reason: str = "") -> None:
        super().__init__(message)
        self.errno, self.reason = code, reason or message


@dataclass
class MaskBatchResult:
    """What a batch job did: ``total`` images, ``skipped`` (there from an earlier run), ``failed``
    (``{"path", "reason"}``: images that could not be read, the scan's skipped files included, or
    whose output could not be written), ``images`` written (``{"path", "kept"}``), both sorted by
    path. ``source`` is what was masked, as JSON holds it: the dataset's source text, or
    ``file:<path>`` for one image."""

    out: str
    source: str
    params: dict
    total: int = 0
    written: int = 0
    skipped: int = 0
    failed: list[dict] = field(default_factory=list)
    images: list[dict] = field(default_factory=list)

    def to_json(self) -> dict:
        """A JSON-able dict: the fields, and ``mean_kept`` over this run's images (None if none)."""
        mean = float(np.mean([i["kept"] for i in self.images])) if self.images else None
        return {**asdict(self), "mean_kept": mean}


def encode_png(image: np.ndarray) -> bytes:
    """PNG bytes of an RGB, RGBA or single-channel uint8 image (cv2 wants BGR/BGRA)."""
    if image.ndim == 3:
        image = cv2.cvtColor(image, cv2.COLOR_RGBA2BGRA if image.shape[2] == 4 else cv2.COLOR_RGB2BGR)
    ok, buffer = cv2.imencode(".png", image)  # default zlib 1 + RLE: 2x faster than level 1 alone
    if not ok:
        raise ValueError(f"cannot encode a {image.shape} {image.dtype} image as PNG")
    return buffer.tobytes()


def _write(dst: Path, data: bytes) -> None:
    try:
        if not dst.parent.exists():  # a file in the way then fails below as "Not a directory"
            dst.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(dst, data, durable=False)  # no fsync: a resume checks the PNG trailer
    except OSError as exc:
        reason = f"cannot write the masked image {dst.name} ({exc.strerror or exc})"
        raise MaskBatchError(f"{dst}: {reason}", exc.errno, reason) from exc


def mask_file(src: str | os.PathLike, dst: str | os.PathLike, params: MaskParams) -> MaskResult:
    """Mask one image file into a PNG, atomically.

    Raises:
        ImageReadError: ``src`` is not a readable image. MaskBatchError: ``dst`` cannot be
            written. ValueError: ``dst`` does not end in .png, or is ``src`` itself.
    """
    src, dst = Path(src), Path(dst)
    if dst.suffix.lower() != ".png" or dst.resolve() == src.resolve():
        raise ValueError(f"{dst}: the output must be a .png file (masks are lossless), not the source")
    result = apply_mask(read_image(src), params)
    _write(dst, encode_png(result.image))
    return result


def _previous_outputs(out_dir: Path, source: Source, params: MaskParams) -> dict[str, str]:
    """The outputs an earlier run of the same job recorded; refuses a folder it cannot take over."""
    manifest = out_dir / MANIFEST
    if manifest.is_file():
        try:
            data = json.loads(manifest.read_text(encoding="utf-8"))
            outputs = dict(data["outputs"])
            same = (data["source"] == source.to_json()  # a preset's name does not change a pixel
                    and dict(data["params"], name="") == dict(params.to_json(), name=""))
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
            raise ValueError(f"{manifest} cannot be read ({exc}); choose a new output folder") from exc
        if not same:
            raise ValueError(f"{out_dir} already holds masks made with other settings or from another "
                             "source; choose a new output folder")
        return outputs
    if out_dir.is_dir() and any(not entry.name.startswith(".") for entry in os.scandir(out_dir)):
        raise ValueError(f"{out_dir} is not empty and was not made by a mask job; "
                         "choose a new or empty output folder")
    return {}


def _plan(dataset: Dataset, previous: dict[str, str]) -> dict[str, str]:
    """Output (relative POSIX path) per key: ``<class>/<stem>.png`` (``<subset>/<class>/...`` for
    split folders, so the copy keeps the split), or ``<stem>.<ext>.png`` for a file whose stem a PNG
    or an earlier file took (``a.jpg`` beside ``a.png``). Names an earlier run gave are kept, so a
    file added between runs never takes over another file's output."""
    plan = dict(previous)
    taken = {rel.casefold() for rel in previous.values()}  # case-insensitive file systems
    new = [(key, label) for key, label in zip(dataset.keys, dataset.labels) if key not in plan]
    for key, label in sorted(new, key=lambda item: not item[0].lower().endswith(".png")):  # a.png: a.png
        name = PurePosixPath(key)
        cls = name.parent.as_posix() if dataset.split_folders else dataset.classes[int(label)]
        stem, ext = (name.stem, name.suffix[1:]) if dataset.root else (key.replace("/", "-"), "")
        base = f"{cls}/{stem}.{ext}" if ext else f"{cls}/{stem}"
        rel, n = f"{cls}/{stem}.png", 1
        while rel.casefold() in taken:
            rel, n = f"{base}.png" if n == 1 else f"{base}.{n}.png", n + 1
        plan[key] = rel
        taken.add(rel.casefold())
    return plan


def _prepare(dataset: Dataset, out_dir: Path, params: MaskParams) -> dict[str, str]:
    """Refuses unsafe folders, creates the layout and writes the manifest; returns the plan."""
    for folder in [out_dir, *(out_dir / cls for cls in dataset.classes)] if dataset.root else []:
        refuse_inside(folder, dataset.root)  # writing around the dataset is fine, into it is not
    try:
        plan = _plan(dataset, _previous_outputs(out_dir, dataset.source, params))
        folders = {rel.rsplit("/", 1)[0] for rel in plan.values()} if dataset.split_folders \
            else dataset.classes
        for cls in folders:
            (out_dir / cls).mkdir(parents=True, exist_ok=True)
            for stale in (out_dir / cls).glob(f"{TEMP_PREFIX}*{TEMP_SUFFIX}"):  # left by a killed process
                stale.unlink()
        atomic_write_json(out_dir / MANIFEST, {"format": "filterscope-mask", "version": 1, "source":
                                               dataset.source.to_json(), "params": params.to_json(), "outputs": plan})
    except OSError as exc:
        raise MaskBatchError(f"{out_dir}: cannot prepare the output folder ({exc.strerror or exc})") from exc
    return plan


def _complete(path: Path) -> bool:
    """True for a PNG that ends with its IEND chunk (a file cut short by a crash does not)."""
    try:
        with open(path, "rb") as handle:
            handle.seek(-len(PNG_END), os.SEEK_END)
            return handle.read() == PNG_END
    except OSError:
        return False


def mask_dataset(dataset: Dataset, out_dir: str | os.PathLike, params: MaskParams, *, report: Report,
                 cancel: Cancel, workers: int = 2) -> MaskBatchResult:
    """Write a masked PNG of every image of ``dataset`` under ``out_dir``, class by class.

    Args:
        dataset: A folder dataset (or an in-memory one; its keys then name the files).
        out_dir: New, empty, or a folder an earlier run of this job was writing.
        params: The mask settings.
        report: Progress, and lists of ``{"path", "kept"}`` as partial results.
        cancel: Polled between images.
        workers: Threads masking images in parallel.

    Raises:
        ValueError: ``out_dir`` is (inside) the dataset, or holds something else.
        MaskBatchError: The output folder cannot be prepared, or the disk is full or read-only
            (an output that cannot be written for a reason of its own is listed in ``failed``).
            Cancelled: ``cancel`` was set. Either way the files already written are complete and
            a re-run resumes.
    """
    out_dir = Path(out_dir).expanduser().absolute()
    check_cancel(cancel)
    plan = _prepare(dataset, out_dir, params)
    unread = [{"path": p.path, "reason": p.reason} for p in dataset.problems  # the scan skipped them
              if p.kind not in _NOT_FAILURES and PurePosixPath(p.path).suffix.lower() in IMAGE_SUFFIXES]
    result = MaskBatchResult(str(out_dir), dataset.source.to_json(), params.to_json(), len(dataset) + len(unread),
                             failed=unread)
    todo = [i for i, key in enumerate(dataset.keys) if not _complete(out_dir / plan[key])]
    colour_table(params)  # build the lookup table once, before the threads need it
    result.skipped = len(dataset) - len(todo)

    def one(index: int) -> tuple[str | None, float]:
        try:
            image = dataset.load(index)
        except ImageReadError as exc:
            return exc.reason, 0.0
        masked = apply_mask(image, params)
        try:
            _write(out_dir / plan[dataset.keys[index]], encode_png(masked.image))
        except MaskBatchError as exc:
            if exc.errno in _DISK_ERRORS:
                raise
            return exc.reason, 0.0
        return None, masked.kept

    _run(todo, one, result, dataset.keys, report, cancel, max(1, workers))
    for rows in (result.images, result.failed):  # threads finish in any order
        rows.sort(key=lambda row: row["path"])
    report.progress(1.0, f"{result.written:,} written, {result.skipped:,} done before, "
                         f"{len(result.failed):,} failed")
    return result


def _run(todo: list[int], one: Callable[[int], tuple[str | None, float]], result: MaskBatchResult,
         keys: list[str], report: Report, cancel: Cancel, workers: int) -> None:
    """Runs ``one`` over ``todo`` with at most 2 x workers images queued, so a cancel is prompt."""
    pending, running, batch, last = iter(todo), {}, [], time.monotonic()
    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="mask")
    try:
        while True:
            check_cancel(cancel)  # before queueing more: after a cancel nothing new starts
            while len(running) < 2 * workers and (index := next(pending, None)) is not None:
                running[pool.submit(one, index)] = index
            if not running:
                break
            finished, _ = wait(running, timeout=0.05, return_when=FIRST_COMPLETED)
            for future in finished:
                reason, kept = future.result()  # re-raises a MaskBatchError
                path = keys[running.pop(future)]
                if reason is None:
                    batch.append({"path": path, "kept": kept})
                    result.images.append(batch[-1])
                else:
                    result.failed.append({"path": path, "reason": reason})
            result.written = len(result.images)
            if len(batch) >= PARTIAL_BATCH or time.monotonic() - last > 0.25:
                if batch:
                    report.partial(batch)
                done = result.skipped + result.written + len(result.failed)
                report.progress(done / max(result.total, 1), f"Masked {done:,}/{result.total:,}")
                batch, last = [], time.monotonic()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)  # running images finish their atomic write
        if batch:
            report.partial(batch)


def mask_path(src: str | os.PathLike, out: str | os.PathLike, params: MaskParams, *, report: Report,
              cancel: Cancel, workers: int = 2) -> MaskBatchResult:
    """The CLI's and the tab's entry: mask one image file, or every image of a dataset folder.

    ``out`` is, for a folder, the output folder (see :func:`mask_dataset`); for an image, a .png
    file or a folder (existing, or a new name without a suffix) to write ``<stem>.png`` into.

    Raises:
        ImageReadError: ``src`` is a file that is not a readable image. DatasetError: ``src`` is
            a folder that cannot be listed. ValueError, MaskBatchError, Cancelled: As
            :func:`mask_dataset` and :func:`mask_file`.
    """
    src, out = Path(src).expanduser(), Path(out).expanduser()
    if src.is_dir():
        refuse_inside(out, src)  # before a long scan
        dataset = scan_folder(src, report=report, cancel=cancel)
        return mask_dataset(dataset, out, params, report=report, cancel=cancel, workers=workers)
    check_cancel(cancel)
    dst = (out / f"{src.stem}.png" if out.is_dir() or not out.suffix else out).absolute()
    row = {"path": src.name, "kept": mask_file(src, dst, params).kept}
    report.partial([row])
    report.progress(1.0, f"Wrote {dst.name}")
    return MaskBatchResult(str(dst), f"file:{src.absolute()}", params.to_json(), 1, 1, images=[row])
