"""Test environment: offscreen Qt, private Keras/matplotlib/app folders, no network, no leaks."""

from __future__ import annotations

import os
import shutil
import socket
import tempfile
from pathlib import Path

import pytest

# Before Qt, Keras or matplotlib load: nothing a test does may touch the user's folders or screen.
# (pytest's tmp_path_factory does not exist yet at import time; pytest_unconfigure removes it.)
_SANDBOX = Path(tempfile.mkdtemp(prefix="filterscope-tests-"))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ["KERAS_HOME"] = str(_SANDBOX / "keras")
os.environ["MPLCONFIGDIR"] = str(_SANDBOX / "mpl")
os.environ["FILTERSCOPE_DATA_DIR"] = str(_SANDBOX / "data")
os.environ["XDG_CONFIG_HOME"] = str(_SANDBOX / "config")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "plant-seedlings-150"


def pytest_unconfigure(config: pytest.Config) -> None:
    """The session's sandbox goes with the session (per-test folders are pytest's to prune)."""
    shutil.rmtree(_SANDBOX, ignore_errors=True)


@pytest.fixture(autouse=True)
def _no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any connection outside the loopback fails the test at once."""
    real_connect = socket.socket.connect

    def guarded(self: socket.socket, address):  # type: ignore[no-untyped-def]
        host = address[0] if isinstance(address, tuple) else address
        if isinstance(host, str) and not (host.startswith("127.") or host in ("localhost", "::1")):
            raise AssertionError(f"test tried to reach the network: {address}")
        return real_connect(self, address)

    monkeypatch.setattr(socket.socket, "connect", guarded)


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh FILTERSCOPE_DATA_DIR and KERAS_HOME for one test."""
    folder = tmp_path / "appdata"
    monkeypatch.setenv("FILTERSCOPE_DATA_DIR", str(folder))
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    return folder


@pytest.fixture
def shared_plants() -> Path:
    """The real Plant Seedlings sample from ../shared/data, or a skip where it is absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip("../shared/data/plant-seedlings-150 is not on this machine")
    return SHARED_DATA


@pytest.fixture(scope="session")
def mnist_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A run folder: the chapter's ConvNet trained for one epoch on 600 built-in MNIST digits
    (made once per session; see tests/visualize_models.py)."""
    from tests.visualize_models import train_mnist_run

    return train_mnist_run(tmp_path_factory.mktemp("runs"))


@pytest.fixture(scope="session")
def results_photos(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Generated photos split into train/ (8 + 8), val/ (3 + 3) and test/ (4 + 3) folders of
    'cat' and 'dog', shared by the results tests: never write into it."""
    from tests.results_runs import make_photos

    return make_photos(tmp_path_factory.mktemp("results") / "photos")


@pytest.fixture(scope="session")
def results_run(results_photos: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A run trained one epoch on ``results_photos`` (the logistic template, 12 x 16 images),
    shared by the results tests: copy it (``tests.results_runs.copy_run``) before changing it."""
    from tests.results_runs import calibrated, train_run

    return calibrated(train_run(results_photos, tmp_path_factory.mktemp("runs")))


@pytest.fixture(scope="session")
def results_conv_run(results_photos: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A run of the chapter's ConvNet trained one epoch on ``results_photos`` at 32 x 32, with a
    mask keeping reddish pixels (Grad-CAM needs a convolution; the mask makes the run's rule
    matter): copy it before changing it."""
    from filterscope.core.masking.colordist import MaskParams, Target

    from tests.results_runs import calibrated, train_run

    mask = MaskParams(targets=(Target((220, 80, 80), 20000.0),), median=3, output="alpha")
    return calibrated(train_run(results_photos, tmp_path_factory.mktemp("conv-runs"), name="conv",
                                model="chapter-convnet", image_size=(32, 32), mask=mask.to_json()))
