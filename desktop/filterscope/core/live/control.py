"""What may change while the live loop runs, set from another thread (the tab's): the options of
the next frame, frozen or not (and single steps), and a tap that gets every frame read.

Kept apart from the loop so the tab can hold one without importing the loop's model code (Keras's
side) at start-up."""

from __future__ import annotations

import threading
from dataclasses import replace
from typing import Any, Callable

from filterscope.core.live.settings import LiveOptions
from filterscope.core.live.video import Frame


class LiveControl:
    """The running loop's options, its pause and its frame tap, set from another thread."""

    def __init__(self, options: LiveOptions | None = None) -> None:
        self._lock = threading.Lock()
        self._options = options or LiveOptions()
        self._frozen = False
        self._steps = 0
        self._tap: Callable[[Frame], None] | None = None

    @property
    def options(self) -> LiveOptions:
        """The options the next frame is computed with."""
        with self._lock:
            return self._options

    def set_options(self, **changes: Any) -> None:
        """Change some options (``gradcam``, ``layer``) from the next frame on."""
        with self._lock:
            self._options = replace(self._options, **changes)

    def freeze(self, frozen: bool = True) -> None:
        """Stop reading frames (the last one stays shown), or go on."""
        with self._lock:
            self._frozen, self._steps = frozen, 0

    @property
    def frozen(self) -> bool:
        """True while frozen."""
        with self._lock:
            return self._frozen

    def step(self) -> None:
        """While frozen: process one more frame."""
        with self._lock:
            self._steps += 1

    def set_tap(self, tap: Callable[[Frame], None] | None) -> None:
        """Give every frame read from now on to ``tap`` too, in the loop's thread (saving frames
        while a button is held); None stops it."""
        with self._lock:
            self._tap = tap

    def tap(self, frame: Frame) -> None:
        """Hand ``frame`` to the tap set, if any (``run_live``'s ``on_frame``)."""
        with self._lock:
            tap = self._tap
        if tap is not None:
            tap(frame)

    def may_read(self) -> bool:
        """True when the loop may read a frame now (uses up one step while frozen)."""
        with self._lock:
            if not self._frozen:
                return True
            if self._steps:
                self._steps -= 1
                return True
            return False
