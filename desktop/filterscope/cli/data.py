"""``filterscope datasets | fetch | scan | split``: the Dataset tab's jobs from the shell."""

from __future__ import annotations

import argparse
from typing import Any, Callable

from filterscope.cli.common import CommandError, open_dataset, run_job


def cmd_datasets(args: argparse.Namespace) -> tuple[list, Callable[[Any], str]]:
    """``filterscope datasets``: the built-in datasets and whether they are here."""
    from dataclasses import asdict

    from filterscope.core.data.sources import builtin_infos

    data = [asdict(info) for info in builtin_infos()]

    def human(rows: list) -> str:
        lines = []
        for row in rows:
            state = "ready" if row["available"] else f"download with: filterscope fetch {row['id']}"
            lines.append(f"{row['id']:<16} {row['title']} [{state}]\n{'':<16} {row['description']}")
        return "\n".join(lines)

    return data, human


def cmd_fetch(args: argparse.Namespace) -> tuple[dict, Callable[[Any], str]]:
    """``filterscope fetch ID``: download a built-in dataset (needs a network)."""
    from filterscope.core.data.builtin import BuiltinUnavailable
    from filterscope.core.data.download import DownloadError
    from filterscope.core.data.sources import fetch_source

    try:
        source = run_job("Downloading", fetch_source, args.id, url=args.source)
    except (DownloadError, BuiltinUnavailable) as exc:
        raise CommandError(str(exc)) from exc
    return {"source": source.to_json()}, lambda d: f"ready: {d['source']}"


def _subset_table(summary: dict) -> list[str]:
    """Class by subset counts of a dataset that comes split into folders."""
    subsets = summary["subsets"]
    width = max([len(c["name"]) for c in summary["classes"]] + [5])
    heads = [f"{s['folder'] + '/':>8}" for s in subsets.values()]
    lines = [f"  {'class':<{width}}  {'  '.join(heads)}  {'all':>8}"]
    for i, c in enumerate(summary["classes"]):
        cells = [f"{s['classes'][i]['count']:>{len(h)},}" for s, h in zip(subsets.values(), heads)]
        lines.append(f"  {c['name']:<{width}}  {'  '.join(cells)}  {c['count']:>8,}")
    totals = [f"{s['total']:>{len(h)},}" for s, h in zip(subsets.values(), heads)]
    lines.append(f"  {'total':<{width}}  {'  '.join(totals)}  {summary['total']:>8,}")
    return lines


def _human_scan(summary: dict, split_warnings: list[str]) -> str:
    lines = [f"{summary['name']}: {summary['total']:,} images in {len(summary['classes'])} classes"]
    if summary["layout"] == "split-folders":
        folders = ", ".join(f"{s['folder']}/" for s in summary["subsets"].values())
        lines[0] += f", split into {folders} folders (the split training uses)"
        lines += _subset_table(summary)
    else:
        width = max((len(c["name"]) for c in summary["classes"]), default=0)
        lines += [f"  {c['name']:<{width}}  {c['count']:>7,}" for c in summary["classes"]]
    sizes = summary["sizes"]
    if sizes.get("known"):
        lines.append(
            f"sizes: {sizes['min_width']}-{sizes['max_width']} x {sizes['min_height']}-"
            f"{sizes['max_height']} px, most common {sizes['most_common'][0]}x"
            f"{sizes['most_common'][1]} ({sizes['most_common_count']:,} images)")
    lines += [f"warning: {w}" for w in split_warnings]
    if summary["imbalance"]:
        lines.append(f"warning: {summary['imbalance']}")
    problems = summary["problems"]
    if problems:
        lines.append(f"{len(problems)} problem(s):")
        lines += [f"  {p['path']}: {p['reason']}" for p in problems[:50]]
        if len(problems) > 50:
            lines.append(f"  ... and {len(problems) - 50} more (use --json for all)")
    return "\n".join(lines)


def cmd_scan(args: argparse.Namespace) -> tuple[dict, Callable[[Any], str]]:
    """``filterscope scan DIR``: classes, counts, sizes, problems (and subsets of split folders)."""
    dataset = open_dataset(args.dir)
    return dataset.summary(), lambda summary: _human_scan(summary, dataset.split_warnings())


def cmd_split(args: argparse.Namespace) -> tuple[dict, Callable[[Any], str]]:
    """``filterscope split DIR``: write a stratified, seeded validation manifest."""
    from filterscope.core.base.fileio import refuse_inside
    from filterscope.core.base.settings import declared_default
    from filterscope.core.data.split_settings import SplitSettings
    from filterscope.core.data.splits import make_split, save_manifest

    dataset = open_dataset(args.dir)
    try:
        if dataset.root is not None:
            refuse_inside(args.out, dataset.root)
        seed = declared_default(SplitSettings, "seed") if args.seed is None else args.seed
        manifest = make_split(dataset, val_per_class=args.val_per_class,
                              val_fraction=args.val_fraction, seed=seed)
        save_manifest(manifest, args.out)
    except ValueError as exc:  # SplitError, or --out inside the dataset
        raise CommandError(str(exc)) from exc
    except OSError as exc:
        raise CommandError(f"{args.out}: cannot write the manifest ({exc.strerror or exc})") from exc
    counts = manifest.counts()
    data = {
        "manifest": str(args.out),
        "method": manifest.method,
        "value": manifest.value,
        "seed": manifest.seed,
        "classes": [{"name": n, **c} for n, c in counts.items()],
        "train": sum(c["train"] for c in counts.values()),
        "val": sum(c["val"] for c in counts.values()),
        "warnings": manifest.warnings,
    }

    def human(d: dict) -> str:
        width = max((len(c["name"]) for c in d["classes"]), default=5)
        rows = [f"  {c['name']:<{width}}  {c['train']:>7,}  {c['val']:>7,}" for c in d["classes"]]
        head = f"  {'class':<{width}}  {'train':>7}  {'val':>7}"
        tail = [f"warning: {w}" for w in d["warnings"]]
        return "\n".join([f"wrote {d['manifest']} (train {d['train']:,}, val {d['val']:,})", head,
                          *rows, *tail])

    return data, human


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``datasets``, ``fetch``, ``scan`` and ``split`` to the ``filterscope`` parser."""
    from filterscope.core.base.settings import add_flag
    from filterscope.core.data.split_settings import SplitSettings

    datasets = sub.add_parser("datasets", help="list the built-in datasets")
    datasets.add_argument("--json", action="store_true", help="print one JSON document")
    datasets.set_defaults(handler=cmd_datasets)

    fetch = sub.add_parser("fetch", help="download a built-in dataset (mnist-full, plant-seedlings)")
    fetch.add_argument("id", help="built-in dataset id, see `filterscope datasets`")
    fetch.add_argument("--from", dest="source", metavar="URL_OR_FILE",
                       help="a mirror address, or a local copy of the archive (offline machines)")
    fetch.add_argument("--json", action="store_true", help="print one JSON document")
    fetch.set_defaults(handler=cmd_fetch)

    scan = sub.add_parser("scan", help="list classes, counts, image sizes and problems of a folder")
    scan.add_argument("dir", help="dataset folder with one sub-folder per class (or train/, val/, "
                      "test/ folders of them), or a built-in id such as mnist")
    scan.add_argument("--json", action="store_true", help="print one JSON document")
    scan.set_defaults(handler=cmd_scan)

    split = sub.add_parser("split", help="write a stratified validation split manifest "
                           "(never moves a file)")
    split.add_argument("dir", help="dataset folder with one sub-folder per class")
    size = split.add_mutually_exclusive_group(required=True)
    add_flag(size, SplitSettings, "val_per_class")
    add_flag(size, SplitSettings, "val_fraction")
    add_flag(split, SplitSettings, "seed")
    split.add_argument("--out", required=True, metavar="MANIFEST.json", help="manifest to write")
    split.add_argument("--json", action="store_true", help="print one JSON document")
    split.set_defaults(handler=cmd_split)
