"""Fetching and unpacking optional data: atomic downloads and zip-slip-proof extraction.

Both functions are long jobs (``report``/``cancel``) and both are atomic: a download streams into
``<dest>.part`` and is renamed only once every byte has arrived, an archive is extracted into a
hidden temporary folder next to its destination and moved into place only when complete. A
cancelled or failed job therefore never leaves anything that looks finished. Network failures
become :class:`DownloadError` with a one-line message a user can act on.
"""

from __future__ import annotations

import http.client
import os
import shutil
import time
import urllib.error
import urllib.request
import zipfile
import zlib
from pathlib import Path, PurePosixPath, PureWindowsPath
from urllib.parse import urlsplit

from filterscope.core.base.fileio import make_temp_dir
from filterscope.core.base.jobs import Cancel, Cancelled, Report, check_cancel

CHUNK_BYTES = 64 * 1024
_REPORT_INTERVAL_S = 0.1
# What reading a corrupt, truncated, encrypted or exotically compressed member raises.
_DAMAGED = (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError)
OFFLINE_HINT = "Filterscope works offline with its built-in data; try again when you are online."


class DownloadError(Exception):
    """A download or extraction failed; ``str(error)`` is one sentence for the user."""


def _mb(n_bytes: int) -> str:
    return f"{n_bytes / 1e6:.1f}"


def _progress_message(received: int, total: int | None) -> str:
    return f"{_mb(received)} of {_mb(total)} MB" if total else f"{_mb(received)} MB"


def _stopped_message(received: int, total: int | None) -> str:
    return f"The download stopped after {_progress_message(received, total)}; try again."


def _open(url: str, timeout: float) -> http.client.HTTPResponse:
    """Open ``url``, turning every way of not getting a response into a DownloadError."""
    host = urlsplit(url).hostname or url
    request = urllib.request.Request(url, headers={"User-Agent": "Filterscope"})
    try:
        return urllib.request.urlopen(request, timeout=timeout)  # noqa: S310 (scheme checked)
    except urllib.error.HTTPError as error:
        raise DownloadError(
            f"The server answered {error.code} {error.reason} for {url}. {OFFLINE_HINT}"
        ) from error
    except urllib.error.URLError as error:
        raise DownloadError(
            f"Could not reach {host} ({error.reason}); are you offline? {OFFLINE_HINT}"
        ) from error
    except (TimeoutError, OSError, http.client.HTTPException) as error:
        raise DownloadError(
            f"Could not reach {host} ({error}); are you offline? {OFFLINE_HINT}"
        ) from error


def download(
    url: str, dest: Path, *, report: Report, cancel: Cancel, timeout: float = 30
) -> Path:
    """Download ``url`` to ``dest`` atomically, with progress and cancel.

    Args:
        url: An ``http://`` or ``https://`` address, or a local file (a path or ``file://``)
            copied the same way, for machines that get the archive by other means.
        dest: The final file; its folder is created. An existing file is replaced only on success.
        report: Receives ``(bytes so far / total, "12.3 of 45.6 MB")``.
        cancel: Polled between chunks.
        timeout: Seconds to wait for the connection and for each chunk.

    Returns:
        ``dest``.

    Raises:
        DownloadError: Offline, refused, HTTP error, a transfer cut short, or an unwritable disk.
        Cancelled: ``cancel`` was set; the partial file has been removed.
    """
    if len(urlsplit(url).scheme) <= 1:  # a local path (or a Windows drive letter)
        if not Path(url).is_file():
            raise DownloadError(f"{url}: no such file")
        url = Path(url).resolve().as_uri()
    if urlsplit(url).scheme not in ("http", "https", "file"):
        raise DownloadError(f"Only http, https and local files are supported, not {url}.")
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = dest.with_suffix(dest.suffix + ".part")
    check_cancel(cancel)
    try:
        with _open(url, timeout) as response:
            length = response.headers.get("Content-Length")
            total = int(length) if length and length.isdigit() else None
            received = _stream(response, part, total, report, cancel)
        if total is not None and received != total:
            raise DownloadError(_stopped_message(received, total))
        os.replace(part, dest)
    except BaseException:
        part.unlink(missing_ok=True)
        raise
    report.progress(1.0, _progress_message(received, total))
    return dest


def _stream(
    response: http.client.HTTPResponse,
    part: Path,
    total: int | None,
    report: Report,
    cancel: Cancel,
) -> int:
    """Copy the response body into ``part`` chunk by chunk; return the byte count."""
    received = 0
    last_report = 0.0
    try:
        out = open(part, "wb")
    except OSError as error:
        raise DownloadError(f"Could not write {part.name}: {error.strerror}.") from error
    with out:
        while True:
            check_cancel(cancel)
            try:
                chunk = response.read(CHUNK_BYTES)
            except (TimeoutError, OSError, http.client.HTTPException) as error:
                raise DownloadError(_stopped_message(received, total)) from error
            if not chunk:
                break
            try:
                out.write(chunk)
            except OSError as error:
                raise DownloadError(f"Could not write {part.name}: {error.strerror}.") from error
            received += len(chunk)
            now = time.monotonic()
            if now - last_report >= _REPORT_INTERVAL_S:
                last_report = now
                fraction = min(received / total, 1.0) if total else 0.0
                report.progress(fraction, _progress_message(received, total))
    return received


def _safe_member_path(name: str) -> PurePosixPath | None:
    """The relative path of a zip member, or None when it is absolute or climbs out (zip-slip)."""
    posix = name.replace("\\", "/")
    if posix.startswith("/") or PureWindowsPath(name).drive or PureWindowsPath(name).root:
        return None
    parts = [p for p in PurePosixPath(posix).parts if p not in ("", ".")]
    if not parts or ".." in parts:
        return None
    return PurePosixPath(*parts)


def _check_members(zf: zipfile.ZipFile, archive: Path) -> list[tuple[zipfile.ZipInfo, Path]]:
    members = []
    for info in zf.infolist():
        rel = _safe_member_path(info.filename)
        if rel is None:
            raise DownloadError(
                f"{archive.name} was refused: its entry '{info.filename}' would be written "
                "outside the destination folder."
            )
        members.append((info, Path(*rel.parts)))
    return members


def extract_zip(archive: Path, dest_dir: Path, *, report: Report, cancel: Cancel) -> Path:
    """Extract ``archive`` into ``dest_dir`` atomically, refusing unsafe member paths.

    The archive is unpacked into a hidden temporary folder beside ``dest_dir`` and renamed into
    place only when every member has been written and checked (CRC); an existing ``dest_dir``
    is replaced at that moment.

    Args:
        archive: The zip file.
        dest_dir: The folder to create; nothing is written outside its parent folder.
        report: Receives the fraction of uncompressed bytes written.
        cancel: Polled between members and between chunks of a large member.

    Returns:
        ``dest_dir``.

    Raises:
        DownloadError: Not a zip, a corrupt member, or a member with an absolute or ``..`` path.
        Cancelled: ``cancel`` was set; nothing was left behind.
    """
    archive, dest_dir = Path(archive), Path(dest_dir)
    check_cancel(cancel)
    try:
        zf = zipfile.ZipFile(archive)
    except (zipfile.BadZipFile, zipfile.LargeZipFile) as error:
        raise DownloadError(
            f"{archive.name} is not a valid zip archive; download it again."
        ) from error
    except OSError as error:
        raise DownloadError(f"Could not open {archive.name}: {error.strerror}.") from error
    with zf:
        members = _check_members(zf, archive)
        dest_dir.parent.mkdir(parents=True, exist_ok=True)
        tmp = make_temp_dir(dest_dir.parent, f".{dest_dir.name}.", ".extracting")
        try:
            _extract_members(zf, members, tmp, archive, report, cancel)
            move_into_place(tmp, dest_dir)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
    report.progress(1.0, f"extracted {len(members)} entries")
    return dest_dir


def _extract_members(
    zf: zipfile.ZipFile,
    members: list[tuple[zipfile.ZipInfo, Path]],
    tmp: Path,
    archive: Path,
    report: Report,
    cancel: Cancel,
) -> None:
    total = sum(info.file_size for info, _ in members) or 1
    written = 0
    last_report = 0.0
    for index, (info, rel) in enumerate(members):
        check_cancel(cancel)
        target = tmp / rel
        if info.is_dir():
            target.mkdir(parents=True, exist_ok=True)
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            with zf.open(info) as src, open(target, "wb") as out:
                while chunk := src.read(CHUNK_BYTES * 16):
                    check_cancel(cancel)
                    out.write(chunk)
                    written += len(chunk)
        except Cancelled:
            raise
        except _DAMAGED as error:
            raise DownloadError(
                f"{archive.name} is damaged ({info.filename}: {error}); download it again."
            ) from error
        except OSError as error:
            raise DownloadError(f"Could not write {rel}: {error.strerror}.") from error
        now = time.monotonic()
        if now - last_report >= _REPORT_INTERVAL_S:
            last_report = now
            report.progress(written / total, f"extracting {index + 1} of {len(members)}")


def move_into_place(tmp: Path, dest_dir: Path) -> None:
    """Rename the finished folder ``tmp`` to ``dest_dir`` (same parent), replacing an old one.

    An existing ``dest_dir`` is renamed aside first and deleted afterwards, so at every moment
    ``dest_dir`` is either the old complete folder, absent, or the new complete folder.

    Args:
        tmp: A complete folder beside ``dest_dir``.
        dest_dir: Where it should end up.
    """
    old = None
    if dest_dir.exists():
        old = dest_dir.with_name(f".{dest_dir.name}.old-{os.getpid()}-{time.monotonic_ns()}")
        os.replace(dest_dir, old)
    os.replace(tmp, dest_dir)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
