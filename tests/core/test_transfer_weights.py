"""Weight sources, offline first: Keras's cache, a file the user picks (checked, remembered), the
offline refusal, random weights, files that do not fit, and a download only when asked (from a
local server)."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest
from filterscope.core.base.jobs import Cancelled, NullReport, RecordingReport
from filterscope.core.training.base_spec import BaseSpec
from filterscope.core.transfer.models import load_base
from filterscope.core.transfer import weights as weights_module
from filterscope.core.transfer.weights import (
    WeightsError,
    WeightsUnavailable,
    bundled_weights_dir,
    download_weights,
    find_weights,
    imagenet_missing,
    keras_models_dir,
    remember,
    standard_files,
)

from tests.transfer_data import base_weights_file

VGG_NOTOP = "vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5"
MOBILE_NOTOP = "mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_224_no_top.h5"


def _same_weights(a, b, layer: str) -> None:
    np.testing.assert_array_equal(np.asarray(a.get_layer(layer).weights[0]),
                                  np.asarray(b.get_layer(layer).weights[0]))


def test_offline_without_the_file_is_one_plain_message(data_dir: Path) -> None:
    with pytest.raises(WeightsUnavailable) as caught:
        load_base(BaseSpec("vgg16"), (64, 64, 3))
    message = str(caught.value)
    assert VGG_NOTOP in message and str(keras_models_dir()) in message
    assert "never downloads unless asked" in message and "random weights" in message
    assert "\n" not in message
    with pytest.raises(WeightsUnavailable, match=MOBILE_NOTOP):
        find_weights("mobilenetv2", "imagenet", size=150)  # no 150 px file: Keras takes 224's


def test_whether_imagenet_weights_are_here_is_said_without_converting_anything(data_dir: Path) -> None:
    """The Train tab asks on the GUI thread: files are looked for, a package's weights are
    found but not converted (the run converts them in its worker)."""
    from filterscope.core.transfer.package_weights import converted_dir

    assert VGG_NOTOP in imagenet_missing("vgg16") and "\n" not in imagenet_missing("vgg16")
    assert imagenet_missing("efficientnet-lite0") is None
    assert not converted_dir().exists()
    base_weights_file("vgg16", keras_models_dir() / VGG_NOTOP)
    assert imagenet_missing("vgg16") is None


def test_random_weights_are_labelled_so() -> None:
    base = load_base(BaseSpec("mobilenetv2", "random"), (32, 32, 3))
    assert base.source.to_json() == {"choice": "random", "origin": "random", "label": "random weights",
                                     "file": None}
    assert not base.model.trainable_weights  # frozen


def test_imagenet_weights_are_found_in_keras_cache(data_dir: Path) -> None:
    file, source = base_weights_file("vgg16", keras_models_dir() / VGG_NOTOP, side=32)
    base = load_base(BaseSpec("vgg16"), (48, 48, 3))  # any size: convolutions do not depend on it
    assert base.source.origin == "keras-cache" and base.source.file == file
    assert base.source.label == "ImageNet" and base.source.to_json()["size"] == file.stat().st_size
    _same_weights(base.model, source, "block5_conv3")


def test_weights_shipped_with_the_app_come_after_keras_cache_before_a_picked_file(
        data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert bundled_weights_dir().parts[-2:] == ("resources", "weights")  # the package's resources
    shipped = tmp_path / "app" / "filterscope" / "resources" / "weights"
    monkeypatch.setattr(weights_module, "bundled_weights_dir", lambda: shipped)
    picked, _ = base_weights_file("vgg16", tmp_path / "picked" / "mine.h5", side=32)
    remember("vgg16", picked)
    assert find_weights("vgg16", "imagenet").origin == "picked"
    bundled, source = base_weights_file("vgg16", shipped / VGG_NOTOP, side=32)
    found = find_weights("vgg16", "imagenet")
    assert (found.origin, found.file, found.label) == ("bundled", bundled, "ImageNet")
    base = load_base(BaseSpec("vgg16"), (40, 40, 3))
    assert base.source.origin == "bundled"
    _same_weights(base.model, source, "block1_conv1")
    cached, _ = base_weights_file("vgg16", keras_models_dir() / VGG_NOTOP, side=32)
    assert find_weights("vgg16", "imagenet").file == cached  # the user's own cache first


def test_mobilenet_takes_its_own_sizes_file_first(data_dir: Path) -> None:
    assert standard_files("mobilenetv2", size=160)[0].endswith("_1.0_160_no_top.h5")
    file, _ = base_weights_file("mobilenetv2", keras_models_dir() / MOBILE_NOTOP)
    assert find_weights("mobilenetv2", "imagenet", size=160).file == file  # the 224 file fits too


def test_a_picked_file_is_checked_loaded_and_remembered(data_dir: Path, tmp_path: Path) -> None:
    file, source = base_weights_file("mobilenetv2", tmp_path / "downloads" / "my weights.h5")
    base = load_base(BaseSpec("mobilenetv2", str(file)), (40, 40, 3))
    assert base.source.origin == "given" and base.source.label == "weights from my weights.h5"
    _same_weights(base.model, source, "Conv_1")
    again = find_weights("mobilenetv2", "imagenet")  # the next run asking for ImageNet's finds it
    assert again.origin == "picked" and again.file == file.resolve()
    file.unlink()
    with pytest.raises(WeightsUnavailable, match="The file picked before, .* is gone"):
        find_weights("mobilenetv2", "imagenet")


def test_files_that_do_not_fit_are_named_with_the_reason(data_dir: Path, tmp_path: Path) -> None:
    mobile, _ = base_weights_file("mobilenetv2", tmp_path / "mobile.h5")
    top, _ = base_weights_file("mobilenetv2", tmp_path / "mobile-top.h5", top=True)
    cut = tmp_path / "cut.h5"
    cut.write_bytes(mobile.read_bytes()[: mobile.stat().st_size // 2])
    text = tmp_path / "notes.h5"
    text.write_text("not weights")
    cases = [(BaseSpec("vgg16", str(mobile)), "weights of another architecture: 104 layers"),
             (BaseSpec("mobilenetv2", str(top)), "with its ImageNet classifier (include_top=True)"),
             (BaseSpec("mobilenetv2", str(cut)), "truncated or damaged"),
             (BaseSpec("mobilenetv2", str(text)), "not a readable Keras weights file"),
             (BaseSpec("mobilenetv2", str(tmp_path / "missing.h5")), "missing.h5: no such weights file"),
             (BaseSpec("mobilenetv2", str(tmp_path)), "no such weights file")]
    for spec, reason in cases:
        with pytest.raises(WeightsError, match=reason.replace("(", r"\(").replace(")", r"\)")) as caught:
            load_base(spec, (32, 32, 3))
        assert str(Path(spec.weights).name) in str(caught.value)
    wrong_suffix = tmp_path / "weights.bin"
    wrong_suffix.write_bytes(mobile.read_bytes())
    with pytest.raises(WeightsError, match="give Keras's .h5 weights file"):
        load_base(BaseSpec("mobilenetv2", str(wrong_suffix)), (32, 32, 3))
    with pytest.raises(WeightsUnavailable):  # none of the misfits was remembered
        find_weights("mobilenetv2", "imagenet")


class _Files(BaseHTTPRequestHandler):
    routes: dict[str, bytes] = {}

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        body = self.routes.get(self.path)
        if body is None:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def server(tmp_path: Path):
    http = ThreadingHTTPServer(("127.0.0.1", 0), _Files)
    thread = threading.Thread(target=http.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{http.server_address[1]}"
    http.shutdown()
    http.server_close()


def test_a_download_only_when_asked_is_checked_before_it_is_kept(data_dir, tmp_path, server) -> None:
    good, source = base_weights_file("mobilenetv2", tmp_path / "good.h5")
    wrong, _ = base_weights_file("mobilenetv2", tmp_path / "top.h5", top=True)
    _Files.routes = {"/good.h5": good.read_bytes(), "/top.h5": wrong.read_bytes()}
    with pytest.raises(WeightsError, match="include_top=True"):
        download_weights("mobilenetv2", url=f"{server}/top.h5", report=NullReport(), cancel=threading.Event())
    assert not keras_models_dir().exists() or not list(keras_models_dir().iterdir())
    cancel = threading.Event()
    cancel.set()
    with pytest.raises(Cancelled):
        download_weights("mobilenetv2", url=f"{server}/good.h5", report=NullReport(), cancel=cancel)
    report = RecordingReport()
    got = download_weights("mobilenetv2", url=f"{server}/good.h5", report=report, cancel=threading.Event())
    assert got.file == keras_models_dir() / MOBILE_NOTOP and got.origin == "keras-cache"
    assert sorted(p.name for p in keras_models_dir().iterdir()) == [MOBILE_NOTOP]
    assert report.progress_calls[-1][0] == 1.0
    _same_weights(load_base(BaseSpec("mobilenetv2"), (32, 32, 3)).model, source, "Conv1")
