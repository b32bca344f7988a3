"""What a prediction reads and writes: the image files of a target (one file, or a folder searched
with its sub-folders), where its CSV may go, and a note when a folder of class folders holds
classes the model does not know. Nothing here needs TensorFlow."""

from __future__ import annotations

import os
from pathlib import Path

from filterscope.core.base.fileio import refuse_inside
from filterscope.core.base.settings import SettingError
from filterscope.core.data.folder_layout import entries
from filterscope.core.data.images import IMAGE_SUFFIXES


class PredictError(SettingError):
    """Nothing to predict or nowhere to write; the message names the file or folder."""


def list_images(target: str | os.PathLike) -> list[Path]:
    """One image file, or every image file under a folder (sub-folders too, by name; hidden
    files and folders and symbolic links to folders passed over, so a link loop cannot recur).

    Raises:
        PredictError: No such file or folder, or no image file in the folder.
    """
    target = Path(target).expanduser()
    if target.is_file():
        return [target.absolute()]
    if not target.is_dir():
        raise PredictError(f"{target}: no such image or folder")
    found: list[Path] = []
    stack = [target.absolute()]
    while stack:
        folder = stack.pop()
        try:
            listed = [e for e in entries(folder) if not e.name.startswith(".")]
        except OSError as exc:
            raise PredictError(f"{folder}: cannot read the folder ({exc.strerror or exc})") from exc
        stack.extend(Path(e.path) for e in reversed(listed) if e.is_dir(follow_symlinks=False))
        found.extend(Path(e.path) for e in listed if not e.is_dir()
                     and Path(e.name).suffix.lower() in IMAGE_SUFFIXES)
    if not found:
        raise PredictError(f"{target}: no image files in it or its sub-folders "
                           f"({', '.join(sorted(IMAGE_SUFFIXES))})")
    return found


def check_output(out: str | os.PathLike, target: str | os.PathLike, *, overwrite: bool = False) -> Path:
    """Where a predictions CSV may go (its folder made): never inside the folder predicted, never
    a folder, over an existing file only with ``overwrite``. Call it before the model runs.

    Raises:
        PredictError: The reason, naming the file or folder.
    """
    out = Path(out).expanduser()
    if Path(target).is_dir():
        try:
            refuse_inside(out, target)
        except ValueError as exc:
            raise PredictError(str(exc)) from exc
    if out.is_dir():
        raise PredictError(f"{out}: is a folder; give the CSV file's name")
    if out.exists() and not overwrite:
        raise PredictError(f"{out}: the file exists; choose another name or overwrite it "
                           "(--overwrite)")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise PredictError(f"{out.parent}: cannot make the folder ({exc.strerror or exc})") from exc
    if not os.access(out.parent, os.W_OK):
        raise PredictError(f"{out.parent}: cannot write there (permission denied)")
    return out


def unknown_folders(target: str | os.PathLike, classes: list[str]) -> list[str]:
    """A note when ``target`` looks like class folders (one of its sub-folders is named as a
    class of the model) and some sub-folders are named as none of them."""
    if not Path(target).is_dir():
        return []
    try:
        names = [e.name for e in entries(Path(target)) if e.is_dir() and not e.name.startswith(".")]
    except OSError:
        return []
    unknown = [n for n in names if n not in classes]
    if not unknown or len(unknown) == len(names):
        return []
    return [f"folder(s) {', '.join(repr(n) for n in unknown)} are not classes of the model: it "
            f"answers one of its own {len(classes)} classes for their images"]
