"""The Results tab's "Export report…": the HTML report and the same page as a PDF, both written
by jobs (progress, Cancel) for the run chosen in the tab."""

from __future__ import annotations

import re
import shutil
import subprocess
import unicodedata
from pathlib import Path

import pytest
from filterscope.ui.state import AppState
from filterscope.ui.tabs.results_tab import ResultsTab
from filterscope.ui.widgets import report_export

from tests.results_runs import copy_run

WAIT_MS = 120_000


@pytest.fixture
def tab(qtbot, results_run: Path, tmp_path: Path) -> ResultsTab:
    run = copy_run(results_run, tmp_path / "runs" / results_run.name)
    state = AppState()
    state.set_runs_dir(run.parent)
    tab = ResultsTab(state)
    qtbot.addWidget(tab)
    with qtbot.waitSignal(tab.list_runner.sig_finished, timeout=WAIT_MS):
        tab.show()
    return tab


def pdf_pages(data: bytes) -> int:
    return len(re.findall(rb"/Type\s*/Page(?![s\w])", data))


def test_export_writes_the_html_and_the_pdf(qtbot, qtlog, tab, tmp_path, monkeypatch) -> None:
    export = tab.report_export
    assert export.export_button.isEnabled() and export.pdf_box.isChecked()
    chosen = tmp_path / "out" / "report"  # no suffix typed: .html is added, the PDF goes beside
    monkeypatch.setattr(report_export.QFileDialog, "getSaveFileName",
                        lambda *args: (str(chosen), "Web page (*.html *.htm)"))
    (tmp_path / "out").mkdir()
    with qtbot.waitSignal(export.sig_exported, timeout=WAIT_MS) as blocker:
        export.export_button.click()
        assert not export.export_button.isEnabled()  # one export at a time
    html, pdf = blocker.args[0]
    assert (html, pdf) == (tmp_path / "out" / "report.html", tmp_path / "out" / "report.pdf")
    page = html.read_text(encoding="utf-8")
    assert page.count("<h2 ") == 9 and "majority-class baseline of 50.0 %" in page
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF") and pdf_pages(data) >= 2
    assert export.result_label.text().startswith("Wrote report.html: accuracy ")
    assert export.result_label.text().endswith("and report.pdf")
    assert export.export_button.isEnabled()
    # The PDF is laid out in the worker's QThread: nothing Qt keeps to the GUI thread is used.
    assert not [r.message for r in qtlog.records if re.search("thread|pixmap", r.message, re.I)]
    if shutil.which("pdftotext"):  # poppler: the words on the pages are the report's
        text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True).stdout
        text = unicodedata.normalize("NFKC", text)  # Qt sets "fi" as one ligature glyph
        for heading in ("Confusion matrix", "Most confidently wrong", "Environment"):
            assert heading in text


def test_export_without_pdf_and_cancel(qtbot, tab, tmp_path) -> None:
    export = tab.report_export
    with qtbot.waitSignal(export.sig_exported, timeout=WAIT_MS) as blocker:
        export.export(tmp_path / "only.html")
    assert blocker.args[0] == [tmp_path / "only.html"] and not (tmp_path / "only.pdf").exists()
    with qtbot.waitSignal(export.runner.sig_cancelled, timeout=WAIT_MS):
        export.export(tmp_path / "cancelled.html", tmp_path / "cancelled.pdf")
        export.job_panel.cancel_button.click()
    qtbot.waitUntil(lambda: export.export_button.isEnabled(), timeout=WAIT_MS)
    assert export.job_panel.message() == "Cancelled"
    assert not (tmp_path / "cancelled.html").exists() and not (tmp_path / "cancelled.pdf").exists()
