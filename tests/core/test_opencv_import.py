"""core/base/opencv.py: after cv2 is imported, Qt's variables are as they were (the app-level
check is tests/ui/test_qt_environment.py); here, what it does with values cv2 left earlier."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from filterscope.core.base import opencv


def test_qt_variables_are_put_back_and_values_inside_cv2_dropped(monkeypatch: pytest.MonkeyPatch,
                                                                 tmp_path: Path) -> None:
    cv2_folder = tmp_path / "site-packages" / "cv2"
    for name in [n for n in os.environ if n.startswith("QT_")]:
        monkeypatch.delenv(name)
    # As an earlier, plain `import cv2` (a plugin's, a test's) left them, and then cv2 changed more.
    before = {"QT_QPA_PLATFORM_PLUGIN_PATH": str(cv2_folder / "qt" / "plugins"),
              "QT_QPA_FONTDIR": str(cv2_folder / "qt" / ".." / "qt" / "fonts"),
              "QT_SCALE_FACTOR": "1.5"}
    monkeypatch.setenv("QT_SCALE_FACTOR", "1")
    monkeypatch.setenv("QT_NEW_FROM_CV2", "x")
    opencv._restore(before, cv2_folder)
    assert {n: v for n, v in os.environ.items() if n.startswith("QT_")} == {"QT_SCALE_FACTOR": "1.5"}
