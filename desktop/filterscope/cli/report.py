"""``filterscope report RUN_DIR --out report.html``: a run's self-contained HTML report.

The report evaluates the run's model on its validation images (accuracy next to the
majority-class baseline, per-class figures, the confusion matrix, the most confidently wrong
images) and shows its data, mask and chain, model, curves and environment. A PDF is printed
from the app's Results tab (Qt prints it; the CLI never imports Qt).
"""

from __future__ import annotations

import argparse
from typing import Any, Callable

from filterscope.cli.common import CommandError, run_job
from filterscope.core.base.formats import percent
from filterscope.core.results.intervals import Interval, with_interval


def _human(d: dict) -> str:
    lines = [f"wrote {d['path']}", f"sections: {', '.join(d['sections'])}"]
    if d["evaluation_skipped"]:
        lines.append(f"evaluation skipped: {d['evaluation_skipped']}")
    else:
        interval = (d.get("intervals") or {}).get("accuracy")
        accuracy = with_interval(d["accuracy"], interval and Interval.from_json(interval))
        lines.append(f"accuracy {accuracy} on {d['n_images']:,} validation images "
                     f"(majority baseline {percent(d['baseline'])}: always '{d['baseline_class']}')")
    return "\n".join(lines)


def cmd_report(args: argparse.Namespace) -> tuple[dict, Callable[[Any], str]]:
    """``filterscope report``: write a run's HTML report."""
    from filterscope.core.project.report import ReportError, write_report

    try:
        result = run_job("Reporting", write_report, args.run_dir, args.out, which=args.model)
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
    p.add_argument("--json", action="store_true", help="print one JSON document: path, sections, "
                   "accuracy, baseline")
    p.set_defaults(handler=cmd_report, parser=p)
