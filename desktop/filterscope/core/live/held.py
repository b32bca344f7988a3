"""A held capture button as a live loop's worker sees it: :class:`HeldCapture`."""

from __future__ import annotations

import threading
from pathlib import Path

from filterscope.core.live.capture import CaptureError, CaptureFolder


class HeldCapture:
    """What a held capture button means to a live loop's worker: which folder and class the next
    frames go to, and which of them (every n-th). The GUI thread holds and releases; the worker
    calls :meth:`offer` with every frame. Thread-safe; :meth:`offer` never raises, so a full disk
    cannot stop the live loop: the failure waits in :meth:`take_error` for the GUI to show."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._folder: CaptureFolder | None = None
        self._class: str | None = None
        self._every, self._seen = 1, 0
        self._error: str | None = None

    def hold(self, folder: CaptureFolder, class_name: str, every: int = 1) -> None:
        """Save every ``every``-th frame offered from now on (the first one included) as
        ``class_name`` of ``folder``."""
        with self._lock:
            self._folder, self._class, self._every, self._seen = folder, class_name, max(1, every), 0

    def release(self) -> None:
        """Save no more frames."""
        with self._lock:
            self._folder, self._class = None, None

    @property
    def held(self) -> str | None:
        """The class being captured, or None."""
        with self._lock:
            return self._class

    def offer(self, frame: object) -> Path | None:
        """Save ``frame`` (a ``Frame`` or an RGB array) when a class is held and it is its turn;
        the file saved, else None."""
        with self._lock:
            folder, name = self._folder, self._class
            turn = folder is not None and self._seen % self._every == 0
            self._seen += 1
        if not turn:
            return None
        try:
            return folder.save(name, getattr(frame, "rgb", frame))
        except (CaptureError, OSError) as exc:
            with self._lock:
                self._error = f"{name}: frame not saved ({exc})"
            return None

    def take_error(self) -> str | None:
        """The last failure to save since the last call, or None."""
        with self._lock:
            error, self._error = self._error, None
            return error
