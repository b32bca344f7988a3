"""``filterscope capture --source 0|VIDEO --class NAME --frames N --out DATASET``: capture frames
of a camera or a video file as one class of a capture folder, as the Live tab's capture panel
does.

OUT is created as a capture folder (a dataset with one folder per class and Filterscope's
marker); later captures append to it, one class at a time. A folder that already holds anything
else, such as a dataset, is refused: frames never go into one. ``--train --runs RUNS_DIR`` then
trains on the folder as the panel's Train button does (a head on EfficientNet-Lite0's cached
features, or with ``--model convnet`` the small ConvNet); ``filterscope train --data OUT`` trains
it like any dataset.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any, Callable

from filterscope.cli.common import CommandError, positive_int, run_job
from filterscope.core.base.formats import percent
from filterscope.core.base.settings import add_flag
from filterscope.core.live.capture_train import CaptureSettings

DEFAULT_FRAMES = 50


def _human(d: dict) -> str:
    counts = ", ".join(f"{name} {n}" for name, n in d["counts"].items())
    lines = [f"{d['folder']}: saved {d['saved']} frame(s) of {d['class']} (frames per class: {counts})"]
    if d["note"]:
        lines.append(f"note: {d['note']}")
    run = d.get("run")
    if run:
        lines.append(f"trained: {run['run_dir']} ({run['model']}, {run['epochs_run']} epoch(s))")
        if run["best_val_accuracy"] is not None:
            lines.append(f"best: epoch {run['best_epoch']}, validation accuracy "
                         f"{percent(run['best_val_accuracy'])} (best.keras)")
    return "\n".join(lines)


def _train(args: argparse.Namespace, folder: Path) -> dict:
    """Train on the capture folder as the panel's Train button does; the run's summary."""
    from filterscope.cli.train import epoch_line
    from filterscope.core.live.capture_train import RECIPES, model_used, train_capture

    settings = CaptureSettings(**{name: value for name in ("model", "epochs", "val_fraction")
                                  if (value := getattr(args, name)) is not None})
    model = model_used(settings)
    epochs = settings.epochs or RECIPES[model].epochs
    result = run_job("Training", train_capture, folder, Path(args.runs), settings,
                     lines=lambda payload: epoch_line(payload, epochs))
    best = result.history[result.best_epoch - 1] if result.best_epoch else {}
    return {"run_dir": str(result.run_dir), "model": model, "epochs_run": result.epochs_run,
            "best_epoch": result.best_epoch, "best_val_accuracy": best.get("val_accuracy"),
            "classes": result.classes}


def cmd_capture(args: argparse.Namespace) -> tuple[dict, Callable[[Any], str]]:
    """``filterscope capture``: save frames of a source as one class, then train when asked."""
    from filterscope.core.live.capture import CaptureError, capture
    from filterscope.core.live.video import SourceError, parse_source
    from filterscope.core.training.runs import TrainingError

    if args.train and args.runs is None:
        args.parser.error("--train needs --runs RUNS_DIR: the folder the run is saved in")
    try:
        source = parse_source(args.source)
        result = run_job("Capturing", capture, source, args.class_name, args.frames, Path(args.out))
        data = result.to_json()
        if args.train:
            data["run"] = _train(args, result.folder)
    except (CaptureError, SourceError, OSError, ValueError, TrainingError) as exc:
        # ValueError: a run spec's, a split's or a weights file's errors
        raise CommandError(str(exc)) from exc
    return data, _human


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``capture`` command to the ``filterscope`` parser."""
    p = sub.add_parser("capture", help="capture frames of a camera or video file as one class of a "
                       "new dataset (a capture folder), and train on it")
    p.add_argument("--source", required=True, metavar="0|VIDEO",
                   help="a camera index (0 is the first camera) or a video file")
    p.add_argument("--class", dest="class_name", required=True, metavar="NAME",
                   help="the class the frames are saved as (its folder's name)")
    p.add_argument("--frames", type=positive_int, default=DEFAULT_FRAMES, metavar="N",
                   help=f"frames to save (default {DEFAULT_FRAMES}; fewer when a video ends first)")
    p.add_argument("--out", required=True, metavar="DATASET",
                   help="the capture folder: created when new, appended to when made by an earlier "
                   "capture; any other folder that holds files is refused")
    p.add_argument("--train", action="store_true",
                   help="then train on the folder's classes as the capture panel does")
    p.add_argument("--runs", metavar="RUNS_DIR", help="with --train: the runs folder")
    for name in ("model", "epochs", "val_fraction"):
        add_flag(p, CaptureSettings, name, help_extra="With --train")
    p.add_argument("--json", action="store_true", help="print one JSON document")
    p.set_defaults(handler=cmd_capture, parser=p)
