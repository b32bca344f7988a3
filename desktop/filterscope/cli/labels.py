"""``filterscope labels DATA_OR_RUN --out suspects.csv``: images whose label looks wrong.

Every image's out-of-sample class probabilities come from a 5-fold cross-validated head on the
pretrained base's cached features; cleanlab ranks them by label quality. The CSV lists every
image, most suspect first; a run folder means the dataset its ``run.json`` records, and the
result is also kept with the run (``suspect_labels.json`` + ``.csv``) for its report. The
dataset is only read.
"""

from __future__ import annotations

import argparse
from typing import Any, Callable

from filterscope.cli.common import CommandError, positive_int, run_job

SHOWN = 10


def _human(d: dict) -> str:
    lines = [f"data: {d['source']}: {d['n_images']:,} images, {len(d['classes'])} classes",
             f"head: {d['head']}, {d['k']}-fold; out-of-sample accuracy {d['accuracy']:.1%}",
             f"cleanlab counts {d['n_issues']:,} label issue(s); the {min(SHOWN, d['n_images'])} most suspect:"]
    width = max([len(s["given"]) for s in d["images"][:SHOWN]] + [5])
    for s in d["images"][:SHOWN]:
        lines.append(f"  {s['score']:.3f}  {s['given']:<{width}} -> {s['suggested']:<{width}}  {s['path']}")
    lines += [f"note: {n}" for n in d["notes"]]
    if d["skipped"]:
        lines.append(f"skipped {len(d['skipped'])} unreadable file(s)")
    lines.append(f"wrote {d['out']} (one row per image, most suspect first)")
    if d.get("saved"):
        lines.append(f"kept with the run: {d['saved']}")
    return "\n".join(lines)


def cmd_labels(args: argparse.Namespace) -> tuple[dict, Callable[[Any], str]]:
    """``filterscope labels``: rank a dataset's images by how suspect their label is."""
    from filterscope.core.base.fileio import refuse_inside
    from filterscope.core.data.source import Source
    from filterscope.core.quality.labels import find_suspect_labels
    from filterscope.core.quality.suspects_store import (dataset_roots, is_run, run_dataset, save_suspects,
                                                          write_suspects_csv)
    from filterscope.core.training.data_spec import PipelineError

    run = args.data if is_run(args.data) else None
    try:
        source, data_seed = run_dataset(run) if run else (args.data, 0)
        folder = (source if isinstance(source, Source) else Source.parse(source, bare=True)).folder()
        if folder is not None:  # refused before the features are computed, not after
            refuse_inside(args.out, folder)
        result = run_job("Checking labels", find_suspect_labels, source, k=args.folds, seed=args.seed,
                         data_seed=data_seed)
        for root in dataset_roots(result):
            refuse_inside(args.out, root)
        out = write_suspects_csv(result, args.out)
        saved = save_suspects(result, run) if run else None
    except (ValueError, PipelineError) as exc:  # SuspectsError, SourceError, WeightsError, FeatureCacheError
        raise CommandError(str(exc)) from exc
    except OSError as exc:
        raise CommandError(f"cannot write {args.out}: {exc.strerror or exc}") from exc
    return {**result.to_json(), "out": str(out), "saved": None if saved is None else str(saved)}, _human


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``labels`` command to the ``filterscope`` parser."""
    p = sub.add_parser("labels", help="rank a dataset's images by how suspect their label is (cleanlab "
                       "on cross-validated pretrained features)")
    p.add_argument("data", metavar="DATA_OR_RUN", help="a dataset folder, a split manifest, a built-in "
                   "dataset, or a run folder (its dataset, as run.json records it; the result is also "
                   "kept with the run for its report)")
    p.add_argument("--out", required=True, metavar="SUSPECTS.csv", help="one row per image, most "
                   "suspect first (written atomically; never inside the dataset)")
    p.add_argument("--folds", type=positive_int, default=5, metavar="K", help="cross-validation folds "
                   "(default 5)")
    p.add_argument("--seed", type=int, default=0, help="seed of the folds (default 0)")
    p.add_argument("--json", action="store_true", help="print one JSON document")
    p.set_defaults(handler=cmd_labels, parser=p)
