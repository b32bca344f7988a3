"""OpenCV's Qt 5 folders never reach the app's Qt 6: importing cv2 (the GUI build) points
QT_QPA_PLATFORM_PLUGIN_PATH and QT_QPA_FONTDIR inside its own package, and core/base/opencv.py
puts them back. Checked in a fresh interpreter, as the app starts, with every tab shown."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

SCRIPT = r"""
import json, os, sys, time
from filterscope.app import create_window  # imports every tab, and cv2, before Qt starts
from filterscope.workers import JobRunner
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QApplication
app = QApplication([])
window = create_window(QSettings(sys.argv[1], QSettings.Format.IniFormat))
window.show()

def settle(done):
    deadline = time.monotonic() + 120
    while not done() and time.monotonic() < deadline:
        app.processEvents()
        time.sleep(0.005)

idle = lambda: not any(r.is_running() for r in window.findChildren(JobRunner))
settle(lambda: window.state.dataset is not None and idle())
needs = {"Augment": "imgaug", "Train": "tensorflow", "Visualise": "tensorflow", "Live": "tensorflow"}  # a first show loads
for index in range(window.tabs.count()):
    window.tabs.setCurrentIndex(index)
    module = needs.get(window.tabs.tabText(index), "cv2")
    settle(lambda: module in sys.modules and idle())
import cv2
print(json.dumps({"env": {k: v for k, v in os.environ.items() if k.startswith("QT_")},
                  "cv2": os.path.dirname(os.path.realpath(cv2.__file__)),
                  "shown": [window.tabs.tabText(i) for i in range(window.tabs.count())],
                  "loaded": [m for m in ("cv2", "imgaug", "tensorflow") if m in sys.modules]}))
window.close()
"""


def test_qt_is_never_pointed_at_opencvs_folders(tmp_path: Path) -> None:
    fonts = tmp_path / "my fonts"  # a user's own setting must survive
    fonts.mkdir()
    env = {k: v for k, v in os.environ.items() if k != "QT_QPA_PLATFORM_PLUGIN_PATH"}
    env.update(QT_QPA_PLATFORM="offscreen", QT_QPA_FONTDIR=str(fonts),
               FILTERSCOPE_DATA_DIR=str(tmp_path / "data"))
    out = subprocess.run([sys.executable, "-c", SCRIPT, str(tmp_path / "s.ini")], capture_output=True,
                         text=True, env=env, timeout=300, check=True)
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["loaded"] == ["cv2", "imgaug", "tensorflow"], result  # every cv2 path was taken
    assert result["shown"] == ["Dataset", "Mask", "Augment", "Train", "Visualise", "Results", "Filters",
                               "Live"]
    assert "QT_QPA_PLATFORM_PLUGIN_PATH" not in result["env"]
    assert result["env"]["QT_QPA_FONTDIR"] == str(fonts)
    assert not [v for v in result["env"].values() if v.startswith(result["cv2"])], result["env"]
