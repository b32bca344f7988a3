"""Exports (core/export): every template, the pretrained bases with random weights and a masked
run round-trip through ONNX (TFLite and SavedModel for a few), checked here independently of the
export's own verification: the test prepares the run's validation images with the feed, predicts
them with the Keras model and with the export in its runtime, and compares. A verification that
fails, or a cancel, writes nothing."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from filterscope.core.base.jobs import Cancelled, NullReport
from filterscope.core.export.export import ExportError, export_model
from filterscope.core.export.manifest import (FORMAT, ONNX_METADATA_KEY, VERSION, ExportManifest, ManifestError,
                                              sidecar_path)
from filterscope.core.export.onnx_session import LEVELS
from filterscope.core.export.runtimes import open_runtime
from filterscope.core.results.eval_sets import open_eval_set
from filterscope.core.results.feed import masker_for
from filterscope.core.training.model_input import prepare_for_model
from filterscope.core.training.model_spec import templates
from filterscope.core.training.saved_model import open_model

from tests.results_runs import train_run

JOB = {"report": NullReport(), "cancel": threading.Event()}
TOLERANCE = 1e-4


@pytest.fixture(scope="module")
def template_runs(results_photos: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """One run per model template, trained one epoch at 32 x 32."""
    out = tmp_path_factory.mktemp("export-runs")
    return {name: train_run(results_photos, out, name=name, model=name, image_size=(32, 32))
            for name in templates()}


def _base_run(results_photos: Path, out: Path, base: str) -> Path:
    from filterscope.core.training.base_spec import base_templates
    from filterscope.core.training.data_spec import DataSpec
    from filterscope.core.training.runs import RunSpec
    from filterscope.core.transfer.run import train_run as train_on_base

    spec = base_templates()[base]
    spec = replace(spec, base=replace(spec.base, weights="random"))
    run = RunSpec(DataSpec(f"folder:{results_photos}", image_size=(32, 32)), spec, epochs=1, batch_size=8,
                  name=base)
    return spread_answers(train_on_base(run, out, **JOB).run_dir)


def spread_answers(run_dir: Path) -> Path:
    """Rescale the run's output Dense so its answers differ by image (logits' spread about 2).

    Random bases barely pass the image through (MobileNetV2's pooled features are ~1e-11), so
    the softmax is 0.5 for every image and a broken conversion could not be told from a good
    one; the tiny features still depend on the image, and scaled up they decide the answer."""
    import warnings

    import keras

    model = keras.saving.load_model(run_dir / "best.keras", compile=False)
    dense = next(layer for layer in reversed(model.layers) if layer.weights)
    x, _ = _validation_inputs(run_dir)
    features = np.asarray(keras.Model(model.inputs, dense.input).predict_on_batch(x), np.float64)
    kernel, bias = dense.get_weights()
    logits = features @ kernel
    scale = 2.0 / max(float(logits.std(axis=0).max()), 1e-30)
    dense.set_weights([(kernel * scale).astype(np.float32), (-(logits * scale).mean(axis=0)).astype(np.float32)])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        model.save(run_dir / "best.keras")
    return run_dir


def _validation_inputs(run_dir: Path) -> tuple[np.ndarray, np.ndarray]:
    """(model inputs, Keras probabilities) of the run's validation images, prepared here."""
    opened = open_model(run_dir, **JOB)
    val = open_eval_set(opened, None, "val", **JOB)
    masker = masker_for(opened.rule, val.images)
    x = opened.rule.to_model(np.stack([prepare_for_model(val.images.load(i), opened.rule, masker)
                                       for i in range(len(val.images))]))
    return x, np.asarray(opened.model.predict_on_batch(x), np.float32)


def _round_trip(run_dir: Path, model_format: str, out: Path) -> ExportManifest:
    """Export, then check the written export in its runtime against Keras on the validation images."""
    result = export_model(run_dir, model_format, out, **JOB)
    assert result.path == out.absolute() and out.exists() and sidecar_path(out).is_file()
    manifest = ExportManifest.read(out)
    assert manifest == result.manifest
    x, expected = _validation_inputs(run_dir)
    got = open_runtime(model_format, out).predict(x)
    assert got.shape == expected.shape
    assert np.array_equal(got.argmax(axis=1), expected.argmax(axis=1))
    assert np.max(np.abs(got - expected)) <= TOLERANCE
    check = manifest.verification
    assert check.n_images == len(x) == 6 and check.classes_identical and check.max_abs_diff <= TOLERANCE
    assert "validation images" in check.images
    assert [p.name for p in out.parent.iterdir() if p.name.startswith(".")] == []  # no temp folder left
    return manifest


@pytest.mark.parametrize("template", list(templates()))
def test_every_template_round_trips_through_onnx(template_runs, template, tmp_path) -> None:
    manifest = _round_trip(template_runs[template], "onnx", tmp_path / f"{template}.onnx")
    assert manifest.classes == ["cat", "dog"] and manifest.input["size"] == [32, 32]
    assert manifest.input_name == "image" and manifest.output_name == "probabilities"
    assert manifest.verification.runtime == "onnxruntime"
    _check_measured_level(manifest)


def _check_measured_level(manifest: ExportManifest) -> None:
    """The export timed both graph optimisations and recorded the faster."""
    timed = manifest.onnxruntime["cpu_ms_per_image"]
    assert set(timed) == set(LEVELS) and all(ms > 0 for ms in timed.values())
    assert manifest.onnxruntime["graph_optimization"] == min(timed, key=timed.get)


@pytest.mark.parametrize("template", ["logistic", "convnet-batchnorm"])
@pytest.mark.parametrize("model_format", ["tflite", "savedmodel"])
def test_tflite_and_savedmodel_round_trip(template_runs, template, model_format, tmp_path) -> None:
    suffix = ".tflite" if model_format == "tflite" else ""
    manifest = _round_trip(template_runs[template], model_format, tmp_path / f"{template}{suffix}")
    assert manifest.model_format == model_format and manifest.onnxruntime is None
    assert manifest.verification.runtime in (("tflite", "ai-edge-litert") if model_format == "tflite"
                                             else ("tensorflow",))


@pytest.mark.parametrize("base", ["vgg16", "mobilenetv2", "efficientnet-lite0"])
def test_pretrained_bases_with_random_weights_round_trip(results_photos, tmp_path, base) -> None:
    run_dir = _base_run(results_photos, tmp_path / "runs", base)
    probabilities = _validation_inputs(run_dir)[1]
    assert np.ptp(probabilities[:, 0]) > 0.2  # answers that depend on the image: the check can fail
    manifest = _round_trip(run_dir, "onnx", tmp_path / f"{base}.onnx")
    _check_measured_level(manifest)
    assert manifest.input["preprocessing"] == {"vgg16": "caffe", "mobilenetv2": "tf"}.get(base, "lite")


@pytest.mark.parametrize("model_format", ["onnx", "tflite"])
def test_a_masked_run_carries_its_mask_and_calibration(results_conv_run, tmp_path, model_format) -> None:
    from filterscope.core.results.policy import load_policy

    out = tmp_path / f"masked.{model_format}"
    manifest = _round_trip(results_conv_run, model_format, out)
    assert manifest.input["mask"] is not None and manifest.input["mask"]["output"] == "black"
    assert manifest.temperature == pytest.approx(load_policy(results_conv_run).temperature("best"))
    assert manifest.temperature != 1.0  # the fixture's run is calibrated: the value is carried
    assert manifest.run["which"] == "best" and manifest.run["dir"] == str(results_conv_run)
    if model_format == "onnx":
        import onnx

        props = {p.key: p.value for p in onnx.load(str(out)).metadata_props}
        assert json.loads(props[ONNX_METADATA_KEY]) == json.loads(sidecar_path(out).read_text())


def test_a_failing_verification_writes_nothing(template_runs, tmp_path, monkeypatch) -> None:
    import onnxruntime

    real = onnxruntime.InferenceSession.run
    monkeypatch.setattr(onnxruntime.InferenceSession, "run",
                        lambda self, *a, **k: [real(self, *a, **k)[0] + 1e-3])
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(ExportError, match="verification failed.*nothing was written"):
        export_model(template_runs["logistic"], "onnx", out / "m.onnx", **JOB)
    assert list(out.iterdir()) == []


def test_a_cancelled_export_writes_nothing_and_keeps_an_old_one(template_runs, tmp_path) -> None:
    out = tmp_path / "m.tflite"
    export_model(template_runs["logistic"], "tflite", out, **JOB)
    before = out.read_bytes(), sidecar_path(out).read_bytes()
    cancel = threading.Event()

    class CancelWhileVerifying(NullReport):
        def progress(self, fraction: float, message: str = "") -> None:
            if message.startswith("Verifying"):
                cancel.set()

    with pytest.raises(Cancelled):
        export_model(template_runs["convnet-l2"], "tflite", out, overwrite=True, report=CancelWhileVerifying(),
                     cancel=cancel)
    assert (out.read_bytes(), sidecar_path(out).read_bytes()) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.tflite", "m.tflite.filterscope.json"]


def test_an_existing_export_is_refused_without_overwrite_and_replaced_with(template_runs, tmp_path) -> None:
    out = tmp_path / "sm"
    export_model(template_runs["logistic"], "savedmodel", out, **JOB)
    with pytest.raises(ExportError, match="exists"):
        export_model(template_runs["logistic"], "savedmodel", out, **JOB)
    result = export_model(template_runs["chapter-convnet"], "savedmodel", out, overwrite=True, **JOB)
    assert result.manifest.run["id"] == template_runs["chapter-convnet"].name
    assert ExportManifest.read(out).run["id"] == template_runs["chapter-convnet"].name
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sm", "sm.filterscope.json"]


def test_the_manifest_reads_back_and_refuses_what_it_cannot_read(template_runs, tmp_path) -> None:
    out = tmp_path / "m.onnx"
    manifest = export_model(template_runs["logistic"], "onnx", out, **JOB).manifest
    data = json.loads(sidecar_path(out).read_text())
    assert data["format"] == FORMAT and data["version"] == VERSION and data["model_format"] == "onnx"
    assert set(data["verification"]) >= {"n_images", "max_abs_diff", "classes_identical", "runtime",
                                          "runtime_version"}
    assert len(data["model_sha256"]) == 64 and data["run"]["epoch"] == 1
    assert ExportManifest.from_json(data) == manifest
    for bad, why in (({**data, "version": 2}, "version 2"), ({**data, "format": "x"}, "not a Filterscope"),
                     ({k: v for k, v in data.items() if k != "classes"}, "classes")):
        with pytest.raises(ManifestError, match=why):
            ExportManifest.from_json(bad)


def test_the_manifest_module_imports_no_tensorflow_keras_or_qt() -> None:
    code = ("import sys, filterscope.core.export.manifest; "
            "print(sorted(m for m in ('tensorflow', 'keras', 'PySide6', 'cv2') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
