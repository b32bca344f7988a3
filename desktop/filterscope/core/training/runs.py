"""Run records: the ``RunSpec`` a training run is asked for, the ``RunResult`` it produced and
the folder it is saved in.

A run lives in ``out_dir/<run-name>/``, the run name being the spec's ``name`` or
``<YYYYmmdd-HHMMSS>-<model name>-<optimizer kind>`` (``-2``, ``-3``... added when taken):
``run.json`` (the spec and what the data turned out to be), ``history.json`` (one row per epoch),
``best.keras`` and ``last.keras``. Every file is written to a temp name in the same folder and
renamed, so a cancel, a crash or a full disk leaves the previous version whole. A run stopped
by the user (cancelled) saves no model after the cancel and keeps the epochs saved before it,
its history marked ``stopped`` (``cancelled`` in files of earlier versions): it is listed with
its partial result. A run stopped before its first epoch ended leaves no folder behind. A
history that still says ``running`` when no training is running belongs to an interrupted run.

Training itself is :func:`filterscope.core.training.train`. Nothing here imports TensorFlow or
Keras: the model to save is handed in.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

from filterscope.core.base.fileio import FILE_MODE, atomic_write_json, read_json_file
from filterscope.core.base.jobs import Cancel, Report, check_cancel
from filterscope.core.base.settings import check_declared, check_keys, like, setting
from filterscope.core.training.data_spec import DataSpec
from filterscope.core.training.fit_options import FitOptions, FitOptionsError, fit_tags
from filterscope.core.training.model_spec import ModelSpec, ModelSpecError, OptimizerSpec

RUN_FORMAT_VERSION = 1
MAX_LISTED_RUNS = 200  # the newest ones; a runs folder can hold thousands
_ROW_KEYS = ("epoch", "loss", "accuracy", "val_loss", "val_accuracy", "learning_rate")


class RunSpecError(ModelSpecError):
    """A run spec that cannot be trained; ``field`` names the setting at fault."""


class TrainingError(Exception):
    """A run that cannot start or cannot be saved (read-only runs folder, full disk...)."""


def cache_refusal(model: ModelSpec, *, augmented: bool) -> str | None:
    """Why ``model``'s features cannot be cached (None when they can): cached features are a
    frozen base's output for each image as it is on disk. The run spec and the Train tab both
    ask here."""
    base = model.base
    if base is None:
        return (f"only a pretrained base's features can be cached; {model.name or model.kind} "
                "trains all its layers")
    if base.fine_tune_blocks:
        return (f"fine-tuning trains {base.display}'s top blocks, so their features change every "
                "step and cannot be cached; set fine_tune_blocks to 0 or train without cached "
                "features")
    if augmented:
        return ("augmentation makes every image different in every epoch, so its features cannot "
                "be computed once: drop the augmentation chain, or train without cached features "
                "(the base then runs on every augmented image, more slowly)")
    return None


@dataclass(frozen=True)
class RunSpec:
    """Everything a training run needs; the defaults are the chapter's (10 epochs of 32).

    ``cache_features`` trains a pretrained model's head on its frozen base's features, computed
    once per image and kept on disk (``core.transfer.features``), instead of running the base
    over every image in every epoch. ``fit`` holds class weights, early stopping and the
    learning-rate schedule (:mod:`~filterscope.core.training.fit_options`; all off by default).
    """

    data: DataSpec
    model: ModelSpec = field(default_factory=ModelSpec)
    optimizer: OptimizerSpec = field(default_factory=OptimizerSpec)
    epochs: int = setting(10, "Epochs", low=1, high=10_000,
                          help="Passes over the training images (the chapter trains 10)")
    batch_size: int = setting(32, "Batch size", low=1, high=65_536, help="Images per training step")
    seed: int = like(DataSpec, "seed")
    name: str = setting("", "Run name", kind=str, help="The run's folder name (default: "
                        "date-time, model and optimiser)")
    cache_features: bool = setting(
        False, "Cache features", flag="--cache-features",
        help="Train a pretrained model's head on its frozen base's features, computed once per "
        "image and kept on disk, instead of running the base over every image in every epoch")
    fit: FitOptions = field(default_factory=FitOptions)

    def __post_init__(self) -> None:
        check_declared(self, error=RunSpecError)
        if not isinstance(self.model, ModelSpec) or not isinstance(self.optimizer, OptimizerSpec):
            raise RunSpecError("model", "needs a ModelSpec and an OptimizerSpec")
        if len(self.name) > 80 or self.name != self.name.strip() \
                or (self.name and _safe_name(self.name) != self.name):
            raise RunSpecError("name", "must be at most 80 letters, digits, '-', '_' or '.'")
        if not isinstance(self.fit, FitOptions):
            raise RunSpecError("fit", "needs FitOptions")
        if self.cache_features:
            self._check_cacheable()

    def _check_cacheable(self) -> None:
        refusal = cache_refusal(self.model, augmented=self.data.chain is not None)
        if refusal:
            raise RunSpecError("cache_features", refusal)

    def to_json(self) -> dict:
        """A JSON-able dict."""
        return {"version": RUN_FORMAT_VERSION, "name": self.name, "data": self.data.to_json(),
                "model": self.model.to_json(), "optimizer": self.optimizer.to_json(),
                "epochs": self.epochs, "batch_size": self.batch_size, "seed": self.seed,
                "cache_features": self.cache_features, "fit": self.fit.to_json()}

    @classmethod
    def from_json(cls, data: object) -> RunSpec:
        """Validate and build; errors name the field (``model.blocks[0].filters``)."""
        from filterscope.core.training.data_spec import DataSpec, PipelineError

        check_keys("", data, {"version", "name", "data", "model", "optimizer", "epochs", "batch_size",
                              "seed", "cache_features", "fit"}, error=RunSpecError)
        if data.get("version", RUN_FORMAT_VERSION) != RUN_FORMAT_VERSION:
            raise RunSpecError("version", f"{data.get('version')!r} is not a version this app reads")
        try:
            spec = DataSpec.from_json(data.get("data"))
        except PipelineError as exc:
            raise RunSpecError("data", str(exc)) from exc
        parts = {}
        for key, parse in (("model", ModelSpec.from_json), ("optimizer", OptimizerSpec.from_json),
                           ("fit", FitOptions.from_json)):
            try:
                parts[key] = parse(data.get(key, None if key == "fit" else {}))
            except FitOptionsError as exc:
                raise RunSpecError(exc.field, exc.message) from exc
            except ModelSpecError as exc:
                raise RunSpecError(f"{key}.{exc.field}".rstrip("."), exc.message) from exc
        return cls(spec, parts["model"], parts["optimizer"], data.get("epochs", 10),
                   data.get("batch_size", 32), data.get("seed", 0), data.get("name", ""),
                   data.get("cache_features", False), parts["fit"])


@dataclass
class RunResult:
    """What a finished (or diverged) run produced.

    Attributes:
        run_dir: The run's folder, or None when training without saving.
        status: ``finished`` or ``diverged`` (a cancelled run raises Cancelled instead); read
            back by :func:`load_run`, also ``stopped`` or ``interrupted``.
        history: One dict per completed epoch, as in the ``epoch`` partials.
        best_epoch: 1-based epoch of ``best.keras`` (best validation accuracy, ties to the lower
            validation loss; training metrics when there is no validation data).
        diverged: A plain sentence when training stopped because the loss exploded, else None.
        classes: Class names in label order (the model's output order).
        input_shape: (H, W, C) the model takes.
        model: The in-memory model after the last batch trained.
        spec: The run spec as JSON (``RunSpec.to_json()``).
        skipped: ``{"path", "reason"}`` of every file left out as unreadable.
        warnings: Plain sentences about the data (a class without validation images...).
        preprocessing: How the model takes its pixels (``model_input.preprocess``): what
            evaluation and prediction must apply, as training did; ``unit`` for runs saved
            before runs recorded it.
        stopped_early: The epoch after which early stopping ended the run, else None.
    """

    run_dir: Path | None
    status: str
    history: list[dict]
    best_epoch: int | None
    diverged: str | None
    classes: list[str]
    input_shape: tuple[int, int, int]
    model: Any = field(default=None, repr=False, compare=False)
    spec: dict = field(default_factory=dict, repr=False, compare=False)
    skipped: list[dict] = field(default_factory=list, compare=False)
    warnings: list[str] = field(default_factory=list, compare=False)
    preprocessing: str = "unit"
    stopped_early: int | None = None

    @property
    def epochs_run(self) -> int:
        """Completed epochs."""
        return len(self.history)

    def tags(self) -> list[str]:
        """What sets the run apart in a comparison: learning rate, mask, augmentation, a base's
        random weights, class weights, the learning-rate schedule, early stopping, cached
        features."""
        optimizer, data = self.spec.get("optimizer") or {}, self.spec.get("data") or {}
        tags = [f"lr {optimizer['learning_rate']:g}"] if "learning_rate" in optimizer else []
        tags += [name for key, name in (("mask", "mask"), ("chain", "augmented"))
                 if data.get(key) is not None]
        base = (self.spec.get("model") or {}).get("base") or {}
        if base.get("weights") == "random":
            tags.append("random weights")
        tags += fit_tags(self.spec.get("fit"))
        return tags + (["cached features"] if self.spec.get("cache_features") else [])

    def best(self) -> dict | None:
        """The history row of the best epoch."""
        return None if self.best_epoch is None else self.history[self.best_epoch - 1]

    def to_json(self) -> dict:
        """A JSON-able summary (without the model)."""
        best, last = self.best(), (self.history[-1] if self.history else None)
        return {"run_dir": None if self.run_dir is None else str(self.run_dir), "status": self.status,
                "epochs_run": self.epochs_run, "best_epoch": self.best_epoch,
                "best_val_accuracy": best and best["val_accuracy"],
                "final_val_accuracy": last and last["val_accuracy"],
                "final": last, "diverged": self.diverged, "classes": list(self.classes),
                "input_shape": list(self.input_shape), "preprocessing": self.preprocessing,
                "stopped_early": self.stopped_early,
                "history": self.history, "skipped": list(self.skipped),
                "warnings": list(self.warnings)}


class RunReadError(ValueError):
    """A run folder whose files cannot be read back."""


def load_run(run_dir: str | os.PathLike) -> RunResult:
    """A saved run read back from its folder (without its model; see ``best.keras``).

    A history still marked ``running`` is returned as ``interrupted``: the caller knows whether
    it is training into that folder right now. ``cancelled`` (earlier versions' word for a run
    the user stopped) is returned as ``stopped``.

    Raises:
        RunReadError: ``run.json`` or ``history.json`` is missing, unreadable or not a run's.
    """
    path = Path(run_dir)
    info = read_json_file(path / "run.json", RunReadError, "run description")
    history = read_json_file(path / "history.json", RunReadError, "run history")
    try:
        rows = [{key: (None if row.get(key) is None else float(row[key])) for key in _ROW_KEYS}
                for row in history["epochs"]]
        for row, saved in zip(rows, history["epochs"]):
            if "seconds" in saved:
                row["seconds"] = float(saved["seconds"])
        for row in rows:
            row["epoch"] = int(row["epoch"])
        best = history.get("best_epoch")
        if best is not None and not 1 <= int(best) <= len(rows):
            raise ValueError(f"best epoch {best} of {len(rows)}")
        status = str(history["status"])
        status = {"running": "interrupted", "cancelled": "stopped"}.get(status, status)
        return RunResult(path, status, rows,
                         None if best is None else int(best), history.get("diverged"),
                         [str(c) for c in info["classes"]],
                         tuple(int(n) for n in info["input_shape"]),
                         spec=info["run"] if isinstance(info.get("run"), dict) else {},
                         skipped=[{"path": str(x["path"]), "reason": str(x["reason"])}
                                  for x in info.get("skipped", [])],
                         warnings=[str(w) for w in info.get("warnings", [])],
                         preprocessing=_preprocessing(info.get("preprocessing", "unit")),
                         stopped_early=_epoch_or_none(history.get("stopped_early"), len(rows)))
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise RunReadError(f"{path}: not a run this app can read ({exc!r})") from exc


def _epoch_or_none(epoch: object, n_rows: int) -> int | None:
    if epoch is None:
        return None
    if isinstance(epoch, bool) or not isinstance(epoch, int) or not 1 <= epoch <= n_rows:
        raise ValueError(f"stopped_early {epoch!r} of {n_rows} epochs")
    return epoch


def _preprocessing(mode: object) -> str:
    from filterscope.core.training.model_input import PREPROCESSINGS

    if mode not in PREPROCESSINGS:
        raise ValueError(f"preprocessing {mode!r}")
    return str(mode)


class SavedRuns(NamedTuple):
    """The runs of a runs folder, and one sentence per run folder that could not be read."""

    runs: list[RunResult]
    problems: list[str]


def saved_runs(out_dir: str | os.PathLike, *, report: Report, cancel: Cancel) -> SavedRuns:
    """The runs saved in a runs folder, oldest first by when each began (the newest
    MAX_LISTED_RUNS of them). A job: the folder may be slow (a network drive).

    Returns:
        The runs, and one sentence per run folder that could not be read. Folders without a
        ``run.json`` are not runs and are passed over in silence; a missing runs folder has none.
    """
    try:
        found = [((p / "run.json").stat().st_mtime_ns, p.name, p) for p in Path(out_dir).iterdir()
                 if (p / "run.json").is_file()]
    except OSError:
        return SavedRuns([], [])
    folders = [p for _, _, p in sorted(found)]
    runs, problems = [], []
    folders = folders[-MAX_LISTED_RUNS:]
    for n, folder in enumerate(folders):
        check_cancel(cancel)
        report.progress(n / len(folders), f"Reading {folder.name}")
        try:
            runs.append(load_run(folder))
        except RunReadError as exc:
            problems.append(str(exc))
    return SavedRuns(runs, problems)


def read_run(run_dir: str | os.PathLike, *, report: Report, cancel: Cancel) -> RunResult | None:
    """Job form of :func:`load_run` for a run that has just ended (the folder may be slow).

    Returns:
        The run, or None when its folder is gone: a run stopped before its first epoch ended
        leaves none.

    Raises:
        RunReadError: As :func:`load_run`.
    """
    check_cancel(cancel)
    report.progress(0.0, f"Reading {Path(run_dir).name}")
    if not (Path(run_dir) / "run.json").is_file():
        return None
    return load_run(run_dir)


def _safe_name(text: str) -> str:
    return re.sub(r"[^\w.-]+", "-", text, flags=re.ASCII).strip("-.")[:80]


def is_better(row: dict, best: dict | None) -> bool:
    """True when epoch ``row`` beats ``best``: higher validation accuracy, ties to the lower
    validation loss (training metrics when there is no validation data)."""
    key = "val_accuracy" if row["val_accuracy"] is not None else "accuracy"
    loss = "val_loss" if row["val_loss"] is not None else "loss"
    if best is None:
        return True
    return (row[key], -row[loss]) > (best[key], -best[loss])


class RunFolder:
    """The files of one run, each replaced atomically."""

    def __init__(self, out_dir: Path, run: RunSpec) -> None:
        model = _safe_name(run.model.name) or run.model.kind
        stem = run.name or f"{time.strftime('%Y%m%d-%H%M%S')}-{model}-{run.optimizer.kind}"
        for n in range(1, 1000):
            path = out_dir / (stem if n == 1 else f"{stem}-{n}")
            try:
                path.mkdir()
                break
            except FileExistsError:
                continue
        else:
            raise TrainingError(f"{out_dir}: too many runs named {stem}")
        self.path = path
        self.saved_model = False

    def write_json(self, name: str, data: Any) -> None:
        try:
            atomic_write_json(self.path / name, data)
        except OSError as exc:
            raise TrainingError(f"cannot write {self.path / name}: {exc.strerror or exc}") from exc

    def save_model(self, model: Any, name: str) -> None:
        target = self.path / name
        fd, tmp = tempfile.mkstemp(dir=self.path, prefix=f".{name}.", suffix=".tmp.keras")
        os.close(fd)
        try:
            with warnings.catch_warnings():
                # Keras 3 saves TensorFlow variables through np.array(), and NumPy 2 answers each
                # with "DeprecationWarning: __array__ implementation doesn't accept a copy keyword,
                # so passing copy=False failed. __array__ must implement 'dtype' and 'copy' keyword
                # arguments." Harmless, and not ours to fix: silenced for this call only.
                warnings.filterwarnings("ignore", "__array__ implementation doesn't accept a copy keyword",
                                        DeprecationWarning, r"keras\.src\.backend\.tensorflow\.core")
                model.save(tmp)
            with open(tmp, "rb+") as handle:
                if hasattr(os, "fchmod"):  # mkstemp's 0600, not the umask's mode run.json gets
                    os.fchmod(handle.fileno(), FILE_MODE)
                os.fsync(handle.fileno())
            os.replace(tmp, target)
        except BaseException as exc:
            Path(tmp).unlink(missing_ok=True)
            if isinstance(exc, OSError):
                raise TrainingError(f"cannot save {target}: {exc.strerror or exc}") from exc
            raise
        self.saved_model = True

    def discard_if_empty(self) -> None:
        """Remove the folder of a run that never saved a model (cancelled or failed early)."""
        if not self.saved_model:
            shutil.rmtree(self.path, ignore_errors=True)


def check_writable(out_dir: Path) -> None:
    """Make ``out_dir`` if needed and prove a file can be written there; TrainingError if not."""
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(dir=out_dir, prefix=".write-test-")
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise TrainingError(f"cannot write to the runs folder {out_dir}: {exc.strerror or exc}") from exc
