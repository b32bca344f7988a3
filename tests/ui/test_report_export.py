"""The Results tab's "Export report…": the HTML report and the same page as a PDF, both written
by jobs (progress, Cancel) for the run chosen in the tab."""

from __future__ import annotations

import re
import shutil
import subprocess
import unicodedata
from pathlib import Path

import pytest
from PySide6.QtCore import QSizeF
from PySide6.QtGui import QTextDocument
from filterscope.core.project.model_card import read_intended_use
from filterscope.ui.tabs.results_tab import ResultsTab
from filterscope.ui.widgets import report_export

from tests.ui.screen import results_tab

WAIT_MS = 120_000


@pytest.fixture
def tab(qtbot, run: Path) -> ResultsTab:
    """The tab on ``run`` (conftest's copy of the shared run, alone in its runs folder)."""
    return results_tab(qtbot, run.parent)


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
    assert page.count("<h2 ") == 11 and "(majority baseline 57.1 %: always &#x27;cat&#x27;" in page
    assert "Measured on 7 images: " in page  # the tab's default: the test/ folder
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


def test_export_shows_the_saved_evaluation_open_in_the_tab(qtbot, tab, tmp_path) -> None:
    settings = tab._state.evaluate
    settings.subset = "val"
    with qtbot.waitSignal(tab.runner.sig_finished, timeout=WAIT_MS):
        tab.evaluate()
    shown = tab.evaluation()
    assert shown.n_images == 6 and settings.evaluation == shown.name
    export = tab.report_export
    with qtbot.waitSignal(export.sig_exported, timeout=WAIT_MS) as blocker:
        export.export(tmp_path / "saved.html")
    page = blocker.args[0][0].read_text(encoding="utf-8")
    assert f"the saved evaluation {shown.name}" in page and "Measured on 6 images: " in page
    assert "These images also chose the epoch (best.keras): the figure is optimistic." in page
    assert "on 6 images: the run" in export.result_label.text()


def test_export_saves_the_intended_use_typed_with_the_run(qtbot, tab, tmp_path) -> None:
    export = tab.report_export
    run = export._run
    assert export.intended_use_edit.toPlainText() == ""
    text = "Sorting the shelter's photos: cats & dogs only"
    qtbot.keyClicks(export.intended_use_edit, text)
    with qtbot.waitSignal(export.sig_exported, timeout=WAIT_MS) as blocker:
        export.export(tmp_path / "card.html")
    page = blocker.args[0][0].read_text(encoding="utf-8")
    assert "Sorting the shelter&#x27;s photos: cats &amp; dogs only" in page
    assert read_intended_use(run) == text
    export.set_run(None)
    assert export.intended_use_edit.toPlainText() == ""
    export.set_run(run)  # the run's text comes back when it is chosen again
    assert export.intended_use_edit.toPlainText() == text


def _stranding(filler: int) -> QTextDocument:
    """A page-sized document: ``filler`` lines, a heading, then a picture-sized block."""
    document = QTextDocument()
    document.setHtml("".join(f"<p>line {i}</p>" for i in range(filler))
                     + "<h2>Stranded?</h2><table border=1><tr><td height=200>tall</td></tr></table>"
                     + "<h3>Last</h3><p>end</p>")
    document.setPageSize(QSizeF(400, 600))
    return document


def test_no_heading_ends_a_pdf_page(qtbot, tab, tmp_path) -> None:
    stranded = [n for n in range(1, 60)
                if any(page < after for _, page, after in report_export.heading_pages(_stranding(n)))]
    assert stranded  # some filler leaves the heading at the foot of page 1 without the fix
    for n in stranded:
        document = _stranding(n)
        before = report_export.heading_pages(document)
        report_export.keep_headings_with_next(document)
        pages = report_export.heading_pages(document)
        assert all(page == after for _, page, after in pages), (n, pages)
        for (_, page, after), (_, moved, _) in zip(before, pages):
            assert moved == (after if page < after else page)  # to the top of the next page
    with qtbot.waitSignal(tab.report_export.sig_exported, timeout=WAIT_MS) as blocker:
        tab.report_export.export(tmp_path / "real.html")
    real = QTextDocument()
    real.setHtml(blocker.args[0][0].read_text(encoding="utf-8"))
    real.setPageSize(QSizeF(718, 1027))  # A4 inside 12 mm margins at 96 dpi
    report_export.keep_headings_with_next(real)
    pages = report_export.heading_pages(real)
    assert len(pages) >= 11 and all(page == after for _, page, after in pages), pages
