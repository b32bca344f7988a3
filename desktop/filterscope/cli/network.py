"""``filterscope network``: an image through every layer of a model, from the shell, and any
convolution, ReLU or max-pooling value worked out as the Filters tab works it out.

MODEL is what ``filterscope layers`` takes. Each layer's output is summarised (kind, shape,
range); a softmax model's logits become probabilities with the arithmetic in words. ``--tile
LAYER:ROW:COL:CHANNEL`` (1-based, as the app counts) writes out the arithmetic behind one value
with the model's own kernel and input, and checks it against the model's value.
"""

from __future__ import annotations

import argparse
from typing import Any, Callable

from filterscope.cli.common import CommandError, read_image_arg, run_job
from filterscope.cli.visualize import _load, _model_args


def _tile(text: str) -> tuple[str, int, int, int]:
    name, *numbers = text.split(":")
    try:
        row, col, channel = (int(n) for n in numbers)
    except ValueError:
        raise argparse.ArgumentTypeError(f"give LAYER:ROW:COL:CHANNEL such as block2_conv:5:6:3 (got {text!r})") from None
    if not name or min(row, col, channel) < 1:
        raise argparse.ArgumentTypeError(f"give a layer name and ROW, COL, CHANNEL from 1 (got {text!r})")
    return name, row - 1, col - 1, channel - 1


def _layers_json(view: Any) -> list[dict]:
    return [{"name": layer.name, "class": layer.class_name, "kind": layer.kind,
             "shape": list(layer.values.shape), "min": float(layer.values.min()),
             "max": float(layer.values.max()), "input": view.source_name(layer) if layer.source is not None else None,
             "steppable": not layer.blocker} for layer in view.layers]


def _tile_json(view: Any, tile: tuple[str, int, int, int]) -> dict:
    from filterscope.core.visualize.layers import VisualizeError
    from filterscope.core.visualize.network_step import tile_step

    name, row, col, channel = tile
    index = next((layer.index for layer in view.layers if layer.name == name), None)
    if index is None:
        raise CommandError(f"--tile: the model has no layer {name!r}; see `filterscope layers`")
    try:
        step = tile_step(view, index, row, col, channel)
    except VisualizeError as exc:
        raise CommandError(f"--tile: {exc}") from exc
    return {"layer": name, "row": row + 1, "col": col + 1, "channel": channel + 1, "stage": step.stage,
            "model_value": step.tile, "computed": step.computed(), "origin": step.origin,
            "equation": step.equation(), "notes": list(step.notes),
            "input_shape": list(step.image.shape), "kernel_shape": list(step.kernels.shape[:3])}


def _human(d: dict) -> str:
    lines = [f"model: {d['model']['name']} ({d['model']['weights']}), image {d['image']}",
             f"{'layer':<22} {'kind':<8} {'output':<14} {'min':>9} {'max':>9}"]
    for row in d["layers"]:
        lines.append(f"{row['name']:<22} {row['kind']:<8} {'x'.join(map(str, row['shape'])):<14} "
                     f"{row['min']:>9.4g} {row['max']:>9.4g}")
    lines += d["softmax"]
    if d.get("tile"):
        tile = d["tile"]
        lines += [tile["origin"], *tile["notes"], tile["equation"],
                  f"computed {tile['computed']:.6g}; the model's value {tile['model_value']:.6g}"]
    return "\n".join(lines)


def cmd_network(args: argparse.Namespace) -> tuple[dict, Callable[[Any], str]]:
    """``filterscope network``: every layer's output for an image, and one value worked out."""
    from filterscope.core.visualize.layers import VisualizeError
    from filterscope.core.visualize.network import network_view

    image = read_image_arg(args.image)
    session = _load(args)
    try:
        view = run_job("Every layer's output", network_view, session, image)
    except VisualizeError as exc:
        raise CommandError(str(exc)) from exc
    data = {"model": session.loaded.describe(), "image": str(args.image), "layers": _layers_json(view),
            "classes": view.class_names,
            "logits": None if view.logits is None else view.logits.tolist(),
            "probabilities": None if view.probabilities is None else view.probabilities.tolist(),
            "softmax": view.softmax_sentences(),
            "tile": None if args.tile is None else _tile_json(view, args.tile)}
    return data, _human


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``network`` command to the ``filterscope`` parser."""
    p = sub.add_parser("network", help="an image through every layer of a model; one value worked out by hand")
    _model_args(p)
    p.add_argument("image", metavar="IMAGE", help="the image file")
    p.add_argument("--tile", type=_tile, metavar="LAYER:ROW:COL:CHANNEL",
                   help="write out the arithmetic behind this value of a convolution, ReLU or max "
                   "pooling (rows, columns and channels from 1)")
    p.set_defaults(handler=cmd_network, parser=p)
