"""``filterscope augment IMAGE --out DIR``: augmented copies of one image, as PNG files.

The command shows from the shell what the Augment tab shows: the chain (a built-in name or a
chain file), the files it wrote, and the same chain as imgaug code. Images are augmented at full
resolution; for images up to 256 px the files are exactly the tab's preview with the same seed.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

import numpy as np

if TYPE_CHECKING:
    from filterscope.core.augment import ChainSpec
    from filterscope.core.jobs import Cancel, Report

MAX_COPIES = 64
BUILTIN_CHAINS = ("chapter", "keras", "none")
# One imgaug call gets at most this many input bytes: 64 copies of a 12 MP photo would be 2.3 GB.
_BATCH_BYTES = 128 * 1024 * 1024


def _copies(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if not 1 <= value <= MAX_COPIES:
        raise argparse.ArgumentTypeError(f"must be from 1 to {MAX_COPIES} (got {value})")
    return value


def load_chain_arg(chain: str) -> tuple[ChainSpec, str]:
    """A built-in chain name or a chain file -> (spec, where it came from).

    Raises:
        ChainError: An unknown built-in name, or a chain file that is unreadable or invalid.
    """
    from filterscope.core.augment import builtin_chain, load_chain

    is_file = chain.lower().endswith(".json") or any(sep in chain for sep in "/\\")
    return (load_chain(chain), str(Path(chain))) if is_file else (builtin_chain(chain), chain)


def augment_copies(image: np.ndarray, spec: ChainSpec, n: int, seed: int, *, report: Report,
                   cancel: Cancel) -> list[np.ndarray]:
    """``n`` augmented copies of one RGB uint8 image at full resolution, seeded.

    The copies go through imgaug in as few calls as memory allows (one for small images), so the
    result is the Augment tab's preview with the same seed whenever the image is not downscaled.
    """
    from filterscope.core.augmenters import BatchAugmenter
    from filterscope.core.jobs import check_cancel

    check_cancel(cancel)
    augmenter = BatchAugmenter(spec, seed)
    per_call = max(1, min(n, _BATCH_BYTES // max(image.nbytes, 1)))
    out: list[np.ndarray] = []
    while len(out) < n:
        count = min(per_call, n - len(out))
        report.progress(len(out) / n, f"Augmenting {len(out) + 1}-{len(out) + count} of {n}")
        out.extend(augmenter(np.repeat(image[None], count, axis=0)))
        check_cancel(cancel)
    report.progress(1.0, "Done")
    return out


def _write_png(path: Path, rgb: np.ndarray) -> None:
    import cv2

    from filterscope.core.fileio import atomic_write_bytes

    ok, data = cv2.imencode(".png", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    if not ok:
        raise OSError(f"cannot encode {path.name} as PNG")
    atomic_write_bytes(path, data.tobytes())


def _human(d: dict) -> str:
    lines = [f"wrote {len(d['files'])} augmented cop{'y' if len(d['files']) == 1 else 'ies'} of "
             f"{d['image']} ({d['size'][0]}x{d['size'][1]}) to {d['out']}",
             f"chain: {d['chain']['name'] or d['chain']['source']} ({d['chain']['source']}), "
             f"seed {d['seed']}", *[f"  {f}" for f in d["files"]], "", d["chain"]["python"]]
    return "\n".join(lines)


def cmd_augment(args: argparse.Namespace) -> tuple[dict, Callable[[Any], str]]:
    """``filterscope augment IMAGE --out DIR``: write augmented PNG copies of one image."""
    from filterscope.cli import CommandError, run_job
    from filterscope.core.augment import ChainError
    from filterscope.core.augmenters import to_python
    from filterscope.core.images import ImageReadError, read_image

    image_path, out = Path(args.image), Path(args.out)
    try:
        spec, source = load_chain_arg(args.chain)
        if out.resolve() == image_path.resolve():
            raise CommandError(f"--out {out} is the image itself; give a folder")
        image = read_image(image_path)
        out.mkdir(parents=True, exist_ok=True)
        copies = run_job("Augmenting", augment_copies, image, spec, args.n, args.seed)
        files = []
        for k, copy in enumerate(copies, start=1):
            target = out / f"{image_path.stem}_aug{k}.png"
            _write_png(target, copy)
            files.append(str(target))
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
    }
    return data, _human


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``augment`` command to the ``filterscope`` parser."""
    augment = sub.add_parser("augment", help="write augmented PNG copies of an image")
    augment.add_argument("image", help="the image file (any format the app reads)")
    augment.add_argument("--out", required=True, metavar="DIR",
                         help="folder for IMAGE-STEM_aug1.png ... (created if missing)")
    augment.add_argument("--chain", default="chapter", metavar="chapter|keras|none|FILE.json",
                         help="built-in chain or a chain file saved by the Augment tab "
                         "(default: chapter, the chapter's imgaug chain)")
    augment.add_argument("-n", type=_copies, default=8, metavar="N",
                         help=f"how many copies, 1-{MAX_COPIES} (default 8)")
    augment.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    augment.add_argument("--json", action="store_true", help="print one JSON document")
    augment.set_defaults(handler=cmd_augment)
