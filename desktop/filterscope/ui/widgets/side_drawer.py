"""A tab's settings column beside its main view, with a button that hides the column so the view
gets the room, and that gives way to the view when the window is too narrow for both.

At a projector's 1280 x 720 with presentation mode's large text a column of settings is about
half the screen wide: side by side with the view, neither fits. The window is then too narrow
for both and the view is shown alone; the button swaps the settings in and out instead of
squeezing them beside it. The tab's minimum width is therefore the wider of the two, not
their sum.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, QSettings, QSize, Qt, Signal, Slot
from PySide6.QtWidgets import QHBoxLayout, QSizePolicy, QSplitter, QToolButton, QWidget

TIPS = {True: "Hide the settings: the view gets the room", False: "Show the settings"}


def smart_min(widget: QWidget) -> QSize:
    """The least size a layout gives ``widget``: its minimum size where set, else its hint."""
    hint, least = widget.minimumSizeHint(), widget.minimumSize()
    return QSize(least.width() or hint.width(), least.height() or hint.height())


class SideDrawerWidget(QWidget):
    """``panel`` (the settings) on the left of ``content`` (the view) in a splitter, or on its
    right with ``right``, and a button on the panel's side that shows or hides the panel.

    While both fit the button hides or shows the panel and the view keeps its place; when the
    window is narrower than both need, the view is shown alone and the button swaps the panel
    in (the view out) and back.
    """

    sig_panel_toggled = Signal(bool)
    """The button showed (True) or hid (False) the settings."""

    def __init__(self, panel: QWidget, content: QWidget, parent: QWidget | None = None, *,
                 right: bool = False) -> None:
        super().__init__(parent)
        self.panel, self.content = panel, content
        self._right = right
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.setChildrenCollapsible(False)
        for widget in (content, panel) if right else (panel, content):
            self.splitter.addWidget(widget)
        self.splitter.setStretchFactor(self.splitter.indexOf(panel), 0)  # the settings keep their width
        self.splitter.setStretchFactor(self.splitter.indexOf(content), 1)
        # A bar the whole height of the tab: easy to find and to hit on a projector.
        self.button = QToolButton()
        self.button.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Expanding)
        self.button.clicked.connect(self._on_button_clicked)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self.splitter, 1)
        layout.insertWidget(1 if right else 0, self.button)
        self._wanted = True  # the user's choice while both fit
        self._swapped = False  # too narrow for both: the settings shown instead of the view
        self._fitted: bool | None = None  # whether both fitted when last arranged
        self._show_button()
        self._size_arrow()
        for widget in (panel, content, self.splitter):
            widget.installEventFilter(self)

    def remember(self, settings: QSettings, key: str) -> None:
        """Start with the choice saved under ``key`` (settings shown or hidden while both fit)
        and save each new one there."""
        self._wanted = settings.value(key, True, type=bool)
        self._arrange()
        self.sig_panel_toggled.connect(lambda _shown: settings.setValue(key, self._wanted))

    def fits(self) -> bool:
        """Whether the settings and the view fit side by side at the current width."""
        need = (self.button.sizeHint().width() + self.layout().spacing() + smart_min(self.panel).width()
                + self.splitter.handleWidth() + smart_min(self.content).width())
        return self.width() >= need

    def panel_shown(self) -> bool:
        """Whether the settings are shown (they may be hidden by the button or for want of room)."""
        return not self.panel.isHidden()

    def set_panel_shown(self, on: bool) -> None:
        """Show or hide the settings, as the button does."""
        if self.panel_shown() != on:
            self.button.click()

    def minimumSizeHint(self) -> QSize:  # noqa: N802 (Qt override)
        panel, content = smart_min(self.panel), smart_min(self.content)
        button = self.button.sizeHint()
        return QSize(button.width() + self.layout().spacing() + max(panel.width(), content.width()),
                     max(panel.height(), content.height()))

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt override)
        super().resizeEvent(event)
        self._arrange()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt override)
        # Larger text (presentation mode) changes what both need without changing this
        # widget's size, often while the tab is hidden: look again when either asks for room
        # (a scrolling side panel asks through the splitter).
        if event.type() == QEvent.Type.LayoutRequest and watched in (self.panel, self.content, self.splitter):
            self._arrange()
        return super().eventFilter(watched, event)

    @Slot()
    def _on_button_clicked(self) -> None:
        if self.fits():
            self._wanted = not self._wanted
        else:
            self._swapped = not self._swapped
        self._arrange()
        self.sig_panel_toggled.emit(self.panel_shown())

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802 (Qt override)
        super().changeEvent(event)
        if event.type() == QEvent.Type.FontChange:
            self._size_arrow()

    def _size_arrow(self) -> None:
        """An arrow as big as the text (from the start, so a font change and back gives the
        same button)."""
        side = self.fontMetrics().height()
        self.button.setIconSize(QSize(side // 2, side))

    def showEvent(self, event) -> None:  # noqa: N802 (Qt override)
        super().showEvent(event)
        self._arrange()

    def _arrange(self) -> None:
        if not self.isVisible():  # no width of its own yet, or a stale one: wait to be shown
            return
        fits = self.fits()
        if fits:
            self._swapped = False
            self.panel.setVisible(self._wanted)
            self.content.setVisible(True)
        else:
            self.panel.setVisible(self._swapped)
            self.content.setVisible(not self._swapped)
        if fits and self._fitted is False and self.panel_shown():
            self._share_width()
        self._fitted = fits
        self._show_button()

    def _share_width(self) -> None:
        """Side by side again after the view was shown alone (presentation mode's large text
        gone): the settings at the width they ask for and the view the rest, as in a fresh
        window, not the widths of the large text."""
        width = self.splitter.width() - self.splitter.handleWidth()
        panel = max(self.panel.sizeHint().width(), smart_min(self.panel).width())
        sizes = [width - panel, panel] if self._right else [panel, width - panel]
        self.splitter.setSizes(sizes)

    def _show_button(self) -> None:
        shown = self.panel_shown()
        # The arrow points the way the settings go: out towards their edge, or in from it.
        left = shown != self._right
        self.button.setArrowType(Qt.ArrowType.LeftArrow if left else Qt.ArrowType.RightArrow)
        self.button.setToolTip(TIPS[shown])
        self.button.setAccessibleName(TIPS[shown])
