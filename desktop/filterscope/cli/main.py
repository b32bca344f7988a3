"""Headless commands, one per job of the app; ``filterscope`` with no command opens the GUI.

Every command prints a human summary, or one JSON document with ``--json``. Progress goes to
stderr through tqdm (silent when stderr is not a terminal); training also prints a line per epoch
there, as it happens. Exit codes: 0 success, 1 the job failed (message on stderr, one line), 2 bad
arguments.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from typing import Sequence

from filterscope import __version__
from filterscope.cli import (augment, capture, data, datamap, decide, duplicates, export, labels, live, mask,
                             network, project, report, results, train, transfer, visualize)
from filterscope.cli.common import CommandError, emit
from filterscope.core.training.tf_runtime import quiet_tensorflow
from filterscope.selftest import FLAG as SELF_TEST_FLAG

VERBOSE_HELP = "show TensorFlow's own start-up and log lines (hidden by default)"


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with one sub-command per job."""
    parser = argparse.ArgumentParser(
        prog="filterscope",
        description="Filterscope: ConvNets for computer vision, as a desktop tool. "
        "Run without a command to open the app.",
    )
    parser.add_argument("--version", action="version", version=f"filterscope {__version__}")
    parser.add_argument("--verbose", action="store_true", help=VERBOSE_HELP)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in (data, duplicates, datamap, mask, augment, train, transfer, visualize, network, results, decide,
                   labels, export, project, report, live, capture):
        module.register(sub)
    for command in sub.choices.values():  # also after the command; SUPPRESS keeps one given before
        command.add_argument("--verbose", action="store_true", default=argparse.SUPPRESS,
                             help=VERBOSE_HELP)
    return parser


def _line_buffered() -> None:
    """Flush both streams at every line, also when they go to a file or a pipe: Python buffers a
    redirected stdout in blocks, so ``> log 2>&1`` would get lines late and out of order."""
    for stream in (sys.stdout, sys.stderr):
        if hasattr(stream, "reconfigure"):  # not a test's capture object
            stream.reconfigure(line_buffering=True)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``filterscope`` console script."""
    argv = list(sys.argv[1:] if argv is None else argv)
    _line_buffered()
    if not argv or SELF_TEST_FLAG in argv:  # the app, or the app checking itself
        from filterscope.app import main as gui_main

        return gui_main(argv)
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    try:
        with contextlib.nullcontext() if args.verbose else quiet_tensorflow():
            data, human = args.handler(args)
    except CommandError as exc:
        print(f"filterscope {args.command}: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"filterscope {args.command}: cancelled", file=sys.stderr)
        return 130
    try:
        emit(args, data, human)
    except BrokenPipeError:  # `filterscope scan DIR | head`: the reader left, that is fine
        sys.stderr.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
