"""Where a dataset comes from, as a typed value: a folder, a built-in set or a split manifest.

Run files, project files, split manifests and the app's settings store a source as text:
``folder:<path>``, ``builtin:<id>`` or ``manifest:<split.json>``. :meth:`Source.parse` is the one
reader of that text and ``str(source)`` (or :meth:`Source.to_json`) the one writer, giving the
stored text back unchanged, so files written before this module existed still load and files
written now read the same.

A dataset split into ``train/``, ``val/`` and ``test/`` folders is named by their parent folder:
a :class:`FolderSource`, whose layout is found by listing it (``Dataset.split_folders``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar


class SourceError(ValueError):
    """Text that names no dataset; the message quotes it."""


@dataclass(frozen=True)
class Source:
    """A dataset source; one of :class:`FolderSource`, :class:`BuiltinSource` or
    :class:`ManifestSource`. Equal sources name the same dataset the same way."""

    kind: ClassVar[str] = ""

    def __post_init__(self) -> None:
        target = self._target()
        if not isinstance(target, str) or not target.strip():
            raise SourceError(f"{self.kind}: must name a dataset, not {target!r}")

    def __str__(self) -> str:
        return f"{self.kind}:{self._target()}"

    def _target(self) -> str:
        raise NotImplementedError

    def to_json(self) -> str:
        """The stored text (``kind:target``), as run.json, projects and manifests hold it."""
        return str(self)

    def folder(self) -> Path | None:
        """The dataset folder this source names itself, or None (built-in, or a manifest)."""
        return None

    @staticmethod
    def parse(text: object, *, bare: bool = False) -> Source:
        """The source a stored text names.

        Args:
            text: ``folder:<path>``, ``builtin:<id>`` or ``manifest:<path>``.
            bare: Also take text without a kind, as typed on a command line or found in older
                files: an existing ``.json`` file is a manifest, a built-in id (``mnist``) is
                that built-in unless such a folder exists, anything else a folder path.

        Raises:
            SourceError: Not text, an empty target, or (without ``bare``) no kind.
        """
        if not isinstance(text, str) or not text.strip():
            raise SourceError(f"must name a dataset, not {text!r}")
        kind, _, rest = text.partition(":")
        parse = _KINDS.get(kind)
        if parse is not None:
            if not rest.strip():
                raise SourceError(f"must name a dataset, not {text!r}")
            return parse(rest)
        if not bare:
            raise SourceError(f"must be builtin:<id>, folder:<path> or manifest:<file>, not {text!r}")
        if text.lower().endswith(".json") and os.path.isfile(text):
            return ManifestSource(text)
        if not os.path.exists(text) and text in _builtin_ids():
            return BuiltinSource(text)
        return FolderSource(text)

    @staticmethod
    def parse_or_none(text: object) -> Source | None:
        """The source a stored text names, or None where it names none (see :meth:`parse`)."""
        try:
            return Source.parse(text)
        except SourceError:
            return None


@dataclass(frozen=True)
class FolderSource(Source):
    """A folder of class folders, or of ``train/``, ``val/``, ``test/`` folders.

    Attributes:
        path: The folder as written (a dataset records it absolute).
    """

    kind: ClassVar[str] = "folder"
    path: str

    @classmethod
    def at(cls, folder: str | os.PathLike) -> FolderSource:
        """The source of ``folder``, made absolute (``~`` expanded)."""
        return cls(str(Path(folder).expanduser().absolute()))

    def _target(self) -> str:
        return self.path

    def folder(self) -> Path:
        return Path(self.path)


@dataclass(frozen=True)
class BuiltinSource(Source):
    """A dataset the app ships or fetches (``core.data.builtin``).

    Attributes:
        id: Its id in :func:`~filterscope.core.data.builtin.list_builtins` (``mnist``...).
    """

    kind: ClassVar[str] = "builtin"
    id: str

    def _target(self) -> str:
        return self.id


@dataclass(frozen=True)
class ManifestSource(Source):
    """A split manifest file (``core.data.splits``): the dataset it names, split its way.

    Attributes:
        path: The manifest file as written.
    """

    kind: ClassVar[str] = "manifest"
    path: str

    def _target(self) -> str:
        return self.path


DatasetSource = FolderSource | BuiltinSource
"""What a dataset, its split and a project name: not a manifest (it names one of these itself)."""

_KINDS = {cls.kind: cls for cls in (FolderSource, BuiltinSource, ManifestSource)}

DEFAULT_SOURCE = BuiltinSource("mnist")  # what the app and a new project open: digits that ship with it


def _builtin_ids() -> set[str]:
    from filterscope.core.data.builtin import list_builtins  # builtin.py builds sources itself

    return {info.id for info in list_builtins()}
