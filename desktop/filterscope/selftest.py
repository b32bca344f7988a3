"""``filterscope --self-test``: prove that an installed or bundled app really works, then exit.

It drives the real main window as a user would: the window opens, the built-in digits load,
the Augment tab previews the chapter's imgaug chain on them, the Train tab trains the chapter's
ConvNet for one epoch (its own job, through its JobRunner), the Visualise tab opens that run and
paints one filter by gradient ascent for a few steps, then paints an ImageNet class (goldfish)
with EfficientNet-Lite0 for a few steps, as the Getting started guide's first look asks: its
ImageNet weights come from their Python package (shipped with the app), converted into the data
folder, so no step touches the network. The class score must rise and the painted picture must
be the class's own top-1.
The result goes to a JSON file (steps, timings, versions, and the reason of a failure), because
a windowed build (Windows, macOS) has no console to print to; the path is printed too. Exit
code 0 when every step passed, 1 otherwise; a timeout ends a stuck test with 1, never a hang.

Settings, the data folder, Keras's and matplotlib's caches go to a temporary folder, so a
self-test neither reads nor changes the user's own. It is removed when the test passes, and kept
(its path printed) when the test fails or ``--self-test-keep`` asks, to look at the run it
trained. Without a display (Linux with neither DISPLAY nor WAYLAND_DISPLAY) Qt draws offscreen;
TensorFlow's start-up lines are kept off the console, as every command does without --verbose.
"""

from __future__ import annotations

import argparse
import functools
import os
import platform
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable, Sequence

from filterscope.core.base.formats import percent

STARTED = time.perf_counter()  # as early as the self-test can know: before Qt is imported
FLAG = "--self-test"
ASCENT_STEPS = 10  # enough to run the compiled ascent step several times
TRAIN_TEMPLATE = "chapter-convnet"  # the chapter's small ConvNet: one epoch takes seconds
# The guide's first look, painted for ASCENT_STEPS with the clean preset: measured 0.17 -> 13.6
# (the score before the softmax) in 10 steps, the picture then 99 % goldfish; about 4 s.
IMAGENET_MODEL, IMAGENET_CLASS = "efficientnet-lite0", "goldfish"


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    """The self-test's own arguments (``--self-test`` and the options that go with it)."""
    parser = argparse.ArgumentParser(prog="filterscope --self-test")
    parser.add_argument(FLAG, action="store_true", required=True, help="run the self-test and exit")
    parser.add_argument("--self-test-out", type=Path, metavar="FILE",
                        help="where to write the JSON result (default: self-test.json in the "
                        "app's data folder)")
    parser.add_argument("--self-test-timeout", type=float, default=600.0, metavar="SECONDS",
                        help="fail (exit 1) when the whole test takes longer (default 600)")
    parser.add_argument("--self-test-keep", action="store_true",
                        help="keep the temporary folder with the run, caches and settings the test "
                        "made (kept anyway when it fails)")
    return parser.parse_args(list(argv))


def _sandbox(root: Path) -> None:
    """Point every folder the app writes to at ``root``; offscreen when there is no display."""
    for variable, name in (("FILTERSCOPE_DATA_DIR", "data"), ("KERAS_HOME", "keras"),
                           ("MPLCONFIGDIR", "matplotlib")):
        os.environ[variable] = str(root / name)
    headless = sys.platform.startswith("linux") and not (os.environ.get("DISPLAY")
                                                         or os.environ.get("WAYLAND_DISPLAY"))
    if headless:
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def versions() -> dict[str, str]:
    """The versions that matter for a bundle, of what is loaded now."""
    from PySide6 import __version__ as pyside_version
    from PySide6.QtCore import qVersion

    from filterscope import __version__

    found = {"filterscope": __version__, "python": platform.python_version(),
             "platform": platform.platform(), "pyside6": pyside_version, "qt": qVersion()}
    for module in ("tensorflow", "keras", "numpy"):
        if module in sys.modules:
            found[module] = str(getattr(sys.modules[module], "__version__", "?"))
    return found


def write_result(path: Path, result: dict) -> None:
    """Write the JSON result (atomically: a reader never sees half of it)."""
    from filterscope.core.base.fileio import atomic_write_json

    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_json(path, result)


def _guarded(method: Callable[..., None]) -> Callable[..., None]:
    """A slot whose exception fails the self-test (Qt would print it and carry on)."""

    @functools.wraps(method)
    def slot(self: SelfTest, *args: Any) -> None:
        try:
            method(self, *args)
        except Exception as exc:  # the self-test's boundary: every failure is a result
            self.fail(f"{type(exc).__name__}: {exc}")

    return slot


class SelfTest:
    """The steps, run one after another on the GUI thread's event loop as signals arrive."""

    def __init__(self, window: Any, out: Path, timeout_s: float, sandbox: Path) -> None:
        self.window, self.out, self.timeout_s, self.sandbox = window, out, timeout_s, sandbox
        self.result: dict[str, Any] = {"ok": False, "steps": [], "timings": {}, "reason": None,
                                       "frozen": bool(getattr(sys, "frozen", False)),
                                       "executable": sys.executable}
        # The first step, the window, counts from the start: imports, building it, showing it.
        self._step, self._step_started, self._finished = "window", STARTED, False

    def begin(self, step: str) -> None:
        """Start timing ``step``."""
        self._step, self._step_started = step, time.perf_counter()

    def passed(self, detail: str) -> None:
        """The current step passed."""
        seconds = time.perf_counter() - self._step_started
        self.result["steps"].append({"name": self._step, "ok": True, "seconds": round(seconds, 3),
                                     "detail": detail})
        self.result["timings"][self._step] = round(seconds, 3)

    def fail(self, reason: str) -> None:
        """The current step failed: record why and end the test with exit code 1."""
        if not self._finished:
            self._note_failure(reason)
            self.finish(1)

    def _note_failure(self, reason: str) -> None:
        seconds = time.perf_counter() - self._step_started
        self.result["steps"].append({"name": self._step, "ok": False, "seconds": round(seconds, 3),
                                     "detail": reason})
        self.result["reason"] = f"{self._step}: {reason}"

    def finish(self, code: int) -> None:
        """Write the result, close the window (its job runners shut down) and leave the loop."""
        from PySide6.QtWidgets import QApplication

        if self._record(code):
            self.window.close()
            QApplication.instance().exit(code)

    def _record(self, code: int) -> bool:
        """Write the result once; False when it was written already."""
        if self._finished:
            return False
        self._finished = True
        self.result["ok"] = code == 0
        self.result["timings"]["total"] = round(time.perf_counter() - STARTED, 3)
        self.result["versions"] = versions()
        write_result(self.out, self.result)
        return True

    def on_timeout(self) -> None:
        """Still running after the timeout: record it and leave at once, whatever is stuck (a
        worker thread that does not stop would keep the process alive, and closing the window
        waits for them)."""
        if not self._finished:
            self._note_failure(f"timed out after {self.timeout_s:g} s")
            self._record(1)
            print(f"Filterscope self-test FAILED: {self.out}", flush=True)
        print(kept_message(self.sandbox), flush=True)  # os._exit skips main's own message
        os._exit(1)

    # --- the steps -------------------------------------------------------------------------

    @_guarded
    def on_window_shown(self) -> None:
        """The event loop runs with the main window shown: wait for the default dataset."""
        self.result["window_shown_unix"] = time.time()
        self.passed(f"main window shown, {self.window.width()}x{self.window.height()}, "
                    f"Qt platform {_platform_name()}")
        self.begin("dataset")
        state = self.window.state
        if state.dataset is not None:
            self.on_dataset(state.dataset)
        else:
            state.sig_dataset_changed.connect(self.on_dataset)
            self._dataset_tab().runner.sig_failed.connect(self.fail)

    @_guarded
    def on_dataset(self, dataset: Any) -> None:
        """The built-in digits are open: preview an augmentation chain in the Augment tab."""
        if self._step != "dataset":
            return
        from filterscope.core.data.source import DEFAULT_SOURCE

        if dataset.source != DEFAULT_SOURCE or len(dataset) == 0:
            raise RuntimeError(f"expected the built-in digits, got {dataset.source} ({len(dataset)} images)")
        self.passed(f"{dataset.name}: {len(dataset)} images, {len(dataset.classes)} classes")
        self.begin("augment")
        tab = self._tab("AugmentTab")
        from filterscope.core.augment.chain import builtin_chain

        tab.sig_previewed.connect(self.on_augmented)
        tab.runner.sig_failed.connect(self.fail)
        self.window.tabs.setCurrentWidget(tab)
        tab.set_chain(builtin_chain("chapter"))  # imgaug previews the chapter's chain

    @_guarded
    def on_augmented(self) -> None:
        """The Augment tab shows its preview: train for one epoch in the Train tab."""
        if self._step != "augment":
            return
        self.passed(f"the chapter's chain previewed on {self._tab('AugmentTab').previews.grid.count()} pictures")
        self.begin("train")
        tab = self._tab("TrainTab")
        self.window.state.train.choose_template(TRAIN_TEMPLATE)
        self.window.state.train.epochs = 1
        tab.runner.sig_finished.connect(self.on_trained)
        tab.runner.sig_failed.connect(self.fail)
        self.window.tabs.setCurrentWidget(tab)
        tab.start()

    @_guarded
    def on_trained(self, run: Any) -> None:
        """One epoch trained and saved: open the run in the Visualise tab."""
        if run.status != "finished" or run.epochs_run != 1 or run.run_dir is None:
            raise RuntimeError(f"training ended {run.status} after {run.epochs_run} epoch(s)")
        accuracy = (run.best() or {}).get("val_accuracy")
        shown = "none" if accuracy is None else percent(accuracy)
        self.passed(f"{TRAIN_TEMPLATE}, 1 epoch, validation accuracy {shown}, saved in "
                    f"{run.run_dir.name}")
        self.begin("visualize")
        tab = self._tab("VisualizeTab")
        tab.load_runner.sig_finished.connect(self.on_model_opened)
        tab.load_runner.sig_failed.connect(self.fail)
        tab.runner.sig_finished.connect(self.on_painted)
        tab.runner.sig_failed.connect(self.fail)
        self.window.tabs.setCurrentWidget(tab)  # it lists the runs and opens the one just trained

    @_guarded
    def on_model_opened(self, opened: Any) -> None:
        """The run's model is open: paint its first convolution's first filter, briefly (or, for
        the ImageNet step, its class)."""
        if self._step == "imagenet":
            self._paint_imagenet_class(opened)
            return
        convs = [layer.name for layer in opened.layers if layer.conv]
        if not convs:
            raise RuntimeError("the trained model has no convolution to visualise")
        tab = self._tab("VisualizeTab")
        tab.layers.select(convs[0])
        self.window.state.visualize.update({"kind": "filter", "filter": 0, "steps": ASCENT_STEPS})
        tab.start()

    @_guarded
    def on_painted(self, ascent: Any) -> None:
        """The picture is painted: check it and pass."""
        import numpy as np

        if ascent.status != "finished" or not np.isfinite(ascent.raw).all():
            raise RuntimeError(f"gradient ascent ended {ascent.status}: {ascent.diverged}")
        rise = float(ascent.history[-1, 0] - ascent.history[0, 0])
        scores = f"{ascent.history.shape[0] - 1} steps, objective {ascent.history[0, 0]:.4g} -> " \
                 f"{ascent.history[-1, 0]:.4g} ({'rose' if rise > 0 else 'did not rise'})"
        if self._step == "imagenet":
            self._check_imagenet_class(ascent, rise, scores)
            return
        self.passed(f"{ascent.labels[0]}: {scores}")
        self.begin("imagenet")
        self._open_imagenet_model()

    def _open_imagenet_model(self) -> None:
        """Choose EfficientNet-Lite0 and its goldfish class, as the guide's first look does."""
        from filterscope.core.transfer.imagenet import imagenet_classes

        self.window.state.visualize.paint_class(IMAGENET_MODEL, imagenet_classes().index(IMAGENET_CLASS))

    def _paint_imagenet_class(self, opened: Any) -> None:
        loaded = opened.session.loaded
        if loaded.kind != IMAGENET_MODEL or loaded.weights != "ImageNet" or len(opened.classes or []) != 1000:
            raise RuntimeError(f"expected {IMAGENET_MODEL} with ImageNet weights and 1000 classes, got "
                               f"{loaded.kind} with {loaded.weights}")
        tab = self._tab("VisualizeTab")
        self.window.state.visualize.steps = ASCENT_STEPS
        problem = tab.controls.problem()
        if problem:
            raise RuntimeError(problem)
        tab.start()

    def _check_imagenet_class(self, ascent: Any, rise: float, scores: str) -> None:
        """The class score rose, the picture is the class's top-1 and the weights were converted
        into the data folder (never inside the app)."""
        import numpy as np

        from filterscope.core.base.paths import data_dir
        from filterscope.core.transfer.weights import find_weights

        if rise <= 0:
            raise RuntimeError(f"the class score did not rise: {scores}")
        session = self._tab("VisualizeTab").session()
        probabilities = np.asarray(session.loaded.model(ascent.raw[:1], training=False))[0]
        top = session.loaded.classes[int(probabilities.argmax())]
        if top != IMAGENET_CLASS:
            raise RuntimeError(f"the picture painted for {IMAGENET_CLASS} is taken for {top}: {scores}")
        source = find_weights(IMAGENET_MODEL, "imagenet", top=True)
        if source.origin != "package" or not source.file.is_relative_to(data_dir()):
            raise RuntimeError(f"weights from {source.origin}, {source.file}, not converted into {data_dir()}")
        self.passed(f"{ascent.labels[0]}: {scores}; top-1 of the picture {top} "
                    f"({percent(float(probabilities.max()))}); EfficientNet-Lite0's weights from "
                    f"{source.package['package']} {source.package['version']}, converted into the data folder")
        self.finish(0)

    def _tab(self, class_name: str) -> Any:
        tabs = self.window.tabs
        for index in range(tabs.count()):
            if type(tabs.widget(index)).__name__ == class_name:
                return tabs.widget(index)
        raise RuntimeError(f"the main window has no {class_name}")

    def _dataset_tab(self) -> Any:
        return self._tab("DatasetTab")


def _platform_name() -> str:
    from PySide6.QtGui import QGuiApplication

    return QGuiApplication.platformName()


def _run(out: Path, timeout_s: float, root: Path) -> int:
    """Open the main window with settings in ``root`` and run the steps in its event loop."""
    from PySide6.QtCore import QSettings, QTimer

    from filterscope.app import create_window, make_app

    app = make_app(sys.argv[:1])
    window = create_window(QSettings(str(root / "settings.ini"), QSettings.Format.IniFormat))
    test = SelfTest(window, out, timeout_s, root)
    QTimer.singleShot(round(timeout_s * 1000), test.on_timeout)
    window.show()
    QTimer.singleShot(0, test.on_window_shown)
    app.exec()
    # Written now, while the folder is there: QSettings would otherwise write what the closing
    # window set when it is destroyed at exit, after main removed the folder, and so make the
    # folder again (with only settings.ini in it).
    window.settings.sync()
    return 0 if test.result["ok"] else 1


def kept_message(sandbox: Path) -> str:
    """Where the failed or kept test's folder is, and that it is the user's to remove."""
    return f"Filterscope self-test: its working folder (run, caches, settings) is kept in {sandbox}; " \
           "remove it when done"


def main(argv: Sequence[str]) -> int:
    """Run the self-test; 0 when it passed, 1 when it failed (the JSON file says why)."""
    args = parse_args(argv)
    if args.self_test_out is not None:
        out = args.self_test_out.resolve()
    else:
        from filterscope.core.base.paths import data_dir

        out = data_dir() / "self-test.json"  # the user's data folder, before the sandbox
    print(f"Filterscope self-test: writing the result to {out}", flush=True)
    from filterscope.core.training.tf_runtime import quiet_tensorflow

    sandbox = Path(tempfile.mkdtemp(prefix="filterscope-self-test-"))
    code = 1
    try:
        _sandbox(sandbox)
        with quiet_tensorflow():
            code = _run(out, args.self_test_timeout, sandbox)
    finally:
        if code == 0 and not args.self_test_keep:
            shutil.rmtree(sandbox, ignore_errors=True)
        else:
            print(kept_message(sandbox), flush=True)
    print(f"Filterscope self-test {'passed' if code == 0 else 'FAILED'}: {out}", flush=True)
    return code
