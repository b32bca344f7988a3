"""The Results tab's "Map" page: the evaluated photos on the map of the data, coloured by right or
wrong; a lasso selection goes to the gallery, or to the run's review list ("Label looks wrong")."""

from __future__ import annotations

from PySide6.QtCore import Slot
from PySide6.QtWidgets import QPushButton, QWidget

from filterscope.core.quality.embedding import DataMap
from filterscope.core.results.evaluate import Evaluation
from filterscope.core.results.evaluation_map import evaluation_points
from filterscope.core.results.review import ReviewEntry, ReviewError, mark_for_review
from filterscope.ui.widgets.data_map_panel import DataMapPanel
from filterscope.ui.widgets.eval_images import EvalImagesWidget


class EvaluationMapWidget(DataMapPanel):
    """The map of an evaluation's photos, linked to the Results tab's gallery."""

    empty_text = "Evaluate a run first"

    def __init__(self, images: EvalImagesWidget, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._images = images
        self.gallery_button = QPushButton("Show in gallery")
        self.review_button = QPushButton("Label looks wrong")
        self.review_button.setToolTip("Add the lassoed photos to the run's review list (the dataset is not changed)")
        for button in (self.gallery_button, self.review_button):
            self.bar.insertWidget(2, button)
            button.setEnabled(False)
        self.gallery_button.clicked.connect(self._on_gallery_clicked)
        self.review_button.clicked.connect(self._on_review_clicked)
        self.view.sig_selected.connect(self._on_selected)

    def set_evaluation(self, evaluation: Evaluation | None) -> None:
        """The evaluation to map (None: none); clears the map shown."""
        self.set_source(evaluation)

    def image_source(self) -> object:
        """The evaluated set's dataset (a built-in's keys name its in-memory images)."""
        return self._source.eval_set.get("source") if isinstance(self._source, Evaluation) else None

    def start_job(self, source: object) -> None:
        self.runner.start(evaluation_points, source)

    def set_map(self, data_map: DataMap | None) -> None:
        super().set_map(data_map)
        if data_map is not None and data_map.predicted is not None:
            self.colour_combo.setCurrentIndex(2)  # right / wrong
        if hasattr(self, "review_button"):  # not while DataMapPanel.__init__ clears the map
            self._on_selected(self.view.selected())

    @Slot(object)
    def _on_selected(self, rows) -> None:
        for button in (self.gallery_button, self.review_button):
            button.setEnabled(len(rows) > 0)

    def selected_rows(self) -> list[int]:
        """The evaluation rows of the lassoed points."""
        data_map = self.view.data_map()
        if data_map is None or data_map.eval_rows is None:
            return []
        return [int(data_map.eval_rows[i]) for i in self.view.selected()]

    @Slot()
    def _on_gallery_clicked(self) -> None:
        evaluation, rows = self._source, self.selected_rows()
        if isinstance(evaluation, Evaluation) and rows:
            self._images.gallery.set_rows(evaluation, rows)
            self._images.title.setText(f"{len(rows):,} photos lassoed on the map")

    @Slot()
    def _on_review_clicked(self) -> None:
        ev, rows = self._source, self.selected_rows()
        if not isinstance(ev, Evaluation) or not rows:
            return
        try:
            for row in rows:
                mark_for_review(ev.run_dir, ReviewEntry(
                    ev.rows.paths[row], ev.classes[ev.rows.true[row]], ev.classes[ev.rows.predicted[row]],
                    float(ev.rows.confidence[row]), ev.name))
        except (ReviewError, OSError) as exc:
            self.status.setText(f"Not saved: {exc}")
            return
        self.status.setText(f"{len(rows):,} photos added to the run's review list")
