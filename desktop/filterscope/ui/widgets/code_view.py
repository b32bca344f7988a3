"""Read-only Python code with syntax highlighting and a Copy button: every tab's code view.

The code itself comes from core (one generator per domain); this widget only shows it in a
fixed-width font at the application's text size, colours keywords, strings, comments and
numbers, and copies it to the clipboard.
"""

from __future__ import annotations

import keyword

from PySide6.QtCore import QEvent, QRegularExpression, Signal, Slot
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontDatabase,
    QGuiApplication,
    QSyntaxHighlighter,
    QTextCharFormat,
)
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPlainTextEdit, QPushButton, QVBoxLayout, QWidget


def _format(colour: str, *, bold: bool = False, italic: bool = False) -> QTextCharFormat:
    fmt = QTextCharFormat()
    fmt.setForeground(QColor(colour))
    if bold:
        fmt.setFontWeight(QFont.Weight.Bold)
    fmt.setFontItalic(italic)
    return fmt


class PythonHighlighter(QSyntaxHighlighter):
    """Keywords, strings, comments and numbers of Python source, one line at a time (the
    generated code has no string spanning lines)."""

    KEYWORD = _format("#0033b3", bold=True)
    STRING = _format("#067d17")
    COMMENT = _format("#8c8c8c", italic=True)
    NUMBER = _format("#1750eb")
    _WORDS = QRegularExpression(r"\b(?:" + "|".join(keyword.kwlist) + r")\b")
    _NUMBERS = QRegularExpression(r"\b(?:\d+\.?\d*(?:e[-+]?\d+)?|\.\d+)\b")
    # strings and comments in one pass, so a '#' inside a string is no comment, nor a quote in
    # a comment a string
    _TEXT = QRegularExpression(r"""(#.*$)|('[^'\\]*(?:\\.[^'\\]*)*'|"[^"\\]*(?:\\.[^"\\]*)*")""")

    def highlightBlock(self, text: str) -> None:  # noqa: N802 (Qt override)
        for pattern, fmt in ((self._NUMBERS, self.NUMBER), (self._WORDS, self.KEYWORD)):
            matches = pattern.globalMatch(text)
            while matches.hasNext():
                match = matches.next()
                self.setFormat(match.capturedStart(), match.capturedLength(), fmt)
        matches = self._TEXT.globalMatch(text)
        while matches.hasNext():
            match = matches.next()
            fmt = self.COMMENT if match.capturedLength(1) else self.STRING
            self.setFormat(match.capturedStart(), match.capturedLength(), fmt)


class CodeViewWidget(QWidget):
    """Generated Python, read-only and highlighted, with a caption and a Copy button."""

    sig_status = Signal(str)
    """A line for the status bar (the code was copied)."""

    def __init__(self, caption: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.caption = QLabel(caption)
        self.caption.setWordWrap(True)
        self.copy_button = QPushButton("Copy")
        self.copy_button.setToolTip("Copy the code to the clipboard")
        self.editor = QPlainTextEdit(readOnly=True)
        self.editor.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.highlighter = PythonHighlighter(self.editor.document())
        top = QHBoxLayout()
        top.addWidget(self.caption, 1)
        top.addWidget(self.copy_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        layout.addWidget(self.editor, 1)
        self.caption.setVisible(bool(caption))
        self._fit_font()
        self.copy_button.clicked.connect(self.copy)

    def setPlainText(self, text: str) -> None:  # noqa: N802 (the QPlainTextEdit API it replaces)
        """Show ``text``, keeping the scroll position when the code only changed a little."""
        if text == self.editor.toPlainText():
            return
        bar = self.editor.verticalScrollBar()
        position = bar.value()
        self.editor.setPlainText(text)
        bar.setValue(position)

    def toPlainText(self) -> str:  # noqa: N802 (the QPlainTextEdit API it replaces)
        """The code shown."""
        return self.editor.toPlainText()

    @Slot()
    def copy(self) -> None:
        """Put the whole code on the clipboard."""
        QGuiApplication.clipboard().setText(self.toPlainText())
        self.sig_status.emit(f"Code copied to the clipboard ({self.toPlainText().count(chr(10)) + 1} lines)")

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802 (Qt override)
        super().changeEvent(event)
        if event.type() == QEvent.Type.FontChange:
            self._fit_font()

    def _fit_font(self) -> None:
        """A fixed-width font at the application's text size (View > Larger text)."""
        font = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        font.setPointSizeF(self.font().pointSizeF())
        self.editor.setFont(font)
