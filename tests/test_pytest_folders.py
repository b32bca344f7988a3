"""The test run cleans up after itself: pytest's temporary folders go when the tests pass."""

from __future__ import annotations

import getpass
import os
import subprocess
import sys
from pathlib import Path

import filterscope

REPO = Path(__file__).resolve().parents[1]


def test_a_passing_run_leaves_no_temporary_folders(tmp_path: Path) -> None:
    temp = tmp_path / "system-temp"  # where pytest and the suite's conftest put their folders
    temp.mkdir()
    env = dict(os.environ, TMPDIR=str(temp), PYTHONPATH=str(Path(filterscope.__file__).parents[1]))
    env.pop("PYTEST_ADDOPTS", None)
    # Two quick tests that write into tmp_path (one a module-scoped tmp_path_factory fixture's).
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                           "tests/core/test_datasets.py::test_single_class_dataset",
                           "tests/core/test_datasets.py::test_summary_is_json_and_matches_the_dataset"],
                          cwd=REPO, env=env, capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stdout + done.stderr
    # pytest-of-<user> itself stays (empty), as pytest keeps it for the next run
    left = [p.relative_to(temp) for p in temp.rglob("*")]
    assert left == [Path(f"pytest-of-{getpass.getuser()}")], left
