"""``filterscope export RUN --format onnx|tflite|savedmodel --out PATH``: a run's model for use
outside the app, verified in its own runtime before it is written (core/export)."""

from __future__ import annotations

import argparse
from typing import Any, Callable

from filterscope.cli.common import CommandError, run_job
from filterscope.core.export.manifest import MODEL_FORMATS


def human(d: dict) -> str:
    """The summary a person reads: what was written, how it was verified, how long it took."""
    m, check = d["manifest"], d["manifest"]["verification"]
    lines = [f"wrote {d['path']} ({m['model_format']}, {d['size_bytes'] / 1e6:.2f} MB) and {d['sidecar']}",
             f"verified in {check['runtime']} {check['runtime_version']} on {check['images']}: classes "
             f"identical, largest probability difference {check['max_abs_diff']:.2g} (at most "
             f"{check['tolerance']:g})",
             f"input {m['input_name']!r}: float32 {m['input']['size'][0]} x {m['input']['size'][1]} x "
             f"{m['input']['channels']}, {m['input']['preprocessing']} scaling"
             f"{', masked' if m['input']['mask'] else ''}; output {m['output_name']!r}: "
             f"{len(m['classes'])} class probabilities",
             f"took {d['seconds']['convert']:.1f} s to write, {d['seconds']['verify']:.1f} s to verify"]
    return "\n".join(lines + [f"note: {n}" for n in d["notes"]])


def cmd_export(args: argparse.Namespace) -> tuple[dict, Callable[[Any], str]]:
    """``filterscope export``: write and verify the export, or fail with nothing written."""
    from filterscope.core.export.export import ExportError, export_model
    from filterscope.core.results.policy import PolicyError
    from filterscope.core.training.saved_model import ModelLoadError

    try:
        result = run_job("Export", export_model, args.run, args.format, args.out, which=args.model,
                         overwrite=args.overwrite)
    except (ExportError, ModelLoadError, PolicyError, OSError) as exc:
        raise CommandError(str(exc)) from exc
    return result.to_json(), human


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``export`` to the ``filterscope`` parser."""
    cmd = sub.add_parser("export", help="export a run's model as ONNX, TFLite or a SavedModel, "
                         "verified in its own runtime, with a sidecar saying how to feed it")
    cmd.add_argument("run", help="run folder (or its best.keras / last.keras)")
    cmd.add_argument("--format", required=True, choices=MODEL_FORMATS, help="the model format")
    cmd.add_argument("--out", required=True, metavar="PATH", help="the model file (a folder for "
                     "savedmodel); PATH.filterscope.json is written beside it")
    cmd.add_argument("--model", choices=("best", "last"), default="best",
                     help="the run's best (default) or last model")
    cmd.add_argument("--overwrite", action="store_true", help="replace an export at PATH")
    cmd.add_argument("--json", action="store_true", help="print one JSON document")
    cmd.set_defaults(handler=cmd_export)
