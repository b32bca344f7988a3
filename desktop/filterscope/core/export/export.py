"""Exporting a run's model, verified: :func:`export_model`, a long job.

The model is written into a new temporary folder beside ``out`` (Keras's own exporter,
:mod:`.runtimes`), loaded back in its own runtime and run on the run's validation images (a
seeded sample of :data:`MAX_IMAGES` when there are more), prepared as training prepared them
(the run's :class:`~filterscope.core.training.model_input.InputRule`, the shared feed). Only
when every image gets the same class as from the Keras model and no probability differs by more
than :data:`TOLERANCE` are the model and its sidecar (:mod:`.manifest`) renamed into place, the
sidecar last: it is what a scorer opens first. A failed verification, an error or a cancel
leaves nothing behind (the temporary folder is removed), and an existing export of the same
name as it was.
"""

from __future__ import annotations

import os
import shutil
import time
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from filterscope import __version__
from filterscope.core.base.fileio import file_sha256, make_temp_dir
from filterscope.core.base.jobs import Cancel, Report, SubReport, check_cancel
from filterscope.core.export.manifest import (MODEL_FORMATS, ONNX_METADATA_KEY, ExportManifest, Verification,
                                              sidecar_path)
from filterscope.core.export.onnx_session import fastest_level
from filterscope.core.export.runtimes import Runtime, open_runtime, set_onnx_metadata, write_model
from filterscope.core.results.audit import now_utc
from filterscope.core.results.eval_sets import EvalSetError, open_eval_set
from filterscope.core.results.feed import masker_for
from filterscope.core.results.policy import load_policy
from filterscope.core.training.model_input import prepare_for_model
from filterscope.core.training.saved_model import OpenedModel, open_model

MAX_IMAGES = 200
TOLERANCE = 1e-4
SEED = 0
RANDOM_IMAGES = 32  # when the run's validation images are gone: seeded noise, said so
BATCH = 32


class ExportError(Exception):
    """An export that cannot be made or that failed its verification (nothing was written)."""


@dataclass
class ExportResult:
    """A written, verified export.

    Attributes:
        path: The model file (a folder for a SavedModel).
        sidecar: Its ``.filterscope.json``.
        manifest: What the sidecar holds.
        size_bytes: The model's size on disk.
        seconds: Time spent writing (``convert``) and verifying (``verify``).
        notes: Plain sentences (the fallback to random images, a stale calibration).
    """

    path: Path
    sidecar: Path
    manifest: ExportManifest
    size_bytes: int
    seconds: dict
    notes: list[str]

    def to_json(self) -> dict:
        """What ``--json`` prints."""
        return {"path": str(self.path), "sidecar": str(self.sidecar), "size_bytes": self.size_bytes,
                "seconds": self.seconds, "notes": self.notes, "manifest": self.manifest.to_json()}


def default_suffix(model_format: str) -> str:
    """The file suffix of a format (``""`` for a SavedModel folder)."""
    return {"onnx": ".onnx", "tflite": ".tflite", "savedmodel": ""}[model_format]


def export_model(run: str | os.PathLike, model_format: str, out: str | os.PathLike, *, which: str = "best",
                 overwrite: bool = False, report: Report, cancel: Cancel) -> ExportResult:
    """Export a run's model to ``out`` as ``model_format`` and verify it (see the module).

    Raises:
        ExportError: An unknown format, ``out`` exists (without ``overwrite``) or lies in a missing
            folder, the conversion failed, or the verification did not pass.
        ModelLoadError: The run's model cannot be opened.
        Cancelled: ``cancel`` was set.
    """
    if model_format not in MODEL_FORMATS:
        raise ExportError(f"choose a format of {', '.join(MODEL_FORMATS)}, not {model_format!r}")
    out = Path(out).expanduser().absolute()
    side = sidecar_path(out)
    if not out.parent.is_dir():
        raise ExportError(f"{out.parent}: no such folder")
    if not overwrite and (out.exists() or side.exists()):
        raise ExportError(f"{out if out.exists() else side} exists: choose another name, or overwrite")
    if out.is_dir() and not side.is_file():  # never replace a folder that is not an export
        raise ExportError(f"{out} is a folder but not an export (no {side.name} beside it): choose another name")
    opened = open_model(run, which=which, report=SubReport(report, 0.0, 0.1), cancel=cancel)
    if opened.run is None:
        raise ExportError(f"{run}: a run folder (or its best/last .keras) is needed: the export "
                          "carries the run's classes, input rule and decision policy")
    x, description, notes = verification_inputs(opened, report=SubReport(report, 0.1, 0.25), cancel=cancel)
    expected = _keras_predict(opened.model, x)
    check_cancel(cancel)
    tmp = make_temp_dir(out.parent, f".{out.name}.", ".export")
    try:
        staged = tmp / out.name
        report.progress(0.3, f"Writing {model_format.upper()}")
        started = time.perf_counter()
        write_model(opened.model, model_format, staged)
        converted = time.perf_counter()
        check_cancel(cancel)
        report.progress(0.7, f"Verifying in its runtime on {description}")
        runtime = open_runtime(model_format, staged)
        manifest = _manifest(opened, model_format, runtime, notes)
        check = verify(runtime, x, expected, description)
        if model_format == "onnx":  # the same JSON inside the model; the final bytes verified again
            level, cpu_ms = fastest_level(staged, x)
            manifest = replace(manifest, verification=check,
                               onnxruntime={"graph_optimization": level, "cpu_ms_per_image": cpu_ms})
            set_onnx_metadata(staged, ONNX_METADATA_KEY, manifest.dumps())
            check = verify(open_runtime(model_format, staged), x, expected, description)
        manifest = replace(manifest, verification=check)
        seconds = {"convert": round(converted - started, 3), "verify": round(time.perf_counter() - converted, 3)}
        check_cancel(cancel)
        (tmp / side.name).write_text(manifest.dumps() + "\n", encoding="utf-8")
        report.progress(0.95, f"Writing {out.name}")
        _move_into_place(tmp, staged, out, tmp / side.name, side)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    report.progress(1.0, f"Exported {out.name}: verified on {check.n_images} images")
    return ExportResult(out, side, manifest, _size(out), seconds, notes)


def verify(runtime: Runtime, x: np.ndarray, expected: np.ndarray, description: str) -> Verification:
    """Run ``x`` through ``runtime`` and compare with the Keras model's ``expected``.

    Raises:
        ExportError: Another class for some image, or a probability off by more than TOLERANCE.
    """
    got = np.concatenate([runtime.predict(x[i:i + BATCH]) for i in range(0, len(x), BATCH)])
    if got.shape != expected.shape:
        raise ExportError(f"verification failed in {runtime.name}: the export answers {got.shape}, "
                          f"the model {expected.shape}; nothing was written")
    diff = float(np.max(np.abs(got - expected))) if len(x) else float("inf")
    same = bool(np.array_equal(got.argmax(axis=1), expected.argmax(axis=1)))
    check = Verification(len(x), diff, same, runtime.name, runtime.version, description, TOLERANCE)
    if not check.passed:
        changed = int(np.sum(got.argmax(axis=1) != expected.argmax(axis=1)))
        raise ExportError(f"verification failed in {runtime.name} {runtime.version} on {description}: "
                          f"{changed} of {len(x)} images changed class, largest probability difference "
                          f"{diff:.2g} (at most {TOLERANCE:g} allowed); nothing was written")
    return check


def verification_inputs(opened: OpenedModel, *, report: Report, cancel: Cancel
                        ) -> tuple[np.ndarray, str, list[str]]:
    """The model inputs to verify on (float32 NHWC, scaled): the run's validation images (a
    seeded sample of MAX_IMAGES), else seeded random images, with what they are and notes."""
    rule, notes = opened.rule, []
    try:
        val = open_eval_set(opened, None, "val", report=report, cancel=cancel)
        items = np.arange(len(val.images))
        if len(items) > MAX_IMAGES:
            items = np.sort(np.random.default_rng(SEED).choice(items, MAX_IMAGES, replace=False))
        masker = masker_for(rule, val.images)
        batch = []
        for n, i in enumerate(items):
            check_cancel(cancel)
            try:
                batch.append(prepare_for_model(val.images.load(int(i)), rule, masker))
            except Exception:  # noqa: BLE001 (an unreadable image is not verified on; the rest are)
                continue
            report.progress((n + 1) / len(items), "Preparing the validation images")
        if not batch:
            raise EvalSetError("none of them could be read")
        what = f"{len(batch)} validation images of the run" + (
            f" (a seeded sample of {len(val.images)})" if len(val.images) > MAX_IMAGES else "")
        return rule.to_model(np.stack(batch)), what, notes
    except EvalSetError as exc:
        notes.append(f"the run's validation images could not be used ({exc}): verified on "
                     f"{RANDOM_IMAGES} seeded random images instead")
    pixels = np.random.default_rng(SEED).integers(0, 256, (RANDOM_IMAGES, *rule.size, rule.channels), np.uint8)
    return rule.to_model(pixels), f"{RANDOM_IMAGES} seeded random images", notes


def _keras_predict(model, x: np.ndarray) -> np.ndarray:
    return np.concatenate([np.asarray(model.predict_on_batch(x[i:i + BATCH]), np.float32)
                           for i in range(0, len(x), BATCH)])


def _manifest(opened: OpenedModel, model_format: str, runtime: Runtime, notes: list[str]) -> ExportManifest:
    run = opened.run
    policy = load_policy(run.run_dir, list(opened.classes))
    fitted = policy.fitted.get(opened.which)
    sha = file_sha256(opened.path)
    temperature = 1.0
    if fitted is not None and fitted.calibration.model_sha256 == sha:
        temperature = policy.temperature(opened.which)
    elif fitted is not None:
        notes.append(f"the run's calibration was fitted for another version of {opened.path.name}: "
                     "exported uncalibrated (temperature 1)")
    run_id = opened.info.get("id") if isinstance(opened.info, dict) else None
    return ExportManifest(
        model_format, list(opened.classes), opened.rule.to_json(), runtime.input_name, runtime.output_name,
        float(temperature), policy.threshold, policy.target_accuracy,
        None if policy.costs is None else policy.costs.to_json(),
        {"id": str(run_id or run.run_dir.name), "dir": str(run.run_dir), "which": opened.which,
         "epoch": opened.epoch}, sha, __version__, now_utc())


def _move_into_place(tmp: Path, staged: Path, out: Path, staged_side: Path, side: Path) -> None:
    """Rename the model, then its sidecar, into place (an old export moved aside first)."""
    for new, final in ((staged, out), (staged_side, side)):
        if final.is_dir() and not final.is_symlink():
            final.rename(tmp / f"old-{final.name}")  # os.replace cannot replace a folder
        os.replace(new, final)


def _size(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
