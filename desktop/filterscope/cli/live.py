"""``filterscope live --source 0|VIDEO``: a camera or a video predicted frame by frame, as the
Live tab does, the predictions written to ``DIR/predictions.csv`` (for scripts and tests).

Every frame is processed in order (no frame is dropped, unlike the tab playing a video in real
time), so the CSV is the same on a fast and a slow machine.
"""

from __future__ import annotations

import argparse
from typing import Any, Callable

from filterscope.cli.common import CommandError, positive_int, run_job

DEFAULT_MODEL = "efficientnet-lite0"


class _Rows:
    """Keeps each frame's row (not its pixels, which a long video would pile up) as the job
    reports it; as ``run_job``'s ``lines`` it prints nothing per frame."""

    def __init__(self) -> None:
        self.rows: list[dict] = []

    def __call__(self, frame: Any) -> None:
        self.rows.append(frame.row())
        return None


def _human(d: dict) -> str:
    lines = [f"source: {d['source']}", f"model: {d['model']}" + (f" ({d['note']})" if d["note"] else ""),
             f"frames: {d['frames']:,} in {d['seconds']:.1f} s ({d['fps']:.1f} per second)"]
    lines += [f"  {name}: {count:,} frame(s)" for name, count in d["counts"].items()]
    if d["out"]:
        lines.append(f"wrote {d['out']} (one row per frame)")
    return "\n".join(lines)


def _counts(rows: list[dict]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for row in rows:
        counts[row["predicted"]] = counts.get(row["predicted"], 0) + 1
    return dict(sorted(counts.items(), key=lambda kv: -kv[1]))


def cmd_live(args: argparse.Namespace) -> tuple[dict, Callable[[Any], str]]:
    """``filterscope live``: predict the frames of a camera or a video file."""
    from filterscope.core.live.loop import TOP_K, run_live
    from filterscope.core.live.model import open_live_model
    from filterscope.core.live.record import PREDICTIONS_FILE, OutputError, check_folder, dataset_folder, \
        write_predictions
    from filterscope.core.live.video import Camera, SourceError, open_source, parse_source
    from filterscope.core.visualize.layers import VisualizeError

    try:
        source = parse_source(args.source)
        if isinstance(source, Camera) and args.frames is None:
            args.parser.error("a camera needs --frames N (a video stops at its end)")
        open_source(source).release()  # a missing camera or file is said before the model loads
        model = run_job("Loading the model", open_live_model, args.run)
        out = None if args.out is None else check_folder(args.out, [dataset_folder(model)])
        if out is not None and (out / PREDICTIONS_FILE).exists() and not args.overwrite:
            raise OutputError(f"{out / PREDICTIONS_FILE}: the file exists; choose another folder or "
                              "overwrite it (--overwrite)")
        rows = _Rows()
        summary = run_job("Predicting frames", run_live, source, model, frames=args.frames, lines=rows)
        written = None if out is None else write_predictions(out, rows.rows, TOP_K)
    except (SourceError, VisualizeError, OutputError) as exc:
        raise CommandError(str(exc)) from exc
    except OSError as exc:
        raise CommandError(f"cannot write {args.out}: {exc.strerror or exc}") from exc
    data = {**summary.to_json(), "note": "; ".join(model.notes), "classes": len(model.classes),
            "counts": _counts(rows.rows), "out": None if written is None else str(written),
            "rows": rows.rows}
    return data, _human


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``live`` command to the ``filterscope`` parser."""
    p = sub.add_parser("live", help="predict the frames of a camera or a video file, as the Live tab does")
    p.add_argument("--source", required=True, metavar="0|VIDEO",
                   help="a camera's number (0 is the first) or a video file")
    p.add_argument("--run", default=DEFAULT_MODEL, metavar="RUN_DIR|MODEL.keras|IMAGENET_MODEL",
                   help=f"a run folder, a .keras file or an ImageNet model (default: {DEFAULT_MODEL}, "
                   "whose weights come with the app)")
    p.add_argument("--frames", type=positive_int, metavar="N",
                   help="stop after N frames (needed for a camera; a video stops at its end)")
    p.add_argument("--out", metavar="DIR", help="write DIR/predictions.csv (frame, predicted, confidence, "
                   "calibrated_confidence, class_k, probability_k); never inside the run's dataset folder")
    p.add_argument("--overwrite", action="store_true", help="replace an existing DIR/predictions.csv")
    p.add_argument("--json", action="store_true", help="print one JSON document (with every frame's row)")
    p.set_defaults(handler=cmd_live, parser=p)
