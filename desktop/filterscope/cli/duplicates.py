"""``filterscope duplicates DATA``: near-copies within a dataset and across train / val / test."""

from __future__ import annotations

import argparse
import csv
import io
from typing import Any, Callable

from filterscope.cli.common import CommandError, run_job

SHOWN = 20  # groups listed in the human summary


def _csv(result: dict) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["group", "path", "key", "subset", "label"])
    for n, group in enumerate(result["groups"], 1):
        for m in group["members"]:
            writer.writerow([n, m["path"], m["key"], m["subset"], m["label"]])
    return out.getvalue().encode("utf-8")


def human(d: dict) -> str:
    """The summary a person reads: counts, the leakage across subsets, the largest groups."""
    cross = d["cross_subset"]
    lines = [f"{d['n_groups']:,} group(s) of near-copies ({d['n_in_groups']:,} of {d['n_images']:,} "
             f"images; {d['method']} <= {d['threshold']})",
             f"across subsets: train-test {cross['train-test']:,} pair(s), train-val "
             f"{cross['train-val']:,}, val-test {cross['val-test']:,}"]
    if d["test_with_copy_in_training"]:
        lines.append(f"warning: {d['test_with_copy_in_training']:,} test photo(s) have a near-copy "
                     "in training: test figures flatter the model")
    for n, group in enumerate(d["groups"][:SHOWN], 1):
        lines.append(f"group {n}:")
        lines += [f"  {m['subset']:<5} {m['label']:<16} {m['path']}" for m in group["members"]]
    if len(d["groups"]) > SHOWN:
        lines.append(f"... and {len(d['groups']) - SHOWN:,} more group(s) (use --json or --out for all)")
    lines += [f"skipped {s['path']}: {s['reason']}" for s in d["skipped"][:10]]
    if d.get("out"):
        lines.append(f"wrote {d['out']}")
    return "\n".join(lines)


def cmd_duplicates(args: argparse.Namespace) -> tuple[dict, Callable[[Any], str]]:
    """``filterscope duplicates DATA``: find near-copies and save the check for evaluation."""
    from filterscope.core.base.fileio import atomic_write_bytes, refuse_inside
    from filterscope.core.data.source import FolderSource, Source, SourceError
    from filterscope.core.quality.duplicates import near_copies
    from filterscope.core.training.data_spec import PipelineError

    try:
        source = Source.parse(args.data, bare=True)
        if args.out is not None and isinstance(source, FolderSource):
            refuse_inside(args.out, source.path)
        result = run_job("Near-copies", near_copies, source, max_distance=args.max_distance)
    except (SourceError, PipelineError, ValueError) as exc:
        raise CommandError(str(exc)) from exc
    data = result.to_json()
    if args.out is not None:
        try:
            atomic_write_bytes(args.out, _csv(data))
        except OSError as exc:
            raise CommandError(f"{args.out}: cannot write ({exc.strerror or exc})") from exc
        data["out"] = str(args.out)
    return data, human


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``duplicates`` to the ``filterscope`` parser."""
    from filterscope.core.quality.duplicates import MAX_DISTANCE

    cmd = sub.add_parser("duplicates", help="find near-copies of images within a dataset and "
                         "across train/val/test (leakage); evaluation then warns about them")
    cmd.add_argument("data", help="dataset folder (with class folders, or train/, val/, test/ "
                     "folders of them), a split manifest or a built-in id")
    cmd.add_argument("--max-distance", type=int, default=MAX_DISTANCE, metavar="BITS",
                     help=f"Hamming distance of two 64-bit perceptual hashes at or below which "
                     f"images are near-copies (default {MAX_DISTANCE})")
    cmd.add_argument("--out", metavar="GROUPS.csv", help="also write every group member as CSV "
                     "(never inside the dataset)")
    cmd.add_argument("--json", action="store_true", help="print one JSON document")
    cmd.set_defaults(handler=cmd_duplicates)
