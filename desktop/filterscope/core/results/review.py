"""The review list: images an analyst marked "label looks wrong", kept beside the run.

The dataset is never touched: ``<run>/review.json`` lists each marked image (its path, the class
its folder gives it, what the model predicted and how sure it was, the evaluation it was seen
in), written atomically on every change, so that someone can check and move the files later.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path

from filterscope.core.base.fileio import atomic_write_json, read_json_file

REVIEW_FILE = "review.json"
REVIEW_VERSION = 1


class ReviewError(ValueError):
    """A review list that cannot be read; the message names the file."""


@dataclass(frozen=True)
class ReviewEntry:
    """One image marked "label looks wrong"."""

    path: str
    labelled: str  # the class its folder gives it
    predicted: str
    confidence: float
    evaluation: str = ""  # the evaluation's name
    marked: str = ""  # when, ISO 8601 UTC (set on marking)


def load_review(run_dir: str | os.PathLike) -> list[ReviewEntry]:
    """The run's review list, oldest mark first ([] when there is none).

    Raises:
        ReviewError: The file is damaged.
    """
    path = Path(run_dir) / REVIEW_FILE
    if not path.is_file():
        return []
    data = read_json_file(path, ReviewError, "review list")
    try:
        return [ReviewEntry(str(e["path"]), str(e["labelled"]), str(e["predicted"]),
                            float(e["confidence"]), str(e.get("evaluation", "")), str(e.get("marked", "")))
                for e in data["images"]]
    except (KeyError, TypeError, ValueError) as exc:
        raise ReviewError(f"{path}: not a review list this app can read ({exc!r})") from exc


def mark_for_review(run_dir: str | os.PathLike, entry: ReviewEntry) -> list[ReviewEntry]:
    """Add ``entry`` (replacing an earlier mark of the same path) and save; returns the list."""
    stamped = ReviewEntry(**{**asdict(entry), "marked": entry.marked
                             or datetime.now(timezone.utc).isoformat(timespec="seconds")})
    entries = [e for e in load_review(run_dir) if e.path != entry.path] + [stamped]
    _save(run_dir, entries)
    return entries


def unmark(run_dir: str | os.PathLike, path: str) -> list[ReviewEntry]:
    """Remove the mark of ``path`` (if any) and save; returns the list."""
    entries = [e for e in load_review(run_dir) if e.path != path]
    _save(run_dir, entries)
    return entries


def _save(run_dir: str | os.PathLike, entries: list[ReviewEntry]) -> None:
    atomic_write_json(Path(run_dir) / REVIEW_FILE,
                      {"version": REVIEW_VERSION, "images": [asdict(e) for e in entries]})
