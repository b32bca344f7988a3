"""Open the app on a dataset and save a screenshot of the whole screen (run under Xvfb).

Usage: xvfb-run -s "-screen 0 1400x900x24" python packaging/screenshot.py SOURCE OUT.png [--tab N]
       [--zoom F] [--values] [--text PT] [--present [PERCENT]] [--size WxH] [--guide]
       ... SOURCE OUT.png --results RUN_DIR [--cell T,P] [--predict IMAGE]
       ... SOURCE OUT.png --visualize RUN_DIR|MODEL --layer NAME [--filter K | --paint-class C]
       [--mosaic N] [--preset P] [--steps N] [--forming] [--image-mode | --weights] [--class-index C]
       [--item I]
       ... SOURCE OUT.png --filters-step N [--filters-colour] [--filters-image IMAGE]
       [--filters-crop PX] [--filters-at ROW,COL] [--filters-preset NAME] [--filters-second]
       [--filters-stage STAGE]
Used to make the README's pictures and to look at each tab as a user would.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from PySide6.QtCore import QSettings, Qt, QTimer
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication

from filterscope.app import create_window
from filterscope.core.augment.chain import builtin_chain
from filterscope.core.filters.kernels import preset
from filterscope.core.training.frames import EpochFrame
from filterscope.core.transfer.imagenet import imagenet_model
from filterscope.ui.tabs.augment_tab import AugmentTab
from filterscope.ui.tabs.dataset_tab import DatasetTab
from filterscope.ui.tabs.filters_tab import FiltersTab
from filterscope.ui.tabs.mask_tab import MaskTab
from filterscope.ui.tabs.train_tab import TrainTab
from filterscope.ui.tabs.results_tab import ResultsTab
from filterscope.ui.tabs.visualize_tab import EVERY, VisualizeTab


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("source")
    parser.add_argument("out")
    parser.add_argument("--item", type=int, default=0, help="grid row to select")
    parser.add_argument("--zoom", type=float, default=0.0, help="viewer zoom factor")
    parser.add_argument("--values", action="store_true", help="show pixel values")
    parser.add_argument("--settle", type=int, default=4000, help="ms to wait before the shot")
    parser.add_argument("--tab", type=int, default=0, help="index of the tab to show")
    parser.add_argument("--mask-preset", help="mask preset JSON to load into the Mask tab")
    parser.add_argument("--chain", help="built-in augmentation chain for the Augment tab")
    parser.add_argument("--train", action="store_true", help="start training in the Train tab")
    parser.add_argument("--runs", type=int, default=0,
                        help="train this many short runs (Adam, then SGD), tick them all, then shoot")
    parser.add_argument("--stop", type=int, default=0,
                        help="train, press Stop after this many epochs, shoot when the run is listed")
    parser.add_argument("--class-index", type=int, default=0, help="class shown in the Mask tab")
    parser.add_argument("--model", help="model template for the Train tab")
    parser.add_argument("--code", action="store_true",
                        help="show the Train tab's Keras code and the Mask tab's NumPy + OpenCV code")
    parser.add_argument("--runs-dir", help="Train: list the runs of this folder instead of a fresh one")
    parser.add_argument("--pick", help="Train: pick this listed run (its whole curves are drawn)")
    parser.add_argument("--text", type=int, help="text size in points (View > Larger text)")
    parser.add_argument("--present", type=int, nargs="?", const=175, metavar="PERCENT",
                        help="presentation mode at this scale (175 without a number)")
    parser.add_argument("--size", default="1400x860", help="window size WIDTHxHEIGHT")
    parser.add_argument("--guide", action="store_true", help="show the Getting started panel, as at a first start")
    parser.add_argument("--visualize", metavar="RUN_DIR|MODEL",
                        help="open the Visualise tab on this run, or on an ImageNet model (efficientnet-lite0)")
    parser.add_argument("--layer", help="Visualise: the layer to choose")
    parser.add_argument("--filter", type=int, default=0, help="Visualise: the filter to paint")
    parser.add_argument("--paint-class", type=int, metavar="C",
                        help="Visualise: paint this output class instead of a filter")
    parser.add_argument("--mosaic", type=int, default=0, help="Visualise: paint a mosaic of N filters")
    parser.add_argument("--preset", default="chapter", help="Visualise: the ascent's preset")
    parser.add_argument("--steps", type=int, help="Visualise: gradient steps")
    parser.add_argument("--forming", action="store_true",
                        help="Visualise: shoot a third of the way through the ascent, not at its end")
    parser.add_argument("--image-mode", action="store_true",
                        help="Visualise: show the feature maps and Grad-CAM of image --item of class "
                        "--class-index")
    parser.add_argument("--weights", action="store_true", help="Visualise: show the layer's weights")
    parser.add_argument("--results", metavar="RUN_DIR",
                        help="open the Results tab on this run and evaluate it (writes its evaluations/)")
    parser.add_argument("--cell", help="Results: show the confusion-matrix cell TRUE,PREDICTED (indices)")
    parser.add_argument("--predict", metavar="IMAGE", help="Results: predict this image on the Predict page")
    parser.add_argument("--filters-step", type=int,
                        help="open the Filters tab stepped through to this position (1-based; 0: none)")
    parser.add_argument("--filters-colour", action="store_true", help="Filters: colour mode")
    parser.add_argument("--filters-image", metavar="IMAGE", help="Filters: open this image file")
    parser.add_argument("--filters-crop", type=int, help="Filters: crop side in pixels")
    parser.add_argument("--filters-at", help="Filters: centre the crop on ROW,COL of the image")
    parser.add_argument("--filters-preset", help="Filters: the first filter's preset")
    parser.add_argument("--filters-second", action="store_true", help="Filters: add the second filter")
    parser.add_argument("--filters-stage", default="convolution",
                        help="Filters: convolution, relu or pooling")
    args = parser.parse_args()
    app = QApplication(sys.argv)
    settings = QSettings(QSettings.Format.IniFormat, QSettings.Scope.UserScope, "FilterscopeShots", "s")
    settings.clear()
    settings.setValue("dataset/last", args.source)
    if args.text:
        settings.setValue("ui/font_size", args.text)
    if args.present:
        settings.setValue("ui/presentation", True)
        settings.setValue("ui/presentation_scale", args.present)
    window = create_window(settings)
    if args.guide:
        window.guide.open_guide()
    window.resize(*(int(v) for v in args.size.split("x")))
    window.move(0, 0)
    window.show()
    tab = window.findChild(DatasetTab)
    runs_folder = tempfile.mkdtemp(prefix="filterscope-shot-runs-")

    def select() -> None:
        grid = tab.grid
        if grid.model().rowCount() > args.item:
            grid.setCurrentIndex(grid.model().index(args.item))
        tab.image_pane.values_box.setChecked(args.values)
        window.tabs.setCurrentIndex(args.tab)
        mask_tab = window.findChild(MaskTab)
        if args.mask_preset:
            mask_tab.load_preset(Path(args.mask_preset))
        mask_tab.picker.class_combo.setCurrentIndex(args.class_index)
        mask_tab.picker.item_spin.setValue(args.item % max(mask_tab.picker.item_spin.maximum() + 1, 1))
        augment_tab = window.findChild(AugmentTab)
        augment_tab.picker.class_combo.setCurrentIndex(args.class_index)
        if args.chain:
            augment_tab.set_chain(builtin_chain(args.chain))
        train_tab = window.findChild(TrainTab)
        train_tab.set_runs_folder(Path(args.runs_dir or runs_folder))  # fresh: earlier shots' runs stay out
        if args.model:  # as choosing it in the list does: a recipe's settings and chain too
            recipe = window.state.train.choose_template(args.model)
            if recipe is not None:
                train_tab.options.sig_recipe_chosen.emit(recipe)
        if args.code:
            train_tab.details.setCurrentWidget(train_tab.details.code)
            mask_tab.pages.setCurrentWidget(mask_tab.code)
        if args.train:
            window.state.train.epochs = 5
            train_tab.start()

    def zoom() -> None:
        if args.zoom:
            tab.image_pane.viewer.zoom_by(args.zoom / tab.image_pane.viewer.zoom())

    def shoot() -> None:
        QGuiApplication.primaryScreen().grabWindow(0).save(args.out)
        window.close()

    QTimer.singleShot(args.settle // 2, select)
    QTimer.singleShot(args.settle * 3 // 4, zoom)
    if args.filters_step is not None:
        QTimer.singleShot(args.settle, lambda: filters(window, args, shoot))
    elif args.visualize:
        QTimer.singleShot(args.settle, lambda: visualize(window, args, shoot))
    elif args.results:
        QTimer.singleShot(args.settle, lambda: results(window, args, shoot))
    elif args.runs:
        QTimer.singleShot(args.settle, lambda: train_runs(window, args.runs, shoot))
    elif args.stop:
        QTimer.singleShot(args.settle, lambda: stop_run(window, args.stop, shoot))
    elif args.pick:
        QTimer.singleShot(args.settle, lambda: pick_run(window, args.pick, shoot))
    else:
        QTimer.singleShot(args.settle, shoot)
    return app.exec()


def train_runs(window, count: int, shoot) -> None:
    """Train ``count`` short runs one after the other, tick them for overlay, then shoot."""
    tab = window.findChild(TrainTab)
    window.tabs.setCurrentWidget(tab)
    window.state.train.epochs = 3

    def next_run(_result=None) -> None:
        done = tab.runs_list.count()
        if done == count:
            for row in range(done):
                tab.runs_list.item(row).setCheckState(Qt.CheckState.Checked)
            QTimer.singleShot(1000, shoot)
            return
        window.state.train.set_optimizer_kind(("adam", "sgd")[done % 2])
        tab.start()

    tab.runner.sig_finished.connect(next_run)
    next_run()


def pick_run(window, name: str, shoot) -> None:
    """Pick a listed run in the Train tab (its curves are drawn, its examples predicted), then
    shoot."""
    tab = window.findChild(TrainTab)
    window.tabs.setCurrentWidget(tab)
    rows = [r for r in range(tab.runs_list.count())
            if tab.runs_list.item(r).data(Qt.ItemDataRole.UserRole) == name]
    if not rows:
        QTimer.singleShot(300, lambda: pick_run(window, name, shoot))  # still being listed
        return
    tab.examples_runner.sig_finished.connect(lambda _examples: QTimer.singleShot(1000, shoot))
    tab.examples_runner.sig_failed.connect(lambda _message: QTimer.singleShot(1000, shoot))
    tab.runs_list.setCurrentRow(rows[0])  # draws its curves, then predicts its example strip


def stop_run(window, epochs: int, shoot) -> None:
    """Start a long run, press Stop after ``epochs`` epochs, shoot once the stopped run is listed."""
    tab = window.findChild(TrainTab)
    window.tabs.setCurrentWidget(tab)
    window.state.train.epochs = 50

    def on_epoch(payload) -> None:
        if isinstance(payload, EpochFrame) and payload.epoch >= epochs:
            tab.stop_button.click()

    def wait_listed() -> None:
        if tab.runs_list.count():
            QTimer.singleShot(1000, shoot)
        else:
            QTimer.singleShot(200, wait_listed)

    tab.runner.sig_partial.connect(on_epoch)
    tab.runner.sig_cancelled.connect(wait_listed)
    tab.start()


def filters(window, args, shoot) -> None:
    """Open the Filters tab on the first built-in seven (or an image file), set colour mode, the
    preset and the second filter, and step through to position --filters-step of the stage."""
    tab = window.findChild(FiltersTab)
    window.tabs.setCurrentWidget(tab)

    def ready(_image=None) -> None:
        lesson = tab.settings  # the Filters tab's lesson model: set it, the tab follows
        if args.filters_crop:
            lesson.crop = args.filters_crop
        if args.filters_at:
            tab.source.move_crop(*(int(v) for v in args.filters_at.split(",")))
        lesson.update({"colour": args.filters_colour, "second": args.filters_second})
        if args.filters_preset:
            lesson.set_filter(0, preset(args.filters_preset, lesson.size, lesson.channels()), lesson.biases[0])
        lesson.stage = args.filters_stage
        if args.filters_step:
            tab.steps.set_position(args.filters_step - 1)
        QTimer.singleShot(800, shoot)

    if args.filters_image:
        tab.source.file_runner.sig_finished.connect(lambda _loaded: QTimer.singleShot(200, ready))
        tab.source.open_file(args.filters_image)
    else:
        QTimer.singleShot(800, ready)


def visualize(window, args, shoot) -> None:
    """Open the Visualise tab on a run (as the run just trained) or an ImageNet model, choose the
    layer, then paint a filter or a class (shooting as the picture forms or once it is done), or
    show an image's maps and Grad-CAM, or the layer's weights."""
    tab = window.findChild(VisualizeTab)
    name = imagenet_model(args.visualize)
    if name is not None:
        window.state.visualize.update({"model": name, "weights": "imagenet"})
    else:
        run = Path(args.visualize).resolve()
        window.state.set_runs_dir(run.parent)
        window.state.run_saved(run)

    def later() -> None:
        QTimer.singleShot(1500, shoot)

    def loaded(_opened) -> None:
        tab.layers.select(args.layer)
        if args.image_mode:
            tab.probe.picker.class_combo.setCurrentIndex(args.class_index)
            tab.probe.picker.item_spin.setValue(args.item)
            tab.probe.probe_runner.sig_finished.connect(later)
            tab.pages.setCurrentWidget(tab.probe)
        elif args.weights:
            tab.weights_runner.sig_finished.connect(later)
            tab.pages.setCurrentWidget(tab.weights)
        else:
            paint()

    def paint() -> None:
        controls = tab.controls
        controls.preset_combo.setCurrentIndex(controls.preset_combo.findData(args.preset))
        if args.steps:
            controls.steps_spin.setValue(args.steps)
        controls.filter_spin.setValue(args.filter)
        if args.paint_class is not None:
            window.state.visualize.update({"kind": "class", "class_index": args.paint_class})
        controls.mosaic_box.setChecked(args.mosaic > 0)
        if args.mosaic:
            controls.mosaic_spin.setValue(args.mosaic)
        steps = controls.steps_spin.value()
        if args.forming:
            def on_partial(_payload) -> None:
                if tab.ascent.frames_shown() * EVERY >= steps // 3 and tab.runner.is_running():
                    tab.runner.sig_partial.disconnect(on_partial)
                    QTimer.singleShot(400, shoot)
            tab.runner.sig_partial.connect(on_partial)
        else:
            tab.runner.sig_finished.connect(later)
        tab.start()

    tab.load_runner.sig_finished.connect(loaded)
    window.tabs.setCurrentWidget(tab)


def results(window, args, shoot) -> None:
    """Open the Results tab on a run (as the run just trained) and evaluate it on its default
    images; then show a confusion cell's images (or the misclassified ones) with the first
    selected, or predict an image on the Predict page."""
    tab = window.findChild(ResultsTab)
    run = Path(args.results).resolve()
    window.state.set_runs_dir(run.parent)
    window.state.run_saved(run)

    def predicted(_result) -> None:
        QTimer.singleShot(1000, shoot)

    def listed(_found) -> None:
        tab.runs_runner.sig_finished.disconnect(listed)
        if args.predict:
            tab.pages.setCurrentWidget(tab.predict)
            tab.predict.runner.sig_finished.connect(predicted)
            tab.predict.predict_image(args.predict)
        else:
            tab.runner.sig_finished.connect(evaluated)
            tab.evaluate()

    def evaluated(_evaluation) -> None:
        if args.cell:
            true, predicted_class = (int(v) for v in args.cell.split(","))
            tab.summary.confusion.setCurrentCell(true, predicted_class)
            tab.show_cell(true, predicted_class)
        if tab.gallery.model().rowCount():
            tab.gallery.setCurrentIndex(tab.gallery.model().index(0))
        QTimer.singleShot(3000, shoot)  # the visible thumbnails load meanwhile

    tab.runs_runner.sig_finished.connect(listed)
    window.tabs.setCurrentWidget(tab)


if __name__ == "__main__":
    sys.exit(main())
