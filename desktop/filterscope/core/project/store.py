"""Saving and opening project files, and where unsaved projects are kept.

A save writes a temp file in the project's folder, fsyncs it and renames it over the project
(``fileio.atomic_write_bytes``): a crash, a kill or a power cut during a save leaves the last
good file whole. A kill can leave the temp file behind (``.fs-<random>.tmp``); it is never
read, and the next save of the project is unaffected by it.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from filterscope.core.base.jobs import Cancel, Report
from filterscope.core.base.fileio import atomic_write_json, read_json_file, refuse_inside
from filterscope.core.base.paths import data_dir
from filterscope.core.project.project import Project
from filterscope.core.project.versions import ProjectError, migrate

PROJECT_SUFFIX = ".fsproj"
PROJECT_FILTER = f"Filterscope projects (*{PROJECT_SUFFIX});;All files (*)"


def save_project(path: str | os.PathLike, project: Project) -> Path:
    """Write ``project`` to ``path`` atomically.

    Raises:
        ProjectError: The file would go inside the dataset's folder (which Filterscope never
            writes into), or it cannot be written (read-only folder, full disk...); the file
            already there is untouched.
    """
    path = Path(path).absolute()
    folder = project.dataset_folder()
    try:
        if folder is not None:
            refuse_inside(path, folder)
        return atomic_write_json(path, project.to_json(path.parent))
    except ValueError as exc:
        raise ProjectError(str(exc)) from exc
    except OSError as exc:
        raise ProjectError(f"{path}: cannot save the project ({exc.strerror or exc})") from exc


BACKGROUND_FILES = 10_000  # a project whose split lists more files is autosaved in a worker


def listed_files(project: Project) -> int:
    """How many file names the project's split lists (what makes a project file large)."""
    split = project.split
    return 0 if split is None else sum(len(keys) for per_class in split.subsets.values()
                                       for keys in per_class.values())


def save_project_job(path: str | os.PathLike, project: Project, *, report: Report, cancel: Cancel) -> Path:
    """:func:`save_project` as a job (a large project's autosave, off the GUI thread); a save
    once begun is not cancelled, so the file is whole either way."""
    report.progress(0.0, f"Saving {Path(path).name}")
    return save_project(path, project)


def load_project(path: str | os.PathLike) -> Project:
    """Read a project file of any version (older ones are migrated, in memory only).

    Raises:
        ProjectError: Naming the file, for a missing or unreadable file, JSON that is not a
            project, a project of a newer Filterscope, or a part that does not parse.
    """
    path = Path(path).absolute()
    data = read_json_file(path, ProjectError, "project")
    try:
        return Project.from_json(migrate(data), path.parent)
    except ProjectError as exc:
        raise ProjectError(f"{path}: {exc}") from exc


def new_autosave_path() -> Path:
    """A file in the app's data folder for this session's unsaved project (one per session, so
    that two windows never overwrite each other's)."""
    folder = data_dir() / "autosave"
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"unsaved-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}{PROJECT_SUFFIX}"
