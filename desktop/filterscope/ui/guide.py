"""Getting started: a panel with the five steps of the chapter (Dataset, Mask, Augment, Train,
Visualise), each a button that goes to its tab and says in a sentence or two what to do there.

It opens by itself on the first start (on the built-in digits, so everything works offline),
and at later starts while it was left open, unless "Don't show again" is ticked or every step
is done. Help ▸ Getting started opens it at any time. A step is ticked when its tab has been
visited; Train when a run has been saved. Progress is remembered. What a step says follows the
dataset open now: the digits' advice is never shown beside a folder of photos.

Before the steps, with no dataset at all, a first look: EfficientNet-Lite0 (its ImageNet weights
ship with the app) chosen in the Visualise tab with the class goldfish, ready to paint.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QPoint, QRect, QSettings, QSize, Qt, QTimer, Slot
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QCheckBox,
    QBoxLayout,
    QDockWidget,
    QLabel,
    QPushButton,
    QTabWidget,
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
    """The Getting started panel over ``tabs`` (found by their titles)."""

    def __init__(self, tabs: QTabWidget, state: AppState, settings: QSettings,
                 parent: QWidget | None = None) -> None:
        super().__init__("Getting started", parent)
        self.setObjectName("guide")
        self.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetClosable)
        self.setAllowedAreas(Qt.DockWidgetArea.TopDockWidgetArea | Qt.DockWidgetArea.BottomDockWidgetArea)
        self._tabs, self._settings, self._state = tabs, settings, state
        self._placing = False
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
        body = QWidget()
        layout = QVBoxLayout(body)
        layout.addLayout(row)
        layout.addWidget(self.text)
        self.setWidget(body)
        tabs.currentChanged.connect(self._on_tabs_current_changed)
        state.sig_run_saved.connect(lambda _run: self.mark_done("Train"))
        state.sig_dataset_changed.connect(lambda _dataset: self._show_step(self._shown))
        self._show_step(self._next_step())

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802 (Qt override)
        super().changeEvent(event)
        if event.type() == QEvent.Type.FontChange:
            self._place()

    def showEvent(self, event) -> None:  # noqa: N802 (Qt override)
        super().showEvent(event)
        self._place()

    def _place(self) -> None:
        """Docked over the tabs at normal text; at large text floating over the window's foot,
        as wide as the window: docked, it took the height a projector's 720 px keep for the
        tabs (the window needed 790 px at 250 %)."""
        large = stacked_direction(self) == QBoxLayout.Direction.TopToBottom
        window = self.parentWidget()
        # A hidden panel is placed when shown; floating changes its window, and with it its
        # font (a FontChange while this runs): once at a time.
        if large == self.isFloating() or window is None or self.isHidden() or self._placing:
            return
        self._placing = True
        try:
            self.setFloating(large)
        finally:
            self._placing = False
        if large:
            self.resize(window.width(), self.sizeHint().height())
            QTimer.singleShot(0, self._to_foot)  # once laid out at that width: its wrapped height

    @Slot()
    def _to_foot(self) -> None:
        window, body = self.parentWidget(), self.widget()
        if not self.isFloating() or window is None:
            return
        height = self.height() - body.height() + max(body.heightForWidth(body.width()),
                                                      body.minimumSizeHint().height())
        foot = window.mapToGlobal(QPoint(0, window.height()))
        self.setGeometry(QRect(foot - QPoint(0, height), QSize(window.width(), height)))

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
        """Show the panel (Help ▸ Getting started), on the current tab's step."""
        self.show()
        self._on_tabs_current_changed(self._tabs.currentIndex())

    def remember(self) -> None:
        """Keep whether the panel is open, for the next start (the window is closing)."""
        self._settings.setValue(OPEN_KEY, not self.isHidden())

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
        if self.isFloating():
            QTimer.singleShot(0, self._to_foot)

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
        text = step_text(title, self._state.dataset)
        if len(self._done) == len(STEPS):
            text += " All five steps done: the guide will not open by itself again."
        self.text.setText(f"<b>{title}.</b> {text}")
        if self.isFloating():  # as tall as the new text
            QTimer.singleShot(0, self._to_foot)

    @Slot(int)
    def _on_tabs_current_changed(self, index: int) -> None:
        title = getattr(self._tabs.widget(index), "title", None)
        if title in dict(STEPS) and not self.isHidden():
            if title != "Train":  # Train is done when a run is saved, not when seen
                self.mark_done(title)
            self._show_step(title)

    @Slot(bool)
    def _on_never_toggled(self, never: bool) -> None:
        self._settings.setValue(NEVER_KEY, never)
        if never:
            self.close()


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
