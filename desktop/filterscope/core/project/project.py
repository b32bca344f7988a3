"""A project: what the tabs were set to, as one JSON document.

A project holds the dataset (its source), its split manifest, the class and subset the Dataset
tab shows, the Mask tab's preset, the Augment tab's chain, the Train tab's settings (among them
whether training uses the mask and the chain), the Visualise and Results tabs' settings (the
evaluation open), the Filters tab's lesson, the Live tab's settings, the runs folder and the
runs trained in the project. Each part is stored in the JSON form its own module defines
(``MaskParams``, ``ChainSpec``, ``SplitManifest``, ``TrainSettings``) and parsed by that module,
so their rules live in one place.

Paths inside the project file's folder are stored relative to it (with ``/``), so a project
folder can be moved or copied whole; other paths are stored absolute. In memory every path is
absolute.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from pathlib import Path, PurePosixPath
from typing import Any, Callable

from filterscope import __version__
from filterscope.core.augment.settings import AugmentSettings
from filterscope.core.base.settings import SettingError, Settings, check_keys, without_views
from filterscope.core.data.dataset_settings import DatasetSettings
from filterscope.core.data.source import (
    BuiltinSource,
    DatasetSource,
    FolderSource,
    ManifestSource,
    Source,
    SourceError,
)
from filterscope.core.data.splits import SplitManifest, manifest_from_json
from filterscope.core.filters.settings import FiltersSettings
from filterscope.core.live.capture_train import CaptureSettings
from filterscope.core.live.settings import LiveSettings
from filterscope.core.masking.colordist import MaskParams
from filterscope.core.project.versions import FORMAT_VERSION, PROJECT_KIND, ProjectError
from filterscope.core.results.settings import EvaluateSettings
from filterscope.core.training.settings import TrainSettings
from filterscope.core.transfer.imagenet import imagenet_models
from filterscope.core.visualize.settings import VisualizeSettings

_NAMED = {*imagenet_models(), "imagenet", "random", ""}  # model and weights choices that are not paths
# The tabs' settings models a project holds (its keys and Project's fields), and which of their
# settings name files or folders (stored relative to the project's folder when inside it).
_MODELS: dict[str, type[Settings]] = {"augment": AugmentSettings, "training": TrainSettings,
                                      "visualize": VisualizeSettings, "evaluate": EvaluateSettings,
                                      "filters": FiltersSettings, "live": LiveSettings, "capture": CaptureSettings,
                                      "browse": DatasetSettings}
_PATHS = {"visualize": ("model", "weights"), "evaluate": ("run",), "filters": ("image",),
          "live": ("video", "model", "weights", "save_folder")}
_SOURCES = {"evaluate": ("data",)}  # a typed source: a folder or manifest path, or a built-in
_KEYS = {"kind", "version", "app_version", "dataset", "split", "mask", *_MODELS, "runs"}


def _parse(where: str, parse: Callable[[Any], Any], value: Any) -> Any:
    """``parse(value)``, its ValueError (MaskParamsError, ChainError, RunSpecError...) turned into
    a ProjectError naming the part of the project."""
    try:
        return parse(value)
    except ValueError as exc:
        raise ProjectError(f"{where}: {exc}") from exc


def _object(where: str, value: object, keys: set[str]) -> dict:
    try:
        return check_keys(where, value, keys)
    except SettingError as exc:
        raise ProjectError(str(exc)) from None


def _without(where: str, value: object, key: str) -> dict:
    """``value`` as a JSON object that must not hold ``key`` (the project holds that itself)."""
    if not isinstance(value, dict):
        raise ProjectError(f"{where}: must be a JSON object, not {value!r}")
    if key in value:
        raise ProjectError(f"{where}.{key}: not stored here (the project's dataset is its own)")
    return value


def portable(path: str | os.PathLike, base: Path | None) -> str:
    """``path`` relative to ``base`` (with ``/``) when it lies inside it, else (or with no
    ``base``) absolute."""
    path = Path(os.path.abspath(path))
    if base is None:
        return str(path)
    base = Path(os.path.abspath(base))
    try:
        return PurePosixPath(*path.relative_to(base).parts).as_posix()
    except ValueError:
        return str(path)


def resolve(text: object, base: Path, where: str) -> Path:
    """The absolute path a stored path names (relative ones are relative to ``base``)."""
    if not isinstance(text, str) or not text:
        raise ProjectError(f"{where}: must be a path, not {text!r}")
    path = Path(text)
    return path if path.is_absolute() else Path(os.path.normpath(Path(os.path.abspath(base)) / path))


@dataclass(frozen=True)
class Project:
    """Everything a project file holds, with absolute paths.

    Attributes:
        dataset: The dataset's source: a built-in one or a folder (absolute in memory).
        split: Its split manifest (its ``source`` is ``dataset``), or None.
        mask: The Mask tab's preset, or None for the tab's own default.
        augment: The Augment tab's chain and preview settings (a copy), or None for its defaults.
        training: The Train tab's settings (a copy), or None for its defaults. Whether training
            uses the mask and the chain is theirs (``use_mask``, ``use_chain``).
        visualize: The Visualise tab's model, layer and gradient-ascent settings (a copy), or
            None for its defaults.
        evaluate: The Results tab's run, model and images and the saved evaluation open (a
            copy), or None for its defaults.
        runs_dir: The folder runs are saved in, or None for the app's own.
        runs: The run folders trained in the project, oldest first.
        filters: The Filters tab's lesson (image, window, kernels, step position; a copy), or
            None for its defaults.
        live: The Live tab's source, model and what each frame shows (a copy), or None.
        capture: The Live tab's capture-and-train settings (a copy), or None.
        browse: The class and subset the Dataset tab shows (a copy; by name, so a class or
            subset the dataset no longer has is named when the project opens), or None for all.
    """

    dataset: DatasetSource
    split: SplitManifest | None = None
    mask: MaskParams | None = None
    augment: AugmentSettings | None = None
    training: TrainSettings | None = None
    visualize: VisualizeSettings | None = None
    evaluate: EvaluateSettings | None = None
    runs_dir: Path | None = None
    runs: tuple[Path, ...] = ()
    filters: FiltersSettings | None = None
    live: LiveSettings | None = None
    capture: CaptureSettings | None = None
    browse: DatasetSettings | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.dataset, DatasetSource):
            raise ProjectError(f"dataset: must be a built-in dataset or a folder, not {self.dataset}")
        if self.split is not None and self.split.source != self.dataset:
            raise ProjectError(f"split: made for {self.split.source}, not for {self.dataset}")

    def dataset_folder(self) -> Path | None:
        """The dataset's folder, or None for a built-in dataset."""
        return self.dataset.folder()

    def missing_dataset(self) -> Path | None:
        """The dataset's folder when it no longer exists there (moved, renamed, unplugged)."""
        folder = self.dataset_folder()
        return folder if folder is not None and not folder.is_dir() else None

    def relocated(self, folder: str | os.PathLike) -> Project:
        """The same project with its dataset found in ``folder`` (its split follows it)."""
        source = FolderSource.at(folder)
        split = None if self.split is None else replace(self.split, source=source)
        return replace(self, dataset=source, split=split)

    def work(self) -> Project:
        """The project without where the user was looking (a lesson's step: see
        :attr:`~filterscope.core.base.settings.Setting.view`): two projects whose work is equal
        need no saving between them."""
        return replace(self, **{key: without_views(getattr(self, key)) for key in _MODELS
                                if getattr(self, key) is not None})

    def to_json(self, base: Path | None) -> dict:
        """A JSON-able dict, paths inside ``base`` (the project file's folder) relative to it;
        with None, every path absolute (for showing a project)."""
        folder = self.dataset_folder()
        source = self.dataset if folder is None else FolderSource(portable(folder, base))
        split = None if self.split is None else \
            {key: value for key, value in self.split.to_json().items() if key != "source"}
        return {
            "kind": PROJECT_KIND, "version": FORMAT_VERSION, "app_version": __version__,
            "dataset": {"source": source.to_json()},
            "split": split,
            "mask": None if self.mask is None else {"params": self.mask.to_json()},
            **{key: None if getattr(self, key) is None else _settings_json(key, getattr(self, key), base)
               for key in _MODELS},
            "runs": {"folder": None if self.runs_dir is None else portable(self.runs_dir, base),
                     "runs": [portable(run, base) for run in self.runs]},
        }

    @classmethod
    def from_json(cls, data: object, base: Path) -> Project:
        """Build from a current-version dict (see ``versions.migrate``), relative paths taken
        from ``base``.

        Raises:
            ProjectError: Naming the part at fault.
        """
        data = _object("project", data, _KEYS)
        source = _dataset_source(_object("dataset", data.get("dataset"), {"source"}).get("source"), base)
        split = data.get("split")
        if split is not None:
            split = _parse("split", manifest_from_json, {**_without("split", split, "source"),
                                                         "source": source.to_json()})
        mask = _section(data, "mask", "params", MaskParams.from_json)
        models = {key: None if data.get(key) is None else _settings_from_json(key, model, data[key], base)
                  for key, model in _MODELS.items()}
        runs = _object("runs", data.get("runs", {}), {"folder", "runs"})
        listed = runs.get("runs", [])
        if not isinstance(listed, list):
            raise ProjectError(f"runs.runs: must be a list of paths, not {listed!r}")
        return cls(source, split, mask,
                   runs_dir=None if runs.get("folder") is None else resolve(runs["folder"], base, "runs.folder"),
                   runs=tuple(resolve(run, base, "runs.runs") for run in listed), **models)


def _settings_json(key: str, settings: Settings, base: Path | None) -> dict:
    """A tab's settings as the project stores them: the files and folders they name inside
    ``base`` relative to it (see ``_PATHS``, ``_SOURCES``)."""
    data = settings.to_json()
    for name in _PATHS.get(key, ()):
        if data[name] not in _NAMED:
            data[name] = portable(data[name], base)
    for name in _SOURCES.get(key, ()):
        if data[name]:
            source = Source.parse(data[name], bare=True)
            if isinstance(source, (FolderSource, ManifestSource)):
                source = type(source)(portable(source.path, base))
            data[name] = source.to_json()
    return data


def _settings_from_json(key: str, model: type[Settings], stored: object, base: Path) -> Settings:
    """A tab's settings a project stores, checked by the model, the paths they name absolute
    (relative ones are relative to ``base``)."""
    settings = _parse(key, model.from_json, stored)
    changes = {name: str(resolve(getattr(settings, name), base, f"{key}.{name}"))
               for name in _PATHS.get(key, ()) if getattr(settings, name) not in _NAMED}
    for name in _SOURCES.get(key, ()):
        if getattr(settings, name):
            try:
                source = Source.parse(getattr(settings, name))
            except SourceError as exc:
                raise ProjectError(f"{key}.{name}: {exc}") from None
            changes[name] = str(source) if isinstance(source, BuiltinSource) else \
                str(resolve(source.path, base, f"{key}.{name}"))
    settings.update(changes)
    return settings


def _dataset_source(stored: object, base: Path) -> DatasetSource:
    """The dataset a project file names, a folder inside ``base`` stored relative to it."""
    if not isinstance(stored, str):
        raise ProjectError(f"dataset.source: must be text, not {stored!r}")
    source = Source.parse_or_none(stored)
    if isinstance(source, FolderSource):
        return FolderSource(str(resolve(source.path, base, "dataset.source")))
    if not isinstance(source, BuiltinSource):
        raise ProjectError(f"dataset.source: must be builtin:<id> or folder:<path>, not {stored!r}")
    return source



def _section(data: dict, key: str, inner: str, parse: Callable[[Any], Any]) -> Any:
    """A ``{inner: ...}`` part (mask, augment), parsed, or None when the project has none."""
    section = data.get(key)
    if section is None:
        return None
    return _parse(f"{key}.{inner}", parse, _object(key, section, {inner}).get(inner))
