"""The report's "Suspect labels" section, when the run keeps a suspect-labels result.

The result is read from the run folder (``suspect_labels.json``, written by ``filterscope labels
RUN`` or the Results tab's Suspect labels page), never computed here.
"""

from __future__ import annotations

import os
from pathlib import Path

from filterscope.core.project.report_markup import e, table
from filterscope.core.quality.suspects_store import SUSPECTS_FILE, SuspectsError, load_suspects

SHOWN = 10


def suspects_parts(run_dir: str | os.PathLike | None) -> list[tuple[str, str]]:
    """``[("Suspect labels", html)]`` when the run keeps a result, else ``[]``."""
    if run_dir is None:
        return []
    try:
        result = load_suspects(run_dir)
    except SuspectsError as exc:
        return [("Suspect labels", f'<p class="warn">{e(exc)}</p>')]
    if result is None:
        return []
    intro = (f"<p>Every image's label checked against a {e(result.k)}-fold cross-validated "
             f"{e(result.head)} on the pretrained base's features (out-of-sample accuracy "
             f"{result.accuracy:.0%}); cleanlab counts <b>{result.n_issues:,}</b> label issue(s) among "
             f"{len(result.images):,} images. The score is the out-of-sample probability of the given "
             f"label: lower is more suspect. The dataset was not changed; the full list is "
             f"{e(Path(run_dir) / Path(SUSPECTS_FILE).with_suffix('.csv').name)}.</p>")
    rows = [[e(Path(s.path).name), e(s.subset), e(s.given), e(s.suggested), f"{s.score:.3f}",
             "yes" if s.issue else ""] for s in result.top(SHOWN)]
    return [("Suspect labels", intro + table(["Photo", "Subset", "Given label", "Suggested", "Score", "Issue"],
                                             rows, numeric=frozenset({4})))]
