"""The project file's format version, its kind marker, and the migrations from older versions.

A project file is read by migrating its JSON, one version at a time, up to :data:`FORMAT_VERSION`
and only then parsing it: the parser knows the current shape alone, and each migration is a
small pure function of the JSON that is kept (and tested against a stored file) for good.
"""

from __future__ import annotations

from typing import Callable

from filterscope.core.data.source import DEFAULT_SOURCE, DatasetSource, FolderSource, Source, SourceError

PROJECT_KIND = "filterscope-project"
FORMAT_VERSION = 3
V1_MARKER = "filterscope_project"  # version 1 files said what they were with this key


class ProjectError(ValueError):
    """A project file that cannot be read or written; the message names the file and the part."""


def _text(old: dict, key: str, default: str | None) -> str | None:
    value = old.get(key, default)
    if value is not None and not isinstance(value, str):
        raise ProjectError(f"{key}: must be text, not {value!r}")
    return value


def _v1_to_v2(old: dict) -> dict:
    """Version 1 kept every setting at the top level: the dataset as a source or a bare folder
    path, absolute paths, and a mask or chain only when training used it (there were no
    "use when training" switches). Version 2 groups them by tab and stores paths inside the
    project's folder relative to it; absolute paths stay valid."""
    dataset = _v1_source(_text(old, "dataset", None))
    manifest = old.get("manifest")
    if isinstance(manifest, dict):
        manifest = {key: value for key, value in manifest.items() if key != "source"}
    run = {key: old[key] for key in ("model", "optimizer", "epochs", "batch_size", "seed") if key in old}
    runs = old.get("runs", [])
    return {
        "kind": PROJECT_KIND,
        "version": 2,
        "dataset": {"source": dataset.to_json()},
        "split": manifest,
        "mask": None if old.get("mask") is None else {"params": old["mask"], "train": True},
        "augment": None if old.get("chain") is None else {"chain": old["chain"], "train": True},
        "training": {"run": run, "val_fraction": old.get("val_fraction", 0.2),
                     "longest_side": old.get("image_side"), "cache_features": False,
                     "use_split": manifest is not None, "use_mask": True, "use_chain": True},
        "runs": {"folder": _text(old, "runs_dir", None), "runs": runs},
    }


def _v1_source(text: str | None) -> Source:
    """Version 1's dataset: a source, or a bare folder path (the built-in digits when absent)."""
    if text is None:
        return DEFAULT_SOURCE
    source = Source.parse_or_none(text)
    if isinstance(source, DatasetSource):
        return source
    try:
        return FolderSource(text)
    except SourceError as exc:
        raise ProjectError(f"dataset: {exc}") from exc



def _train_flag(section: object) -> bool:
    return isinstance(section, dict) and section.get("train") is True


def _v2_to_v3(old: dict) -> dict:
    """Version 2 had two switches for one decision: the Mask (Augment) tab's "use when
    training" beside the Train tab's, training using the mask only when both were on, and kept
    the Train tab's settings as a run spec without its data. Version 3 has one switch each
    (``training.use_mask``, ``training.use_chain``) and stores the Train tab's settings model
    as it is (``TrainSettings.to_json``)."""
    new = {key: value for key, value in old.items() if key not in ("mask", "augment", "training")}
    new["version"] = 3
    for key, inner in (("mask", "params"), ("augment", "chain")):
        section = old.get(key)
        new[key] = {inner: section.get(inner)} if isinstance(section, dict) else section
    training = old.get("training")
    if training is None and not (_train_flag(old.get("mask")) or _train_flag(old.get("augment"))):
        new["training"] = None
        return new
    training = training if isinstance(training, dict) else {}
    run = training.get("run", {}) if isinstance(training.get("run", {}), dict) else {}
    settings = {key: run[key] for key in ("model", "optimizer", "fit", "epochs", "batch_size", "seed")
                if key in run}
    settings.update({key: training[key] for key in ("val_fraction", "longest_side", "cache_features",
                                                     "use_split") if key in training})
    settings["use_mask"] = _train_flag(old.get("mask")) and training.get("use_mask", True) is True
    settings["use_chain"] = _train_flag(old.get("augment")) and training.get("use_chain", True) is True
    new["training"] = settings
    return new


MIGRATIONS: dict[int, Callable[[dict], dict]] = {1: _v1_to_v2, 2: _v2_to_v3}
"""``MIGRATIONS[v]`` turns a version-v project's JSON into version v + 1's."""


def project_version(data: object) -> int:
    """The format version of a project's JSON.

    Raises:
        ProjectError: It is not a Filterscope project, or its version is not a whole number.
    """
    if isinstance(data, dict) and data.get("kind") == PROJECT_KIND:
        version = data.get("version")
    elif isinstance(data, dict) and V1_MARKER in data:
        version = data[V1_MARKER]
    else:
        raise ProjectError(f"not a Filterscope project (no \"kind\": \"{PROJECT_KIND}\")")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise ProjectError(f"version must be a whole number from 1, not {version!r}")
    return version


def migrate(data: object) -> dict:
    """Bring a project's JSON up to :data:`FORMAT_VERSION` (a current one is returned as is).

    Raises:
        ProjectError: Not a project, or one written by a newer Filterscope.
    """
    version = project_version(data)
    if version > FORMAT_VERSION:
        raise ProjectError(f"written by a newer Filterscope (project version {version}; this one "
                           f"reads versions up to {FORMAT_VERSION}): update Filterscope to open it")
    while version < FORMAT_VERSION:
        data = MIGRATIONS[version](data)
        version += 1
    return data
