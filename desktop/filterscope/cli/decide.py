"""``filterscope decide RUN_DIR``: the run's decision policy, saved with it.

The run's model is calibrated on its validation images (temperature scaling, once per model
file); ``--target-accuracy`` becomes the lowest confidence threshold at which the accepted
validation images are that accurate, ``--threshold`` sets one directly, ``--costs`` gives the
error costs. ``evaluate`` and ``predict`` then decide with them (``needs_review`` below the
threshold, the answer of least expected cost).
"""

from __future__ import annotations

import argparse
from typing import Any, Callable

from filterscope.cli.common import CommandError, run_job
from filterscope.core.base.formats import percent


def _human(d: dict) -> str:
    lines = [f"run: {d['run_dir']}, {d['model']}.keras", f"policy: {d['policy']}"]
    if d["calibration"]:
        lines.append(f"calibration: {d['calibration_sentence']}")
    else:
        lines.append(f"calibration: none ({d['note']})")
    at = d.get("validation")
    if at:
        lines.append(f"on the validation images at this threshold: {percent(at['coverage'])} accepted, "
                     f"{'n/a' if at['accuracy'] is None else percent(at['accuracy'])} accurate on them")
    if d["costs"]:
        classes = d["costs"]["classes"]
        width = max(len(c) for c in classes)
        lines += ["costs (rows: true class; columns: class answered):",
                  f"{'':<{width}}  " + "  ".join(f"{c:>{max(len(c), 6)}}" for c in classes)]
        lines += [f"{c:<{width}}  " + "  ".join(f"{v:>{max(len(k), 6)}g}" for k, v in zip(classes, row))
                  for c, row in zip(classes, d["costs"]["matrix"])]
    lines.append(f"saved: {d['path']}")
    return "\n".join(lines)


def cmd_decide(args: argparse.Namespace) -> tuple[dict, Callable[[Any], str]]:
    """``filterscope decide``: calibrate a run and set its threshold and costs."""
    from filterscope.core.results.decisions import CostsError, coverage_curve, read_costs
    from filterscope.core.results.eval_sets import EvalSetError
    from filterscope.core.results.policy import KEEP, PolicyError, choose_policy, policy_path
    from filterscope.core.training.saved_model import ModelLoadError, open_model

    if args.threshold is not None and args.target_accuracy is not None:
        args.parser.error("give --threshold or --target-accuracy, not both")
    threshold = None if args.no_threshold else (KEEP if args.threshold is None else args.threshold)
    target = KEEP if args.target_accuracy is None else args.target_accuracy
    try:
        costs = None if args.no_costs else (KEEP if args.costs is None else read_costs(args.costs))
        opened = run_job("Opening the model", open_model, args.run_dir, which=args.model)
        policy = run_job("Calibrating", choose_policy, opened, threshold=threshold, target_accuracy=target,
                         costs=costs if costs is KEEP or costs is None else costs.for_classes(opened.classes))
    except (ModelLoadError, PolicyError, CostsError, EvalSetError) as exc:
        raise CommandError(str(exc)) from exc
    except OSError as exc:
        raise CommandError(f"cannot save the policy: {exc.strerror or exc}") from exc
    fitted = policy.fitted.get(opened.which)
    validation = None
    if fitted is not None and policy.threshold is not None:
        at = coverage_curve(fitted.confidence, fitted.correct, [policy.threshold]).to_json()[0]
        validation = {"threshold": policy.threshold, "coverage": at["coverage"], "accuracy": at["accuracy"]}
    data = {"run_dir": str(opened.run.run_dir), "model": opened.which, "path": str(policy_path(args.run_dir)),
            "policy": policy.describe(), "threshold": policy.threshold, "target_accuracy": policy.target_accuracy,
            "costs": None if policy.costs is None else policy.costs.to_json(),
            "calibration": None if fitted is None else fitted.calibration.to_json(),
            "calibration_sentence": None if fitted is None else fitted.calibration.describe(),
            "note": None if fitted else "the run's validation images could not be read",
            "validation": validation,
            "coverage_curve": None if fitted is None else fitted.curve().to_json()}
    return data, _human


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``decide`` to the ``filterscope`` parser."""
    from filterscope.core.base.settings import add_flag, declared_default
    from filterscope.core.results.settings import EvaluateSettings, share_help

    p = sub.add_parser("decide", help="calibrate a run on its validation images and save its needs-review "
                       "threshold and error costs")
    p.add_argument("run_dir", metavar="RUN_DIR", help="a run folder")
    add_flag(p, EvaluateSettings, "model", default=declared_default(EvaluateSettings, "model"))
    which = p.add_mutually_exclusive_group()
    which.add_argument("--threshold", type=float, metavar="T", help=share_help("threshold"))
    which.add_argument("--target-accuracy", type=float, metavar="A", help=share_help("target_accuracy"))
    which.add_argument("--no-threshold", action="store_true", help="remove the threshold")
    costs = p.add_mutually_exclusive_group()
    costs.add_argument("--costs", metavar="COSTS.json", help='error costs: {"classes": [...], "matrix": '
                       '[[...]]}, rows the true class, columns the class answered')
    costs.add_argument("--no-costs", action="store_true", help="remove the costs (every error costs the same)")
    p.add_argument("--json", action="store_true", help="print one JSON document")
    p.set_defaults(handler=cmd_decide, parser=p)
