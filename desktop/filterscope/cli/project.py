"""``filterscope project show FILE``: a project file as the app reads it (older versions migrated)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any, Callable


def _human_project(d: dict) -> str:
    project = d["project"]
    training = project["training"]
    split = project["split"]
    lines = [f"{d['file']}: project version {d['version']} (file version {d['file_version']})",
             f"  dataset   {project['dataset']['source']}" + ("  (missing)" if d["missing_dataset"] else ""),
             "  split     " + ("none" if split is None else
                               f"{split['method']} {split['value']}, seed {split['seed']}")]
    for key, inner, label, use in (("mask", "params", "mask", "use_mask"),
                                   ("augment", "chain", "chain", "use_chain")):
        part = project[key]
        lines.append(f"  {label:<9} " + ("none" if part is None else
                                         f"{part[inner].get('name') or '(unnamed)'}"
                                         + (", used in training" if training and training[use] else "")))
    if training:
        lines.append(f"  model     {training['model']['name'] or training['model']['kind']}, "
                     f"{training['optimizer']['kind']}, {training['epochs']} epochs of "
                     f"{training['batch_size']}")
    lines.append(f"  runs      {project['runs']['folder'] or 'the app’s runs folder'}: "
                 f"{len(project['runs']['runs'])} run(s) in the project")
    return "\n".join(lines)


def cmd_project_show(args: argparse.Namespace) -> tuple[dict, Callable[[Any], str]]:
    """Print a project as it loads: migrated to the current version, paths absolute."""
    from filterscope.cli.common import CommandError
    from filterscope.core.base.fileio import read_json_file
    from filterscope.core.project.store import load_project
    from filterscope.core.project.versions import FORMAT_VERSION, ProjectError, project_version

    path = Path(args.file).absolute()
    try:
        project = load_project(path)
        file_version = project_version(read_json_file(path, ProjectError, "project"))
    except ProjectError as exc:
        raise CommandError(str(exc)) from exc
    missing = project.missing_dataset()
    return ({"file": str(path), "version": FORMAT_VERSION, "file_version": file_version,
             "missing_dataset": None if missing is None else str(missing),
             "project": project.to_json(None)}, _human_project)


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``project`` command to the ``filterscope`` parser."""
    project = sub.add_parser("project", help="project files (File > Save Project in the app)")
    actions = project.add_subparsers(dest="action", metavar="ACTION", required=True)
    show = actions.add_parser("show", help="print a project file as the app reads it (older "
                              "versions migrated, paths absolute)")
    show.add_argument("file", help="a .fsproj project file")
    show.add_argument("--json", action="store_true", help="print one JSON document")
    show.set_defaults(handler=cmd_project_show)
