"""Reading a legacy PyTorch ``.pth`` state dict with pickle and numpy (no torch).

The legacy format (before PyTorch 1.6's zip files) is a run of pickles and raw bytes: a magic
number, the protocol version, the system's sizes, the pickled state dict, the list of storage
keys, then each storage as an 8-byte little-endian element count and its raw data. In the state
dict a tensor is ``torch._utils._rebuild_tensor_v2(storage, offset, size, stride, ...)`` on a
storage named by a persistent id ``('storage', type, key, location, numel, view)``.

A tensor's ``stride`` and ``offset`` matter: tensors saved from transposed numpy views keep their
storage in the view's memory order, and reading the data in ``size`` order gives weights that look
plausible and predict one class for every photo. :func:`read_state_dict` honours both.

Only the globals such a file needs are allowed (the ordered dict, the tensor rebuilder and the
storage types), so a file that asks for anything else is refused, not run.
"""

from __future__ import annotations

import collections
import pickle
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

MAGIC_NUMBER = 0x1950A86A20F9469CFC6C
PROTOCOL_VERSION = 1001
STORAGE_DTYPES = {"FloatStorage": np.float32, "DoubleStorage": np.float64, "HalfStorage": np.float16,
                  "LongStorage": np.int64, "IntStorage": np.int32, "ShortStorage": np.int16,
                  "CharStorage": np.int8, "ByteStorage": np.uint8, "BoolStorage": np.bool_}


class PthError(ValueError):
    """A ``.pth`` file this reader cannot read; the message names the file and why."""


@dataclass
class _Storage:
    dtype: type
    numel: int
    data: np.ndarray | None = None


@dataclass(frozen=True)
class _TensorRef:
    storage: _Storage
    offset: int
    size: tuple[int, ...]
    stride: tuple[int, ...]

    def array(self) -> np.ndarray:
        """The tensor as a C-contiguous array, read through its own offset and strides."""
        data = self.storage.data
        if not self.size:
            return data[self.offset].copy()
        last = self.offset + sum((n - 1) * s for n, s in zip(self.size, self.stride))
        if min(self.size) > 0 and last >= data.size:
            raise PthError(f"a tensor of shape {self.size} reaches past its storage ({data.size})")
        item = data.itemsize
        view = np.lib.stride_tricks.as_strided(data[self.offset:], shape=self.size,
                                               strides=tuple(s * item for s in self.stride),
                                               writeable=False)
        return np.ascontiguousarray(view)


class _StorageType:
    def __init__(self, name: str) -> None:
        self.dtype = STORAGE_DTYPES[name]


def _rebuild_tensor_v2(storage: _Storage, offset: int, size: tuple, stride: tuple, *_: Any) -> _TensorRef:
    return _TensorRef(storage, int(offset), tuple(size), tuple(stride))


class _Unpickler(pickle.Unpickler):
    def __init__(self, handle: BinaryIO, storages: dict[str, _Storage]) -> None:
        super().__init__(handle)
        self.storages = storages

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) == ("collections", "OrderedDict"):
            return collections.OrderedDict
        if (module, name) == ("torch._utils", "_rebuild_tensor_v2"):
            return _rebuild_tensor_v2
        if module == "torch" and name in STORAGE_DTYPES:
            return _StorageType(name)
        raise pickle.UnpicklingError(f"refuses {module}.{name}: a weights file holds tensors only")

    def persistent_load(self, pid: Any) -> _Storage:
        if not (isinstance(pid, tuple) and len(pid) >= 5 and pid[0] == "storage"
                and isinstance(pid[1], _StorageType)):
            raise pickle.UnpicklingError(f"unexpected persistent id {pid!r:.80}")
        if len(pid) > 5 and pid[5] is not None:
            raise pickle.UnpicklingError("storage views (a format older than PyTorch 0.4) are not read")
        key = str(pid[2])
        return self.storages.setdefault(key, _Storage(pid[1].dtype, int(pid[4])))


def _read_storages(handle: BinaryIO, storages: dict[str, _Storage]) -> None:
    for key in pickle.load(handle):
        storage = storages[str(key)]
        count = int.from_bytes(handle.read(8), "little")
        size = count * np.dtype(storage.dtype).itemsize
        raw = handle.read(size)
        if count != storage.numel or len(raw) != size:
            raise PthError(f"storage {key}: {len(raw)} bytes where {storage.numel} elements were "
                           "announced (truncated?)")
        storage.data = np.frombuffer(raw, storage.dtype)


def read_state_dict(file: Path) -> dict[str, np.ndarray]:
    """The tensors of a legacy (non-zip) PyTorch ``.pth`` state dict, by name, as numpy arrays.

    Raises:
        PthError: Not a legacy ``.pth`` file, truncated, or asking for anything but tensors.
    """
    file = Path(file)
    try:
        with open(file, "rb") as handle:
            if handle.read(2) == b"PK":
                raise PthError(f"{file}: a zip-format .pth (PyTorch 1.6 or later); only the legacy "
                               "format is read")
            handle.seek(0)
            if pickle.load(handle) != MAGIC_NUMBER or pickle.load(handle) != PROTOCOL_VERSION:
                raise PthError(f"{file}: not a PyTorch .pth file (no magic number)")
            info = pickle.load(handle)
            if not isinstance(info, dict) or not info.get("little_endian", False):
                raise PthError(f"{file}: saved on a big-endian machine; not read")
            storages: dict[str, _Storage] = {}
            state = _Unpickler(handle, storages).load()
            _read_storages(handle, storages)
    except (pickle.UnpicklingError, EOFError, KeyError, OSError, TypeError, AttributeError) as exc:
        raise PthError(f"{file}: not a readable PyTorch state dict: {exc}") from exc
    if not isinstance(state, dict):
        raise PthError(f"{file}: holds a {type(state).__name__}, not a state dict")
    return {str(k): v.array() for k, v in state.items() if isinstance(v, _TensorRef)}
