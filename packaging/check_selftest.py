"""Print a ``--self-test`` result file's steps; exit 0 when it passed, 1 otherwise.

Usage: python packaging/check_selftest.py SELF_TEST.json

A windowed build (Windows, macOS) has no console, so its exit code and this file are what a
build script or CI sees of the self-test.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path


def main(argv: list[str]) -> int:
    """Print the steps of the result in ``argv[0]``; 0 when it passed."""
    path = Path(argv[0])
    try:
        result = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        print(f"{path}: no self-test result ({exc})", file=sys.stderr)
        return 1
    for step in result.get("steps", []):
        mark = "ok  " if step.get("ok") else "FAIL"
        print(f"  {mark} {step.get('name', '?'):10} {step.get('seconds', 0):7.2f} s  {step.get('detail', '')}")
    versions = ", ".join(f"{k} {v}" for k, v in result.get("versions", {}).items())
    print(f"  {'passed' if result.get('ok') else 'FAILED: ' + str(result.get('reason'))}"
          f" in {result.get('timings', {}).get('total', '?')} s ({versions})")
    return 0 if result.get("ok") is True else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
