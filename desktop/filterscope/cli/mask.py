"""``filterscope mask SRC --out OUT``: the Mask tab's batch apply from the shell."""

from __future__ import annotations

import argparse
from typing import Any, Callable

from filterscope.cli.common import CommandError, load_mask_arg, positive_int, run_job
from filterscope.core.base.formats import percent


def _human_mask(d: dict) -> str:
    mean = "" if d["mean_kept"] is None else f"; mean kept {percent(d['mean_kept'])}"
    lines = [f"{d['out']}: {d['written']:,} written, {d['skipped']:,} done before, "
             f"{len(d['failed']):,} failed of {d['total']:,}{mean}"]
    width = max((len(i["path"]) for i in d["images"][:50]), default=5)
    if d["images"]:
        lines.append(f"  {'image':<{width}}  {'kept':>7}")
        lines += [f"  {i['path']:<{width}}  {percent(i['kept']):>7}" for i in d["images"][:50]]
    if len(d["images"]) > 50:
        lines.append(f"  ... and {len(d['images']) - 50:,} more (use --json for all)")
    lines += [f"failed: {f['path']}: {f['reason']}" for f in d["failed"]]
    return "\n".join(lines)


def cmd_mask(args: argparse.Namespace) -> tuple[dict, Callable[[Any], str]]:
    """``filterscope mask SRC --out OUT``: masked PNG copies of an image or a dataset folder."""
    from dataclasses import replace

    from filterscope.core.data.datasets import DatasetError
    from filterscope.core.data.images import ImageReadError
    from filterscope.core.masking.batch import mask_path

    try:
        params = load_mask_arg(args.preset)
        if args.output:
            params = replace(params, output=args.output)
        result = run_job("Masking", mask_path, args.src, args.out, params, workers=args.workers)
    except (ValueError, OSError, ImageReadError, DatasetError) as exc:  # MaskParamsError, MaskBatchError
        raise CommandError(str(exc)) from exc
    return result.to_json(), _human_mask




def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``mask`` command to the ``filterscope`` parser."""
    mask = sub.add_parser("mask", help="write masked PNG copies (background removed) of an image "
                          "or a dataset folder")
    mask.add_argument("src", help="an image file, or a dataset folder with one sub-folder per class")
    mask.add_argument("--out", required=True, help="output folder (a .png file for one image); "
                      "never inside the dataset")
    mask.add_argument("--preset", default="chapter", metavar="chapter|FILE.json",
                      help="built-in preset name or a preset file (default: chapter, the chapter's "
                      "exact mask and output)")
    mask.add_argument("--output", choices=("black", "chapter", "alpha", "mask"),
                      help="override the preset's output mode")
    mask.add_argument("--workers", type=positive_int, default=2, help="threads (default 2)")
    mask.add_argument("--json", action="store_true", help="print one JSON document")
    mask.set_defaults(handler=cmd_mask)
