"""The two folder layouts a dataset can have, listed without opening a file.

* **classes**: one sub-folder per class (what Keras's ``flow_from_directory`` reads).
* **split folders**: ``train/``, ``val/`` (or ``valid/``, ``validation/``) and ``test/`` folders,
  each holding the same class folders, as many datasets are published.

Either way a listing gives the class names, one ``(label, key)`` candidate per image file (keys
are POSIX paths relative to the dataset folder, so ``cat/1.jpg`` or ``train/cat/1.jpg``) and the
problems of the tree itself. A split dataset's classes are the union over its subsets.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from filterscope.core.data.images import IMAGE_SUFFIXES

SUBSETS = ("train", "val", "test")
# Folder names (in lower case) of each subset, the preferred one first.
SUBSET_FOLDERS = {"train": ("train",), "val": ("val", "valid", "validation"), "test": ("test",)}
# Files that operating systems and photo tools drop into folders; not worth a problem line.
_SYSTEM_FILES = frozenset({"thumbs.db", "desktop.ini", ".ds_store"})


class DatasetError(Exception):
    """The dataset as a whole cannot be opened (missing or unreadable root)."""


@dataclass(frozen=True)
class Problem:
    """Something wrong with a dataset, as a user would want to read it.

    Attributes:
        path: The file or folder, relative to the dataset root where possible.
        kind: A stable machine-readable category (``empty-file``, ``not-image``, ``unreadable``,
            ``corrupt``, ``too-large``, ``duplicate``, ``empty-class``, ``nested-folder``,
            ``not-a-file``, ``not-in-class``; for split folders also ``not-a-subset`` and
            ``empty-subset``).
        reason: One plain sentence saying what is wrong and what the app does about it.
    """

    path: str
    kind: str
    reason: str


@dataclass
class Listing:
    """What a folder holds, before any file is opened.

    Attributes:
        classes: Class names in label order (sorted).
        candidates: ``(label, key)`` per file with an image suffix.
        problems: Structural problems (stray files and folders, empty classes...).
        split_folders: For split folders, subset (``train``, ``val``, ``test``) -> its folder's
            name as on disk; None for the classes layout.
    """

    classes: list[str]
    candidates: list[tuple[int, str]] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    split_folders: dict[str, str] | None = None


def entries(folder: Path) -> list[os.DirEntry]:
    """The entries of ``folder``, sorted by name (raises OSError when it cannot be listed)."""
    with os.scandir(folder) as it:
        return sorted(it, key=lambda e: e.name)


def _is_dir(entry: os.DirEntry) -> bool:
    try:
        return entry.is_dir()  # follows symlinks; a looping link is simply not a directory
    except OSError:
        return False


def _ignored(name: str) -> bool:
    return name.startswith(".") or name.lower() in _SYSTEM_FILES


def list_folder(root: Path) -> Listing:
    """List a dataset folder in whichever layout it has.

    Raises:
        DatasetError: ``root`` cannot be listed.
    """
    try:
        top = [e for e in entries(root) if not _ignored(e.name)]
    except OSError as exc:
        raise DatasetError(f"{root}: cannot read the folder ({exc.strerror or exc})") from exc
    folders = _find_split_folders(top)
    if folders is None:
        return _list_classes(top)
    return _list_split(root, top, folders)


def _find_split_folders(top: list[os.DirEntry]) -> dict[str, str] | None:
    """Subset -> folder name when ``top`` is a train folder of class folders plus a val or test
    folder; None otherwise (a class that happens to be called "train" holds images, not folders)."""
    found: dict[str, os.DirEntry] = {}
    for subset, names in SUBSET_FOLDERS.items():
        match = next((e for wanted in names for e in top if e.name.lower() == wanted and _is_dir(e)),
                     None)
        if match is not None:
            found[subset] = match
    if "train" not in found or len(found) < 2:
        return None
    try:
        has_classes = any(_is_dir(e) and not _ignored(e.name) for e in entries(Path(found["train"].path)))
    except OSError:
        has_classes = True  # an unreadable train folder is a problem to report, not a class
    return {subset: entry.name for subset, entry in found.items()} if has_classes else None


def _class_folders(listed: list[os.DirEntry], prefix: str, problems: list[Problem],
                   stray: str) -> list[tuple[str, list[os.DirEntry]]]:
    """(class name, its entries) per readable class folder; problems for stray files."""
    classes = []
    for entry in listed:
        rel = prefix + entry.name
        if not _is_dir(entry):
            problems.append(Problem(rel, "not-in-class", stray))
            continue
        try:
            classes.append((entry.name, [e for e in entries(Path(entry.path)) if not _ignored(e.name)]))
        except OSError as exc:
            problems.append(Problem(rel, "unreadable",
                                    f"class folder cannot be read ({exc.strerror or exc}); skipped"))
    return classes


def _add_images(listing: Listing, label: int, prefix: str, inside: list[os.DirEntry]) -> None:
    """The image candidates of one class folder, problems for everything else in it."""
    before = len(listing.candidates)
    for item in inside:
        rel = f"{prefix}/{item.name}"
        if _is_dir(item):
            listing.problems.append(Problem(rel, "nested-folder",
                                            "sub-folder ignored: only images directly in a class "
                                            "folder count"))
        elif Path(item.name).suffix.lower() not in IMAGE_SUFFIXES:
            listing.problems.append(Problem(rel, "not-image", "not an image file type "
                                            f"({Path(item.name).suffix or 'no extension'}); ignored"))
        else:
            listing.candidates.append((label, rel))
    if len(listing.candidates) == before:
        listing.problems.append(Problem(prefix, "empty-class", "class folder has no images"))


def _list_classes(top: list[os.DirEntry]) -> Listing:
    listing = Listing([])
    found = _class_folders(top, "", listing.problems,
                           "file at the top level ignored: images belong in a class folder")
    listing.classes = [name for name, _ in found]
    for label, (name, inside) in enumerate(found):
        _add_images(listing, label, name, inside)
    return listing


def _list_split(root: Path, top: list[os.DirEntry], folders: dict[str, str]) -> Listing:
    listing = Listing([], split_folders=folders)
    per_subset: dict[str, list[tuple[str, list[os.DirEntry]]]] = {}
    used = set(folders.values())
    for entry in top:
        if entry.name in used:
            continue
        what = "folder" if _is_dir(entry) else "file"
        listing.problems.append(Problem(entry.name, "not-a-subset" if what == "folder" else "not-in-class",
                                        f"{what} at the top level ignored: this dataset is split into "
                                        f"{', '.join(f + '/' for f in folders.values())} folders"))
    for subset, folder in folders.items():
        try:
            inside = [e for e in entries(root / folder) if not _ignored(e.name)]
        except OSError as exc:
            listing.problems.append(Problem(folder, "unreadable",
                                            f"{subset} folder cannot be read ({exc.strerror or exc}); "
                                            "skipped"))
            continue
        per_subset[subset] = _class_folders(inside, f"{folder}/", listing.problems,
                                            "file directly in a subset folder ignored: images "
                                            "belong in a class folder")
    listing.classes = sorted({name for found in per_subset.values() for name, _ in found})
    label_of = {name: label for label, name in enumerate(listing.classes)}
    for subset, found in per_subset.items():
        before = len(listing.candidates)
        for name, inside in found:
            _add_images(listing, label_of[name], f"{folders[subset]}/{name}", inside)
        if len(listing.candidates) == before:
            listing.problems.append(Problem(folders[subset], "empty-subset",
                                            f"no images in class folders: the {subset} subset is empty"))
    return listing
