"""The window appears without TensorFlow (or scipy, scikit-learn, cleanlab...): nothing in the Dataset tab
needs them, and they cost start-up time."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

SCRIPT = r"""
import json, sys, time
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QApplication
app = QApplication([])
from filterscope.app import create_window
settings = QSettings(sys.argv[1], QSettings.Format.IniFormat)
settings.setValue("dataset/last", sys.argv[2])
window = create_window(settings)
window.show()
deadline = time.monotonic() + 60
while window.state.dataset is None and time.monotonic() < deadline:
    app.processEvents()
    time.sleep(0.005)
heavy = [m for m in ("tensorflow", "keras", "sklearn", "imgaug", "scipy", "cleanlab", "imagehash", "pandas", "onnx", "onnxruntime")
         if m in sys.modules]
print(json.dumps({"opened": window.state.dataset is not None, "heavy": heavy}))
window.close()
"""


def run_app(tmp_path: Path, source: str) -> dict:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", FILTERSCOPE_DATA_DIR=str(tmp_path / "data"))
    out = subprocess.run([sys.executable, "-c", SCRIPT, str(tmp_path / "s.ini"), source],
                         capture_output=True, text=True, env=env, timeout=120, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_window_and_default_dataset_without_tensorflow(tmp_path: Path) -> None:
    result = run_app(tmp_path, "builtin:mnist")
    assert result == {"opened": True, "heavy": []}


def test_folder_dataset_without_tensorflow(tmp_path: Path) -> None:
    folder = tmp_path / "ds" / "a"
    folder.mkdir(parents=True)
    (folder / "x.txt").write_text("not an image")
    result = run_app(tmp_path, f"folder:{folder.parent}")
    assert result == {"opened": True, "heavy": []}
