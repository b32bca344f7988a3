"""Decisions an analyst can sign: which photos need review, and what each kind of error costs.

The coverage / accuracy curve shows what a confidence threshold buys, on the evaluated images
and on the run's validation images (where a target accuracy becomes a threshold). The threshold
is set as a target ("95 % accurate on the accepted photos") or directly; the error costs in a
small table (rows: true class, columns: class answered; 0 or more), read from and written to
JSON files in ``Costs.to_json``'s form. "Save with the run" saves both in the run's
``decisions.json`` (:func:`~filterscope.core.results.jobs.decide_and_rejudge`, a job) and judges
the evaluation again; the sentences under it are :meth:`Judgement.lines`'s.

The saved truth is the run's ``decisions.json``: every evaluation shown refills the controls from
what its judgement applied, so what the controls hold is only an edit not saved yet.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtCore import QEvent, Qt, Signal, Slot
from PySide6.QtGui import QDoubleValidator
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QStyledItemDelegate,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from filterscope.core.base.fileio import atomic_write_json
from filterscope.core.base.formats import percent
from filterscope.core.base.settings import declaration
from filterscope.core.results.decisions import LOWEST_COST, Costs, CostsError, read_costs, valid_costs
from filterscope.core.results.evaluate import Evaluation
from filterscope.core.results.jobs import decide_and_rejudge
from filterscope.core.results.policy import Fitted, PolicyError, load_policy
from filterscope.core.results.settings import DecisionLimits
from filterscope.ui.widgets.fitting import SidePanelWidget
from filterscope.ui.widgets.mpl_canvas import MplCanvasWidget
from filterscope.workers import JobRunner

ERROR_STYLE = "color: #b00020"
MODES = (("none", "No threshold: accept every photo"), ("target", "Target accuracy on accepted photos"),
         ("threshold", "Threshold on calibrated confidence"))
NOTHING = "Evaluate a run, or open an earlier evaluation, to choose which photos need review."


class _CostDelegate(QStyledItemDelegate):
    """Cells take numbers of 0 or more only."""

    def createEditor(self, parent, option, index):  # noqa: N802 (Qt override)
        editor = QLineEdit(parent)
        validator = QDoubleValidator(LOWEST_COST, 1e12, 6, editor)
        validator.setNotation(QDoubleValidator.Notation.StandardNotation)
        editor.setValidator(validator)
        return editor


class DecisionPanelWidget(QWidget):
    """The curve, the threshold, the cost table, "Save with the run" and what it decided."""

    sig_judged = Signal(object)
    """The evaluation judged again with the policy just saved."""
    sig_status = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._evaluation: Evaluation | None = None
        self._validation: Fitted | None = None
        self._matrix = np.zeros((0, 0))
        self.canvas = MplCanvasWidget(width=4, height=2.4, redraw=self._redraw, min_lines=17)
        self.canvas.setToolTip("For each threshold: the share of photos accepted (right) and the "
                               "accuracy on them (up). A higher threshold accepts fewer, surer photos.")
        self.mode = QComboBox()
        for key, label in MODES:
            self.mode.addItem(label, key)
        self.mode.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.mode.setMinimumContentsLength(12)  # narrow enough beside the gallery in large text
        self.target = _percent_spin("target_accuracy", 95.0, "The accuracy the accepted validation photos must reach: "
                                    "the lowest threshold reaching it is saved (the most photos accepted)")
        self.threshold = _percent_spin("threshold", 50.0, "Photos whose calibrated confidence is below this need review")
        self.preview = QLabel()
        self.preview.setWordWrap(True)
        self.costs = QTableWidget(0, 0)
        self.costs.setItemDelegate(_CostDelegate(self.costs))
        self.costs.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.costs.setToolTip("What each error costs: rows the true class, columns the class answered "
                              "(0 or more; 0 on the diagonal and 1 elsewhere: every error the same)")
        self.load_button, self.save_costs_button = QPushButton("Load costs…"), QPushButton("Save costs…")
        self.reset_button = QPushButton("Every error 1")
        self.save_button = QPushButton("Save with the run")
        self.save_button.setToolTip("Save the threshold and the costs in the run's decisions.json, and "
                                    "judge this evaluation again with them")
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.setStyleSheet(ERROR_STYLE)
        self.summary = QLabel(NOTHING)
        self.summary.setWordWrap(True)
        self.summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.runner = JobRunner(self, on_result=self._on_saved, on_failure=self._on_failed,
                                on_running=self._update_buttons)
        self._build_layout()
        self.mode.currentIndexChanged.connect(self._on_threshold_changed)
        self.target.valueChanged.connect(self._on_threshold_changed)
        self.threshold.valueChanged.connect(self._on_threshold_changed)
        self.costs.itemChanged.connect(self._on_cost_edited)
        self.load_button.clicked.connect(self._on_load_clicked)
        self.save_costs_button.clicked.connect(self._on_save_costs_clicked)
        self.reset_button.clicked.connect(self._on_reset_clicked)
        self.save_button.clicked.connect(self.save_with_run)
        self.set_evaluation(None)

    def _build_layout(self) -> None:
        rule = QHBoxLayout()
        rule.addWidget(QLabel("Needs review:"))
        rule.addWidget(self.mode, 1)
        values = QHBoxLayout()
        values.addWidget(QLabel("Target"))
        values.addWidget(self.target)
        values.addWidget(QLabel("Threshold"))
        values.addWidget(self.threshold)
        values.addStretch(1)
        cost_buttons = QHBoxLayout()
        for button in (self.load_button, self.save_costs_button, self.reset_button):
            cost_buttons.addWidget(button)
        cost_buttons.addStretch(1)
        save_row = QHBoxLayout()
        save_row.addStretch(1)
        save_row.addWidget(self.save_button)
        inner = QWidget()  # scrolls when large text leaves too little room (a projector at 1280 x 720)
        layout = QVBoxLayout(inner)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.canvas, 3)
        layout.addLayout(rule)
        layout.addLayout(values)
        layout.addWidget(self.preview)
        title = QLabel("Error costs (rows: true class, columns: class answered)")
        title.setWordWrap(True)
        layout.addWidget(title)
        layout.addWidget(self.costs, 1)
        layout.addLayout(cost_buttons)
        layout.addLayout(save_row)
        layout.addWidget(self.message)
        layout.addWidget(self.summary)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(SidePanelWidget(inner))

    # --- showing an evaluation ----------------------------------------------------------------

    def set_evaluation(self, evaluation: Evaluation | None) -> None:
        """Show ``evaluation``'s decisions and the run's saved policy (None: nothing; a job of the
        previous evaluation is cancelled and its result dropped)."""
        self.runner.cancel()
        self._evaluation, self._validation = evaluation, None
        self.message.clear()
        j = None if evaluation is None else evaluation.judgement
        if evaluation is not None:
            try:
                self._validation = load_policy(evaluation.run_dir, list(evaluation.classes)).fitted.get(evaluation.model)
            except PolicyError as exc:
                self.message.setText(str(exc))
        key = "none" if j is None or j.threshold is None else "threshold" if j.target_accuracy is None else "target"
        for spin, value in ((self.target, None if j is None else j.target_accuracy),
                            (self.threshold, None if j is None else j.threshold)):
            if value is not None:
                spin.blockSignals(True)
                spin.setValue(100 * value)
                spin.blockSignals(False)
        self.mode.blockSignals(True)
        self.mode.setCurrentIndex(self.mode.findData(key))
        self.mode.blockSignals(False)
        classes = [] if evaluation is None else list(evaluation.classes)
        costs = None if j is None else j.costs
        self._fill_costs(classes, Costs.default(classes).matrix if costs is None else costs.for_classes(classes).matrix)
        self.summary.setText(NOTHING if evaluation is None else self._summary_text(evaluation))
        self._on_threshold_changed()

    def _summary_text(self, evaluation: Evaluation) -> str:
        j = evaluation.judgement
        if j is None:
            return ("This evaluation was saved before decisions existed: evaluate the run again, or "
                    "save a threshold or costs with the run to judge it.")
        lines = j.lines(evaluation.baseline.name)[1:]  # the first is the calibration page's
        return "\n".join(line[:1].upper() + line[1:] for line in lines) or \
            "No threshold or costs saved with the run: every photo is accepted, every error costs the same."

    def _fill_costs(self, classes: list[str], matrix: np.ndarray) -> None:
        self._matrix = np.array(matrix, np.float64)
        self.costs.blockSignals(True)
        self.costs.clear()
        self.costs.setRowCount(len(classes))
        self.costs.setColumnCount(len(classes))
        self.costs.setHorizontalHeaderLabels([f"→ {c}" for c in classes])
        self.costs.setVerticalHeaderLabels(classes)
        for r in range(len(classes)):
            for c in range(len(classes)):
                item = QTableWidgetItem(f"{self._matrix[r, c]:g}")
                item.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
                self.costs.setItem(r, c, item)
        self.costs.blockSignals(False)
        self._fit_costs()
        self._update_buttons()

    def _fit_costs(self) -> None:
        """Room for up to six rows of the cost table at the current text size."""
        rows = min(max(self.costs.rowCount(), 1), 6)
        self.costs.setMinimumHeight(self.costs.horizontalHeader().sizeHint().height()
                                    + rows * self.costs.verticalHeader().defaultSectionSize() + 6)

    def changeEvent(self, event) -> None:  # noqa: N802 (Qt override)
        super().changeEvent(event)
        if event.type() == QEvent.Type.FontChange:
            self._fit_costs()

    def cost_matrix(self) -> np.ndarray:
        """The costs as edited (rows true class, columns class answered)."""
        return self._matrix.copy()

    @Slot(QTableWidgetItem)
    def _on_cost_edited(self, item: QTableWidgetItem) -> None:
        r, c = item.row(), item.column()
        try:
            value = float(item.text().strip().replace(",", "."))
        except ValueError:
            value = float("nan")
        if not valid_costs(value):
            self.message.setText(f"A cost is a number of 0 or more: {item.text()!r} refused "
                                 f"(true {self.costs.verticalHeaderItem(r).text()}, answered "
                                 f"{self._classes()[c]}).")
        else:
            self._matrix[r, c] = value
            self.message.clear()
        self.costs.blockSignals(True)
        item.setText(f"{self._matrix[r, c]:g}")
        self.costs.blockSignals(False)

    def _classes(self) -> list[str]:
        return [] if self._evaluation is None else list(self._evaluation.classes)

    def _on_threshold_changed(self, *_args) -> None:
        key = self.mode.currentData()
        self.target.setEnabled(key == "target")
        self.threshold.setEnabled(key == "threshold")
        self.preview.setText(self._preview(key))
        self._redraw()

    def _preview(self, key: str) -> str:
        if self._evaluation is None:
            return ""
        fitted = self._validation
        if fitted is None:
            return "The run is not calibrated yet: it is when saved (on its validation images)."
        if key == "target":
            found = fitted.threshold_for(self.target.value() / 100)
            if found is None:
                return (f"No threshold reaches {percent(self.target.value() / 100)} on the validation "
                        f"images (at most {percent(float(np.nanmax(fitted.curve().accuracy)))}).")
            share = float(np.mean(fitted.confidence >= found))
            return (f"On the run's {len(fitted.confidence):,} validation images: threshold {percent(found)}, "
                    f"{percent(share)} of them accepted.")
        if key == "threshold":
            share = float(np.mean(fitted.confidence >= self.threshold.value() / 100))
            return f"On the run's {len(fitted.confidence):,} validation images: {percent(share)} accepted."
        return ""

    def _redraw(self) -> None:
        figure = self.canvas.figure
        figure.clear()
        ev = self._evaluation
        if ev is not None and (ev.judgement is not None or self._validation is not None):
            with self.canvas.styled():
                axes = figure.add_subplot(1, 1, 1)
                if ev.judgement is not None:
                    curve = ev.judgement.curve
                    axes.plot(curve.coverage, curve.accuracy, ".-", color="tab:blue", label="evaluated images")
                    if ev.judgement.accepted is not None:
                        a = ev.judgement.accepted
                        axes.plot([a.coverage], [a.accuracy], "o", color="tab:red", label="saved threshold")
                if self._validation is not None:
                    curve = self._validation.curve()
                    axes.plot(curve.coverage, curve.accuracy, ".--", color="tab:green", label="validation images")
                axes.axhline(ev.baseline.accuracy, color="0.55", linewidth=1, linestyle=":",
                             label="majority baseline")
                axes.set_xlim(0, 1.02)
                axes.set_ylim(0, 1.02)
                axes.set_xlabel("Share of photos accepted")
                axes.set_ylabel("Accuracy on them")
                axes.tick_params(labelsize=self.canvas.tick_points())
                figure.legend(loc="outside lower center", fontsize="small", frameon=False)
        self.canvas.draw_idle()

    # --- saving -------------------------------------------------------------------------------

    def chosen_costs(self) -> Costs | None:
        """The table's costs, None when every error costs the same."""
        costs = Costs(tuple(self._classes()), self.cost_matrix())
        return None if costs.is_default() else costs

    @Slot()
    def save_with_run(self) -> None:
        """Save the threshold (or target) and the costs with the run, and judge again (a job)."""
        ev = self._evaluation
        if ev is None:
            return
        key = self.mode.currentData()
        rule = ({"target_accuracy": self.target.value() / 100} if key == "target" else
                {"threshold": self.threshold.value() / 100} if key == "threshold" else {"threshold": None})
        self.message.clear()
        self.summary.setText("Saving with the run…")
        self.runner.start(decide_and_rejudge, ev, costs=self.chosen_costs(), **rule)

    @Slot(object)
    def _on_saved(self, evaluation: Evaluation) -> None:
        self.sig_status.emit(f"Decisions saved in {Path(evaluation.run_dir) / 'decisions.json'}")
        self.sig_judged.emit(evaluation)

    @Slot(str)
    def _on_failed(self, message: str) -> None:
        self.message.setText(f"Not saved: {message}")
        if self._evaluation is not None:
            self.summary.setText(self._summary_text(self._evaluation))

    def _update_buttons(self, *_args) -> None:
        has = self._evaluation is not None
        running = self.runner.is_running()
        for button in (self.load_button, self.save_costs_button, self.reset_button):
            button.setEnabled(has)
        self.save_button.setEnabled(has and not running)

    # --- cost files ---------------------------------------------------------------------------

    def load_costs(self, path: str | Path) -> bool:
        """Fill the table from a cost JSON file (in the model's class order); False, with the
        reason shown, when it cannot be used."""
        try:
            costs = read_costs(path, self._classes())
        except CostsError as exc:
            self.message.setText(str(exc))
            return False
        self._fill_costs(self._classes(), costs.matrix)
        self.message.clear()
        return True

    def save_costs(self, path: str | Path) -> bool:
        """Write the table as a cost JSON file; False, with the reason shown, when it cannot be."""
        try:
            atomic_write_json(Path(path), Costs(tuple(self._classes()), self.cost_matrix()).to_json())
        except OSError as exc:
            self.message.setText(f"{path}: not written ({exc.strerror or exc})")
            return False
        self.sig_status.emit(f"Costs written to {path}")
        return True

    @Slot()
    def _on_load_clicked(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Load error costs", "", "Cost matrix (*.json)")
        if path:
            self.load_costs(path)

    @Slot()
    def _on_save_costs_clicked(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Save error costs", "costs.json", "Cost matrix (*.json)")
        if path:
            self.save_costs(path)

    @Slot()
    def _on_reset_clicked(self) -> None:
        self._fill_costs(self._classes(), Costs.default(self._classes()).matrix)


def _percent_spin(name: str, value: float, tip: str) -> QDoubleSpinBox:
    """A control for the share ``name``, shown in percent within its declared limits."""
    spec = declaration(DecisionLimits, name)
    spin = QDoubleSpinBox()
    spin.setRange(100.0 * spec.low, 100.0 * spec.high)
    spin.setDecimals(1)
    spin.setSingleStep(0.5)
    spin.setSuffix(" %")
    spin.setValue(value)
    spin.setToolTip(tip)
    return spin
