"""Headless commands, one per job of the app; ``filterscope`` with no command opens the GUI.

Every command prints a human summary, or one JSON document with ``--json``. Progress goes to
stderr through tqdm (silent when stderr is not a terminal). Exit codes: 0 success, 1 the job
failed (message on stderr, one line), 2 bad arguments.
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
from typing import TYPE_CHECKING, Any, Callable, Sequence

from tqdm import tqdm

from filterscope import __version__

if TYPE_CHECKING:
    from filterscope.core.datasets import Dataset


class TqdmReport:
    """The Report protocol on a tqdm bar (on stderr)."""

    def __init__(self, description: str) -> None:
        self._bar = tqdm(total=1000, desc=description, unit="‰", file=sys.stderr,
                         disable=None, leave=False, bar_format="{desc}: {percentage:3.0f}%|{bar}| {postfix}")

    def progress(self, fraction: float, message: str = "") -> None:
        """Move the bar to ``fraction`` and show ``message``."""
        self._bar.n = int(1000 * min(max(fraction, 0.0), 1.0))
        self._bar.set_postfix_str(message, refresh=True)

    def partial(self, payload: Any) -> None:
        """The CLI reports results at the end, not piecemeal."""

    def close(self) -> None:
        """Remove the bar."""
        self._bar.close()


class CommandError(Exception):
    """A failure to report as one line and exit status 1."""


def run_job(description: str, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Run a core job in the foreground with a progress bar; Ctrl+C cancels it cleanly."""
    report = TqdmReport(description)
    try:
        return fn(*args, report=report, cancel=threading.Event(), **kwargs)
    finally:
        report.close()


def _emit(args: argparse.Namespace, data: Any, human: Callable[[Any], str]) -> None:
    # A redirected stdout on Windows is cp1252: a class named "Ünïcødé 植物" must not crash the
    # command after the job is done. JSON falls back to \u escapes, text to backslash escapes.
    utf8 = (getattr(sys.stdout, "encoding", None) or "").lower().replace("-", "") == "utf8"
    if not utf8 and hasattr(sys.stdout, "reconfigure"):
        sys.stdout.reconfigure(errors="backslashreplace")
    if args.json:
        json.dump(data, sys.stdout, indent=2, ensure_ascii=not utf8)
        sys.stdout.write("\n")
    else:
        print(human(data))


def _open(source: str) -> "Dataset":
    from filterscope.core.builtin import BuiltinUnavailable
    from filterscope.core.datasets import DatasetError
    from filterscope.core.sources import open_source

    try:
        return run_job("Scanning", open_source, source)
    except (DatasetError, BuiltinUnavailable) as exc:
        raise CommandError(str(exc)) from exc


def cmd_datasets(args: argparse.Namespace) -> tuple[list, Callable[[Any], str]]:
    """``filterscope datasets``: the built-in datasets and whether they are here."""
    from dataclasses import asdict

    from filterscope.core.sources import builtin_infos

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
    from filterscope.core.builtin import BuiltinUnavailable
    from filterscope.core.download import DownloadError
    from filterscope.core.sources import fetch_source

    try:
        source = run_job("Downloading", fetch_source, args.id, url=args.source)
    except (DownloadError, BuiltinUnavailable) as exc:
        raise CommandError(str(exc)) from exc
    return {"source": source}, lambda d: f"ready: {d['source']}"


def _human_scan(summary: dict) -> str:
    lines = [f"{summary['name']}: {summary['total']:,} images in {len(summary['classes'])} classes"]
    width = max((len(c["name"]) for c in summary["classes"]), default=0)
    lines += [f"  {c['name']:<{width}}  {c['count']:>7,}" for c in summary["classes"]]
    sizes = summary["sizes"]
    if sizes.get("known"):
        lines.append(
            f"sizes: {sizes['min_width']}-{sizes['max_width']} x {sizes['min_height']}-"
            f"{sizes['max_height']} px, most common {sizes['most_common'][0]}x"
            f"{sizes['most_common'][1]} ({sizes['most_common_count']:,} images)")
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
    """``filterscope scan DIR``: classes, counts, sizes, problems."""
    return _open(args.dir).summary(), _human_scan


def cmd_split(args: argparse.Namespace) -> tuple[dict, Callable[[Any], str]]:
    """``filterscope split DIR``: write a stratified, seeded validation manifest."""
    from filterscope.core.fileio import refuse_inside
    from filterscope.core.splits import make_split, save_manifest

    dataset = _open(args.dir)
    try:
        if dataset.root is not None:
            refuse_inside(args.out, dataset.root)
        manifest = make_split(dataset, val_per_class=args.val_per_class,
                              val_fraction=args.val_fraction, seed=args.seed)
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


def _load_preset(preset: str):
    from filterscope.core.masking import builtin_preset, load_params

    is_file = preset.lower().endswith(".json") or any(sep in preset for sep in "/\\")
    return load_params(preset) if is_file else builtin_preset(preset)


def _human_mask(d: dict) -> str:
    mean = "" if d["mean_kept"] is None else f"; mean kept {d['mean_kept']:.1%}"
    lines = [f"{d['out']}: {d['written']:,} written, {d['skipped']:,} done before, "
             f"{len(d['failed']):,} failed of {d['total']:,}{mean}"]
    width = max((len(i["path"]) for i in d["images"][:50]), default=5)
    if d["images"]:
        lines.append(f"  {'image':<{width}}  {'kept':>6}")
        lines += [f"  {i['path']:<{width}}  {i['kept']:>6.1%}" for i in d["images"][:50]]
    if len(d["images"]) > 50:
        lines.append(f"  ... and {len(d['images']) - 50:,} more (use --json for all)")
    lines += [f"failed: {f['path']}: {f['reason']}" for f in d["failed"]]
    return "\n".join(lines)


def cmd_mask(args: argparse.Namespace) -> tuple[dict, Callable[[Any], str]]:
    """``filterscope mask SRC --out OUT``: masked PNG copies of an image or a dataset folder."""
    from dataclasses import replace

    from filterscope.core.datasets import DatasetError
    from filterscope.core.images import ImageReadError
    from filterscope.core.mask_batch import mask_path

    try:
        params = _load_preset(args.preset)
        if args.output:
            params = replace(params, output=args.output)
        result = run_job("Masking", mask_path, args.src, args.out, params, workers=args.workers)
    except (ValueError, OSError, ImageReadError, DatasetError) as exc:  # MaskParamsError, MaskBatchError
        raise CommandError(str(exc)) from exc
    return result.to_json(), _human_mask


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1 (got {value})")
    return value


def _fraction(text: str) -> float:
    value = float(text)
    if not 0 < value < 1:
        raise argparse.ArgumentTypeError(f"must be between 0 and 1 (got {value})")
    return value


def _register(sub: argparse._SubParsersAction) -> None:
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
    scan.add_argument("dir", help="dataset folder with one sub-folder per class, "
                      "or a built-in id such as mnist")
    scan.add_argument("--json", action="store_true", help="print one JSON document")
    scan.set_defaults(handler=cmd_scan)

    split = sub.add_parser("split", help="write a stratified validation split manifest "
                           "(never moves a file)")
    split.add_argument("dir", help="dataset folder with one sub-folder per class")
    size = split.add_mutually_exclusive_group(required=True)
    size.add_argument("--val-per-class", type=_positive_int, metavar="N",
                      help="N validation images per class (the chapter uses 12)")
    size.add_argument("--val-fraction", type=_fraction, metavar="F",
                      help="fraction of each class for validation, e.g. 0.2")
    split.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    split.add_argument("--out", required=True, metavar="MANIFEST.json", help="manifest to write")
    split.add_argument("--json", action="store_true", help="print one JSON document")
    split.set_defaults(handler=cmd_split)

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
    mask.add_argument("--workers", type=_positive_int, default=2, help="threads (default 2)")
    mask.add_argument("--json", action="store_true", help="print one JSON document")
    mask.set_defaults(handler=cmd_mask)

    from filterscope import cli_augment, cli_train

    cli_augment.register(sub)
    cli_train.register(sub)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with one sub-command per job."""
    parser = argparse.ArgumentParser(
        prog="filterscope",
        description="Filterscope: ConvNets for computer vision, as a desktop tool. "
        "Run without a command to open the app.",
    )
    parser.add_argument("--version", action="version", version=f"filterscope {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    _register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``filterscope`` console script."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv:
        from filterscope.app import main as gui_main

        return gui_main()
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    try:
        data, human = args.handler(args)
    except CommandError as exc:
        print(f"filterscope {args.command}: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"filterscope {args.command}: cancelled", file=sys.stderr)
        return 130
    try:
        _emit(args, data, human)
    except BrokenPipeError:  # `filterscope scan DIR | head`: the reader left, that is fine
        sys.stderr.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
