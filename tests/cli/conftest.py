"""CLI test fixtures: running ``filterscope`` in-process with its output captured."""

from __future__ import annotations

from typing import Callable

import pytest
from filterscope.cli.main import main


@pytest.fixture
def run_cli(capsys: pytest.CaptureFixture) -> Callable[..., tuple[int, str, str]]:
    """``run_cli(*argv)`` runs ``filterscope argv...`` in this process (every argument through
    ``str``, so paths and numbers may be passed as they are) and returns its exit code, stdout
    and stderr."""

    def run(*argv: object) -> tuple[int, str, str]:
        code = main([str(a) for a in argv])
        out, err = capsys.readouterr()
        return code, out, err

    return run
