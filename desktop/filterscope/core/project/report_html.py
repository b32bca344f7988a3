"""A run report as one self-contained HTML page: no script, no external file, pictures as data
URIs, every name escaped (file and class names may hold ``<``, ``&`` or any script).

The markup stays within what Qt's rich text engine lays out (headings, paragraphs, lists, tables
with ``border``/``cellpadding`` attributes, images with a width), so the Results tab prints the
same page to PDF with ``QTextDocument``; the style sheet only adds what a browser does better.
"""

from __future__ import annotations

from filterscope import __version__
from filterscope.core.base.formats import percent
from filterscope.core.project.report import ReportContent, chose_epoch
from filterscope.core.project.model_card import ModelCard
from filterscope.core.project.report_calibration import calibration_section
from filterscope.core.project.report_duplicates import near_copies_section
from filterscope.core.project.report_map import map_section
from filterscope.core.project.report_card import card_section
from filterscope.core.project.report_markup import bullets, e, files_list, img, table
from filterscope.core.project.report_sections import data_section, mask_section, model_section
from filterscope.core.project.report_suspects import suspects_parts
from filterscope.core.results.intervals import with_interval
from filterscope.core.results.metrics import accuracy_sentence, matrix_labels

STYLE = """
body { font-family: 'DejaVu Sans', Arial, Helvetica, sans-serif; font-size: 10pt; color: #222;
       margin: 16px; max-width: 1000px; }
h1 { font-size: 17pt; margin-bottom: 2px; }
h2 { font-size: 13pt; margin-top: 22px; padding-bottom: 2px; border-bottom: 1px solid #9aa; }
h3 { font-size: 11pt; margin-bottom: 4px; }
table { border-collapse: collapse; margin: 4px 0 10px 0; }
th, td { border: 1px solid #bbb; padding: 3px 7px; vertical-align: top; }
th { background: #e6edf3; text-align: left; }
td.n { text-align: right; }
table.plain td { border: none; padding: 4px 10px 10px 0; }
.note { color: #555; }
.warn { color: #8a4100; }
.big { font-size: 12pt; }
"""


def render_html(content: ReportContent, card: ModelCard) -> tuple[str, list[str]]:
    """The page and the headings of its sections, in order (``card``: the run's model card)."""
    parts = [("Model card", card_section(card)), ("Data", data_section(content)), ("Mask and augmentation", mask_section(content)),
             ("Model", model_section(content)), ("Training", _training(content)),
             ("Evaluation", _evaluation(content))]
    if content.evaluation is not None:
        parts += [("Calibration and decisions", calibration_section(content.evaluation)),
                  ("Per-class metrics", _per_class(content)),
                  ("Confusion matrix", _confusion(content)),
                  ("Most confidently wrong", _wrong(content))]
    parts += [("Near-copies", near)] if (near := near_copies_section(content)) else []
    parts += [("Map of the data", drawn)] if (drawn := map_section(content)) else []
    parts += suspects_parts(content.run.run_dir)
    parts.append(("Environment", _environment(content)))
    run = content.run
    title = f"Run report: {run.run_dir.name}"
    body = "".join(f'<h2 id="{e(h.lower().replace(" ", "-"))}">{e(h)}</h2>{html}' for h, html in parts)
    page = (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            f"<title>{e(title)}</title><style>{STYLE}</style></head><body>"
            f"<h1>{e(title)}</h1><p class=\"note\">{e(run.run_dir)}<br>Made {e(content.created)} by "
            f"Filterscope {e(__version__)}.</p>{body}</body></html>\n")
    return page, [h for h, _ in parts]


def _training(content: ReportContent) -> str:
    run = content.run
    epochs = run.spec.get("epochs", run.epochs_run)
    lines = [f"{e(run.status.capitalize())} after {run.epochs_run} of {e(epochs)} epoch(s)."]
    best = run.best()
    if best is not None and best["val_accuracy"] is not None:
        lines.append(f"Best epoch {run.best_epoch}: validation accuracy {percent(best['val_accuracy'])}, "
                     f"validation loss {best['val_loss']:.4f} (saved as best.keras).")
    if run.stopped_early:
        lines.append(f"Early stopping ended the run after epoch {run.stopped_early}.")
    if run.diverged:
        lines.append(f'<span class="warn">{e(run.diverged)}</span>')
    picture = img(content.curves, "Loss and accuracy per epoch", 620) if content.curves \
        else '<p class="note">No epoch was completed: there are no curves.</p>'
    return f"<p>{' '.join(lines)}</p><p>{picture}</p>"


def _evaluation(content: ReportContent) -> str:
    ev = content.evaluation
    if ev is None:
        return (f'<p class="warn">Evaluation was skipped: {e(content.skipped_why)}</p><p class="note">'
                "Per-class metrics, the confusion matrix and the most confidently wrong images "
                "need it; the data, the model, the curves and the environment above and below "
                "come from the run's own files.</p>")
    epoch = f" (epoch {ev.epoch})" if ev.epoch else ""
    intervals = ev.intervals or {}
    macro_f1 = intervals.get("macro_f1")
    balanced = with_interval(ev.scores.balanced_accuracy, intervals.get("balanced_accuracy"))
    headline = accuracy_sentence(ev.scores.accuracy, intervals.get("accuracy"), ev.baseline)
    origin = f"the saved evaluation {e(content.saved)} ({e(ev.created)})" if content.saved else \
        "evaluated for this report, as the Results tab evaluates by default (test/ where there is one, " \
        "else the validation images)"
    chosen = chose_epoch(ev)
    lines = [f"<p>Measured on {ev.n_images:,} images: {e(ev.eval_set.get('description', ''))}; model "
             f"{e(ev.model)}.keras{epoch}; {origin}.</p>",
             f'<p class="big"><b>{e(headline[0].upper() + headline[1:])}</b></p>']
    if chosen is not None:
        lines.append(f'<p class="warn"><b>{e(chosen.message)}</b> Try: {e(chosen.advice)}</p>')
    lines.append(f"<p>Balanced accuracy (mean recall over the classes) {balanced}."
                 + (f" Macro-F1 (mean F1 over the classes) {macro_f1.describe()}." if macro_f1 else "")
                 + "</p>")
    lines.append(bullets([f'<span class="warn">{e(w.message)}</span> Try: {e(w.advice)}'
                          for w in ev.warnings if w.kind != "chose-epoch"]
                         + [e(n) for n in ev.notes]
                         + ([files_list(ev.skipped, "left out, unreadable")] if ev.skipped else [])))
    return "".join(lines)


def _per_class(content: ReportContent) -> str:
    rows = [[e(c.name), percent(c.precision), percent(c.recall), percent(c.f1), f"{c.support:,}", f"{c.predicted:,}"]
            for c in content.evaluation.scores.per_class]
    return ("<p>Precision: of the images predicted as the class, the share that are. Recall: of "
            "the class's images, the share found.</p>"
            + table(["Class", "Precision", "Recall", "F1", "Images", "Predicted"], rows,
                    frozenset(range(1, 6))))


def _confusion(content: ReportContent) -> str:
    ev = content.evaluation
    heads = matrix_labels(ev.classes)  # as the CLI and the Results tab head it
    header = "".join(f'<th align="right">{e(label)}</th>' for label in heads.columns)
    rows = []
    for k, (head, row) in enumerate(zip(heads.rows, ev.scores.confusion)):
        total = max(int(row.sum()), 1)
        cells = "".join(f'<td class="n" align="right" bgcolor="{_shade(n / total, k == j)}">{n:,}</td>'
                        for j, n in enumerate(row))
        rows.append(f"<tr><th>{e(head)}</th>{cells}</tr>")
    columns = "the class predicted" + (f", {heads.keyed}" if heads.keyed else "")
    return (f"<p>Rows: the true class; columns: {columns}. A cell is shaded by its share of its "
            "row.</p>"
            f'<table border="1" cellspacing="0" cellpadding="4"><tr><th>true \\ predicted</th>'
            f"{header}</tr>{''.join(rows)}</table>")


def _shade(share: float, diagonal: bool) -> str:
    """Green on the diagonal (right), red off it (wrong), deeper as the share grows (as the tab)."""
    if share <= 0:
        return "#ffffff"
    r, g, b = (60, 160, 80) if diagonal else (215, 80, 70)
    mix = 0.15 + 0.6 * share
    return "#{:02x}{:02x}{:02x}".format(*(round(255 + (c - 255) * mix) for c in (r, g, b)))


def _wrong(content: ReportContent) -> str:
    ev, shown = content.evaluation, content.wrong
    n_wrong = int((ev.rows.true != ev.rows.predicted).sum())
    if not shown and content.wrong_note:
        return f'<p>{n_wrong:,} of {ev.n_images:,} images were misclassified.</p>' \
               f'<p class="note">No pictures: {e(content.wrong_note)}.</p>'
    if not shown:
        return f"<p>No image of the {ev.n_images:,} evaluated was misclassified.</p>"
    cells = []
    for w in shown:
        picture = img(w.png, w.name) if w.png else f'<span class="note">{e(w.error)}</span>'
        cells.append(f"{picture}<br>{e(w.name)}<br>true <b>{e(w.true)}</b>, predicted "
                     f"<b>{e(w.predicted)}</b> ({percent(w.confidence)})")
    rows = ["".join(f'<td width="25%">{c}</td>' for c in cells[i:i + 4]) for i in range(0, len(cells), 4)]
    return (f"<p>{n_wrong:,} of {ev.n_images:,} evaluated images were misclassified. The "
            f"{len(shown)} below were predicted most confidently, first; a wrong label often "
            "hides among them.</p>"
            f'<table class="plain" border="0" cellpadding="4">'
            + "".join(f"<tr>{r}</tr>" for r in rows) + "</table>")


def _environment(content: ReportContent) -> str:
    spec = content.run.spec
    seeds = [("Run seed (weights, shuffling)", str(spec.get("seed", "?"))),
             ("Data seed (split, augmentation)", str((spec.get("data") or {}).get("seed", "?")))]
    rows = [[e(name), e(value)] for name, value in seeds + content.environment]
    return ('<p class="note">The seeds are the run\'s; the versions and the machine are where this '
            "report was made.</p>" + table(["Name", "Value"], rows))
