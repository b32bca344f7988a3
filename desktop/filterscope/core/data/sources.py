"""One way to open any dataset: by its :class:`~filterscope.core.data.source.Source`."""

from __future__ import annotations

from filterscope.core.base.jobs import Cancel, Report
from filterscope.core.data.builtin import BuiltinInfo, fetch_builtin, list_builtins, open_builtin
from filterscope.core.data.datasets import Dataset, DatasetError, scan_folder
from filterscope.core.data.source import BuiltinSource, ManifestSource, Source
from filterscope.core.data.splits import SplitError, load_manifest


def builtin_infos() -> list[BuiltinInfo]:
    """The built-in datasets with their current availability (default first)."""
    return list_builtins()


def _scanner(report: Report, cancel: Cancel):
    return lambda root: scan_folder(root, report=report, cancel=cancel)


def open_source(source: Source, *, report: Report, cancel: Cancel) -> Dataset:
    """Open the dataset a source names.

    Args:
        source: A folder, a built-in dataset, or a split manifest (the dataset it was made of).
        report: Progress of scanning or loading.
        cancel: Polled while scanning.

    Returns:
        The dataset.

    Raises:
        DatasetError: A folder that does not exist or cannot be read, or a manifest file that
            cannot be read.
        BuiltinUnavailable: A built-in that is unknown or not downloaded yet.
    """
    if isinstance(source, ManifestSource):
        try:
            source = load_manifest(source.path).source
        except SplitError as exc:
            raise DatasetError(str(exc)) from exc
    if isinstance(source, BuiltinSource):
        return open_builtin(source.id, report=report, cancel=cancel, scan=_scanner(report, cancel))
    return scan_folder(source.folder(), report=report, cancel=cancel)


def fetch_source(builtin_id: str, *, report: Report, cancel: Cancel,
                 url: str | None = None) -> BuiltinSource:
    """Download a fetchable built-in (from ``url`` or a local file when given) and return its
    source, ready for open_source."""
    fetch_builtin(builtin_id, report=report, cancel=cancel, url=url)
    return BuiltinSource(builtin_id)
