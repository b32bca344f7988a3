"""Presentation mode: larger text and controls, a high-contrast palette and bolder charts for a
projector, on top of View > Larger text, and put back exactly as they were when it is turned off
(the window's and its splitters' sizes too, and every widget measures itself again at the normal
text: :func:`apply_font`).

The whole application changes at once (its font, style and palette), so every tab, dialog and
chart follows without knowing about it; the charts pick up their bolder style through
:class:`~filterscope.ui.widgets.mpl_canvas.MplCanvasWidget`.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QSize, Qt
from PySide6.QtGui import QColor, QFont, QPalette
from PySide6.QtWidgets import (
    QApplication,
    QComboBox,
    QHeaderView,
    QLabel,
    QLayout,
    QProxyStyle,
    QSplitter,
    QStyle,
    QStyleFactory,
    QWidget,
)
from shiboken6 import isValid

from filterscope.ui.widgets.mpl_canvas import MplCanvasWidget

SCALES = (150, 175, 200, 250)  # per cent of the Larger text size
DEFAULT_SCALE = 175  # readable from the back of a room; on 1280 x 720 most settings stay beside their views

# Pixel sizes that do not follow the font: check boxes, radio buttons and icons would stay
# small beside the enlarged text.
_SCALED_METRICS = frozenset({
    QStyle.PixelMetric.PM_IndicatorWidth, QStyle.PixelMetric.PM_IndicatorHeight,
    QStyle.PixelMetric.PM_ExclusiveIndicatorWidth, QStyle.PixelMetric.PM_ExclusiveIndicatorHeight,
    QStyle.PixelMetric.PM_SmallIconSize, QStyle.PixelMetric.PM_ButtonIconSize,
    QStyle.PixelMetric.PM_ToolBarIconSize, QStyle.PixelMetric.PM_TabBarIconSize,
    QStyle.PixelMetric.PM_ListViewIconSize,
})

_PALETTE = {  # near-black on white, a saturated selection: readable through a washed-out beamer
    QPalette.ColorRole.Window: "#ffffff", QPalette.ColorRole.WindowText: "#000000",
    QPalette.ColorRole.Base: "#ffffff", QPalette.ColorRole.AlternateBase: "#ececec",
    QPalette.ColorRole.Text: "#000000", QPalette.ColorRole.Button: "#e6e6e6",
    QPalette.ColorRole.ButtonText: "#000000", QPalette.ColorRole.BrightText: "#c00000",
    QPalette.ColorRole.Highlight: "#0033cc", QPalette.ColorRole.HighlightedText: "#ffffff",
    QPalette.ColorRole.ToolTipBase: "#ffffe0", QPalette.ColorRole.ToolTipText: "#000000",
    QPalette.ColorRole.PlaceholderText: "#404040", QPalette.ColorRole.Link: "#0033cc",
    QPalette.ColorRole.Light: "#ffffff", QPalette.ColorRole.Midlight: "#d0d0d0",
    QPalette.ColorRole.Mid: "#808080", QPalette.ColorRole.Dark: "#404040",
    QPalette.ColorRole.Shadow: "#000000",
}
_DISABLED_TEXT = "#606060"  # still readable, yet plainly unlike enabled text


class PresentationStyle(QProxyStyle):
    """The application's own style with check boxes, radio buttons and icons scaled by a factor."""

    def __init__(self, base_name: str, factor: float) -> None:
        super().__init__(base_name)
        self.factor = factor

    def pixelMetric(self, metric, option=None, widget=None) -> int:  # noqa: N802 (Qt override)
        value = super().pixelMetric(metric, option, widget)
        return round(value * self.factor) if metric in _SCALED_METRICS else value

    def styleHint(self, hint, option=None, widget=None, data=None) -> int:  # noqa: N802 (Qt override)
        # A tab bar shows its titles whole and asks for their width instead of eliding them
        # ("Tens…") or hiding the last behind scroll arrows: at large text a title cut short is
        # unreadable, and a view too narrow for its tab bar swaps with its settings instead.
        if hint == QStyle.StyleHint.SH_TabBar_PreferNoArrows:
            return True
        if hint == QStyle.StyleHint.SH_TabBar_ElideMode:
            return Qt.TextElideMode.ElideNone.value
        return super().styleHint(hint, option, widget, data)


def high_contrast_palette() -> QPalette:
    """Near-black text on white with a strong blue selection, in every colour group."""
    palette = QPalette()
    for role, colour in _PALETTE.items():
        palette.setColor(role, QColor(colour))
    for role in (QPalette.ColorRole.WindowText, QPalette.ColorRole.Text, QPalette.ColorRole.ButtonText):
        palette.setColor(QPalette.ColorGroup.Disabled, role, QColor(_DISABLED_TEXT))
    return palette


class Presentation:
    """Turns presentation mode on and off for the running application.

    The caller sets the application font (``base points × factor()`` while on), so Larger text
    keeps working in presentation mode; this class owns the style, the palette and the charts.
    """

    def __init__(self) -> None:
        self._saved: tuple[str, QPalette] | None = None  # style name and palette from before
        self._layout: tuple[QSize | None, list[tuple[QSplitter, list[int]]]] = (None, [])
        self.scale = DEFAULT_SCALE

    def is_on(self) -> bool:
        """Whether presentation mode is on."""
        return self._saved is not None

    def factor(self) -> float:
        """The text scale to apply now: the chosen scale while on, else 1."""
        return self.scale / 100 if self.is_on() else 1.0

    def set_on(self, on: bool) -> None:
        """Apply or remove the style, palette and chart style (not the font: see the class)."""
        if on == self.is_on():
            return
        if on:
            self._saved = (QApplication.style().name(), QApplication.palette())
            self._apply()
        else:
            style_name, palette = self._saved
            self._saved = None
            QApplication.setStyle(QStyleFactory.create(style_name))
            QApplication.setPalette(palette)
        MplCanvasWidget.set_presenting(on)

    def set_scale(self, percent: int) -> None:
        """Choose the scale (one of SCALES); controls follow at once while on."""
        self.scale = percent
        if self.is_on():
            self._apply()

    def remember_layout(self, window: QWidget) -> None:
        """Note the window's size and every splitter's sizes before presentation mode: large
        text grows them (a window grows to its new least size, a settings column widens) and
        nothing shrinks them back by itself."""
        size = None if window.isMaximized() or window.isFullScreen() else window.size()
        splitters = [(s, s.sizes()) for s in window.findChildren(QSplitter) if any(s.sizes())]
        self._layout = (size, splitters)

    def restore_layout(self, window: QWidget) -> None:
        """Give the window and its splitters back the sizes :meth:`remember_layout` noted, once
        the layouts have taken the normal text's sizes (a window cannot be smaller than the
        least size its layout last worked out); no side larger than it is now: a window the
        user made smaller while presenting (a projector's 1280 x 720) does not grow back."""
        QApplication.sendPostedEvents(None, QEvent.Type.LayoutRequest)
        size, splitters = self._layout
        self._layout = (None, [])
        if size is not None:  # a window made smaller meanwhile (one started presenting) stays so
            window.resize(size.boundedTo(window.size()))
            QApplication.sendPostedEvents(None, QEvent.Type.LayoutRequest)  # the splitters' widths
        for splitter, sizes in splitters:
            if isValid(splitter):
                splitter.setSizes(sizes)

    def _apply(self) -> None:
        # Setting a style re-polishes every widget; the palette is set after it so it wins.
        QApplication.setStyle(PresentationStyle(self._saved[0], self.scale / 100))
        QApplication.setPalette(high_contrast_palette())


def refresh_size_hints() -> None:
    """Make the widgets that keep a size worked out for the previous text size measure again.

    Qt leaves three behind on a change of the application font: a label never given text
    keeps its first size (an empty status line stayed two text sizes tall after presentation
    mode), a combo box keeps its least size (the Dataset tab's row stayed twice as tall), and a
    table keeps the large text's row height as its default (rows twice as tall, a table showing
    one row). Call it once the new font has reached the widgets (see :func:`apply_font`).
    """
    widgets = [w for w in QApplication.allWidgets() if isinstance(w, QWidget)]  # no stale wrappers
    for widget in widgets:
        if isinstance(widget, QLabel):
            widget.setIndent(widget.indent())  # the same indent: it measures itself again
        elif isinstance(widget, (QComboBox, QHeaderView)):  # a style change clears what they keep
            QApplication.sendEvent(widget, QEvent(QEvent.Type.StyleChange))
    # A hidden tab's layouts are not told their widgets changed size: they kept the large
    # text's least size and grew the window when the tab was shown again.
    for widget in widgets:
        # Every layout of the widget: its own and those nested in it, all its QObject children.
        # (widget.layout() could hand back a stale wrapper of another type, a QWidgetItem once
        # at the same address, and fail now and then: PySide's wrappers are keyed by address.)
        for each in widget.findChildren(QLayout, options=Qt.FindChildOption.FindDirectChildrenOnly):
            if isinstance(each, QLayout):
                for layout in (each, *each.findChildren(QLayout)):
                    if isinstance(layout, QLayout):
                        layout.invalidate()


def apply_font(font: QFont) -> None:
    """Make ``font`` the application's, in every widget at once, and have every widget measure
    itself again at it (style-sheet widgets, labels, combo boxes). The font the application has
    already changes nothing (the start sets the remembered scale and size: no work for either)."""
    if font == QApplication.font():
        return
    QApplication.setFont(font)
    QApplication.sendPostedEvents(None, QEvent.Type.ApplicationFontChange)  # reach them now
    refresh_sheet_fonts()
    refresh_size_hints()


def refresh_sheet_fonts() -> None:
    """Give the application's font to the widgets that have a style sheet of their own.

    Qt fixes such a widget's font when it polishes it, so a later application font (Larger text,
    presentation mode on or off) passed them by and left them at the previous size; polishing
    them again takes the new one. Call it after every change of the application font.
    """
    for widget in QApplication.allWidgets():
        # A Python wrapper can outlive its Qt object; a new widget at the same address then
        # comes back as that stale wrapper (once a QWidgetItem): only real widgets are polished.
        if isinstance(widget, QWidget) and widget.styleSheet():
            style = widget.style()
            style.unpolish(widget)
            style.polish(widget)
