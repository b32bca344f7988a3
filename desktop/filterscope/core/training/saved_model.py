"""Opening a trained model, safely: a run folder or a ``.keras`` file (evaluation, prediction and
the visualisations all open models here).

A run folder gives everything: the model (``best.keras`` or ``last.keras``), its class names,
and how its images were prepared (size, channels, mask:
:class:`~filterscope.core.training.model_input.InputRule`). A ``.keras``
file inside a run folder is that run's. A bare ``.keras`` file says only its input size: its
images are resized to it and scaled to [0, 1] as Filterscope trains, and its classes are named
by a ``<name>.classes.txt`` file beside it (one name a line) or ``0`` to ``N-1``.

Models are loaded in Keras's safe mode, and before that the file's description is read as plain
JSON: a model with a Lambda layer or custom layers (Python code stored in the file, which loading
would run) is refused with an explanation and never loaded.
"""

from __future__ import annotations

import json
import os
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from filterscope.core.base.fileio import read_json_file
from filterscope.core.base.jobs import Cancel, Report, check_cancel
from filterscope.core.training.data_spec import DataSpec, PipelineError
from filterscope.core.training.model_input import InputRule
from filterscope.core.training.runs import RunReadError, RunResult, load_run
from filterscope.core.training.tf_runtime import import_tensorflow

MODEL_FILES = {"best": "best.keras", "last": "last.keras"}
CLASSES_SUFFIX = ".classes.txt"
_UNSAFE = {"Lambda": "a Lambda layer", "__lambda__": "a Python lambda function"}


class ModelLoadError(Exception):
    """A model that cannot (or must not) be loaded; the message names the file and says why."""


@dataclass
class OpenedModel:
    """A model ready to predict, with what its run says about it.

    Attributes:
        model: The Keras model.
        path: Its ``.keras`` file.
        classes: Class names in the model's output order.
        rule: How its images are prepared.
        run: The run it belongs to (without its model), or None for a bare file.
        info: The run's ``run.json`` (``params``, ``n_train``...); {} for a bare file.
        which: ``best`` or ``last`` for a run's model, else ``file``.
        epoch: The epoch the file holds, when known.
        notes: Plain sentences about what was assumed or found.
        title: What to call a model that is neither a run's nor a file's (an ImageNet model).
    """

    model: Any
    path: Path
    classes: list[str]
    rule: InputRule
    run: RunResult | None = None
    info: dict = field(default_factory=dict)
    which: str = "file"
    epoch: int | None = None
    notes: list[str] = field(default_factory=list)
    title: str = ""

    def describe(self) -> str:
        """``"best.keras of run 2024...-convnet-adam (epoch 7 of 10)"``, the title or the file's path."""
        if self.title:
            return self.title
        if self.run is None:
            return str(self.path)
        epoch = f" (epoch {self.epoch} of {self.run.epochs_run})" if self.epoch else ""
        return f"{self.path.name} of run {self.run.run_dir.name}{epoch}"

    def data_spec(self) -> DataSpec | None:
        """The run's data spec (None for a bare file)."""
        return None if self.run is None else DataSpec.from_json(self.run.spec["data"])


def open_model(path: str | os.PathLike, *, which: str = "best", report: Report,
               cancel: Cancel) -> OpenedModel:
    """Open a run folder's model (``which``: best or last) or a ``.keras`` file, safely.

    Raises:
        ModelLoadError: No such folder or file, a run without its model file (interrupted or
            stopped before its first epoch ended), a damaged file, a model with a Lambda or
            custom layer, or a model that does not match its run.
        Cancelled: ``cancel`` was set.
    """
    if which not in MODEL_FILES:
        raise ModelLoadError(f"choose the best or the last model, not {which!r}")
    path = Path(path).expanduser()
    check_cancel(cancel)
    report.progress(0.0, f"Opening {path.name}")
    if path.is_dir():
        return _open_run(path, which, cancel)
    if not path.is_file():
        raise ModelLoadError(f"{path}: no such run folder or model file")
    if (path.parent / "run.json").is_file():
        name = next((w for w, f in MODEL_FILES.items() if f == path.name), None)
        if name is not None:
            return _open_run(path.parent, name, cancel)
    return _open_file(path, cancel)


def _open_run(run_dir: Path, which: str, cancel: Cancel) -> OpenedModel:
    try:
        run = load_run(run_dir)
    except RunReadError as exc:
        raise ModelLoadError(f"{run_dir}: not a run folder this app can read ({exc})") from exc
    info = read_json_file(run_dir / "run.json", ModelLoadError, "run description")
    path = run_dir / MODEL_FILES[which]
    notes = []
    if which == "best" and not path.is_file() and (run_dir / MODEL_FILES["last"]).is_file():
        which, path = "last", run_dir / MODEL_FILES["last"]
        notes.append("the run has no best.keras (no epoch was judged best): using last.keras")
    if not path.is_file():
        why = ("it was interrupted" if run.status == "interrupted" else "it ended") + \
            " before its first epoch was saved"
        raise ModelLoadError(f"{run_dir}: the run has no {path.name}: {why}; train it again")
    try:
        data = DataSpec.from_json(run.spec.get("data"))
    except PipelineError as exc:
        raise ModelLoadError(f"{run_dir / 'run.json'}: {exc}") from exc
    shape = run.input_shape
    rule = InputRule.of_run(shape, data, run.preprocessing)
    model = _load(path, cancel)
    _check_fits(model, path, shape, len(run.classes))
    epoch = run.best_epoch if which == "best" else run.epochs_run
    if run.status in ("interrupted", "stopped", "diverged"):
        notes.append(f"the run {run.status} after {run.epochs_run} epoch(s); {path.name} holds "
                     f"epoch {epoch}")
    return OpenedModel(model, path, list(run.classes), rule, run, info, which, epoch, notes)


def _open_file(path: Path, cancel: Cancel) -> OpenedModel:
    model = _load(path, cancel)
    if len(model.inputs) != 1:
        raise ModelLoadError(f"{path}: the model has {len(model.inputs)} inputs; only models that "
                             "take one image can be used")
    shape = tuple(model.input_shape[1:]) if isinstance(model.input_shape, tuple) else ()
    if len(shape) != 3 or not all(isinstance(n, int) for n in shape) or shape[2] not in (1, 3):
        raise ModelLoadError(f"{path}: the model takes {model.input_shape}, not images of a fixed "
                             "size (height, width, 1 or 3 channels); it cannot be fed photos")
    n_classes = int(model.output_shape[-1])
    sidecar = path.with_name(path.stem + CLASSES_SUFFIX)
    notes = [f"no run.json beside {path.name}: images are resized to {shape[0]} x {shape[1]} and "
             "scaled to [0, 1], as Filterscope trains, without a mask"]
    if sidecar.is_file():
        try:
            classes = [line.strip() for line in sidecar.read_text(encoding="utf-8").splitlines()
                       if line.strip()]
        except (OSError, UnicodeDecodeError) as exc:
            raise ModelLoadError(f"{sidecar}: cannot read the class names ({exc})") from exc
        if len(classes) != n_classes:
            raise ModelLoadError(f"{sidecar}: names {len(classes)} classes, the model has "
                                 f"{n_classes} outputs")
    else:
        classes = [str(i) for i in range(n_classes)]
        notes.append(f"no {sidecar.name} beside it: classes are named 0 to {n_classes - 1}")
    return OpenedModel(model, path, classes, InputRule((shape[0], shape[1]), shape[2]), notes=notes)


def _check_fits(model: Any, path: Path, shape: tuple[int, int, int], n_classes: int) -> None:
    if tuple(model.input_shape[1:]) != tuple(shape) or int(model.output_shape[-1]) != n_classes:
        raise ModelLoadError(f"{path}: the model takes {tuple(model.input_shape[1:])} and answers "
                             f"{model.output_shape[-1]} classes, but its run.json says {tuple(shape)} "
                             f"and {n_classes} classes; the file does not belong to this run")


def _load(path: Path, cancel: Cancel) -> Any:
    refuse_unsafe(path)
    check_cancel(cancel)
    import_tensorflow()  # quietly, inside the CLI; Keras imports it anyway
    import keras

    try:
        return keras.saving.load_model(path, compile=False, safe_mode=True)
    except Exception as exc:  # Keras raises ValueError, TypeError, OSError, h5py's errors...
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        if "safe_mode" in str(exc) or "Lambda" in str(exc):
            raise ModelLoadError(_unsafe_message(path, ["code stored in the file"])) from exc
        raise ModelLoadError(f"{path}: cannot load the model ({first[:300]})") from exc


def refuse_unsafe(path: Path) -> None:
    """Read the model's description (``config.json`` in the ``.keras`` zip) without loading it;
    refuse a damaged file and a model with layers that carry Python code.

    Raises:
        ModelLoadError: Naming the file and what is wrong.
    """
    try:
        with zipfile.ZipFile(path) as archive:
            config = json.loads(archive.read("config.json").decode("utf-8"))
    except (zipfile.BadZipFile, KeyError, OSError, UnicodeDecodeError, ValueError) as exc:
        raise ModelLoadError(f"{path}: not a readable Keras model: the file is damaged or not a "
                             f".keras file ({exc})") from exc
    found: list[str] = []
    _find_unsafe(config, found)
    if found:
        raise ModelLoadError(_unsafe_message(path, list(dict.fromkeys(found))))


def _find_unsafe(node: Any, found: list[str]) -> None:
    if isinstance(node, dict):
        name, registered = node.get("class_name"), node.get("registered_name")
        if isinstance(name, str):
            if name in _UNSAFE:
                found.append(_UNSAFE[name])
            elif name == "function" and not str(node.get("module")).startswith("keras"):
                found.append(f"a Python function '{node.get('config')}'")
            elif isinstance(registered, str) and ">" in registered:
                found.append(f"a custom layer or function '{registered}'")
            elif node.get("module") is None and not name.startswith("__") and "config" in node:
                found.append(f"a custom layer or function '{name}'")
            elif isinstance(node.get("module"), str) and node["module"].split(".")[0] != "keras":
                found.append(f"'{name}' from outside Keras ({node['module']})")
        for value in node.values():
            _find_unsafe(value, found)
    elif isinstance(node, list):
        for value in node:
            _find_unsafe(value, found)


def _unsafe_message(path: Path, what: list[str]) -> str:
    return (f"{path}: refused: the model contains {', '.join(what)}. Such parts store Python code "
            "in the file and loading the model would run it, so Filterscope loads models in "
            "Keras's safe mode and never runs them. Rebuild the model from standard Keras layers "
            "(every model the Train tab builds is), or load it in your own Python only if you "
            "trust where the file came from.")
