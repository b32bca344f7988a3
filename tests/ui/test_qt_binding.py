"""Guards for the Qt binding itself: the app emits bools and None through signals constantly."""

from __future__ import annotations

import sys

from PySide6.QtCore import QObject, Signal


class Emitter(QObject):
    sig_flag = Signal(bool)
    sig_value = Signal(object)


def test_emitting_true_and_none_keeps_their_reference_counts(qtbot) -> None:
    """PySide6 6.12.0 drops a reference to True/None on every emit, which aborts the interpreter
    once the count reaches zero; pyproject excludes that release and this test keeps it out."""
    emitter = Emitter()
    received: list[object] = []
    emitter.sig_flag.connect(received.append)
    emitter.sig_value.connect(received.append)
    before = sys.getrefcount(True), sys.getrefcount(None)
    for _ in range(200):
        emitter.sig_flag.emit(True)
        emitter.sig_value.emit(None)
    received.clear()
    after = sys.getrefcount(True), sys.getrefcount(None)
    assert after[0] >= before[0] - 5 and after[1] >= before[1] - 5
