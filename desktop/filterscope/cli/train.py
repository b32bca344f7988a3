"""``filterscope train --data DATA --model MODEL --out RUNS``: the Training tab from the shell.

The run goes into a new folder under RUNS (``run.json``, ``history.json``, ``best.keras``,
``last.keras``), exactly as the tab saves it, so a run started here opens in the app.
``--spec RUN.json`` trains a run spec as it is, such as the ``run.json`` of a run made in the
app, so the same run can be repeated on another machine (a GPU server) or for longer. A run
records its dataset by absolute path and its split's file lists, so it trains from any working
directory; ``--data DIR`` gives a dataset's new place (only the place: the recorded classes and
files must be there).

``--model vgg16``, ``mobilenetv2`` or ``efficientnet-lite0`` trains a new head on a pretrained base: ``--weights`` says
which weights (ImageNet's from this computer, random, or a file), ``--fine-tune-blocks N`` lets
its top blocks train, ``--cache-features`` trains the head on the frozen base's features,
computed once. ``--dry-run`` builds the model and prints its parameters and layers, untrained.

``--workers TF_CONFIG`` (JSON or a file; else the ``TF_CONFIG`` environment variable) trains
under TensorFlow's MultiWorkerMirroredStrategy: every machine runs the same command with its own
task, the batch size is the global batch, and only the chief writes the run folder (see
:mod:`filterscope.core.training.multiworker`).
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any, Callable

from filterscope.cli.common import CommandError, is_file_arg, load_chain_arg, load_mask_arg, run_job
from filterscope.core.base.formats import percent
from filterscope.core.training.base_spec import base_templates
from filterscope.core.training.model_spec import ModelSpec, templates

MODEL_ALIASES = {"convnet": "chapter-convnet"}
SKIPPED_SHOWN = 10  # unreadable files listed by name in the human output


def image_size_arg(text: str) -> tuple[int, int]:
    """``SIZE`` (square) or ``HEIGHTxWIDTH``, checked by the data spec's ``image_size``."""
    from filterscope.core.base.settings import SettingError, declaration
    from filterscope.core.training.data_spec import DataSpec

    try:
        sizes = [int(p) for p in text.lower().split("x")]
    except ValueError:
        sizes = []
    if len(sizes) not in (1, 2):
        raise argparse.ArgumentTypeError(f"give SIZE or HEIGHTxWIDTH (got {text!r})")
    try:
        return declaration(DataSpec, "image_size").check("--image-size", (sizes[0], sizes[-1]))
    except SettingError as exc:
        raise argparse.ArgumentTypeError(exc.message) from None


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

    from filterscope.core.training.recipes import MEASURED

    mask = None
    if args.mask:
        mask = load_mask_arg(args.mask).to_json()
    seed = {} if args.seed is None else {"seed": args.seed}
    longest = recipe.longest_side if recipe is not None and args.image_size is None else None
    data = DataSpec(args.data, image_size=args.image_size, mask=mask, longest_side=longest, **seed)
    chain_arg = args.chain or (recipe.chain if recipe is not None else None)
    if chain_arg == MEASURED:  # a dry run trains nothing, so it measures nothing
        chain_arg = None if getattr(args, "dry_run", False) else _measured_chain(args, data)
    chain = load_chain_arg(chain_arg)[0] if chain_arg else None
    chain = chain.to_json() if chain is not None and any(s.enabled for s in chain.steps) else None
    return replace(data, chain=chain)


def _measured_chain(args: argparse.Namespace, data: Any) -> str:
    """The chain preset that suits the dataset's photos, measured (a recipe's ``measured``
    chain); what was measured is kept in ``args.chain_proposal`` for the command's output."""
    from filterscope.core.transfer.orientation import propose_for_source

    proposal = run_job("Choosing the augmentation", propose_for_source, data.source)
    args.chain_proposal = proposal.to_json()
    return proposal.preset


def _optimizer(args: argparse.Namespace, model: ModelSpec, recipe: Any = None) -> Any:
    """The optimiser; fine-tuning a base defaults to a tenth of the usual learning rate, a
    recipe's template to the recipe's."""
    from filterscope.core.training.base_spec import default_optimizer
    from filterscope.core.training.model_spec import OptimizerSpec

    kind = args.optimizer or (recipe.optimizer.kind if recipe is not None else "adam")
    if args.momentum is not None and kind != "sgd":
        args.parser.error("--momentum is a setting of --optimizer sgd")
    lr = args.learning_rate
    if lr is None:
        lr = recipe.optimizer.learning_rate if recipe is not None and recipe.optimizer.kind == kind \
            else default_optimizer(kind, model).learning_rate
    return OptimizerSpec(kind, lr, args.momentum if kind == "sgd" else None)


def _fit_names() -> list[str]:
    """The fit options' settings, each a flag (``--early-stopping``...)."""
    from filterscope.core.base.settings import declared
    from filterscope.core.training.fit_options import FitOptions

    return list(declared(FitOptions))


def _fit_options(args: argparse.Namespace, recipe: Any = None) -> Any:
    """Class weights, early stopping and the schedule: the flags given, else the recipe's."""
    from filterscope.core.training.fit_options import FitOptions

    base = recipe.fit if recipe is not None else FitOptions()
    changes = {name: getattr(args, name) for name in _fit_names() if getattr(args, name) is not None}
    return replace(base, **changes)


_BASE_COUNTS = ("fine_tune_blocks", "head_epochs")  # BaseSpec's flags besides --weights


def with_base_options(model: ModelSpec, args: argparse.Namespace) -> ModelSpec:
    """``--weights``, ``--fine-tune-blocks`` and ``--head-epochs`` applied to a model on a
    pretrained base.

    Raises:
        ValueError: One of them given for a model without a base.
    """
    weights = args.weights
    counts = {k: getattr(args, k, None) for k in _BASE_COUNTS if getattr(args, k, None) is not None}
    if model.base is None:
        if weights is not None or counts:
            raise ValueError(f"--weights, --fine-tune-blocks and --head-epochs are settings of a "
                             f"pretrained base ({', '.join(base_templates())}), not of "
                             f"{model.name or model.kind}")
        return model
    changes: dict[str, Any] = dict(counts)
    if weights is not None:
        changes["weights"] = weights if weights in ("imagenet", "random") else str(Path(weights).resolve())
    return replace(model, base=replace(model.base, **changes))


def epoch_line(frame: Any, epochs: int) -> str | None:
    """The line printed (on stderr) as each epoch ends, and the reason when a run stops early or
    diverges; None for the other partials (batches)."""
    from filterscope.core.training.frames import DivergedFrame, EpochFrame, StoppedEarlyFrame

    if isinstance(frame, (DivergedFrame, StoppedEarlyFrame)):
        return frame.message
    if not isinstance(frame, EpochFrame):
        return None
    val = "" if frame.val_loss is None else \
        f", val_loss {frame.val_loss:.4f}, val_acc {percent(frame.val_accuracy)}"
    best = " (best so far)" if frame.best else ""
    return (f"epoch {frame.epoch}/{epochs}: loss {frame.loss:.4f}, accuracy "
            f"{percent(frame.accuracy)}{val}, {frame.seconds:.1f} s{best}")


def _human(d: dict) -> str:
    opt = d["optimizer"]
    alias = f"alias {d['model_alias']}; " if d["model_alias"] else ""
    lines = [f"run: {d['run_dir']}",
             *([f"workers: {d['workers']['count']}, batch {d['batch_size']} split "
                f"{d['workers']['per_worker_batch']:g} per worker"] if d.get("workers") else []),
             f"model: {d['model']} ({alias}{d['params']:,} parameters), {opt['kind']} learning rate "
             f"{opt['learning_rate']:g}, batch {d['batch_size']}; {d['epochs_run']} of {d['epochs']} "
             "epoch(s) run"]
    if d.get("fit_summary"):
        lines.append(f"fitting: {'; '.join(d['fit_summary'])}")
    if d.get("chain_proposal"):
        lines.append(f"augmentation: {d['chain_proposal']['preset']}, because "
                     f"{d['chain_proposal']['reason']}")
    if d.get("weights"):
        where = f" ({d['weights']['file']})" if d["weights"].get("file") else ""
        lines.append(f"weights: {d['weights']['label']}{where}; preprocessing {d['preprocessing']}")
    if d.get("features"):
        f = d["features"]
        lines.append(f"features: {f['path']} ({f['reused']:,} cached already, {f['computed']:,} "
                     "computed now)")
    scheduled = d["fit_changes_lr"]
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
_RUN_FLAGS = {"model": "convnet", "optimizer": None, "learning_rate": None, "momentum": None,
              "image_size": None, "mask": None, "chain": None, "weights": None,
              **{name: None for name in _BASE_COUNTS}, "cache_features": None,
              **{name: None for name in _fit_names()}}
_OVERRIDES = ("epochs", "batch_size", "seed")  # --spec takes these when given


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

    given = [f"--{'lr' if k == 'learning_rate' else k.replace('_', '-')}"
             for k, v in _RUN_FLAGS.items() if getattr(args, k) != v]
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
    template = load_model_arg(args.model)
    recipe = recipe_for(template)  # --weights, --fine-tune-blocks, --head-epochs win over it
    model = with_base_options(template, args)
    settings = {} if recipe is None else {"epochs": recipe.epochs, "batch_size": recipe.batch_size}
    settings.update({k: getattr(args, k) for k in _OVERRIDES if getattr(args, k) is not None})
    return RunSpec(data_spec_arg(args, recipe), model, _optimizer(args, model, recipe),
                   name=args.name or "", cache_features=bool(args.cache_features),
                   fit=_fit_options(args, recipe), **settings)


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
        cluster, strategy = _cluster(args)  # before TensorFlow runs anything else
        run = _run_spec(args)
        if args.dry_run:
            return run_job("Building the model", dry_run, run).to_json(), _human_dry
        cache_dir = None if args.cache_dir is None else Path(args.cache_dir)
        result = run_job("Training", train_run, run, Path(args.out), cache_dir=cache_dir,
                         strategy=strategy, lines=lambda payload: epoch_line(payload, run.epochs))
    except ModelSpecError as exc:  # a model too big for the images, or a bad --name
        raise CommandError(exc.message if exc.field == "input_shape" else str(exc)) from exc
    except (ValueError, PipelineError, TrainingError) as exc:  # MaskParamsError, ChainError, WeightsError,
        # ClusterConfigError, WorkerLostError
        raise CommandError(str(exc)) from exc
    if cluster is not None and not cluster.is_chief:
        return _worker_summary(cluster, run, result), _human_worker
    alias = args.model if args.spec is None and args.model in MODEL_ALIASES else None
    record = json.loads((result.run_dir / "run.json").read_text(encoding="utf-8"))
    data = {**result.to_json(), "model": run.model.name or run.model.kind, "model_alias": alias,
            "params": int(result.model.count_params()), "optimizer": run.optimizer.to_json(),
            "epochs": run.epochs, "batch_size": run.batch_size,
            "trainable_params": record.get("trainable_params"), "weights": record.get("weights"),
            "features": record.get("features"), "fit": run.fit.to_json(),
            "fit_summary": run.fit.describe(), "fit_changes_lr": run.fit.changes_learning_rate,
            "class_weights": record.get("class_weights"),
            "chain_proposal": getattr(args, "chain_proposal", None)}
    if cluster is not None:
        data["workers"] = _workers_json(cluster, run)
    return data, _human


def _cluster(args: argparse.Namespace) -> tuple[Any, Any]:
    """The cluster of --workers (else of the TF_CONFIG variable) and its strategy; (None, None)
    for training on this machine alone."""
    import os

    from filterscope.core.training.multiworker import make_strategy, parse_tf_config

    text, where = args.workers, "--workers"
    if text is None and os.environ.get("TF_CONFIG", "").strip():
        text, where = os.environ["TF_CONFIG"], "TF_CONFIG"
    if text is None:
        return None, None
    if args.dry_run:
        args.parser.error("--dry-run builds the model on this machine: drop --workers / TF_CONFIG")
    cluster = parse_tf_config(text, where)
    print(f"filterscope train: {cluster.role} of {cluster.workers} workers; waiting for all of them",
          file=sys.stderr, flush=True)
    return cluster, make_strategy(cluster)


def _workers_json(cluster: Any, run: Any) -> dict:
    return {"count": cluster.workers, "task": {"type": cluster.task_type, "index": cluster.task_index},
            "chief": cluster.is_chief, "global_batch": run.batch_size,
            "per_worker_batch": run.batch_size / cluster.workers}


def _worker_summary(cluster: Any, run: Any, result: Any) -> dict:
    """What a worker other than the chief says: it wrote nothing (the chief writes the run)."""
    return {"run_dir": None, "status": result.status, "epochs_run": len(result.history),
            "workers": _workers_json(cluster, run)}


def _human_worker(d: dict) -> str:
    w = d["workers"]
    return (f"{w['task']['type']} {w['task']['index']} of {w['count']} workers: {d['status']}, "
            f"{d['epochs_run']} epoch(s); batch {w['global_batch']} across the workers "
            f"({w['per_worker_batch']:g} each); the chief wrote the run folder")


def add_base_arguments(p: argparse.ArgumentParser) -> None:
    """``--weights`` (and its help), shared by ``train`` and ``features``."""
    p.add_argument("--weights", metavar="imagenet|random|FILE",
                   help="a pretrained base's weights: imagenet (Keras's cache ~/.keras/models or "
                   "a file picked before; never downloaded here, see `filterscope weights`), random "
                   "(untrained: for timing, not accuracy), or the .h5 weights file (checked, then "
                   "remembered as the base's ImageNet weights); default imagenet")


def _recipe_values(name: str, value: Callable[[Any], Any]) -> str:
    """``photo-convnet: 60`` for a setting a recipe sets otherwise than the default."""
    from filterscope.core.base.settings import declared_default
    from filterscope.core.training.fit_options import FitOptions
    from filterscope.core.training.recipes import recipes
    from filterscope.core.training.runs import RunSpec

    owner = RunSpec if name in ("epochs", "batch_size") else FitOptions
    shown = [f"{template} {'on' if v is True else v}" for template, recipe in recipes().items()
             if (v := value(recipe)) != declared_default(owner, name)]
    return f"Recipes: {', '.join(shown)}" if shown else ""


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``train`` command to the ``filterscope`` parser."""
    from filterscope.core.base.settings import add_flag, declared
    from filterscope.core.training.base_spec import BaseSpec
    from filterscope.core.training.fit_options import FitOptions
    from filterscope.core.training.model_input import FITTED_SIZE_RULE
    from filterscope.core.training.model_spec import OptimizerSpec
    from filterscope.core.training.recipes import recipes
    from filterscope.core.training.runs import RunSpec

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
    add_flag(p, BaseSpec, "fine_tune_blocks")
    add_flag(p, BaseSpec, "head_epochs")
    add_flag(p, RunSpec, "cache_features", help_extra="Not with --chain or --fine-tune-blocks")
    p.add_argument("--cache-dir", metavar="DIR",
                   help="where cached features are kept (default: the app's data folder); "
                   "`filterscope features --out DIR` fills one ahead")
    p.add_argument("--dry-run", action="store_true",
                   help="build the model on the data and print its parameters and layers; no training")
    add_flag(p, OptimizerSpec, "kind", dest="optimizer")
    add_flag(p, OptimizerSpec, "learning_rate")
    add_flag(p, OptimizerSpec, "momentum", help_extra="With --optimizer sgd")
    add_flag(p, RunSpec, "epochs", help_extra=_recipe_values("epochs", lambda r: r.epochs))
    for name in declared(FitOptions):
        add_flag(p, FitOptions, name, help_extra=_recipe_values(name, lambda r, n=name: getattr(r.fit, n)))
    add_flag(p, RunSpec, "batch_size", help_extra=_recipe_values("batch_size", lambda r: r.batch_size))
    p.add_argument("--image-size", type=image_size_arg, metavar="SIZE|HxW",
                   help=f"resize images to this. {FITTED_SIZE_RULE}")
    p.add_argument("--mask", metavar="PRESET|FILE.json", help="mask preset applied to every image")
    p.add_argument("--chain", metavar="CHAIN|FILE.json", help="augmentation chain for training images")
    add_flag(p, RunSpec, "seed")
    add_flag(p, RunSpec, "name")
    p.add_argument("--out", metavar="RUNS_DIR",
                   help="runs folder; the run goes into a new sub-folder")
    p.add_argument("--workers", metavar="TF_CONFIG",
                   help="train on several machines (TensorFlow's MultiWorkerMirroredStrategy): this "
                   "worker's TF_CONFIG, as JSON or a JSON file (default: the TF_CONFIG environment "
                   "variable, when set). Run the same command on every worker; --batch-size is the "
                   "global batch, split evenly between the workers; only the chief (worker 0) "
                   "writes the run folder; a worker lost stops every worker with an error")
    p.add_argument("--json", action="store_true", help="print one JSON document")
    p.set_defaults(handler=cmd_train, parser=p)
