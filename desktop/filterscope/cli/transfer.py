"""``filterscope features`` and ``filterscope weights``: pretrained bases from the shell.

``features`` runs a frozen base over a dataset once and keeps its features in a cache folder, so
that ``filterscope train --cache-features --cache-dir DIR`` trains heads on them in seconds per
epoch; an interrupted run resumes. ``weights`` says where each base's ImageNet weights are (or
which file to put where), where they can come from (a Python package, Keras's cache, a file,
a download), their size and licence, and downloads them only when asked (``--download``).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any, Callable

from filterscope.cli.common import CommandError, run_job
from filterscope.cli.train import (
    add_base_arguments,
    data_spec_arg,
    image_size_arg,
    with_base_options,
)
from filterscope.core.training.base_spec import BASE_NAMES, DISPLAY, base_templates


def _human_features(d: dict) -> str:
    rate = f", {d['images_per_second']:.1f} images/s" if d["images_per_second"] else ""
    lines = [f"features: {d['path']}",
             f"{d['images']:,} images -> {'x'.join(map(str, d['feature_shape']))} each "
             f"({d['bytes'] / 1e6:.1f} MB); {d['reused']:,} cached already, {d['computed']:,} computed "
             f"now in {d['seconds']:.1f} s{rate}",
             f"weights: {d['key']['weights']['choice']}"
             + (f" ({d['key']['weights']['file']})" if d["key"]["weights"].get("file") else "")]
    lines += [f"note: {n}" for n in d["notes"]]
    lines += [f"skipped {s['path']}: {s['reason']}" for s in d["skipped"]]
    return "\n".join(lines)


def cmd_features(args: argparse.Namespace) -> tuple[dict, Callable[[Any], str]]:
    """``filterscope features``: fill a feature cache."""
    from filterscope.core.training.data_spec import PipelineError
    from filterscope.core.training.model_spec import ModelSpecError
    from filterscope.core.transfer.run import extract_features

    args.chain = None  # features are of the images as they are: never augmented
    try:
        model = with_base_options(base_templates()[args.model], args)
        result = run_job("Features", extract_features, data_spec_arg(args), model, Path(args.out),
                         batch_size=args.batch_size, **({} if args.seed is None else {"seed": args.seed}))
    except ModelSpecError as exc:
        raise CommandError(exc.message if exc.field == "input_shape" else str(exc)) from exc
    except (ValueError, PipelineError) as exc:  # WeightsError, FeatureCacheError, MaskParamsError
        raise CommandError(str(exc)) from exc
    return result.to_json(), _human_features


def _human_weights(d: dict) -> str:
    lines = []
    for row in d["bases"]:
        if row["found"]:
            origin = f"package {row['package']['package']} {row['package']['version']}" \
                if row["origin"] == "package" else row["origin"]
            where = f"{row['file']} ({origin}, {row['size'] / 1e6:.1f} MB, {row['licence']})"
        else:
            where = row["message"]
        lines.append(f"{DISPLAY[row['base']]}: {where}")
        lines.append("  can come from: " + "; ".join(f"{k} {v}" for k, v in row["sources"].items()))
    if d.get("downloaded"):
        lines.append(f"downloaded: {d['downloaded']}")
    return "\n".join(lines)


def cmd_weights(args: argparse.Namespace) -> tuple[dict, Callable[[Any], str]]:
    """``filterscope weights``: where each base's ImageNet weights are; ``--download`` gets them."""
    from filterscope.core.data.download import DownloadError
    from filterscope.core.transfer.weights import LICENCE, WeightsError, download_weights, find_weights

    names = [args.base] if args.base else list(BASE_NAMES)
    downloaded = None
    if args.download:
        if not args.base:
            args.parser.error("--download needs a BASE (vgg16 or mobilenetv2)")
        try:
            downloaded = str(run_job("Downloading", download_weights, args.base, url=args.source).file)
        except (DownloadError, WeightsError) as exc:
            raise CommandError(str(exc)) from exc
    rows = []
    for name in names:
        row = {"base": name, "licence": LICENCE[name], "sources": _sources(name)}
        try:
            source = find_weights(name, "imagenet")
            record = source.to_json()
            rows.append({**row, "found": True, "file": record["file"], "origin": source.origin,
                         "size": record["size"], **({"package": record["package"]} if source.package else {})})
        except WeightsError as exc:
            rows.append({**row, "found": False, "file": None, "message": str(exc)})
    return {"bases": rows, "downloaded": downloaded}, _human_weights


def _sources(name: str) -> dict[str, str]:
    """Where a base's ImageNet weights can come from, in the order they are looked for."""
    from filterscope.core.training.lite_spec import VARIANTS
    from filterscope.core.transfer.weights import download_url, keras_models_dir, standard_files

    if name in VARIANTS:
        return {"package": f"{VARIANTS[name].distribution} (installed with pip; converted once, offline)"}
    return {"cache": str(keras_models_dir() / standard_files(name)[0]),
            "file": "picked in the app or given with --weights (remembered once it loads)",
            "download": f"{download_url(name)} (only with --download)"}


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``features`` and ``weights`` to the ``filterscope`` parser."""
    from filterscope.core.base.settings import add_flag, declared_default
    from filterscope.core.training.model_input import FITTED_SIZE_RULE
    from filterscope.core.training.runs import RunSpec

    p = sub.add_parser("features", help="cache a pretrained base's features of a dataset")
    p.add_argument("--data", required=True, metavar="mnist|DIR|MANIFEST.json",
                   help="the dataset, as for `filterscope train`")
    p.add_argument("--model", required=True, choices=BASE_NAMES, help="the base")
    add_base_arguments(p)
    p.add_argument("--image-size", type=image_size_arg, metavar="SIZE|HxW",
                   help=f"resize images to this. {FITTED_SIZE_RULE}")
    p.add_argument("--mask", metavar="PRESET|FILE.json", help="mask preset applied to every image")
    add_flag(p, RunSpec, "batch_size", help_extra="Here: images per forward pass",
             default=declared_default(RunSpec, "batch_size"))
    add_flag(p, RunSpec, "seed", help_extra="Here it seeds random weights, as `train --seed` does")
    p.add_argument("--out", required=True, metavar="CACHE_DIR",
                   help="the cache folder (give it to `train --cache-features --cache-dir`)")
    p.add_argument("--json", action="store_true", help="print one JSON document")
    p.set_defaults(handler=cmd_features, parser=p)

    w = sub.add_parser("weights", help="where the pretrained bases' ImageNet weights are; download them")
    w.add_argument("base", nargs="?", choices=BASE_NAMES, help="one base (default: all)")
    w.add_argument("--download", action="store_true",
                   help="download the base's ImageNet weights into Keras's cache (needs a network)")
    w.add_argument("--from", dest="source", metavar="URL_OR_FILE",
                   help="with --download: a mirror or a local copy of the file")
    w.add_argument("--json", action="store_true", help="print one JSON document")
    w.set_defaults(handler=cmd_weights, parser=w)
