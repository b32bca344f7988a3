"""Suspect labels on disk: a CSV anywhere outside the dataset, and the result kept with a run.

``<run>/suspect_labels.json`` (the whole result) and ``<run>/suspect_labels.csv`` (one row per
image, most suspect first) are written together atomically, so the run's report and the Results
tab read them without computing anything. A run's dataset is the one its ``run.json`` records.
"""

from __future__ import annotations

import csv
import io
import json
import os
from pathlib import Path

from filterscope.core.base.fileio import atomic_write_files, read_json_file, refuse_inside
from filterscope.core.data.source import Source
from filterscope.core.quality.labels import SuspectLabels

SUSPECTS_FILE = "suspect_labels.json"
CSV_COLUMNS = ("rank", "path", "key", "subset", "given", "suggested", "score", "suggested_probability",
               "issue")


class SuspectsError(ValueError):
    """A run or a saved result that cannot be read; the message names the file."""


def suspects_csv(result: SuspectLabels) -> bytes:
    """One row per image, most suspect first, as UTF-8 CSV."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for rank, s in enumerate(result.images, 1):
        writer.writerow((rank, s.path, s.key, s.subset, s.given, s.suggested, f"{s.score:.6f}",
                         f"{s.suggested_probability:.6f}", int(s.issue)))
    return out.getvalue().encode("utf-8")


def dataset_roots(result: SuspectLabels) -> list[Path]:
    """Folders nothing may be written into: the dataset folder, and the folder holding every image."""
    roots = []
    source = Source.parse_or_none(result.source)
    if source is not None and source.folder() is not None:
        roots.append(Path(source.folder()))
    files = [p for p in (s.path for s in result.images) if os.path.isabs(p)]
    if files:
        roots.append(Path(os.path.commonpath([os.path.dirname(p) for p in files])))
    return roots


def write_suspects_csv(result: SuspectLabels, out: str | os.PathLike) -> Path:
    """Write :func:`suspects_csv` to ``out`` atomically.

    Raises:
        ValueError: ``out`` lies inside the dataset.
        OSError: It cannot be written.
    """
    for root in dataset_roots(result):
        refuse_inside(out, root)
    return atomic_write_files([(out, suspects_csv(result))])[0]


def save_suspects(result: SuspectLabels, run_dir: str | os.PathLike) -> Path:
    """Keep ``result`` with the run (JSON + CSV, atomically); returns the JSON's path."""
    target = Path(run_dir) / SUSPECTS_FILE
    text = json.dumps(result.to_json(), indent=2, ensure_ascii=False) + "\n"
    atomic_write_files([(target.with_suffix(".csv"), suspects_csv(result)), (target, text.encode("utf-8"))])
    return target


def load_suspects(run_dir: str | os.PathLike) -> SuspectLabels | None:
    """The result kept with the run, or None when there is none.

    Raises:
        SuspectsError: The file is damaged.
    """
    path = Path(run_dir) / SUSPECTS_FILE
    if not path.is_file():
        return None
    data = read_json_file(path, SuspectsError, "suspect labels")
    try:
        return SuspectLabels.from_json(data)
    except (KeyError, TypeError, ValueError) as exc:
        raise SuspectsError(f"{path}: not a suspect-labels result this app can read ({exc!r})") from exc


def run_dataset(run_dir: str | os.PathLike) -> tuple[Source, int]:
    """The dataset a run trained on and the seed of its split, as its ``run.json`` records them.

    Raises:
        SuspectsError: Not a run folder, or one whose data cannot be read.
    """
    from filterscope.core.training.data_spec import DataSpec, PipelineError
    from filterscope.core.training.runs import RunReadError, load_run

    try:
        data = DataSpec.from_json(load_run(run_dir).spec.get("data"))
    except (RunReadError, PipelineError) as exc:
        raise SuspectsError(f"{run_dir}: cannot tell the run's dataset ({exc})") from exc
    return data.source, data.seed


def is_run(path: str | os.PathLike) -> bool:
    """A run folder (it has a ``run.json``) rather than a dataset."""
    return (Path(path) / "run.json").is_file()


def check_run_labels(run_dir: str | os.PathLike, *, report, cancel, **options) -> SuspectLabels:
    """The suspect labels of a run's dataset, kept with the run (a job: the Results tab's).

    Raises:
        SuspectsError: Not a run, or its dataset cannot be told.
        Cancelled: ``cancel`` was set (nothing is saved).
    """
    from filterscope.core.quality.labels import find_suspect_labels

    source, data_seed = run_dataset(run_dir)
    result = find_suspect_labels(source, report=report, cancel=cancel, data_seed=data_seed, **options)
    save_suspects(result, run_dir)
    return result
