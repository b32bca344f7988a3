"""A project: what the tabs were set to, as one JSON document.

A project holds the dataset (its source), its split manifest, the Mask tab's preset and whether
training uses it, the Augment tab's chain and whether training uses it, the Train tab's
settings, the runs folder and the runs trained in the project. Each part is stored in the JSON
form its own module defines (``MaskParams``, ``ChainSpec``, ``SplitManifest``, ``RunSpec``) and
parsed by that module, so their rules live in one place.

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
from filterscope.core.augment.chain import ChainSpec
from filterscope.core.data.source import BuiltinSource, DatasetSource, FolderSource, Source
from filterscope.core.data.splits import SplitManifest, manifest_from_json
from filterscope.core.masking.colordist import MaskParams
from filterscope.core.project.versions import FORMAT_VERSION, PROJECT_KIND, ProjectError
from filterscope.core.training.runs import RunSpec

_KEYS = {"kind", "version", "app_version", "dataset", "split", "mask", "augment", "training", "runs"}
_TRAINING_KEYS = {"run", "val_fraction", "longest_side", "cache_features", "use_split", "use_mask",
                  "use_chain"}


def _parse(where: str, parse: Callable[[Any], Any], value: Any) -> Any:
    """``parse(value)``, its ValueError (MaskParamsError, ChainError, RunSpecError...) turned into
    a ProjectError naming the part of the project."""
    try:
        return parse(value)
    except ValueError as exc:
        raise ProjectError(f"{where}: {exc}") from exc


def _object(where: str, value: object, keys: set[str]) -> dict:
    if not isinstance(value, dict):
        raise ProjectError(f"{where}: must be a JSON object, not {value!r}")
    unknown = set(value) - keys
    if unknown:
        raise ProjectError(f"{where}: unknown field(s) {', '.join(sorted(map(str, unknown)))}")
    return value


def _without(where: str, value: object, key: str) -> dict:
    """``value`` as a JSON object that must not hold ``key`` (the project holds that itself)."""
    if not isinstance(value, dict):
        raise ProjectError(f"{where}: must be a JSON object, not {value!r}")
    if key in value:
        raise ProjectError(f"{where}.{key}: not stored here (the project's dataset is its own)")
    return value


def _flag(where: str, data: dict, key: str, default: bool) -> bool:
    value = data.get(key, default)
    if not isinstance(value, bool):
        raise ProjectError(f"{where}.{key}: must be true or false, not {value!r}")
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
class TrainingSettings:
    """The Train tab's settings, as a run spec on the project's dataset.

    Attributes:
        run: The model, optimiser, epochs, batch size, seed and fit options, on a DataSpec that
            holds only the dataset, the validation fraction and the longer image side: the
            split, mask and chain are the project's, taken when the ``use_`` switches say so.
        cache_features: Whether the head trains on cached features. Kept beside the run, as the
            tab keeps it: whether it can be honoured depends on fine-tuning and augmentation,
            and the run refuses it, saying why, when training starts.
        use_split: The run validates on the project's split (else on a held-out fraction).
        use_mask: The run applies the project's mask, when training is to use one.
        use_chain: The run augments with the project's chain, when training is to use one.
    """

    run: RunSpec
    cache_features: bool = False
    use_split: bool = True
    use_mask: bool = True
    use_chain: bool = True

    def to_json(self) -> dict:
        """A JSON-able dict: the run's own JSON without its data, and the data's two settings."""
        run = self.run.to_json()
        data = run.pop("data")
        run.pop("cache_features")
        return {"run": run, "val_fraction": data["val_fraction"], "longest_side": data["longest_side"],
                "cache_features": self.cache_features, "use_split": self.use_split,
                "use_mask": self.use_mask, "use_chain": self.use_chain}

    @classmethod
    def from_json(cls, data: object, source: Source) -> TrainingSettings:
        """Validate (through RunSpec's own rules) and build, for the dataset ``source``.

        Raises:
            ProjectError: Naming the field at fault (``training: model.blocks[0].filters: ...``).
        """
        data = _object("training", data, _TRAINING_KEYS)
        run = _without("training.run", data.get("run", {}), "data")
        spec = {**run, "data": {"source": source, "val_fraction": data.get("val_fraction", 0.2),
                                "longest_side": data.get("longest_side"), "seed": run.get("seed", 0)}}
        return cls(_parse("training", RunSpec.from_json, spec),
                   *(_flag("training", data, key, default) for key, default in
                     (("cache_features", False), ("use_split", True), ("use_mask", True),
                      ("use_chain", True))))


@dataclass(frozen=True)
class Project:
    """Everything a project file holds, with absolute paths.

    Attributes:
        dataset: The dataset's source: a built-in one or a folder (absolute in memory).
        split: Its split manifest (its ``source`` is ``dataset``), or None.
        mask: The Mask tab's preset, or None for the tab's own default.
        use_mask: Training uses the mask (the Mask tab's "Use this mask when training").
        chain: The Augment tab's chain, or None for the tab's own default.
        use_chain: Training uses the chain (the Augment tab's "Use this chain when training").
        training: The Train tab's settings, or None for its defaults.
        runs_dir: The folder runs are saved in, or None for the app's own.
        runs: The run folders trained in the project, oldest first.
    """

    dataset: DatasetSource
    split: SplitManifest | None = None
    mask: MaskParams | None = None
    use_mask: bool = False
    chain: ChainSpec | None = None
    use_chain: bool = False
    training: TrainingSettings | None = None
    runs_dir: Path | None = None
    runs: tuple[Path, ...] = ()

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
        training = self.training
        if training is not None:
            training = replace(training, run=replace(training.run, data=replace(training.run.data,
                                                                                source=source)))
        split = None if self.split is None else replace(self.split, source=source)
        return replace(self, dataset=source, split=split, training=training)

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
            "mask": None if self.mask is None else {"params": self.mask.to_json(), "train": self.use_mask},
            "augment": None if self.chain is None else {"chain": self.chain.to_json(),
                                                        "train": self.use_chain},
            "training": None if self.training is None else self.training.to_json(),
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
        chain = _section(data, "augment", "chain", ChainSpec.from_json)
        training = data.get("training")
        runs = _object("runs", data.get("runs", {}), {"folder", "runs"})
        listed = runs.get("runs", [])
        if not isinstance(listed, list):
            raise ProjectError(f"runs.runs: must be a list of paths, not {listed!r}")
        return cls(source, split, mask[0], mask[1], chain[0], chain[1],
                   None if training is None else TrainingSettings.from_json(training, source),
                   None if runs.get("folder") is None else resolve(runs["folder"], base, "runs.folder"),
                   tuple(resolve(run, base, "runs.runs") for run in listed))


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


def _section(data: dict, key: str, inner: str, parse: Callable[[Any], Any]) -> tuple[Any, bool]:
    """A ``{inner: ..., "train": bool}`` part (mask, augment) as (parsed value, train), or
    (None, False) when the project has none."""
    section = data.get(key)
    if section is None:
        return None, False
    section = _object(key, section, {inner, "train"})
    return _parse(f"{key}.{inner}", parse, section.get(inner)), _flag(key, section, "train", False)
