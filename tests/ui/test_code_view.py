"""The shared code view: read-only, highlighted Python and a Copy button that fills the clipboard."""

from __future__ import annotations

import pytest
from filterscope.ui.widgets.code_view import CodeViewWidget, PythonHighlighter
from PySide6.QtGui import QFontInfo, QTextCharFormat
from PySide6.QtWidgets import QApplication

CODE = "import numpy as np  # a comment\nx = np.zeros(3) + 0.5\ntext = 'no # comment here'\n"


@pytest.fixture
def view(qtbot) -> CodeViewWidget:
    view = CodeViewWidget("Caption")
    qtbot.addWidget(view)
    view.setPlainText(CODE)
    return view


def _format_at(view: CodeViewWidget, line: int, column: int):
    """The highlighter's format of one character (None where it set none)."""
    formats = view.editor.document().findBlockByNumber(line).layout().formats()
    for fmt in formats:
        if fmt.start <= column < fmt.start + fmt.length:
            return QTextCharFormat(fmt.format)  # a copy: the range list is a temporary
    return None


def test_the_code_is_read_only_and_shown_as_given(view) -> None:
    assert view.toPlainText() == CODE and view.editor.isReadOnly()
    assert QFontInfo(view.editor.font()).fixedPitch()
    assert view.editor.font().pointSizeF() == view.font().pointSizeF()  # the app's text size


def test_copy_puts_the_code_on_the_clipboard(qtbot, view) -> None:
    QApplication.clipboard().setText("something else")
    with qtbot.waitSignal(view.sig_status) as blocker:
        view.copy_button.click()
    assert QApplication.clipboard().text() == CODE
    assert "copied" in blocker.args[0]


def test_keywords_strings_comments_and_numbers_are_coloured(view) -> None:
    colour = lambda line, column: _format_at(view, line, column).foreground().color()  # noqa: E731
    assert colour(0, 0) == PythonHighlighter.KEYWORD.foreground().color()  # import
    assert _format_at(view, 0, 7) is None  # numpy: a plain name
    assert colour(0, CODE.index("#")) == PythonHighlighter.COMMENT.foreground().color()
    assert colour(1, CODE.splitlines()[1].index("3")) == PythonHighlighter.NUMBER.foreground().color()
    assert colour(1, CODE.splitlines()[1].index("0.5")) == PythonHighlighter.NUMBER.foreground().color()
    line = CODE.splitlines()[2]
    assert colour(2, line.index("#")) == PythonHighlighter.STRING.foreground().color()  # inside a string
    assert len({PythonHighlighter.KEYWORD.foreground().color().name(),
                PythonHighlighter.STRING.foreground().color().name(),
                PythonHighlighter.COMMENT.foreground().color().name(),
                PythonHighlighter.NUMBER.foreground().color().name()}) == 4
