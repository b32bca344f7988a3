"""Getting started: a panel with the five steps of the chapter (Dataset, Mask, Augment, Train,
Visualise), each a button that goes to its tab and says in a sentence or two what to do there.

It opens by itself on the first start (on the built-in digits, so everything works offline),
and at later starts while it was left open, unless "Don't show again" is ticked or every step
is done. Help ▸ Getting started opens it at any time. A step is ticked when its tab has been
visited; Train when a run has been saved. Progress is remembered. What a step says follows the
dataset open now: the digits' advice is never shown beside a folder of photos.

At large text (presentation mode on a projector's 720 px) the panel would take the tabs' height
or, floating, cover their foot: there it shrinks to a button in the menu bar's corner that names
the step ("Getting started: 3 Augment") and opens the same panel as a pop-up under the menu bar
until the next click elsewhere.

Before the steps, with no dataset at all, a first look: EfficientNet-Lite0 (its ImageNet weights
ship with the app) chosen in the Visualise tab with the class goldfish, ready to paint.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QPoint, QSettings, Qt, Slot
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QBoxLayout,
    QCheckBox,
    QDockWidget,
    QFrame,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QPushButton,
    QTabWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from filterscope.core.data.datasets import Dataset
from filterscope.core.training.model_input import input_shape
from filterscope.core.transfer.imagenet import imagenet_classes
from filterscope.ui.state import AppState
from filterscope.ui.widgets.fitting import stacked_direction
from filterscope.ui.widgets.flow_layout import FlowLayout

# Each step's text for grey images like the built-in digits (the first start's dataset).
STEPS = (
    ("Dataset", "Open a dataset: the built-in MNIST digits work offline; Open folder… takes your "
                "own photos, one sub-folder per class."),
    ("Mask", "For photos: remove the soil with the chapter's colour-distance mask. Move a threshold "
             "and watch the Result. Grey images such as these need no mask, so you can skip this step."),
    ("Augment", "Choose the chapter's chain and watch the preview: each epoch sees every image a "
                "little changed. Tick “Use this chain when training” to train with it."),
    ("Train", "Keep the chapter's ConvNet, set Epochs to 1 and press Start training: on the "
              "digits a run takes seconds. Watch the loss and accuracy curves."),
    ("Visualise", "The run you trained is offered here. Pick a convolution layer and press Start to "
                  "paint the pattern one of its filters responds to."),
)
# The texts that differ for colour photos.
PHOTO_STEPS = {
    "Mask": "Remove the background (the soil, in the chapter) with the colour-distance mask: pick "
            "its colours, move a threshold and watch the Result. Tick “Use this mask when "
            "training” to train on the masked images.",
    "Train": "Take photo-transfer, the proposed start for photos: EfficientNet-Lite0's ImageNet "
             "features, fine-tuned, with the augmentation measured to suit your photos. Press Start "
             "training and watch the loss and accuracy curves (photos take minutes, not seconds).",
}
FIRST_LOOK = ("efficientnet-lite0", "goldfish")  # an ImageNet model that works offline, a class
FIRST_LOOK_TEXT = ("No dataset needed: see what a “goldfish” looks like to EfficientNet-Lite0, a network "
                   "trained on ImageNet's 1,000 classes. Press Start in the Visualise tab to paint it.")
DONE_KEY, OPEN_KEY, NEVER_KEY = "guide/done", "guide/open", "guide/never"


class GuideDock(QDockWidget):
    """The Getting started panel over ``tabs`` (found by their titles); at large text a button
    in the menu bar's corner of the main window ``parent`` (see the module)."""

    def __init__(self, tabs: QTabWidget, state: AppState, settings: QSettings,
                 parent: QMainWindow) -> None:
        super().__init__("Getting started", parent)
        self.setObjectName("guide")
        self.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetClosable)
        self.setAllowedAreas(Qt.DockWidgetArea.TopDockWidgetArea | Qt.DockWidgetArea.BottomDockWidgetArea)
        self._tabs, self._settings, self._state, self._window = tabs, settings, state, parent
        self._open = False  # the user's wish, whichever form the panel takes
        self._large = False
        self._done = {str(step) for step in settings.value(DONE_KEY, [], type=list)}
        self.buttons: dict[str, QPushButton] = {}
        row = FlowLayout()  # the steps wrap onto a second line at large text
        self.first_look_button = QPushButton(f"Try first: a {FIRST_LOOK[1]}")
        self.first_look_button.setToolTip(FIRST_LOOK_TEXT)
        self.first_look_button.clicked.connect(self.first_look)
        row.addWidget(self.first_look_button)
        for title, text in STEPS:
            button = QPushButton()
            button.clicked.connect(lambda _=False, t=title: self.go_to(t))
            self.buttons[title] = button
            row.addWidget(button)
        self.never_box = QCheckBox("Don't show again")
        self.never_box.setChecked(settings.value(NEVER_KEY, False, type=bool))
        self.never_box.toggled.connect(self._on_never_toggled)
        row.addWidget(self.never_box)
        self.text = QLabel()
        self.text.setWordWrap(True)
        self.body = QWidget()
        layout = QVBoxLayout(self.body)
        layout.addLayout(row)
        layout.addWidget(self.text)
        self.setWidget(self.body)
        self._build_corner()
        parent.menuBar().setCornerWidget(self.corner)
        tabs.currentChanged.connect(self._on_tabs_current_changed)
        state.sig_run_saved.connect(lambda _run: self.mark_done("Train"))
        state.sig_dataset_changed.connect(lambda _dataset: self._show_step(self._shown))
        self._show_step(self._next_step())
        self.hide()

    def _build_corner(self) -> None:
        self.corner = QWidget()
        self.corner_button = QToolButton()
        self.corner_button.setAutoRaise(True)
        self.corner_button.setToolTip("Show the Getting started steps and what to do in this one")
        self.corner_button.clicked.connect(self.show_popup)
        close = QToolButton()
        close.setAutoRaise(True)
        close.setText("✕")
        close.setToolTip("Close Getting started (Help ▸ Getting started opens it again)")
        close.clicked.connect(self.close_guide)
        row = QHBoxLayout(self.corner)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(0)
        row.addWidget(self.corner_button)
        row.addWidget(close)
        self.corner.hide()
        self.popup = QFrame(self, Qt.WindowType.Popup)
        self.popup.setFrameShape(QFrame.Shape.Box)
        QVBoxLayout(self.popup).setContentsMargins(0, 0, 0, 0)

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802 (Qt override)
        super().changeEvent(event)
        if event.type() == QEvent.Type.FontChange:
            self._place()

    def closeEvent(self, event) -> None:  # noqa: N802 (Qt override)
        """The panel's close button: closed until opened again."""
        super().closeEvent(event)
        self.close_guide()

    @Slot()
    def close_guide(self) -> None:
        """Close the guide, panel or corner button, until opened again."""
        self._open = False
        self._place()

    def is_open(self) -> bool:
        """Whether the guide is open: the panel shown, or at large text its corner button."""
        return self._open

    def _place(self) -> None:
        """The panel docked over the tabs at normal text; at large text the corner button (the
        docked panel took the height a projector's 720 px keep for the tabs: the window needed
        790 px at 250 %; floating, it covered the tabs' foot)."""
        self._large = stacked_direction(self) == QBoxLayout.Direction.TopToBottom
        large = self._large and self._open
        self.corner.setVisible(large)
        if not large:
            self.popup.hide()
        if self._open and not self._large:
            if self.widget() is not self.body:
                self.setWidget(self.body)
            self.show()
        else:
            self.hide()

    @Slot()
    def show_popup(self) -> None:
        """The steps and the current step's text under the menu bar, as wide as the window,
        until the next click outside them."""
        if not self._open or not self._large or not self._window.isVisible():
            return
        if self.body.parentWidget() is not self.popup:
            self.popup.layout().addWidget(self.body)
        self.body.show()
        width = self._window.width()
        self.popup.setFixedWidth(width)
        self.popup.setFixedHeight(max(self.body.heightForWidth(width), self.body.minimumSizeHint().height())
                                  + 2 * self.popup.frameWidth())
        menu = self._window.menuBar()
        self.popup.move(menu.mapToGlobal(QPoint(0, menu.height())))
        self.popup.show()

    def done(self) -> set[str]:
        """The steps ticked so far."""
        return set(self._done)

    def show_at_start(self, first_start: bool) -> bool:
        """Whether the panel opens by itself: on the first start, or when it was left open,
        unless "Don't show again" is ticked or every step is done."""
        left_open = self._settings.value(OPEN_KEY, False, type=bool)
        finished = len(self._done) == len(STEPS)
        return (first_start or left_open) and not self.never_box.isChecked() and not finished

    @Slot()
    def open_guide(self) -> None:
        """Open the guide (Help ▸ Getting started) on the current tab's step: the panel, or at
        large text its pop-up."""
        self._open = True
        self._place()
        self._on_tabs_current_changed(self._tabs.currentIndex())
        self.show_popup()

    def remember(self) -> None:
        """Keep whether the guide is open, for the next start (the window is closing)."""
        self._settings.setValue(OPEN_KEY, self._open)

    def go_to(self, title: str) -> None:
        """Go to the step's tab and say what to do there."""
        for index in range(self._tabs.count()):
            if self._tabs.widget(index).title == title:
                self._tabs.setCurrentIndex(index)
        self._show_step(title)

    @Slot()
    def first_look(self) -> None:
        """Choose EfficientNet-Lite0 and its goldfish class in the Visualise tab and go there."""
        model, name = FIRST_LOOK
        self._state.visualize.paint_class(model, imagenet_classes().index(name))
        self.go_to("Visualise")
        self.text.setText(f"<b>First look.</b> {FIRST_LOOK_TEXT}")
        self._fit_popup()

    def mark_done(self, title: str) -> None:
        """Tick a step (remembered)."""
        if title not in self._done:
            self._done.add(title)
            self._settings.setValue(DONE_KEY, sorted(self._done))
        self._show_step(self._shown)

    def _next_step(self) -> str:
        return next((title for title, _text in STEPS if title not in self._done), STEPS[-1][0])

    def _show_step(self, title: str) -> None:
        self._shown = title
        for number, (step, _text) in enumerate(STEPS, 1):
            button = self.buttons[step]
            button.setText(f"{'✓' if step in self._done else number}  {step}")
            button.setToolTip(step_text(step, self._state.dataset))
            font = QFont()  # the weight alone: the size still follows the application's text
            font.setBold(step == title)
            button.setFont(font)
            if step == title:
                self.corner_button.setText(f"Getting started: {button.text()}")
        text = step_text(title, self._state.dataset)
        if len(self._done) == len(STEPS):
            text += " All five steps done: the guide will not open by itself again."
        self.text.setText(f"<b>{title}.</b> {text}")
        self._fit_popup()

    def _fit_popup(self) -> None:
        if self.popup.isVisible():  # as tall as the new text
            self.show_popup()

    @Slot(int)
    def _on_tabs_current_changed(self, index: int) -> None:
        title = getattr(self._tabs.widget(index), "title", None)
        if title in dict(STEPS) and self._open:
            if title != "Train":  # Train is done when a run is saved, not when seen
                self.mark_done(title)
            self._show_step(title)

    @Slot(bool)
    def _on_never_toggled(self, never: bool) -> None:
        self._settings.setValue(NEVER_KEY, never)
        if never:
            self.close_guide()


def step_text(title: str, dataset: Dataset | None) -> str:
    """What the step ``title`` says with ``dataset`` open (None: none open yet)."""
    if dataset is None:
        return dict(STEPS)[title]
    grey = input_shape(dataset)[2] == 1  # the model's rule: one channel, so no colour mask
    if title == "Dataset":
        kind = " (synthetic)" if dataset.synthetic else ""
        later = ("Later, Open folder… takes your own photos, one sub-folder per class." if grey else
                 "Open folder… or a built-in set opens another.")
        return (f"Open now: {dataset.name}{kind}, {len(dataset):,} images in {len(dataset.classes)} "
                f"classes. Browse the classes and images. {later}")
    return dict(STEPS)[title] if grey else PHOTO_STEPS.get(title, dict(STEPS)[title])
