"""``filterscope augment IMAGE --out DIR``: augmented copies of one image, as PNG files.

The command shows from the shell what the Augment tab shows: the chain (a built-in name or a
chain file), the files it wrote, and the same chain as imgaug code. Images are augmented at full
resolution; for images up to 256 px the files are exactly the tab's preview with the same seed.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any, Callable

import numpy as np

from filterscope.cli.common import CommandError, load_chain_arg, run_job
from filterscope.core.augment.chain import CHAIN_PRESETS

MAX_COPIES = 64
NAME_MAX = 255  # bytes in a file name (ext4, APFS, NTFS in UTF-16 units)


def _copies(text: str) -> int:
    from filterscope.core.base.settings import SettingError, check_number

    try:
        return check_number("-n", int(text), 1, MAX_COPIES, integer=True)
    except SettingError as exc:  # a ValueError too: first
        raise argparse.ArgumentTypeError(exc.message) from None
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None


def copy_name(stem: str, k: int) -> str:
    """``<stem>_aug<k>.png``, the stem cut short (whole characters) when the name would not fit in
    a file name: an image's own name may already be near the limit."""
    suffix = f"_aug{k}.png"
    while len(os.fsencode(stem + suffix)) > NAME_MAX and stem:
        stem = stem[:-1]
    return stem + suffix


def _write_png(path: Path, rgb: np.ndarray) -> None:
    from filterscope.core.base.fileio import atomic_write_bytes
    from filterscope.core.base.opencv import cv2

    ok, data = cv2.imencode(".png", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    if not ok:
        raise OSError(f"cannot encode {path.name} as PNG")
    atomic_write_bytes(path, data.tobytes())


def _write_copies(out: Path, stem: str, copies: list[np.ndarray]) -> tuple[list[str], list[dict]]:
    """Write each copy; returns the files written and ``{"path", "reason"}`` of those that could
    not be (a folder in the way of one name, say).

    Raises:
        OSError: Not one copy could be written: the folder is at fault, not a name.
    """
    files, failed, first_error = [], [], None
    for k, copy in enumerate(copies, start=1):
        target = out / copy_name(stem, k)
        try:
            _write_png(target, copy)
        except OSError as exc:
            first_error = first_error or exc
            failed.append({"path": str(target), "reason": f"cannot write it ({exc.strerror or exc})"})
        else:
            files.append(str(target))
    if first_error is not None and not files:
        raise first_error
    return files, failed


def _human(d: dict) -> str:
    lines = [f"wrote {len(d['files'])} augmented cop{'y' if len(d['files']) == 1 else 'ies'} of "
             f"{d['image']} ({d['size'][0]}x{d['size'][1]}) to {d['out']}",
             f"chain: {d['chain']['name'] or d['chain']['source']} ({d['chain']['source']}), "
             f"seed {d['seed']}", *[f"  {f}" for f in d["files"]],
             *[f"failed: {f['path']}: {f['reason']}" for f in d["failed"]], "", d["chain"]["python"]]
    return "\n".join(lines)


def cmd_augment(args: argparse.Namespace) -> tuple[dict, Callable[[Any], str]]:
    """``filterscope augment IMAGE --out DIR``: write augmented PNG copies of one image."""
    from filterscope.core.augment.build import to_python
    from filterscope.core.augment.chain import ChainError
    from filterscope.core.augment.preview import augment_copies
    from filterscope.core.data.images import ImageReadError, read_image

    image_path, out = Path(args.image), Path(args.out)
    try:
        spec, source = load_chain_arg(args.chain)
        if out.resolve() == image_path.resolve():
            raise CommandError(f"--out {out} is the image itself; give a folder")
        image = read_image(image_path)
        out.mkdir(parents=True, exist_ok=True)
        copies = run_job("Augmenting", augment_copies, image, spec, args.n, args.seed)
        files, failed = _write_copies(out, image_path.stem, copies)
    except (ChainError, ImageReadError) as exc:
        raise CommandError(str(exc)) from exc
    except OSError as exc:
        raise CommandError(f"{out}: cannot write the images ({exc.strerror or exc})") from exc
    data = {
        "image": str(image_path),
        "size": [int(image.shape[1]), int(image.shape[0])],
        "out": str(out),
        "seed": args.seed,
        "chain": {"name": spec.name, "source": source, "spec": spec.to_json(),
                  "python": to_python(spec)},
        "files": files,
        "failed": failed,
    }
    return data, _human


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``augment`` command to the ``filterscope`` parser."""
    augment = sub.add_parser("augment", help="write augmented PNG copies of an image")
    augment.add_argument("image", help="the image file (any format the app reads)")
    augment.add_argument("--out", required=True, metavar="DIR",
                         help="folder for IMAGE-STEM_aug1.png ... (created if missing)")
    augment.add_argument("--chain", default="chapter", metavar="|".join((*CHAIN_PRESETS, "FILE.json")),
                         help="built-in chain or a chain file saved by the Augment tab "
                         "(default: chapter, the chapter's imgaug chain)")
    augment.add_argument("-n", type=_copies, default=8, metavar="N",
                         help=f"how many copies, 1-{MAX_COPIES} (default 8)")
    augment.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    augment.add_argument("--json", action="store_true", help="print one JSON document")
    augment.set_defaults(handler=cmd_augment)
