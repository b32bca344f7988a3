"""``filterscope map``: every photo of a dataset as a point of a 2-D map of the base's features."""

from __future__ import annotations

import argparse
from collections import Counter
from pathlib import Path
from typing import Any, Callable

from filterscope.cli.common import CommandError, run_job


def _human_map(d: dict) -> str:
    lines = [f"map: {d['out']}", f"{d['points']:,} photos in {len(d['classes'])} classes "
             f"({', '.join(f'{k} {v:,}' for k, v in d['subsets'].items())})"]
    lines += [f"note: {n}" for n in d["notes"]]
    return "\n".join(lines)


def cmd_map(args: argparse.Namespace) -> tuple[dict, Callable[[Any], str]]:
    """``filterscope map DATA --out map.csv``: the map's points as CSV (x, y, path, subset, label)."""
    from filterscope.core.base.fileio import refuse_inside
    from filterscope.core.quality.embedding import dataset_map, write_map_csv
    from filterscope.core.training.data_spec import PipelineError

    try:
        if Path(args.data).is_dir():
            refuse_inside(args.out, args.data)
        result = run_job("Map", dataset_map, args.data, seed=args.seed,
                         **({} if args.cache_dir is None else {"cache_dir": args.cache_dir}))
        write_map_csv(result, args.out)
    except (ValueError, PipelineError) as exc:  # --out inside the data, WeightsError, FeatureCacheError
        raise CommandError(str(exc)) from exc
    except OSError as exc:
        raise CommandError(f"{args.out}: cannot write the map ({exc.strerror or exc})") from exc
    return {"out": str(args.out), "points": len(result), "classes": result.classes,
            "subsets": dict(Counter(str(s) for s in result.subsets)), "notes": result.notes,
            **({"rows": result.rows()} if args.json else {})}, _human_map


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``map`` to the ``filterscope`` parser."""
    p = sub.add_parser("map", help="a 2-D map of a dataset's photos (t-SNE of a pretrained base's features)")
    p.add_argument("data", metavar="DIR|MANIFEST.json|BUILTIN", help="the dataset (never written to)")
    p.add_argument("--out", required=True, metavar="MAP.csv", help="where to write x, y, path, subset, label")
    p.add_argument("--cache-dir", metavar="DIR", help="the feature cache (default: the app's)")
    p.add_argument("--seed", type=int, default=0, help="seeds the split, the sample and t-SNE (default 0)")
    p.add_argument("--json", action="store_true", help="print one JSON document (with every point)")
    p.set_defaults(handler=cmd_map, parser=p)
