"""The report's "Near-copies" section: the dataset's last near-copy check, when one was made.

Shown only when known (a check saved by the Dataset tab or ``filterscope duplicates``): the
groups across subsets, and how many evaluated test photos have a near-copy in training with the
accuracy without them. The report never runs the check itself.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from filterscope.core.project.report_markup import bullets, e
from filterscope.core.quality.duplicates import load_near_copies
from filterscope.core.results.intervals import Interval

if TYPE_CHECKING:
    from filterscope.core.project.report import ReportContent

SHOWN = 5  # groups listed


def near_copies_section(content: ReportContent) -> str | None:
    """The section's HTML, or None when the dataset has no saved near-copy check."""
    check = None if content.data is None else load_near_copies(content.data.source)
    if check is None:
        return None
    cross = check.cross_subset()
    parts = [f"<p>{len(check.groups):,} group(s) of near-copies among {check.n_images:,} images "
             f"({e(check.method)} ≤ {check.threshold}; check of {e(check.created)}). Across subsets: "
             f"train–test {cross['train-test']:,}, train–val {cross['train-val']:,}, val–test "
             f"{cross['val-test']:,} pair(s).</p>"]
    leaks = None if content.evaluation is None else content.evaluation.without_near_copies
    if leaks and leaks["interval"] is not None:
        parts.append(f'<p class="warn">{leaks["n_removed"]:,} evaluated test photo(s) have a near-copy '
                     f"in training; without them accuracy is "
                     f"{e(Interval.from_json(leaks['interval']).describe())}.</p>")
    groups = [", ".join(f"{e(m['key'])} ({e(m['subset'])})" for m in g) for g in check.groups[:SHOWN]]
    if groups:
        more = len(check.groups) - SHOWN
        parts.append(bullets(groups) + (f"<p class=\"note\">… and {more:,} more.</p>" if more > 0 else ""))
    return "".join(parts)
