"""``filterscope train --data DATA --model MODEL --out RUNS``: the Training tab from the shell.

The run goes into a new folder under RUNS (``run.json``, ``history.json``, ``best.keras``,
``last.keras``), exactly as the tab saves it, so a run started here opens in the app.
``--spec RUN.json`` trains a run spec as it is, such as the ``run.json`` of a run made in the
app, so the same run can be repeated on another machine (a GPU server) or for longer. A run
records its dataset by absolute path and its split's file lists, so it trains from any working
directory; ``--data DIR`` gives a dataset's new place (only the place: the recorded classes and
files must be there).

``--model vgg16`` or ``mobilenetv2`` trains a new head on a pretrained base: ``--weights`` says
which weights (ImageNet's from this computer, random, or a file), ``--fine-tune-blocks N`` lets
its top blocks train, ``--cache-features`` trains the head on the frozen base's features,
computed once. ``--dry-run`` builds the model and prints its parameters and layers, untrained.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import replace
from pathlib import Path
from typing import Any, Callable

from filterscope.cli.common import CommandError, is_file_arg, load_chain_arg, load_mask_arg, run_job
from filterscope.core.base.formats import percent
from filterscope.core.training.base_spec import base_templates
from filterscope.core.training.model_spec import LEARNING_RATE_MAX, OPTIMIZERS, ModelSpec, templates

MODEL_ALIASES = {"convnet": "chapter-convnet"}
SKIPPED_SHOWN = 10  # unreadable files listed by name in the human output


def bounded(kind: type, low: float, high: float, *, low_open: bool = False, high_open: bool = False):
    """An argparse type: a number of ``kind`` within the bounds (exit 2 otherwise)."""

    def parse(text: str) -> Any:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a {'whole ' if kind is int else ''}number: {text!r}") \
                from None
        if value != value or (value <= low if low_open else value < low) \
                or (value >= high if high_open else value > high):
            lower = f"above {low:g}" if low_open else f"at least {low:g}"
            upper = f"below {high:g}" if high_open else f"at most {high:g}"
            raise argparse.ArgumentTypeError(f"must be {lower} and {upper} (got {text})")
        return value

    return parse


def image_size_arg(text: str) -> tuple[int, int]:
    parts = text.lower().split("x")
    try:
        sizes = [int(p) for p in parts]
    except ValueError:
        sizes = []
    if len(sizes) not in (1, 2) or not all(1 <= s <= 4096 for s in sizes):
        raise argparse.ArgumentTypeError(f"give SIZE or HEIGHTxWIDTH, each 1-4096 (got {text!r})")
    return (sizes[0], sizes[-1])


def load_model_arg(text: str) -> ModelSpec:
    """``logistic``, ``convnet``, a template name, a pretrained base or a model file -> ModelSpec.

    Raises:
        ValueError: An unknown name, an unreadable file or an invalid spec (naming the field).
    """
    from filterscope.core.training.model_spec import ModelSpecError

    if not is_file_arg(text):
        name = MODEL_ALIASES.get(text, text)
        known = {**templates(), **base_templates()}
        if name not in known:
            raise ValueError(f"--model: no template called {text!r}; use one of convnet, "
                             f"{', '.join(known)} or a model file (.json)")
        return known[name]
    try:
        data = json.loads(Path(text).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"{text}: cannot read the model file ({exc})") from exc
    try:
        return ModelSpec.from_json(data)
    except ModelSpecError as exc:
        raise ValueError(f"{text}: {exc}") from exc


def data_spec_arg(args: argparse.Namespace, recipe: Any = None) -> Any:
    """The DataSpec of --data, --mask, --chain, --image-size and --seed; a recipe's chain and
    image size where those are not given (``--chain none`` trains without augmentation)."""
    from filterscope.core.training.data_spec import DataSpec

    source = args.data
    if source.lower().endswith(".json") and Path(source).is_file():
        source = f"manifest:{source}"
    mask = None
    if args.mask:
        mask = load_mask_arg(args.mask).to_json()
    chain_arg = args.chain or (recipe.chain if recipe is not None else None)
    chain = load_chain_arg(chain_arg)[0] if chain_arg else None
    chain = chain.to_json() if chain is not None and any(s.enabled for s in chain.steps) else None
    seed = 0 if args.seed is None else args.seed
    longest = recipe.longest_side if recipe is not None and args.image_size is None else None
    return DataSpec(source, seed=seed, image_size=args.image_size, mask=mask, chain=chain,
                    longest_side=longest)


def _optimizer(args: argparse.Namespace, model: ModelSpec, recipe: Any = None) -> Any:
    """The optimiser; fine-tuning a base defaults to a tenth of the usual learning rate, a
    recipe's template to the recipe's."""
    from filterscope.core.training.base_spec import default_optimizer
    from filterscope.core.training.model_spec import OptimizerSpec

    kind = args.optimizer or (recipe.optimizer.kind if recipe is not None else "adam")
    if args.momentum is not None and kind != "sgd":
        args.parser.error("--momentum is a setting of --optimizer sgd")
    lr = args.lr
    if lr is None:
        lr = recipe.optimizer.learning_rate if recipe is not None and recipe.optimizer.kind == kind \
            else default_optimizer(kind, model).learning_rate
    return OptimizerSpec(kind, lr, args.momentum if kind == "sgd" else None)


def _fit_options(args: argparse.Namespace, recipe: Any = None) -> Any:
    """Class weights, early stopping and the schedule: the flags given, else the recipe's."""
    from filterscope.core.training.fit_options import FitOptions

    base = recipe.fit if recipe is not None else FitOptions()
    changes = {name: getattr(args, name) for name in _FIT_FLAGS if getattr(args, name) is not None}
    return replace(base, **changes)


def with_base_options(model: ModelSpec, args: argparse.Namespace) -> ModelSpec:
    """``--weights`` and ``--fine-tune-blocks`` applied to a model on a pretrained base.

    Raises:
        ValueError: Either given for a model without a base.
    """
    weights, blocks = args.weights, getattr(args, "fine_tune_blocks", None)
    if model.base is None:
        if weights is not None or blocks is not None:
            raise ValueError(f"--weights and --fine-tune-blocks are settings of a pretrained base "
                             f"({', '.join(base_templates())}), not of {model.name or model.kind}")
        return model
    changes: dict[str, Any] = {}
    if weights is not None:
        changes["weights"] = weights if weights in ("imagenet", "random") else str(Path(weights).resolve())
    if blocks is not None:
        changes["fine_tune_blocks"] = blocks
    return replace(model, base=replace(model.base, **changes))


def epoch_line(payload: Any, epochs: int) -> str | None:
    """The line printed (on stderr) as each epoch ends, and the reason when a run stops early or
    diverges; None for the other partials (batches)."""
    if not isinstance(payload, dict):
        return None
    if payload.get("kind") in ("diverged", "stopped_early"):
        return payload["message"]
    if payload.get("kind") != "epoch":
        return None
    val = "" if payload["val_loss"] is None else \
        f", val_loss {payload['val_loss']:.4f}, val_acc {percent(payload['val_accuracy'])}"
    best = " (best so far)" if payload.get("best") else ""
    return (f"epoch {payload['epoch']}/{epochs}: loss {payload['loss']:.4f}, accuracy "
            f"{percent(payload['accuracy'])}{val}, {payload['seconds']:.1f} s{best}")


def _human(d: dict) -> str:
    opt = d["optimizer"]
    alias = f"alias {d['model_alias']}; " if d["model_alias"] else ""
    lines = [f"run: {d['run_dir']}",
             f"model: {d['model']} ({alias}{d['params']:,} parameters), {opt['kind']} learning rate "
             f"{opt['learning_rate']:g}, batch {d['batch_size']}; {d['epochs_run']} of {d['epochs']} "
             "epoch(s) run"]
    if d.get("fit_summary"):
        lines.append(f"fitting: {'; '.join(d['fit_summary'])}")
    if d.get("weights"):
        where = f" ({d['weights']['file']})" if d["weights"].get("file") else ""
        lines.append(f"weights: {d['weights']['label']}{where}; preprocessing {d['preprocessing']}")
    if d.get("features"):
        f = d["features"]
        lines.append(f"features: {f['path']} ({f['reused']:,} cached already, {f['computed']:,} "
                     "computed now)")
    scheduled = bool(d["fit"]["reduce_lr_patience"])
    if d["history"]:
        lines.append(f"{'epoch':>5}  {'loss':>9}  {'accuracy':>8}  {'val_loss':>9}  {'val_acc':>7}  "
                     f"{'seconds':>7}" + (f"  {'lr':>8}" if scheduled else ""))
    for r in d["history"]:
        val_loss = "-" if r["val_loss"] is None else f"{r['val_loss']:.4f}"
        lr = f"  {r['learning_rate']:>8.2g}" if scheduled else ""
        lines.append(f"{r['epoch']:>5}  {r['loss']:>9.4f}  {percent(r['accuracy']):>8}  {val_loss:>9}  "
                     f"{percent(r['val_accuracy']):>7}  {r['seconds']:>7.1f}{lr}")
    if d["best_epoch"] is not None:
        lines.append(f"best: epoch {d['best_epoch']}, validation accuracy "
                     f"{percent(d['best_val_accuracy'])} (best.keras)")
    if d.get("stopped_early"):
        lines.append(f"stopped early after epoch {d['stopped_early']}: no better epoch for "
                     f"{d['fit']['early_stopping']} epochs")
    if d["diverged"]:
        lines.append(f"diverged: {d['diverged']}")
    lines += [f"note: {w}" for w in d["warnings"]]
    if d["skipped"]:
        lines.append(f"skipped {len(d['skipped'])} unreadable file(s):")
        lines += [f"  {x['path']}: {x['reason']}" for x in d["skipped"][:SKIPPED_SHOWN]]
        if len(d["skipped"]) > SKIPPED_SHOWN:
            lines.append(f"  ... and {len(d['skipped']) - SKIPPED_SHOWN} more (all in run.json)")
    return "\n".join(lines)


# Flags that describe a run, with their defaults; --spec gives all of them itself (--data, when
# given with it, only says where the run's dataset is now).
_FIT_FLAGS = ("class_weights", "early_stopping", "reduce_lr_patience", "reduce_lr_factor")
_RUN_FLAGS = {"model": "convnet", "optimizer": None, "lr": None, "momentum": None,
              "image_size": None, "mask": None, "chain": None, "weights": None,
              "fine_tune_blocks": None, "cache_features": False,
              **{name: None for name in _FIT_FLAGS}}
_OVERRIDES = {"epochs": 10, "batch_size": 32, "seed": 0}  # --spec takes these when given


def _spec_run(args: argparse.Namespace) -> Any:
    """The RunSpec of ``--spec`` (a run spec or a run's run.json), with its dataset at --data
    and --epochs, --batch-size, --seed and --name applied when given.

    A run's recorded split stays its own: --seed reseeds the shuffling, the augmentation and
    the weights, and the split only of a run that records none (a built-in dataset's).
    """
    from filterscope.core.base.fileio import read_json_file
    from filterscope.core.training.data_spec import PipelineError
    from filterscope.core.training.model_spec import ModelSpecError
    from filterscope.core.training.runs import RunSpec

    given = [f"--{k.replace('_', '-')}" for k, v in _RUN_FLAGS.items() if getattr(args, k) != v]
    if given:
        args.parser.error(f"--spec gives the whole run: drop {', '.join(given)}")
    data = read_json_file(args.spec, ValueError, "run spec")
    if isinstance(data, dict) and isinstance(data.get("run"), dict):  # a run folder's run.json
        data = data["run"]
    try:
        run = RunSpec.from_json(data)
    except ModelSpecError as exc:  # RunSpecError, naming the field
        raise ValueError(f"{args.spec}: {exc}") from exc
    data = run.data
    if args.data is not None:
        try:
            data = data.relocated(args.data)
        except PipelineError as exc:
            raise ValueError(f"--data: {exc}") from exc
    elif data.folder() is not None and not Path(data.folder()).is_dir():
        raise ValueError(f"{args.spec}: the run's dataset {data.folder()} is not there; if it has "
                         "moved, give its new place with --data DIR")
    changes = {k: getattr(args, k) for k in _OVERRIDES if getattr(args, k) is not None}
    if args.seed is not None:  # seeds the shuffling (and an unrecorded split), as without --spec
        data = replace(data, seed=args.seed)
    changes["data"] = data
    if args.name:
        changes["name"] = args.name
    return replace(run, **changes)


def _run_spec(args: argparse.Namespace) -> Any:
    """The RunSpec the arguments describe (``--spec`` or ``--data`` and the settings); a
    recipe's template starts from the recipe's settings."""
    from filterscope.core.training.recipes import recipe_for
    from filterscope.core.training.runs import RunSpec

    if args.spec is not None:
        return _spec_run(args)
    model = with_base_options(load_model_arg(args.model), args)
    recipe = recipe_for(model)
    defaults = dict(_OVERRIDES) if recipe is None else \
        {**_OVERRIDES, "epochs": recipe.epochs, "batch_size": recipe.batch_size}
    settings = {k: default if getattr(args, k) is None else getattr(args, k)
                for k, default in defaults.items()}
    return RunSpec(data_spec_arg(args, recipe), model, _optimizer(args, model, recipe),
                   settings["epochs"], settings["batch_size"], settings["seed"], args.name or "",
                   args.cache_features, _fit_options(args, recipe))


def _human_dry(d: dict) -> str:
    lines = [f"model: {d['name']} on {'x'.join(map(str, d['input_shape']))} images, "
             f"{len(d['classes'])} classes, preprocessing {d['preprocessing']} (not trained)"]
    width = max(len(r["layer"]) + len(r["type"]) + 3 for r in d["layers"])
    lines += [f"  {r['layer'] + ' (' + r['type'] + ')':<{width}}  {str(tuple(r['output_shape'])):<20} "
              f"{r['params']:>12,}{'  frozen' if r['params'] and not r['trainable_params'] else ''}" for r in d["layers"]]
    lines.append(f"total {d['total_params']:,} parameters, {d['trainable_params']:,} trainable")
    weights = d["weights"]
    if weights is not None:
        lines.append(f"weights: {weights['label']} ({weights['file']})" if weights["available"]
                     else f"weights: {weights['message']}")
    return "\n".join(lines)


def cmd_train(args: argparse.Namespace) -> tuple[dict, Callable[[Any], str]]:
    """``filterscope train``: train a model and save the run (or, with --dry-run, only build it)."""
    from filterscope.core.training.data_spec import PipelineError
    from filterscope.core.training.model_spec import ModelSpecError
    from filterscope.core.training.runs import TrainingError
    from filterscope.core.transfer.run import dry_run, train_run

    if args.data is None and args.spec is None:
        args.parser.error("give --data (and the run's settings) or --spec RUN.json")
    if args.out is None and not args.dry_run:
        args.parser.error("give --out RUNS_DIR (or --dry-run)")
    try:
        run = _run_spec(args)
        if args.dry_run:
            return run_job("Building the model", dry_run, run).to_json(), _human_dry
        cache_dir = None if args.cache_dir is None else Path(args.cache_dir)
        result = run_job("Training", train_run, run, Path(args.out), cache_dir=cache_dir,
                         lines=lambda payload: epoch_line(payload, run.epochs))
    except ModelSpecError as exc:  # a model too big for the images, or a bad --name
        raise CommandError(exc.message if exc.field == "input_shape" else str(exc)) from exc
    except (ValueError, PipelineError, TrainingError) as exc:  # MaskParamsError, ChainError, WeightsError
        raise CommandError(str(exc)) from exc
    alias = args.model if args.spec is None and args.model in MODEL_ALIASES else None
    record = json.loads((result.run_dir / "run.json").read_text(encoding="utf-8"))
    data = {**result.to_json(), "model": run.model.name or run.model.kind, "model_alias": alias,
            "params": int(result.model.count_params()), "optimizer": run.optimizer.to_json(),
            "epochs": run.epochs, "batch_size": run.batch_size,
            "trainable_params": record.get("trainable_params"), "weights": record.get("weights"),
            "features": record.get("features"), "fit": run.fit.to_json(),
            "fit_summary": run.fit.describe(), "class_weights": record.get("class_weights")}
    return data, _human


def add_base_arguments(p: argparse.ArgumentParser) -> None:
    """``--weights`` (and its help), shared by ``train`` and ``features``."""
    p.add_argument("--weights", metavar="imagenet|random|FILE",
                   help="a pretrained base's weights: imagenet (Keras's cache ~/.keras/models or "
                   "a file picked before; never downloaded here, see `filterscope weights`), random "
                   "(untrained: for timing, not accuracy), or the .h5 weights file (checked, then "
                   "remembered as the base's ImageNet weights); default imagenet")


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``train`` command to the ``filterscope`` parser."""
    from filterscope.core.training.recipes import recipes

    names = ", ".join(["convnet", *templates()])
    recipe_help = "; ".join(f"{name}: {r.summary}" for name, r in recipes().items())
    p = sub.add_parser("train", help="train a model on a dataset and save the run")
    p.add_argument("--data", metavar="mnist|DIR|MANIFEST.json",
                   help="a built-in dataset id, a folder with one sub-folder per class (or train/, "
                   "val/, test/ folders of them: test/ is never read), or a split manifest written "
                   "by `filterscope split`; with --spec, the folder the run's dataset is in now "
                   "(the classes and files the run recorded must be there)")
    p.add_argument("--spec", metavar="RUN.json",
                   help="train this run spec instead (e.g. the run.json of a run made in the app, "
                   "which records its dataset and split, so it trains from any folder); "
                   "--data, --epochs, --batch-size, --seed and --name still apply")
    p.add_argument("--model", default="convnet", metavar="TEMPLATE|BASE|FILE.json",
                   help=f"{names}, a pretrained base with a new head ({', '.join(base_templates())}), "
                   "or a model file saved by the Training tab (default: convnet, the chapter's MNIST "
                   f"ConvNet). A recipe's template starts from the recipe's settings ({recipe_help}); "
                   "photo-convnet is the recommended start for photos without pretrained weights")
    add_base_arguments(p)
    p.add_argument("--fine-tune-blocks", type=bounded(int, 0, 19), metavar="N",
                   help="let the base's top N blocks train (VGG16 has 5, MobileNetV2 19; default 0: "
                   "frozen); the learning rate then defaults to a tenth of the optimiser's")
    p.add_argument("--cache-features", action="store_true",
                   help="run the frozen base once over the dataset and train the head on its cached "
                   "features (much faster epochs; not with --chain or --fine-tune-blocks)")
    p.add_argument("--cache-dir", metavar="DIR",
                   help="where cached features are kept (default: the app's data folder); "
                   "`filterscope features --out DIR` fills one ahead")
    p.add_argument("--dry-run", action="store_true",
                   help="build the model on the data and print its parameters and layers; no training")
    p.add_argument("--optimizer", choices=OPTIMIZERS,
                   help="default adam, as the chapter trains")
    p.add_argument("--lr", type=bounded(float, 0.0, LEARNING_RATE_MAX, low_open=True), metavar="F",
                   help="learning rate (default: adam 0.001, sgd 0.01)")
    p.add_argument("--momentum", type=bounded(float, 0.0, 1.0, high_open=True), metavar="F",
                   help="sgd momentum in [0, 1) (default 0.9)")
    p.add_argument("--epochs", type=bounded(int, 1, 10_000), metavar="N",
                   help="default 10 (a recipe's template: the recipe's, e.g. photo-convnet 60)")
    p.add_argument("--class-weights", action=argparse.BooleanOptionalAction, default=None,
                   help="weigh each class's images by n / (classes x class count), so that small "
                   "classes count as much as big ones (default off; on in photo-convnet)")
    p.add_argument("--early-stopping", type=bounded(int, 0, 10_000), metavar="N",
                   help="stop when no epoch has beaten the best validation accuracy for N epochs, "
                   "keeping the best epoch's weights (default 0: off; photo-convnet 12)")
    p.add_argument("--reduce-lr-patience", type=bounded(int, 0, 10_000), metavar="N",
                   help="multiply the learning rate by --reduce-lr-factor when the validation loss "
                   "has not improved for N epochs (default 0: off; photo-convnet 3)")
    p.add_argument("--reduce-lr-factor", type=bounded(float, 0.0, 1.0, low_open=True, high_open=True),
                   metavar="F", help="default 0.5")
    p.add_argument("--batch-size", type=bounded(int, 1, 65_536), metavar="B",
                   help="default 32")
    p.add_argument("--image-size", type=image_size_arg, metavar="SIZE|HxW",
                   help="resize images to this (default: the dataset's most common size; photos "
                   "larger than 256 px go to 150 px on their longer side, aspect kept)")
    p.add_argument("--mask", metavar="PRESET|FILE.json", help="mask preset applied to every image")
    p.add_argument("--chain", metavar="CHAIN|FILE.json", help="augmentation chain for training images")
    p.add_argument("--seed", type=bounded(int, 0, 2**32 - 1), metavar="S",
                   help="seeds the split, shuffling, augmentation and weights (default 0)")
    p.add_argument("--name", metavar="NAME", help="run folder name (default: time and model)")
    p.add_argument("--out", metavar="RUNS_DIR",
                   help="runs folder; the run goes into a new sub-folder")
    p.add_argument("--json", action="store_true", help="print one JSON document")
    p.set_defaults(handler=cmd_train, parser=p)
