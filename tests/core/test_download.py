"""Downloads and archives against a local HTTP server: success, every failure, cancel, zip-slip."""

from __future__ import annotations

import io
import socket
import threading
import zipfile
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from filterscope.core.base.jobs import Cancelled, RecordingReport
from filterscope.core.data.builtin import fetch_plant_seedlings, plants_dir
from filterscope.core.data.download import DownloadError, download, extract_zip
from filterscope.core.data.mnist import fetch_mnist, keras_mnist_path, read_keras_mnist
from filterscope.core.data.synthetic_leaves import encode_png

TIMEOUT = 5


def _png(seed: int) -> bytes:
    return encode_png(np.random.default_rng(seed).integers(0, 255, (8, 8, 3), dtype=np.uint8))


def _zip(entries: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in entries.items():
            zf.writestr(name, data)
    return buffer.getvalue()


# The chapter's layout: train/<class>/ images, and test/ with unlabelled images.
PLANTS = {
    **{f"train/{cls}/{cls}_{i}.png": _png(10 * k + i)
       for k, cls in enumerate(("Charlock", "Maize", "Shepherds Purse")) for i in range(3)},
    "test/0001.png": _png(99),
    "test/0002.png": _png(98),
}
ROUTES: dict[str, bytes] = {
    "/plants.zip": _zip(PLANTS),
    "/broken.zip": b"PK\x03\x04 this is not really a zip archive" * 50,
    "/slip.zip": _zip({"train/a/ok.png": _png(1), "../../escaped.txt": b"gotcha"}),
    "/big.bin": bytes(2_000_000),
}


class _Handler(BaseHTTPRequestHandler):
    timeout = TIMEOUT

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        if self.path == "/short.bin":  # promise more than is sent, then hang up
            self.send_response(200)
            self.send_header("Content-Length", "100000")
            self.end_headers()
            self.wfile.write(bytes(1000))
            self.close_connection = True
            return
        body = ROUTES.get(self.path, self.server.extra.get(self.path))  # type: ignore[attr-defined]
        if body is None:
            self.send_error(404, "Not Found")
            return
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        """Keep the test output quiet."""


@pytest.fixture
def server() -> Iterator[tuple[str, dict[str, bytes]]]:
    """``(base URL, extra routes)`` of an HTTP server on 127.0.0.1, stopped after the test."""
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    httpd.daemon_threads = True
    httpd.extra = {}  # type: ignore[attr-defined]
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", httpd.extra  # type: ignore[attr-defined]
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(TIMEOUT)


@pytest.fixture
def dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("FILTERSCOPE_DATA_DIR", str(tmp_path / "app"))
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    return tmp_path


def _leftovers(folder: Path) -> list[str]:
    """Everything under ``folder`` (relative paths), to show that nothing was left behind."""
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*")) if folder.exists() \
        else []


def _files(folder: Path) -> list[str]:
    return [p for p in _leftovers(folder) if (folder / p).is_file()]


def test_download_writes_file_and_reports_progress(server, tmp_path: Path) -> None:
    base, _ = server
    report = RecordingReport()
    dest = download(f"{base}/big.bin", tmp_path / "big.bin", report=report,
                    cancel=threading.Event(), timeout=TIMEOUT)
    assert dest.read_bytes() == ROUTES["/big.bin"]
    assert _leftovers(tmp_path) == ["big.bin"]
    assert report.progress_calls[-1] == (1.0, "2.0 of 2.0 MB")
    fractions = [f for f, _ in report.progress_calls]
    assert fractions == sorted(fractions)


def test_fetch_plant_seedlings_extracts_and_removes_archive(server, dirs: Path) -> None:
    base, _ = server
    report = RecordingReport()
    root = fetch_plant_seedlings(report, threading.Event(), url=f"{base}/plants.zip")
    assert root == plants_dir() / "train"
    assert sorted(p.name for p in root.iterdir()) == ["Charlock", "Maize", "Shepherds Purse"]
    for name, data in PLANTS.items():
        assert (plants_dir() / name).read_bytes() == data
    assert not (dirs / "app" / "downloads" / "plants.zip").exists()
    assert _leftovers(dirs / "app" / "downloads") == []
    assert [p.name for p in plants_dir().parent.iterdir()] == ["plant-seedlings"]
    assert report.progress_calls[-1][0] == pytest.approx(1.0)
    assert any("MB" in message for _, message in report.progress_calls)


def test_broken_zip_is_refused_and_leaves_nothing(server, dirs: Path) -> None:
    base, _ = server
    with pytest.raises(DownloadError, match="not a valid zip archive"):
        fetch_plant_seedlings(RecordingReport(), threading.Event(), url=f"{base}/broken.zip")
    assert not plants_dir().exists()
    assert _files(dirs / "app") == []


def test_zip_slip_is_refused(server, dirs: Path) -> None:
    base, _ = server
    with pytest.raises(DownloadError, match="outside the destination"):
        fetch_plant_seedlings(RecordingReport(), threading.Event(), url=f"{base}/slip.zip")
    assert not plants_dir().exists()
    assert not list(dirs.rglob("escaped.txt"))


@pytest.mark.parametrize("name", ["/etc/evil", "C:/evil.txt", "a/../../evil", "..\\evil"])
def test_extract_refuses_absolute_and_climbing_members(tmp_path: Path, name: str) -> None:
    archive = tmp_path / "bad.zip"
    archive.write_bytes(_zip({"fine.txt": b"ok", name: b"evil"}))
    with pytest.raises(DownloadError, match="outside the destination"):
        extract_zip(archive, tmp_path / "out", report=RecordingReport(), cancel=threading.Event())
    assert _leftovers(tmp_path) == ["bad.zip"]


def test_extract_replaces_an_old_folder_atomically(tmp_path: Path) -> None:
    archive = tmp_path / "a.zip"
    archive.write_bytes(_zip({"c/new.png": _png(3)}))
    (tmp_path / "out" / "c").mkdir(parents=True)
    (tmp_path / "out" / "c" / "old.png").write_bytes(b"old")
    extract_zip(archive, tmp_path / "out", report=RecordingReport(), cancel=threading.Event())
    assert _leftovers(tmp_path) == ["a.zip", "out", "out/c", "out/c/new.png"]
    # the folder renamed into place has the mode a new folder gets, as its class folders do
    assert (tmp_path / "out").stat().st_mode == (tmp_path / "out" / "c").stat().st_mode


def test_interrupted_transfer_is_an_error_without_part_file(server, tmp_path: Path) -> None:
    base, _ = server
    with pytest.raises(DownloadError, match=r"stopped after 0\.0 of 0\.1 MB; try again"):
        download(f"{base}/short.bin", tmp_path / "short.bin", report=RecordingReport(),
                 cancel=threading.Event(), timeout=TIMEOUT)
    assert _leftovers(tmp_path) == []


def test_http_404_is_a_clear_error(server, tmp_path: Path) -> None:
    base, _ = server
    with pytest.raises(DownloadError, match="404") as caught:
        download(f"{base}/nope.zip", tmp_path / "nope.zip", report=RecordingReport(),
                 cancel=threading.Event(), timeout=TIMEOUT)
    assert "works offline" in str(caught.value) and "\n" not in str(caught.value)
    assert _leftovers(tmp_path) == []


def test_refused_connection_says_offline(tmp_path: Path) -> None:
    with socket.socket() as sock:  # a port that was free a moment ago: nobody listens there
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(DownloadError, match="offline") as caught:
        download(f"http://127.0.0.1:{port}/plants.zip", tmp_path / "p.zip",
                 report=RecordingReport(), cancel=threading.Event(), timeout=TIMEOUT)
    assert "built-in data" in str(caught.value) and "\n" not in str(caught.value)
    assert _leftovers(tmp_path) == []


def test_cancel_mid_download_leaves_nothing(server, tmp_path: Path) -> None:
    base, _ = server
    cancel = threading.Event()

    class CancelAfterFirstChunk(RecordingReport):
        def progress(self, fraction: float, message: str = "") -> None:
            super().progress(fraction, message)
            cancel.set()

    report = CancelAfterFirstChunk()
    with pytest.raises(Cancelled):
        download(f"{base}/big.bin", tmp_path / "big.bin", report=report, cancel=cancel,
                 timeout=TIMEOUT)
    assert 0 < report.progress_calls[0][0] < 1
    assert _leftovers(tmp_path) == []


def test_cancel_mid_extract_leaves_nothing(tmp_path: Path) -> None:
    archive = tmp_path / "a.zip"
    archive.write_bytes(_zip({f"c{i}/x.png": _png(i) for i in range(4)}))
    cancel = threading.Event()

    class CancelOnFirstReport(RecordingReport):
        def progress(self, fraction: float, message: str = "") -> None:
            cancel.set()

    with pytest.raises(Cancelled):
        extract_zip(archive, tmp_path / "out", report=CancelOnFirstReport(), cancel=cancel)
    assert _leftovers(tmp_path) == ["a.zip"]


def _npz(**arrays: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **arrays)
    return buffer.getvalue()


def test_fetch_mnist_rejects_wrong_shapes(server, dirs: Path) -> None:
    base, extra = server
    extra["/bad-mnist.npz"] = _npz(
        x_train=np.zeros((10, 28, 28), np.uint8), y_train=np.zeros(10, np.uint8),
        x_test=np.zeros((5, 28, 28), np.uint8), y_test=np.zeros(5, np.uint8))
    with pytest.raises(DownloadError, match=r"x_train has shape \(10, 28, 28\).*removed"):
        fetch_mnist(RecordingReport(), threading.Event(), url=f"{base}/bad-mnist.npz")
    assert _leftovers(keras_mnist_path().parent) == []


def test_fetch_mnist_keeps_a_good_file_where_keras_looks(server, dirs: Path) -> None:
    base, extra = server
    extra["/mnist.npz"] = _npz(
        x_train=np.zeros((60000, 28, 28), np.uint8), y_train=np.zeros(60000, np.uint8),
        x_test=np.zeros((10000, 28, 28), np.uint8), y_test=np.zeros(10000, np.uint8))
    path = fetch_mnist(RecordingReport(), threading.Event(), url=f"{base}/mnist.npz")
    assert path == dirs / "keras" / "datasets" / "mnist.npz"
    assert _leftovers(path.parent) == ["mnist.npz"]
    assert read_keras_mnist(path)["x_test"].shape == (10000, 28, 28)
