"""What every command shares: the tqdm reporter, running a job, errors, output, argument types."""

from __future__ import annotations

import argparse
import json
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from tqdm import tqdm

if TYPE_CHECKING:
    from filterscope.core.augment.chain import ChainSpec
    from filterscope.core.data.datasets import Dataset
    from filterscope.core.masking.colordist import MaskParams


class TqdmReport:
    """The Report protocol on a tqdm bar (on stderr), and the partials a command wants to see as
    lines, such as training's epochs.

    The bar is silent when stderr is not a terminal, so without those lines ``filterscope train
    ... > log 2>&1`` would write nothing until the run ended.
    """

    def __init__(self, description: str, lines: Callable[[Any], str | None] | None = None) -> None:
        self._bar = tqdm(total=1000, desc=description, unit="‰", file=sys.stderr,
                         disable=None, leave=False, bar_format="{desc}: {percentage:3.0f}%|{bar}| {postfix}")
        self._lines = lines

    def progress(self, fraction: float, message: str = "") -> None:
        """Move the bar to ``fraction`` and show ``message``."""
        self._bar.n = int(1000 * min(max(fraction, 0.0), 1.0))
        self._bar.set_postfix_str(message, refresh=True)

    def partial(self, payload: Any) -> None:
        """Print the line ``lines`` makes of a partial (above the bar, on a terminal); the rest of
        the result is reported at the end."""
        line = self._lines(payload) if self._lines is not None else None
        if line:
            tqdm.write(line, file=sys.stderr)
            sys.stderr.flush()

    def close(self) -> None:
        """Remove the bar."""
        self._bar.close()


class CommandError(Exception):
    """A failure to report as one line and exit status 1."""


def run_job(description: str, fn: Callable[..., Any], *args: Any,
            lines: Callable[[Any], str | None] | None = None, **kwargs: Any) -> Any:
    """Run a core job in the foreground with a progress bar; Ctrl+C cancels it cleanly.

    ``lines`` turns a partial result into a line to print as it comes (None: not shown).
    """
    report = TqdmReport(description, lines)
    try:
        return fn(*args, report=report, cancel=threading.Event(), **kwargs)
    finally:
        report.close()


def emit(args: argparse.Namespace, data: Any, human: Callable[[Any], str]) -> None:
    # A redirected stdout on Windows is cp1252: a class named "Ünïcødé 植物" must not crash the
    # command after the job is done. JSON falls back to \u escapes, text to backslash escapes.
    utf8 = (getattr(sys.stdout, "encoding", None) or "").lower().replace("-", "") == "utf8"
    if not utf8 and hasattr(sys.stdout, "reconfigure"):
        sys.stdout.reconfigure(errors="backslashreplace")
    if args.json:
        json.dump(data, sys.stdout, indent=2, ensure_ascii=not utf8)
        sys.stdout.write("\n")
    else:
        print(human(data))


def open_dataset(text: str) -> "Dataset":
    """The dataset a command line names: a folder, a built-in id or a source (``builtin:mnist``)."""
    from filterscope.core.data.builtin import BuiltinUnavailable
    from filterscope.core.data.datasets import DatasetError
    from filterscope.core.data.source import Source, SourceError
    from filterscope.core.data.sources import open_source

    try:
        return run_job("Scanning", open_source, Source.parse(text, bare=True))
    except (DatasetError, BuiltinUnavailable, SourceError) as exc:
        raise CommandError(str(exc)) from exc


def positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1 (got {value})")
    return value


def read_image_arg(path: str | Path) -> Any:
    """The image file named on the command line, as (H, W, 3) RGB uint8.

    Raises:
        CommandError: Naming the file and what is wrong with it.
    """
    from filterscope.core.data.images import ImageReadError, read_image

    try:
        return read_image(path)
    except ImageReadError as exc:
        raise CommandError(str(exc)) from exc


def is_file_arg(text: str) -> bool:
    """A name with a .json suffix or a path separator is a file; anything else a built-in name."""
    return text.lower().endswith(".json") or any(sep in text for sep in "/\\")


def load_mask_arg(preset: str) -> MaskParams:
    """A built-in mask preset name or a preset file -> MaskParams.

    Raises:
        MaskParamsError: An unknown name, or a file that is unreadable or invalid.
    """
    from filterscope.core.masking.colordist import builtin_preset, load_params

    return load_params(preset) if is_file_arg(preset) else builtin_preset(preset)


def load_chain_arg(chain: str) -> tuple[ChainSpec, str]:
    """A built-in chain name or a chain file -> (spec, where it came from).

    Raises:
        ChainError: An unknown built-in name, or a chain file that is unreadable or invalid.
    """
    from filterscope.core.augment.chain import builtin_chain, load_chain

    return (load_chain(chain), str(Path(chain))) if is_file_arg(chain) else (builtin_chain(chain), chain)
