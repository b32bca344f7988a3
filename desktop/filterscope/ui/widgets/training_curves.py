"""Live loss and accuracy curves: per-batch detail, per-epoch points, the epochs where the
learning-rate schedule lowered the rate, and overlays of past runs."""

from __future__ import annotations

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QWidget

from filterscope.core.training.frames import BatchFrame, EpochFrame
from filterscope.ui.widgets.mpl_canvas import CHART_LINES, MplCanvasWidget

REDRAW_MS = 150  # the curves redraw at most this often, so drawing never slows training
NAN = float("nan")


class TrainingCurvesWidget(MplCanvasWidget):
    """Two panels (loss, accuracy). The live run is drawn solid; ticked past runs dashed."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent, width=8, height=3.2, redraw=self._redraw, min_lines=CHART_LINES)
        self.loss_axes, self.acc_axes = self.figure.subplots(1, 2)
        self._batches: dict[str, list[float]] = {"x": [], "loss": [], "accuracy": []}
        self._batch_epoch: int | None = None  # the epoch of the last batch point
        self._batch_count = 0
        self._epochs: dict[str, list[float]] = {k: [] for k in
                                                ("x", "loss", "accuracy", "val_loss", "val_accuracy",
                                                 "learning_rate")}
        self._overlays: list[tuple[str, dict]] = []
        self._timer = QTimer(self, singleShot=True, interval=REDRAW_MS)
        self._timer.timeout.connect(self._redraw)
        self._redraw()

    def start_run(self) -> None:
        """Forget the live run's points (a new training starts)."""
        for series in (*self._batches.values(), *self._epochs.values()):
            series.clear()
        self._batch_epoch, self._batch_count = None, 0
        self._timer.start()

    def add_point(self, frame: object) -> None:
        """A training partial: a BatchFrame or EpochFrame is drawn, other frames are ignored."""
        if isinstance(frame, BatchFrame):
            if self._batch_epoch is not None and frame.epoch != self._batch_epoch:
                for series in self._batches.values():  # a gap: the running mean restarts each epoch,
                    series.append(NAN)                 # and a joined line would jump at the boundary
            self._batch_epoch = frame.epoch
            self._batch_count += 1
            self._batches["x"].append(frame.epoch - 1 + frame.step / max(frame.steps, 1))
            # Keras 3 reports the epoch's running mean at each batch, and the chart says so.
            self._batches["loss"].append(frame.running_loss)
            self._batches["accuracy"].append(frame.running_accuracy)
        elif isinstance(frame, EpochFrame):
            self._epochs["x"].append(frame.epoch)
            for key in ("loss", "accuracy", "val_loss", "val_accuracy", "learning_rate"):
                value = getattr(frame, key)
                self._epochs[key].append(NAN if value is None else value)
        else:
            return
        if not self._timer.isActive():
            self._timer.start()

    def show_history(self, rows: list[dict]) -> None:
        """Draw a saved run's epochs (``history.json`` rows) as the solid curves."""
        self.start_run()
        for row in rows:
            self.add_point(EpochFrame.from_row(row))
        self._redraw()

    def set_overlays(self, runs: list[tuple[str, dict]]) -> None:
        """Past runs to draw for comparison: (name, history with per-epoch lists)."""
        self._overlays = runs
        self._redraw()

    def epochs_drawn(self) -> int:
        """How many epoch points of the live run are on the chart."""
        return len(self._epochs["x"])

    def lr_drops(self) -> list[int]:
        """The live run's epochs that trained at a lower learning rate than the one before."""
        x, lr = self._epochs["x"], self._epochs["learning_rate"]
        return [int(x[i]) for i in range(1, len(lr)) if lr[i] < lr[i - 1]]

    def batches_drawn(self) -> int:
        """How many batch points of the live run are on the chart."""
        return self._batch_count

    def _redraw(self) -> None:
        with self.styled():
            self._draw_axes()
        self.draw_idle()

    def _draw_axes(self) -> None:
        self.figure.legends.clear()
        for axes, key, title in ((self.loss_axes, "loss", "Loss"),
                                 (self.acc_axes, "accuracy", "Accuracy")):
            axes.clear()
            axes.set_title(title, fontsize="medium")
            axes.set_xlabel("epoch")
            axes.grid(alpha=0.3)
            axes.tick_params(labelsize=self.tick_points())
            if self._batches["x"]:
                axes.plot(self._batches["x"], self._batches[key], color="#9bbbd4", lw=1,
                          label="training (running mean per batch)")
            if self._epochs["x"]:
                axes.plot(self._epochs["x"], self._epochs[key], "o-", color="#1f5f99",
                          label="training")
                axes.plot(self._epochs["x"], self._epochs[f"val_{key}"], "s-", color="#d9731a",
                          label="validation")
            for n, epoch in enumerate(self.lr_drops()):
                axes.axvline(epoch - 0.5, color="#777777", ls=":", lw=1,
                             label="learning rate lowered" if n == 0 else None)
            for index, (name, history) in enumerate(self._overlays):
                values = history.get(f"val_{key}", [])
                axes.plot(range(1, len(values) + 1), values, "--", color=f"C{index + 2}",
                          label=f"{name} (validation)")
        handles, labels = self.loss_axes.get_legend_handles_labels()
        if handles:
            # One legend under both charts (the two share their lines): inside an axes it hid the
            # curves once text was large enough to read from the back of a room.
            self.figure.legend(handles, labels, loc="outside lower center", fontsize="x-small",
                               ncols=min(len(handles), 2), frameon=False)
