"""The Results tab's "Export model…": the chosen run's model written and verified by a job (the
file dialog patched), and a failed verification shown with nothing written."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from filterscope.ui.tabs.results_tab import ResultsTab
from filterscope.ui.widgets import model_export

from tests.ui.screen import results_tab

WAIT_MS = 120_000


@pytest.fixture
def tab(qtbot, run: Path) -> ResultsTab:
    """The tab on ``run`` (conftest's copy of the shared run, alone in its runs folder)."""
    return results_tab(qtbot, run.parent)


def _choose(monkeypatch, path: Path) -> list:
    asked = []

    def dialog(parent, title, suggested, filters):  # type: ignore[no-untyped-def]
        asked.append((title, suggested, filters))
        return str(path), filters

    monkeypatch.setattr(model_export.QFileDialog, "getSaveFileName", dialog)
    return asked


@pytest.mark.parametrize("model_format", ["onnx", "savedmodel"])
def test_export_model_writes_the_verified_model_through_a_job(qtbot, tab, tmp_path, monkeypatch,
                                                              model_format) -> None:
    widget = tab.model_export
    assert widget.export_button.isEnabled()
    widget.format_box.setCurrentIndex(widget.format_box.findData(model_format))
    out = tmp_path / "exported"  # no suffix given: ONNX gets its own
    asked = _choose(monkeypatch, out)
    progress = []
    widget.runner.sig_progress.connect(lambda f, m: progress.append(m))
    with qtbot.waitSignal(widget.sig_exported, timeout=WAIT_MS) as blocker:
        widget.export_button.click()
        assert not widget.export_button.isEnabled()  # one export at a time
    result = blocker.args[0]
    expected = tmp_path / ("exported.onnx" if model_format == "onnx" else "exported")
    assert result.path == expected and expected.exists()
    assert asked[0][1].endswith(f"-best{'.onnx' if model_format == 'onnx' else ''}")
    manifest = json.loads(Path(f"{expected}.filterscope.json").read_text())
    assert manifest["model_format"] == model_format and manifest["verification"]["classes_identical"]
    assert manifest["run"]["dir"] == str(tab.run_dir())
    assert any(m.startswith("Verifying") for m in progress)
    assert "Wrote" in widget.result_label.text() and widget.export_button.isEnabled()


def test_a_failed_verification_says_so_and_writes_nothing(qtbot, tab, tmp_path, monkeypatch) -> None:
    import onnxruntime

    real = onnxruntime.InferenceSession.run
    monkeypatch.setattr(onnxruntime.InferenceSession, "run", lambda self, *a, **k: [1 - real(self, *a, **k)[0]])
    out = tmp_path / "out"
    out.mkdir()
    _choose(monkeypatch, out / "m.onnx")
    with qtbot.waitSignal(tab.model_export.runner.sig_job_ended, timeout=WAIT_MS):
        tab.model_export.export_button.click()
    assert tab.model_export.result_label.text().startswith("Nothing written: verification failed")
    assert list(out.iterdir()) == []
