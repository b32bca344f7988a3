"""Export a run's report: the HTML page (the core job ``write_report``, showing the evaluation
open in the Results tab, else the tab's default one; the model card's intended use, typed here,
is saved with the run by that job), then, when asked, the same page printed to
PDF by Qt's rich text engine, with no heading left alone at the foot of a page. Both run as jobs
of one runner, with progress and Cancel; the PDF is written through a buffer and replaced
atomically, like every output."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QMarginsF, QSizeF, Signal, Slot
from PySide6.QtGui import QPageLayout, QPageSize, QPdfWriter, QTextBlock, QTextCursor, QTextDocument, QTextFormat
from PySide6.QtWidgets import (QCheckBox, QFileDialog, QGroupBox, QLabel, QPlainTextEdit, QPushButton,
                               QVBoxLayout, QWidget)

from filterscope.core.base.fileio import atomic_write_bytes
from filterscope.core.base.formats import percent
from filterscope.core.base.jobs import Cancel, Report, check_cancel
from filterscope.core.project.model_card import ModelCardError, read_intended_use
from filterscope.core.project.report import ReportResult, write_report
from filterscope.core.results.settings import EvaluateSettings
from filterscope.ui.widgets.job_panel import JobPanelWidget
from filterscope.workers import JobRunner

PDF_DPI = 96  # the page's pixel sizes are screen pixels: pictures keep their size on paper
MARGIN_MM = 12


def print_pdf(page: str, path: str | Path, *, report: Report, cancel: Cancel) -> Path:
    """Job: lay ``page`` (HTML) out on A4 pages and write it to ``path`` as a PDF.

    QTextDocument and QPdfWriter paint on no screen, so this runs in a worker thread.

    Raises:
        OSError: The PDF cannot be written.
        Cancelled: ``cancel`` was set before the printing.
    """
    report.progress(0.0, "Laying out the PDF")
    document = QTextDocument()
    document.setHtml(page)
    check_cancel(cancel)
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    writer = QPdfWriter(buffer)
    writer.setPageSize(QPageSize(QPageSize.PageSizeId.A4))
    writer.setPageMargins(QMarginsF(MARGIN_MM, MARGIN_MM, MARGIN_MM, MARGIN_MM), QPageLayout.Unit.Millimeter)
    writer.setResolution(PDF_DPI)
    writer.setTitle(document.metaInformation(QTextDocument.MetaInformation.DocumentTitle))
    # Paginated by us to the page inside the margins; left unpaginated, print_() would add 2 cm
    # margins of its own and squeeze the picture tables.
    document.setPageSize(QSizeF(writer.width(), writer.height()))
    keep_headings_with_next(document)
    check_cancel(cancel)
    report.progress(0.3, "Printing the PDF")
    document.print_(writer)
    del writer  # ends the PDF: its last bytes are written when the writer goes
    buffer.close()
    report.progress(0.9, f"Writing {Path(path).name}")
    return atomic_write_bytes(path, bytes(data.data()))


def keep_headings_with_next(document: QTextDocument) -> None:
    """Move every heading that would end a page to the top of the next one.

    QTextDocument ignores CSS ``page-break-after: avoid``, so the paginated document is measured:
    a heading whose next block starts on a later page gets a page break before it, and the
    document is laid out again (a moved heading moves what follows), until none is left behind.
    """
    for _ in range(document.blockCount()):
        stranded = next((b for b in _headings(document) if _page(document, b) < _page(document, b.next())),
                        None)
        if stranded is None:
            return
        format_ = stranded.blockFormat()
        format_.setPageBreakPolicy(QTextFormat.PageBreakFlag.PageBreak_AlwaysBefore)
        cursor = QTextCursor(stranded)
        cursor.setBlockFormat(format_)


def _headings(document: QTextDocument) -> list[QTextBlock]:
    """The heading blocks (``<h1>``–``<h6>``) followed by another block, not yet breaking."""
    found, block = [], document.begin()
    while block.isValid():
        policy = block.blockFormat().pageBreakPolicy()
        if block.blockFormat().headingLevel() > 0 and block.next().isValid() and \
                not policy & QTextFormat.PageBreakFlag.PageBreak_AlwaysBefore:
            found.append(block)
        block = block.next()
    return found


def heading_pages(document: QTextDocument) -> list[tuple[str, int, int]]:
    """(heading, its page, the page its next block starts on) for every heading, 0-based."""
    found, block = [], document.begin()
    while block.isValid():
        if block.blockFormat().headingLevel() > 0 and block.next().isValid():
            found.append((block.text(), _page(document, block), _page(document, block.next())))
        block = block.next()
    return found


def _page(document: QTextDocument, block: QTextBlock) -> int:
    """The page the first line of ``block`` is on (a block that does not fit starts lower)."""
    top = document.documentLayout().blockBoundingRect(block).top()
    layout = block.layout()
    if layout is not None and layout.lineCount():
        top += layout.lineAt(0).y()
    return int(top // document.pageSize().height())


class ReportExportWidget(QGroupBox):
    """"Export report…": asks for the HTML file, writes it, then the PDF beside it if ticked."""

    sig_exported = Signal(object)
    """The files written: a list of Paths (the HTML, then the PDF when one was asked for)."""

    def __init__(self, settings: EvaluateSettings | None = None, parent: QWidget | None = None) -> None:
        super().__init__("Report", parent)
        self._settings = settings  # the Results tab's: the saved evaluation open is reported
        self._run: Path | None = None
        self._which = "best"
        self._pdf: Path | None = None  # the PDF the current export is to write
        self._written: list[Path] = []
        self.export_button = QPushButton("Export report…")
        self.export_button.setToolTip("One HTML file: data, mask and chain, model, curves, accuracy "
                                      "against the baseline on the evaluation open (else on the "
                                      "test/ folder if any, else the validation images), per-class "
                                      "figures, confusion matrix, confidently wrong images")
        self.pdf_box = QCheckBox("Also save as PDF")
        self.pdf_box.setChecked(True)
        self.intended_use_edit = QPlainTextEdit()
        self.intended_use_edit.setPlaceholderText("What the model is for, and what not (the model "
                                                  "card's intended use; saved with the run)")
        self.intended_use_edit.setMaximumHeight(80)
        self.result_label = QLabel()
        self.result_label.setWordWrap(True)
        self.runner = JobRunner(self, on_result=self._on_job_finished, on_running=self._update_button,
                                on_failure=self._on_job_failed)
        self.job_panel = JobPanelWidget(self.runner)
        layout = QVBoxLayout(self)
        for widget in (QLabel("Intended use (model card):"), self.intended_use_edit, self.export_button,
                       self.pdf_box, self.job_panel, self.result_label):
            layout.addWidget(widget)
        self.export_button.clicked.connect(self._on_export_clicked)
        self._update_button()

    def set_run(self, run_dir: Path | None, which: str = "best") -> None:
        """The run (and its model, ``best`` or ``last``) the next export reports on.

        Another run forgets what was written for the previous one; an export of it still under
        way is cancelled, so that its result never shows beside this run."""
        if (run_dir, which) != (self._run, self._which):
            if self.runner.is_running():
                self.runner.cancel()
                what = f"The PDF of {self._written[0].name}" if self._written else "The report"
                self.result_label.setText(f"{what} ({self._run.name}) was not written: another "
                                          "run was chosen.")
            else:
                self.result_label.clear()
        if run_dir != self._run:
            self._load_intended_use(run_dir)
        self._run, self._which = run_dir, which
        self._update_button()

    def _load_intended_use(self, run_dir: Path | None) -> None:
        """Show the run's intended-use text (empty without a run, or when its file is unreadable:
        the result line says so, and the next export writes the text box)."""
        text = ""
        if run_dir is not None:
            try:
                text = read_intended_use(run_dir)
            except ModelCardError as exc:
                self.result_label.setText(str(exc))
        self.intended_use_edit.setPlainText(text)

    def export(self, html_path: str | Path, pdf_path: str | Path | None = None) -> None:
        """Write the chosen run's report to ``html_path`` (and ``pdf_path``): jobs, in turn."""
        if self._run is None:
            return
        self._pdf = None if pdf_path is None else Path(pdf_path)
        self._written = []
        self.result_label.clear()
        values = self._settings.values() if self._settings is not None else {}
        # a snapshot: the job runs in a worker while the tab may change its settings
        settings = EvaluateSettings(**{**values, "run": str(self._run), "model": self._which})
        if values.get("run") and Path(values["run"]) != self._run:
            settings.evaluation = ""  # the evaluation open is another run's
        self.runner.start(write_report, self._run, Path(html_path), settings=settings,
                          intended_use=self.intended_use_edit.toPlainText())

    @Slot()
    def _on_export_clicked(self) -> None:
        if self._run is None:
            return
        path, _ = QFileDialog.getSaveFileName(self, "Export the run's report", str(self._run / "report.html"),
                                              "Web page (*.html *.htm)")
        if path:
            html = Path(path) if Path(path).suffix.lower() in (".html", ".htm") else Path(f"{path}.html")
            self.export(html, html.with_suffix(".pdf") if self.pdf_box.isChecked() else None)

    @Slot(object)
    def _on_job_finished(self, result: ReportResult | Path) -> None:
        if isinstance(result, ReportResult):
            self._written = [result.path]
            note = "" if result.accuracy is None else \
                f": accuracy {percent(result.accuracy)} (baseline {percent(result.baseline)}) on " \
                f"{result.n_images:,} images: {result.evaluated['description']}"
            if result.evaluation_skipped:
                note = f"; evaluation skipped: {result.evaluation_skipped}"
            self.result_label.setText(f"Wrote {result.path.name}{note}")
            if self._pdf is not None:
                self.runner.start(print_pdf, result.html, self._pdf)
                return
        else:
            self._written.append(result)
            self.result_label.setText(f"{self.result_label.text()}\nand {result.name}")
        self.sig_exported.emit(list(self._written))

    @Slot(str)
    def _on_job_failed(self, message: str) -> None:
        """The HTML or, after it, the PDF failed: the result line says which (with what was
        written) beside the job panel's "Failed"."""
        if self._written:
            self.result_label.setText(f"{self.result_label.text()}\nbut no PDF: {message}")
        else:
            self.result_label.setText(f"No report written: {message}")

    @Slot()
    def _update_button(self) -> None:
        self.export_button.setEnabled(self._run is not None and not self.runner.is_running())
