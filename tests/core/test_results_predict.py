"""Predicting new images: safe loading (Lambda and custom layers refused, never run), bare model
files, the CSV (broken images as rows with the reason), cancel, and where a CSV may not go."""

from __future__ import annotations

import csv
import threading
import warnings
from pathlib import Path

import numpy as np
import pytest
from filterscope.core.base.jobs import Cancelled, NullReport, RecordingReport
from filterscope.core.results.predict import predict
from filterscope.core.results.targets import PredictError, list_images
from filterscope.core.training import saved_model as model_source
from filterscope.core.training.saved_model import ModelLoadError, open_model

from tests.corpus import tree_digest
from tests.split_tree import damage_bodies, make_split_tree


def _predict(model, target, **kwargs):
    return predict(model, target, report=NullReport(), cancel=threading.Event(), **kwargs)


def _save(model, path: Path) -> Path:
    with warnings.catch_warnings():  # Keras 3 + NumPy 2's "__array__ ... copy keyword": harmless
        warnings.simplefilter("ignore", DeprecationWarning)
        model.save(path)
    return path


def _bare_model(path: Path, n_classes: int = 3) -> Path:
    import keras

    model = keras.Sequential([keras.Input((10, 12, 3)), keras.layers.Flatten(),
                              keras.layers.Dense(n_classes, activation="softmax")])
    return _save(model, path)


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """Images in class folders and a nested folder, a damaged PNG, a note and a hidden file."""
    root = tmp_path / "new photos"
    make_split_tree(root, {"cat": {"a": 2}, "more": {"b": 2}}, png_only=True)
    damage_bodies(root / "more" / "b")
    (root / "more" / "b" / "ok.jpg").write_bytes((root / "cat" / "a" / "a 00.png").read_bytes())
    (root / "notes.txt").write_text("not an image")
    (root / ".hidden.png").write_bytes(b"")
    return root


def test_a_model_with_a_lambda_layer_is_refused_and_never_run(tmp_path: Path, monkeypatch) -> None:
    import keras

    marker = tmp_path / "lambda ran"
    path = str(marker)

    def side_effect(t):
        open(path, "w").close()  # what loading would do if it ran the layer's code
        return t * 2

    inputs = keras.Input((10, 12, 3))
    outputs = keras.layers.Dense(2, activation="softmax")(
        keras.layers.Flatten()(keras.layers.Lambda(lambda t: side_effect(t))(inputs)))
    model_file = _save(keras.Model(inputs, outputs), tmp_path / "lambda.keras")
    marker.unlink()  # building the model ran it once, on purpose
    make_split_tree(tmp_path / "img", {"s": {"c": 1}}, png_only=True)
    image = next((tmp_path / "img").rglob("*.png"))
    with pytest.raises(ModelLoadError, match="refused: the model contains a Lambda layer, a Python "
                                             "lambda function, a Python function 'side_effect'. "
                                             "Such parts store Python code"):
        _predict(model_file, image)
    assert not marker.exists()
    monkeypatch.setattr(model_source, "refuse_unsafe", lambda path: None)  # Keras's safe mode alone
    with pytest.raises(ModelLoadError, match="refused: the model contains code stored in the file"):
        _predict(model_file, image)
    assert not marker.exists()


def test_a_model_with_a_custom_layer_is_refused(tmp_path: Path) -> None:
    import keras

    @keras.saving.register_keras_serializable(package="tests")
    class Doubler(keras.layers.Layer):
        def call(self, t):
            return t * 2

    inputs = keras.Input((10, 12, 3))
    outputs = keras.layers.Dense(2)(keras.layers.Flatten()(Doubler()(inputs)))
    model_file = _save(keras.Model(inputs, outputs), tmp_path / "custom.keras")
    with pytest.raises(ModelLoadError, match="a custom layer or function 'tests>Doubler'"):
        open_model(model_file, report=NullReport(), cancel=threading.Event())


def test_a_bare_model_file_names_its_classes_by_number_or_by_its_classes_file(tmp_path, folder) -> None:
    model_file = _bare_model(tmp_path / "model.keras")
    opened = open_model(model_file, report=NullReport(), cancel=threading.Event())
    assert opened.classes == ["0", "1", "2"] and opened.rule.size == (10, 12) and opened.run is None
    assert "classes are named 0 to 2" in opened.notes[1]
    (tmp_path / "model.classes.txt").write_text("minor\nmoderate\nsevere\n")
    result = _predict(model_file, folder, top_k=5)
    assert result.classes == ["minor", "moderate", "severe"] and result.top_k == 3
    (tmp_path / "model.classes.txt").write_text("minor\nsevere\n")
    with pytest.raises(ModelLoadError, match="names 2 classes, the model has 3 outputs"):
        _predict(model_file, folder)


def test_a_folder_is_predicted_recursively_and_broken_files_are_rows(tmp_path, folder) -> None:
    before = tree_digest(folder)
    model_file = _bare_model(tmp_path / "model.keras")
    out = tmp_path / "out" / "preds.csv"
    report = RecordingReport()
    result = predict(model_file, folder, out=out, top_k=2, report=report, cancel=threading.Event(),
                     batch_size=2)
    names = [p.relative_to(folder).as_posix() for p in result.paths]
    assert names == ["cat/a/a 00.png", "cat/a/a 01.png", "more/b/b 00.png", "more/b/b 01.png",
                     "more/b/ok.jpg"]
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert list(rows[0]) == ["path", "predicted", "confidence", "calibrated_confidence", "decision",
                             "class_1", "probability_1", "class_2", "probability_2", "error",
                             "run_id", "model_sha256"]
    assert [r["path"] for r in rows] == [str(p) for p in result.paths]
    broken = [r for r in rows if r["error"]]
    assert [Path(r["path"]).name for r in broken] == ["b 00.png", "b 01.png"]
    assert all(r["predicted"] == "" and "corrupt PNG" in r["error"] for r in broken)
    for row in (r for r in rows if not r["error"]):
        assert row["predicted"] == row["class_1"] and row["confidence"] == row["probability_1"]
        assert row["calibrated_confidence"] == row["confidence"]  # a bare model file: not calibrated
        assert row["decision"] == row["predicted"]
        assert float(row["probability_1"]) >= float(row["probability_2"])
    assert sum(result.counts().values()) == 3
    assert [p["done"] for p in report.partials] == [2, 4, 5]
    assert sum(len(p["rows"]) for p in report.partials) == 5
    assert tree_digest(folder) == before


def test_cancel_leaves_no_csv_and_an_earlier_one_as_it_was(tmp_path, folder) -> None:
    model_file = _bare_model(tmp_path / "model.keras")
    cancel = threading.Event()

    class CancelAfterFirstBatch(RecordingReport):
        def partial(self, payload) -> None:
            cancel.set()

    out = tmp_path / "preds.csv"
    with pytest.raises(Cancelled):
        predict(model_file, folder, out=out, report=CancelAfterFirstBatch(), cancel=cancel, batch_size=2)
    assert not out.exists() and list(tmp_path.glob(".fs-*")) == []
    out.write_text("earlier\n")
    cancel.clear()
    with pytest.raises(Cancelled):
        predict(model_file, folder, out=out, report=CancelAfterFirstBatch(), cancel=cancel, batch_size=2,
                overwrite=True)
    assert out.read_text() == "earlier\n" and not out.with_name("preds.csv.json").exists()


def test_where_a_csv_may_not_go_and_what_cannot_be_predicted(tmp_path, folder) -> None:
    model_file = _bare_model(tmp_path / "model.keras")
    with pytest.raises(PredictError, match="refusing to write inside the dataset folder"):
        _predict(model_file, folder, out=folder / "more" / "preds.csv")
    with pytest.raises(PredictError, match="is a folder"):
        _predict(model_file, folder, out=tmp_path)
    (tmp_path / "empty" / "sub").mkdir(parents=True)
    with pytest.raises(PredictError, match="no image files in it or its sub-folders"):
        _predict(model_file, tmp_path / "empty")
    with pytest.raises(PredictError, match="no such image or folder"):
        _predict(model_file, tmp_path / "nowhere")
    with pytest.raises(PredictError, match="top-k: must be at least 1"):
        _predict(model_file, folder, top_k=0)
    with pytest.raises(ModelLoadError, match="no such run folder or model file"):
        _predict(tmp_path / "missing.keras", folder)


def test_a_run_predicts_with_its_classes_and_notes_folders_of_other_classes(results_run, tmp_path) -> None:
    photos = tmp_path / "mixed"
    make_split_tree(photos, {"x": {"cat": 2, "owl": 2}})
    result = _predict(results_run / "last.keras", photos / "x")
    assert result.classes == ["cat", "dog"] and len(result.paths) == 4 and not result.errors
    assert result.model == f"last.keras of run {results_run.name} (epoch 1 of 1)"
    assert result.notes == ["folder(s) 'owl' are not classes of the model: it answers one of its own "
                            "2 classes for their images"]
    one = _predict(results_run, photos / "x" / "owl" / "owl 00.png")
    assert len(one.paths) == 1 and [c for c, _ in one.top(0)] in (["cat", "dog"], ["dog", "cat"])
    assert np.isclose(sum(p for _, p in one.top(0)), 1.0, atol=1e-5)


def test_list_images_passes_over_symlinked_folders(tmp_path: Path) -> None:
    make_split_tree(tmp_path / "d", {"s": {"c": 1}}, png_only=True)
    (tmp_path / "d" / "s" / "loop").symlink_to(tmp_path / "d", target_is_directory=True)
    assert [p.name for p in list_images(tmp_path / "d")] == ["c 00.png"]
