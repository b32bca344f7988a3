"""Atomic writes (a file is either its old self or completely new, never half-written), reading
JSON settings files and the presets shipped with the app, and files' SHA-256."""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from importlib.resources import files
from pathlib import Path
from typing import Any, Callable, Sequence, TypeVar

T = TypeVar("T")


def _umask() -> int:
    mask = os.umask(0)  # reading it means setting it: put it straight back
    os.umask(mask)
    return mask


# mkstemp makes owner-only (0600) files; outputs get the permissions any new file would
# (0644 under the usual umask), so a colleague or a web server can read a masked dataset.
FILE_MODE = 0o666 & ~_umask()
DIR_MODE = 0o777 & ~_umask()  # and mkdtemp's folders (0700) the mode of any new folder
TEMP_PREFIX, TEMP_SUFFIX = ".fs-", ".tmp"  # atomic writes' temp files: .fs-<random>.tmp


def atomic_write_bytes(path: str | os.PathLike, data: bytes, *, durable: bool = True) -> Path:
    """Write ``data`` to ``path`` through a temp file in the same folder and ``os.replace``.

    The temp file has a short name of its own (``.fs-<random>.tmp``), not one made from the
    destination's: a name near the file system's 255-byte limit is legal, and a longer temp name
    would not be.

    Args:
        path: Destination file; its folder must exist.
        data: The full content.
        durable: fsync before the rename, so that even a power cut leaves the old or the new
            file. Bulk outputs that can be checked and remade (masked copies) skip it: it costs
            about a millisecond a file.

    Returns:
        The destination path.

    Raises:
        OSError: The folder is read-only, the disk is full, ...; the destination is untouched
            and no temp file is left behind.
    """
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=TEMP_PREFIX, suffix=TEMP_SUFFIX)
    try:
        with os.fdopen(fd, "wb") as handle:
            if hasattr(os, "fchmod"):  # POSIX; on Windows the file inherits the folder's ACL
                os.fchmod(handle.fileno(), FILE_MODE)
            handle.write(data)
            if durable:
                handle.flush()
                os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def atomic_write_files(files: Sequence[tuple[str | os.PathLike, bytes]]) -> list[Path]:
    """Write several files that belong together (a CSV and its sidecar), all or none as far as
    renames allow.

    Every file is first written in full to a temp file beside its destination and fsynced: a full
    disk or a read-only folder fails there, before any destination changes. The temp files are
    then renamed into place in the order given, the last being the commit point. Should a rename
    fail, the files already renamed get their previous content back (read beforehand, so put the
    small files first) or are removed when they did not exist. Only a power cut between two
    renames can leave them disagreeing; give the later files a way to tell (a checksum).

    Returns:
        The destination paths.

    Raises:
        OSError: Nothing was changed (the destinations are as they were, no temp file is left).
    """
    staged: list[tuple[Path, str]] = []
    try:
        for path, data in files:
            path = Path(path)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=TEMP_PREFIX, suffix=TEMP_SUFFIX)
            staged.append((path, tmp))
            with os.fdopen(fd, "wb") as handle:
                if hasattr(os, "fchmod"):
                    os.fchmod(handle.fileno(), FILE_MODE)
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
        previous = [path.read_bytes() if path.is_file() else None for path, _ in staged[:-1]]
        done: list[int] = []
        try:
            for i, (path, tmp) in enumerate(staged):
                os.replace(tmp, path)
                done.append(i)
        except BaseException:
            for i in reversed(done):
                path = staged[i][0]
                if previous[i] is None:
                    path.unlink(missing_ok=True)
                else:
                    atomic_write_bytes(path, previous[i])
            raise
    finally:
        for _, tmp in staged:
            Path(tmp).unlink(missing_ok=True)
    return [path for path, _ in staged]


def make_temp_dir(parent: str | os.PathLike, prefix: str, suffix: str = "") -> Path:
    """A new uniquely named folder in ``parent`` that will be renamed into place as an output
    (an extracted dataset, a feature cache entry): mkdtemp's, with the mode ``mkdir`` would give.

    Raises:
        OSError: The parent is missing or read-only.
    """
    path = Path(tempfile.mkdtemp(prefix=prefix, suffix=suffix, dir=parent))
    if os.name == "posix":
        path.chmod(DIR_MODE)
    return path


def atomic_write_json(path: str | os.PathLike, obj: Any) -> Path:
    """Write ``obj`` as indented UTF-8 JSON, atomically (see :func:`atomic_write_bytes`)."""
    text = json.dumps(obj, indent=2, ensure_ascii=False) + "\n"
    return atomic_write_bytes(path, text.encode("utf-8"))


def refuse_inside(path: str | os.PathLike, root: str | os.PathLike) -> None:
    """Raise ValueError when ``path`` lies inside ``root``: the user's data folder is read-only
    to Filterscope, so nothing it writes may land there."""
    target = Path(path).expanduser().resolve()
    base = Path(root).expanduser().resolve()
    if target == base or base in target.parents:
        raise ValueError(f"{path}: refusing to write inside the dataset folder {root}; "
                         "choose another folder")


def read_json_file(path: str | os.PathLike, error: type[Exception], what: str) -> Any:
    """Parse a JSON file, turning every way of failing into ``error`` naming the file.

    Args:
        path: The file.
        error: The exception type to raise (MaskParamsError, ChainError, SplitError...).
        what: What the file should be, for the message ("preset", "chain", "manifest").
    """
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise error(f"{path}: cannot read the {what} ({exc})") from exc


def read_spec_file(path: str | os.PathLike, parse: Callable[[Any], T], error: type[Exception],
                   what: str) -> T:
    """Read a JSON settings file and ``parse`` it; every fault is ``error`` naming the file."""
    data = read_json_file(path, error, what)
    try:
        return parse(data)
    except error as exc:
        raise error(f"{path}: {exc}") from exc


def read_preset(kind: str, name: str) -> Any | None:
    """The JSON of ``resources/presets/<kind>/<name>.json`` shipped with the app, or None."""
    resource = files("filterscope.resources") / "presets" / kind / f"{name}.json"
    return json.loads(resource.read_text(encoding="utf-8")) if resource.is_file() else None


_DIGESTS: dict[tuple[str, int, int], str] = {}


def file_sha256(path: str | os.PathLike) -> str:
    """The file's SHA-256 (hex), remembered for the same file, size and modification time.

    Raises:
        OSError: The file cannot be read.
    """
    path = Path(path).absolute()
    stat = path.stat()
    key = (str(path), stat.st_size, stat.st_mtime_ns)
    if key not in _DIGESTS:
        digest = hashlib.sha256()
        with open(path, "rb") as handle:
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                digest.update(chunk)
        _DIGESTS[key] = digest.hexdigest()
    return _DIGESTS[key]
