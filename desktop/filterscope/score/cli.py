"""The ``filterscope-score`` command: ``filterscope-score MODEL.onnx IMAGE|DIR --out PREDICTIONS.csv``.

The conventions of ``filterscope predict``: ``--out`` (needed for a folder, never inside it),
``--overwrite``, ``--top-k``, ``--threshold``, ``--costs``, ``--json``; exit status 0 when done,
1 for an error (one line naming the file and why), 2 for a usage error, 130 when cancelled.
``--self-test`` checks an installed bundle (:mod:`filterscope.score.selftest`).
"""

from __future__ import annotations

import argparse
import sys
from typing import Sequence

from filterscope import __version__
from filterscope.cli.common import CommandError, emit, run_job

SELF_TEST_FLAG = "--self-test"


def build_parser() -> argparse.ArgumentParser:
    """The ``filterscope-score`` parser."""
    p = argparse.ArgumentParser(prog="filterscope-score", description="Score images with a model exported "
                                "by `filterscope export` (ONNX Runtime; no TensorFlow): the same "
                                "predictions CSV as `filterscope predict`.")
    p.add_argument("model_path", metavar="MODEL.onnx", help="an exported model, with its "
                   "MODEL.onnx.filterscope.json manifest beside it")
    p.add_argument("target", metavar="IMAGE|DIR", help="one image, or a folder (searched with its sub-folders)")
    p.add_argument("--out", metavar="PREDICTIONS.csv", help="write one row per image here (needed for a "
                   "folder; never inside it), and the audit record beside it in PREDICTIONS.csv.json")
    p.add_argument("--overwrite", action="store_true", help="replace an existing PREDICTIONS.csv (without "
                   "it, an existing file is refused before the model runs)")
    p.add_argument("--top-k", type=int, default=None, metavar="K", help="classes listed per row "
                   "(default: as `filterscope predict`)")
    p.add_argument("--threshold", type=float, metavar="T", help="needs review below this calibrated "
                   "confidence (0-1), instead of the export's")
    p.add_argument("--costs", metavar="COSTS.json", help="error costs instead of the export's: "
                   '{"classes": [...], "matrix": [[...]]}, rows the true class, columns the class answered')
    p.add_argument("--cluster", metavar="ADDRESS|local:N", help="score on a Dask cluster: a scheduler's "
                   "address (tcp://host:8786; the model and images at the same paths on every worker) "
                   "or local:N to start N worker processes on this machine (needs filterscope[cluster])")
    p.add_argument("--json", action="store_true", help="print one JSON document")
    p.add_argument("--version", action="version", version=f"filterscope-score {__version__}")
    return p


def _human(d: dict) -> str:
    from filterscope.core.results.audit import sidecar_path

    lines = [f"model: {d['model']}", *(f"note: {n}" for n in d["notes"])]
    rows = d["rows"]
    if len(rows) == 1 and rows[0]["error"] is None:
        top = rows[0]["top"]
        lines.append(f"{rows[0]['path']}: " + ", ".join(f"{t['class']} {t['probability']:.1%}" for t in top)
                     + f"; decision: {rows[0]['decision']}")
    else:
        failed = f"; {d['n_failed']:,} could not be read" if d["n_failed"] else ""
        lines.append(f"scored {d['n_images']:,} of {len(rows):,} image(s){failed}")
        lines += [f"  {c}: {n:,}" for c, n in d["decisions"].items() if n]
        lines += [f"  could not read {r['path']}: {r['error']}" for r in rows if r["error"]][:20]
    if d["out"]:
        lines.append(f"wrote {d['out']} (one row per image); audit: {sidecar_path(d['out'])}")
    return "\n".join(lines)


def _run(args: argparse.Namespace, parser: argparse.ArgumentParser) -> dict:
    from pathlib import Path

    from filterscope.core.results.decisions import CostsError, read_costs
    from filterscope.core.results.targets import PredictError, check_output
    from filterscope.score.cluster import ClusterError
    from filterscope.score.onnx_model import ModelError, open_onnx
    from filterscope.score.score import DEFAULT_TOP_K, score

    if args.out is None and Path(args.target).is_dir():
        parser.error("a folder needs --out PREDICTIONS.csv")
    if args.threshold is not None and not 0.0 <= args.threshold <= 1.0:
        parser.error(f"--threshold: a calibrated confidence from 0 to 1, not {args.threshold}")
    try:
        if args.out is not None:  # an existing CSV is refused before any model is loaded
            check_output(args.out, args.target, overwrite=args.overwrite)
        opened = open_onnx(args.model_path)
        extra = {} if args.threshold is None else {"threshold": args.threshold}
        if args.costs is not None:
            extra["costs"] = read_costs(args.costs, list(opened.manifest.classes))
        extra.update(out=args.out, opened=opened, overwrite=args.overwrite,
                     top_k=DEFAULT_TOP_K if args.top_k is None else args.top_k)
        if args.cluster is None:
            result = run_job("Scoring", score, args.model_path, args.target, **extra)
        else:
            from filterscope.score.cluster import connect, score_on_cluster

            with connect(args.cluster) as client:
                result = run_job("Scoring on the cluster", score_on_cluster, args.model_path, args.target,
                                 client=client, **extra)
    except (ModelError, PredictError, CostsError, ClusterError) as exc:
        raise CommandError(str(exc)) from exc
    except OSError as exc:
        raise CommandError(f"cannot write {args.out}: {exc.strerror or exc}") from exc
    return result.to_json()


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``filterscope-score`` console script."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if SELF_TEST_FLAG in argv:
        from filterscope.score.selftest import run_self_test

        return run_self_test()
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        data = _run(args, parser)
    except CommandError as exc:
        print(f"filterscope-score: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("filterscope-score: cancelled", file=sys.stderr)
        return 130
    try:
        emit(args, data, _human)
    except BrokenPipeError:
        sys.stderr.close()
    return 0
