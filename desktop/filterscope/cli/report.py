"""``filterscope report RUN_DIR --out report.html``: a run's self-contained HTML report.

The report shows a saved evaluation of the run (``--evaluation NAME``, as the Results tab shows
the one open), or else evaluates the run's model as the Results tab does by default: its test/
folder where its dataset has one, else its validation images (accuracy with its interval next
to the majority-class baseline, per-class figures, the confusion matrix, the most confidently
wrong images, and what they are measured on), the calibration and the run's saved decisions on
them, and a model card (its intended use saved with the run by ``--intended-use``); and its
data, mask and chain, model, curves and environment. A PDF is printed
from the app's Results tab (Qt prints it; the CLI never imports Qt).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any, Callable

from filterscope.cli.common import CommandError, run_job
from filterscope.core.results.intervals import Interval


def _human(d: dict) -> str:
    lines = [f"wrote {d['path']}", f"sections: {', '.join(d['sections'])}"]
    if d["evaluation_skipped"]:
        lines.append(f"evaluation skipped: {d['evaluation_skipped']}")
    else:
        from filterscope.core.results.metrics import Baseline, accuracy_sentence

        interval = (d.get("intervals") or {}).get("accuracy")
        evaluated = d["evaluated"]
        lines.append(accuracy_sentence(d["accuracy"], interval and Interval.from_json(interval),
                                       Baseline.from_json(evaluated["majority_baseline"])))
        saved = evaluated["saved_evaluation"]
        lines.append(f"measured on {d['n_images']:,} images: {evaluated['description']}"
                     + (f" (the saved evaluation {saved})" if saved else ""))
        if evaluated["chose_epoch"]:
            lines.append("warning: these images also chose the epoch (best.keras): the figure is "
                         "optimistic; evaluate on a test/ folder for a held-out figure")
    return "\n".join(lines)


def _intended_use(args: argparse.Namespace) -> str | None:
    """The model card's intended use given on the command line (None: keep the run's)."""
    if args.intended_use_file is None:
        return args.intended_use
    try:
        return Path(args.intended_use_file).expanduser().read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise CommandError(f"cannot read the intended use from {args.intended_use_file}: {exc}") from exc


def cmd_report(args: argparse.Namespace) -> tuple[dict, Callable[[Any], str]]:
    """``filterscope report``: write a run's HTML report."""
    from filterscope.core.project.report import ReportError, write_report

    from filterscope.core.results.settings import EvaluateSettings

    settings = EvaluateSettings(run=str(args.run_dir), model=args.model, evaluation=args.evaluation or "")
    try:
        result = run_job("Reporting", write_report, args.run_dir, args.out, settings=settings,
                         intended_use=_intended_use(args))
    except ReportError as exc:
        raise CommandError(str(exc)) from exc
    return result.to_json(), _human


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``report`` command to the ``filterscope`` parser (``--model`` as ``evaluate``'s)."""
    from filterscope.core.base.settings import add_flag, declared_default
    from filterscope.core.results.settings import EvaluateSettings

    p = sub.add_parser("report", help="write a run's report: one self-contained HTML file")
    p.add_argument("run_dir", metavar="RUN_DIR", help="a run folder (made by `filterscope train` or "
                   "the Train tab)")
    p.add_argument("--out", metavar="REPORT.html", required=True,
                   help="the HTML file to write (never inside the dataset folder); for a PDF, "
                   "export the report from the app's Results tab")
    add_flag(p, EvaluateSettings, "model", default=declared_default(EvaluateSettings, "model"))
    add_flag(p, EvaluateSettings, "evaluation", default=None,
             help_extra="default: evaluate the model on the run's test/ folder if any, else its "
             "validation images")
    use = p.add_mutually_exclusive_group()
    use.add_argument("--intended-use", metavar="TEXT", help="the model card's intended use (what the "
                     "model is for, and what not), saved with the run (model_card.json) for later "
                     "reports too")
    use.add_argument("--intended-use-file", metavar="FILE", help="the same, read from a UTF-8 text file")
    p.add_argument("--json", action="store_true", help="print one JSON document: path, sections, "
                   "accuracy, baseline, intervals, evaluated (what the figures are measured on), "
                   "model_card")
    p.set_defaults(handler=cmd_report, parser=p)
