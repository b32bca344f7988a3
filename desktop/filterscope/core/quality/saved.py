"""Where a dataset's saved checks live: the app's feature cache folder, one file per dataset and
kind of check, never the dataset itself.

The near-copy check (:mod:`.duplicates`) and the map of the data (:mod:`.embedding`) are found here
by evaluation and the report, which never compute them: one rule for the key, so a dataset named
however it was written (a folder relative or absolute, with or without a trailing separator) is the
same dataset for both.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path


def saved_file(source, kind: str, cache_dir: str | os.PathLike | None = None, suffix: str = ".json") -> Path:
    """The file of the last ``kind`` check of a dataset (a ``Source`` or its text).

    Args:
        source: The dataset.
        kind: The check's folder inside the cache (``near-copies``, ``data-maps``).
        cache_dir: The feature cache folder (default: the app's).
        suffix: The file's suffix.
    """
    from filterscope.core.data.source import FolderSource, Source
    from filterscope.core.transfer.run import default_cache_dir

    parsed = source if isinstance(source, Source) else Source.parse(str(source), bare=True)
    key = f"folder:{Path(parsed.path).expanduser().resolve()}" if isinstance(parsed, FolderSource) \
        else parsed.to_json()
    folder = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    digest = hashlib.sha256(key.encode("utf-8")).hexdigest()[:20]
    return folder / kind / f"{digest}{suffix}"
