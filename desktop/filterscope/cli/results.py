"""``filterscope evaluate RUN_DIR`` and ``filterscope predict MODEL TARGET``: a run's results.

``evaluate`` scores a run's model on held-out images (its validation images, a ``test/`` folder,
another folder with its classes, or a manifest) through the run's own preprocessing, prints the
accuracy next to the majority baseline, the per-class table, the confusion matrix and the
warnings, and saves the result beside the run (``evaluations/<name>.json`` and ``.csv``).
``predict`` writes one CSV row per image of a folder (or prints one image's top classes), with a
run's model or an ImageNet model (``efficientnet-lite0``, ``vgg16``: ImageNet's classes by name).
"""

from __future__ import annotations

import argparse
from typing import Any, Callable

from filterscope.cli.common import CommandError, run_job
from filterscope.core.base.formats import percent

SHOWN = 10  # unreadable files listed by name in the human output
ALL_COUNTS = 50  # a model with more classes (ImageNet's 1,000) lists only the classes predicted


def _skipped(lines: list[str], skipped: list[dict], what: str) -> None:
    if skipped:
        lines.append(f"{what} {len(skipped)} unreadable file(s):")
        lines += [f"  {x['path']}: {x['reason']}" for x in skipped[:SHOWN]]
        if len(skipped) > SHOWN:
            lines.append(f"  ... and {len(skipped) - SHOWN} more")


def _human_evaluation(d: dict) -> str:
    from filterscope.core.results.intervals import Interval, intervals_from_json, with_interval
    from filterscope.core.results.metrics import Baseline, accuracy_sentence, matrix_labels
    from filterscope.core.results.judgement import Judgement
    from filterscope.core.results.tta import tta_sentence

    base, classes = Baseline.from_json(d["majority_baseline"]), d["classes"]
    intervals = intervals_from_json(d.get("intervals")) or {}
    macro_f1 = intervals.get("macro_f1")
    epoch = f" (epoch {d['epoch']})" if d["epoch"] else ""
    lines = [f"run: {d['run_dir']}, {d['model']}.keras{epoch}",
             f"images: {d['set']['description']}: {d['n_images']:,} evaluated",
             accuracy_sentence(d["accuracy"], intervals.get("accuracy"), base),
             f"balanced accuracy {with_interval(d['balanced_accuracy'], intervals.get('balanced_accuracy'))}"
             + (f", macro-F1 {macro_f1.describe()}" if macro_f1 else "")]
    if d.get("tta"):
        lines.append(tta_sentence(d["tta"]))
    if (leaks := d.get("without_near_copies")) and leaks["accuracy"] is not None:
        lines.append(f"without the {leaks['n_removed']:,} test photos with a near-copy in training: "
                     f"accuracy {Interval.from_json(leaks['interval']).describe()}")
    judgement = Judgement.from_json(d, classes)
    if judgement is not None:
        lines += judgement.lines(base.name)
    lines.append("")
    width = max(len("class"), *(len(c) for c in classes))
    lines.append(f"{'class':<{width}}  {'precision':>9}  {'recall':>8}  {'F1':>8}  {'support':>7}  "
                 f"{'predicted':>9}")
    for c in d["per_class"]:
        lines.append(f"{c['class']:<{width}}  {percent(c['precision']):>9}  {percent(c['recall']):>8}  "
                     f"{percent(c['f1']):>8}  {c['support']:>7,}  {c['predicted']:>9,}")
    matrix = d["confusion_matrix"]["matrix"]
    heads = matrix_labels(classes)
    cell = max(4, *(len(f"{n:,}") for row in matrix for n in row), *(len(c) for c in heads.columns))
    label = max(len(r) for r in heads.rows)
    keyed = f", {heads.keyed}" if heads.keyed else ""
    lines += ["", f"confusion matrix (rows: true class; columns: predicted class{keyed})",
              f"{'':<{label}}  " + " ".join(f"{c:>{cell}}" for c in heads.columns)]
    for head, row in zip(heads.rows, matrix):
        lines.append(f"{head:<{label}}  " + " ".join(f"{n:>{cell},}" for n in row))
    for w in d["warnings"]:
        lines += ["", f"warning: {w['message']}", f"  try: {w['advice']}"]
    lines += [f"note: {n}" for n in d["notes"]]
    _skipped(lines, d["skipped"], "skipped")
    if d.get("saved"):
        lines.append(f"saved: {d['saved']} (+ {d['rows_csv']}, one row per image)")
    return "\n".join(lines)


def cmd_evaluate(args: argparse.Namespace) -> tuple[dict, Callable[[Any], str]]:
    """``filterscope evaluate``: score a run's model on labelled images and save the result."""
    from filterscope.core.results.eval_sets import EvalSetError
    from filterscope.core.results.evaluate import evaluate
    from filterscope.core.results.store import save_evaluation
    from filterscope.core.training.saved_model import ModelLoadError

    try:
        result = run_job("Evaluating", evaluate, args.run_dir, data=args.data, subset=args.subset,
                         which=args.model, tta=bool(args.tta), decisions=_decisions(args))
        saved = save_evaluation(result, out=args.out)
    except (ModelLoadError, EvalSetError, ValueError) as exc:
        raise CommandError(str(exc)) from exc
    except OSError as exc:
        raise CommandError(f"cannot save the evaluation: {exc.strerror or exc}") from exc
    data = {**result.to_json(), "saved": str(saved), "rows_csv": str(saved.with_suffix(".csv"))}
    return data, _human_evaluation


def _decisions(args: argparse.Namespace):
    """The run's saved policy with this command's ``--threshold`` and ``--costs`` in its place
    (None: the saved one as it is)."""
    from dataclasses import replace
    from pathlib import Path

    from filterscope.core.results.decisions import read_costs
    from filterscope.core.results.policy import Policy, check_threshold, load_policy

    if args.threshold is None and args.costs is None:
        return None
    folder = Path(getattr(args, "run_dir", None) or args.model_path)
    policy = load_policy(folder) if folder.is_dir() else Policy()
    if args.threshold is not None:
        policy = replace(policy, threshold=check_threshold(args.threshold), target_accuracy=None)
    if args.costs is not None:
        policy = replace(policy, costs=read_costs(args.costs))
    return policy


def _rule(d: dict) -> str:
    parts = ([f"needs review below {percent(d['threshold'])} calibrated confidence"]
             if d["threshold"] is not None else []) + (["error costs"] if d["costs"] is not None else [])
    return ", ".join(parts)


def _human_prediction(d: dict) -> str:
    from filterscope.core.results.audit import sidecar_path

    lines = [f"model: {d['model']}" + (" (test-time augmentation: probabilities averaged over "
                                        "its views)" if d["tta"] else "")]
    lines += [f"note: {n}" for n in d["notes"]]
    rows = d["rows"]
    if len(rows) == 1 and rows[0]["error"] is None:
        top = rows[0]["top"]
        others = ", ".join(f"{t['class']} {percent(t['probability'])}" for t in top[1:])
        lines.append(f"{rows[0]['path']}: {top[0]['class']} {percent(top[0]['probability'])}"
                     + (f" (then {others})" if others else ""))
        lines.append(f"calibrated confidence {percent(rows[0]['calibrated_confidence'])}; "
                     f"decision: {rows[0]['decision']}")
    else:
        failed = f"; {d['n_failed']:,} could not be read" if d["n_failed"] else ""
        lines.append(f"predicted {d['n_images']:,} of {len(rows):,} image(s){failed}")
        counts = {c: n for c, n in d["counts"].items() if n or len(d["counts"]) <= ALL_COUNTS}
        width = max(len(c) for c in counts)
        lines += [f"  {c:<{width}}  {n:>7,}" for c, n in counts.items()]
        if d["threshold"] is not None or d["costs"] is not None:
            lines.append(f"decisions ({_rule(d)}):")
            lines += [f"  {c:<{width}}  {n:>7,}" for c, n in d["decisions"].items() if n]
        _skipped(lines, [{"path": r["path"], "reason": r["error"]} for r in rows if r["error"]],
                 "could not read")
    if d["out"]:
        lines.append(f"wrote {d['out']} (one row per image)")
        lines.append(f"audit: {sidecar_path(d['out'])} (run, model SHA-256, threshold, costs, "
                     "app version, time)")
    return "\n".join(lines)


def cmd_predict(args: argparse.Namespace) -> tuple[dict, Callable[[Any], str]]:
    """``filterscope predict``: the model's classes for one image or a folder of images."""
    from pathlib import Path

    from filterscope.core.results.decisions import CostsError
    from filterscope.core.results.policy import PolicyError
    from filterscope.core.results.predict import predict
    from filterscope.core.results.targets import PredictError, check_output
    from filterscope.core.training.saved_model import ModelLoadError
    from filterscope.core.transfer.imagenet import imagenet_model, open_imagenet
    from filterscope.core.transfer.weights import WeightsError

    if args.out is None and Path(args.target).is_dir():
        args.parser.error("a folder needs --out PREDICTIONS.csv")
    name = imagenet_model(args.model_path)
    try:
        if args.out is not None:  # an existing CSV is refused before any model is loaded
            check_output(args.out, args.target, overwrite=args.overwrite)
        opened = None if name is None else run_job("Loading the model", open_imagenet, name)
        decisions = _decisions(args)
        result = run_job("Predicting", predict, args.model_path, args.target, out=args.out, decisions=decisions,
                         which=args.model, top_k=args.top_k, tta=bool(args.tta), opened=opened,
                         overwrite=args.overwrite)
    except (ModelLoadError, PredictError, WeightsError, PolicyError, CostsError) as exc:
        raise CommandError(str(exc)) from exc
    except OSError as exc:
        raise CommandError(f"cannot write {args.out}: {exc.strerror or exc}") from exc
    return result.to_json(), _human_prediction


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``evaluate`` and ``predict`` commands to the ``filterscope`` parser; ``--model``,
    ``--subset``, ``--tta`` and the others come from the Results tab's settings (:class:`EvaluateSettings`)."""
    from filterscope.core.base.settings import add_flag, declaration, declared_default
    from filterscope.core.results.settings import EvaluateSettings, share_help
    from filterscope.core.transfer.imagenet import imagenet_models

    p = sub.add_parser("evaluate", help="score a run's model on held-out images and save the result")
    p.add_argument("run_dir", metavar="RUN_DIR", help="a run folder (made by `filterscope train` or "
                   "the Train tab)")
    add_flag(p, EvaluateSettings, "data", metavar="DIR|MANIFEST|PARENT")
    add_flag(p, EvaluateSettings, "subset", help_extra=declaration(EvaluateSettings, "subset").special)
    add_flag(p, EvaluateSettings, "model", default=declared_default(EvaluateSettings, "model"))
    add_flag(p, EvaluateSettings, "tta")
    p.add_argument("--threshold", type=float, metavar="T", help=share_help("threshold") + ", for this command "
                   "only (`filterscope decide` saves one with the run)")
    p.add_argument("--costs", metavar="COSTS.json", help='error costs for this command only: {"classes": '
                   '[...], "matrix": [[...]]}, rows the true class, columns the class answered')
    p.add_argument("--out", metavar="EVAL.json", help="save the result here (and its rows in "
                   "EVAL.csv) instead of in the run's evaluations/ folder; never inside a dataset")
    p.add_argument("--json", action="store_true", help="print one JSON document")
    p.set_defaults(handler=cmd_evaluate, parser=p)

    p = sub.add_parser("predict", help="predict the class of new images with a run's model or an "
                       "ImageNet model")
    p.add_argument("model_path", metavar="RUN_DIR|MODEL.keras|IMAGENET_MODEL",
                   help="a run folder, a .keras file (loaded in safe mode: a model with Lambda "
                   "or custom layers is refused), or an ImageNet model with its 1,000 classes: "
                   f"{', '.join(imagenet_models())} (weights never downloaded)")
    p.add_argument("target", metavar="IMAGE|DIR", help="one image, or a folder (searched with its "
                   "sub-folders)")
    p.add_argument("--out", metavar="PREDICTIONS.csv", help="write one row per image here (needed "
                   "for a folder; never inside it), and the audit record beside it in PREDICTIONS.csv.json "
                   "(run, model SHA-256, threshold, costs, app version, time)")
    p.add_argument("--overwrite", action="store_true", help="replace an existing PREDICTIONS.csv "
                   "(without it, an existing file is refused before the model runs)")
    add_flag(p, EvaluateSettings, "top_k", default=declared_default(EvaluateSettings, "top_k"), metavar="K")
    add_flag(p, EvaluateSettings, "model", default=declared_default(EvaluateSettings, "model"),
             help_extra="For a run folder")
    add_flag(p, EvaluateSettings, "tta")
    p.add_argument("--threshold", type=float, metavar="T", help=share_help("threshold") + ", for this command "
                   "only (`filterscope decide` saves one with the run)")
    p.add_argument("--costs", metavar="COSTS.json", help='error costs for this command only: {"classes": '
                   '[...], "matrix": [[...]]}, rows the true class, columns the class answered')
    p.add_argument("--json", action="store_true", help="print one JSON document")
    p.set_defaults(handler=cmd_predict, parser=p)
