"""One way to name and open any dataset: ``folder:<path>``, ``builtin:<id>`` or a plain path."""

from __future__ import annotations

from pathlib import Path

from filterscope.core.base.jobs import Cancel, Report
from filterscope.core.data.builtin import BuiltinInfo, fetch_builtin, list_builtins, open_builtin
from filterscope.core.data.datasets import Dataset, scan_folder


def builtin_infos() -> list[BuiltinInfo]:
    """The built-in datasets with their current availability (default first)."""
    return list_builtins()


def _scanner(report: Report, cancel: Cancel):
    return lambda root: scan_folder(root, report=report, cancel=cancel)


def open_source(source: str, *, report: Report, cancel: Cancel) -> Dataset:
    """Open a dataset by source string.

    Args:
        source: ``builtin:<id>``, ``folder:<path>``, a bare built-in id (``mnist``) when no
            such folder exists, or a folder path.
        report: Progress of scanning or loading.
        cancel: Polled while scanning.

    Returns:
        The dataset.

    Raises:
        DatasetError: A folder that does not exist or cannot be read.
        BuiltinUnavailable: A built-in that is unknown or not downloaded yet.
    """
    kind, _, rest = source.partition(":")
    if kind == "builtin":
        return open_builtin(rest, report=report, cancel=cancel, scan=_scanner(report, cancel))
    if kind == "folder":
        return scan_folder(rest, report=report, cancel=cancel)
    if not Path(source).exists() and source in {info.id for info in list_builtins()}:
        return open_builtin(source, report=report, cancel=cancel, scan=_scanner(report, cancel))
    return scan_folder(source, report=report, cancel=cancel)


def fetch_source(builtin_id: str, *, report: Report, cancel: Cancel, url: str | None = None) -> str:
    """Download a fetchable built-in (from ``url`` or a local file when given) and return its
    source string, ready for open_source."""
    fetch_builtin(builtin_id, report=report, cancel=cancel, url=url)
    return f"builtin:{builtin_id}"

