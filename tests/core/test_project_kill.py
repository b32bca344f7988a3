"""A project file survives its writer being killed during a save: on disk it is always one
complete version, never a mix or a cut-off file."""

from __future__ import annotations

import random
import subprocess
import sys
import time
from pathlib import Path

from filterscope.core.project.store import load_project, save_project

from tests.projects import big_per_class, sample_project

REPO = Path(__file__).resolve().parents[2]
# Saves three big projects (about 2 MB each) over one file, round and round, until killed.
WRITER = r"""
import sys
from pathlib import Path
from filterscope.core.project.store import save_project
from tests.projects import big_per_class, sample_project
root, first = Path(sys.argv[1]), int(sys.argv[2])
projects = [sample_project(root, v, big_per_class(v)) for v in range(first, first + 3)]
save_project(root / "big.fsproj", projects[0])
print("saved", flush=True)
n = 1
while True:
    save_project(root / "big.fsproj", projects[n % 3])
    n += 1
"""
# Stops for good between writing the temp file and renaming it over the project.
STALLED = r"""
import os, sys, time
from pathlib import Path
from filterscope.core.project.store import save_project
from tests.projects import sample_project
root = Path(sys.argv[1])
def stall(src, dst):
    print("mid-save", flush=True)
    time.sleep(600)
os.replace = stall
save_project(root / "big.fsproj", sample_project(root, 99, 20_000))
"""


def start(script: str, *args: object) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", script, *map(str, args)], cwd=REPO,
                            stdout=subprocess.PIPE, text=True)


def version_on_disk(root: Path) -> int:
    """The version the file holds, after checking it is that version complete."""
    project = load_project(root / "big.fsproj")
    version = int(project.augment.chain.name[1:])
    assert project == sample_project(root, version, big_per_class(version))
    return version


def temp_files(root: Path) -> set[Path]:
    return set(root.glob(".fs-*.tmp"))


def disk_state(root: Path) -> tuple:
    """What a save changes first: the folder's files (a temp file appears) or the project
    file itself (a writer that is not atomic truncates it)."""
    stat = (root / "big.fsproj").stat()
    return tuple(sorted(p.name for p in root.iterdir())), stat.st_ino, stat.st_size, stat.st_mtime_ns


def kill_during_a_save(root: Path, delay: float) -> None:
    """Wait until the writer starts writing to the disk (it is in a save), then ``delay`` s."""
    before, deadline = disk_state(root), time.monotonic() + 30
    while disk_state(root) == before and time.monotonic() < deadline:
        time.sleep(0.0005)
    time.sleep(delay)


def test_killing_the_writer_at_random_moments_leaves_a_whole_version(tmp_path: Path) -> None:
    rng = random.Random(14)
    left_mid_save = 0
    for round_ in range(8):
        first = 3 * round_
        writer = start(WRITER, tmp_path, first)
        try:
            assert writer.stdout.readline().strip() == "saved"
            before = temp_files(tmp_path)
            if round_ % 2:  # inside a save's few milliseconds of writing, fsync and renaming
                kill_during_a_save(tmp_path, rng.uniform(0, 0.003))
            else:  # anywhere, mostly while the next version is encoded
                time.sleep(rng.uniform(0.05, 1.2))
        finally:
            writer.kill()  # SIGKILL: no handler, no cleanup
            writer.wait()
        assert writer.returncode != 0, "the writer ended by itself"
        left_mid_save += bool(temp_files(tmp_path) - before)
        assert first <= version_on_disk(tmp_path) < first + 3
    assert left_mid_save >= 1, "no kill landed inside a save: the test proved nothing"
    print(f"{left_mid_save} of 8 kills left a save's temp file behind")  # shown with pytest -s


def test_a_kill_between_writing_and_renaming_keeps_the_last_good_file(tmp_path: Path) -> None:
    good = sample_project(tmp_path, 5, big_per_class(5))
    save_project(tmp_path / "big.fsproj", good)
    writer = start(STALLED, tmp_path)
    try:
        assert writer.stdout.readline().strip() == "mid-save"
    finally:
        writer.kill()
        writer.wait()
    leftovers = temp_files(tmp_path)
    assert len(leftovers) == 1 and next(iter(leftovers)).stat().st_size > 1_000_000
    assert load_project(tmp_path / "big.fsproj") == good
    # The leftover neither breaks the next save nor is read in place of the project.
    newer = sample_project(tmp_path, 6)
    save_project(tmp_path / "big.fsproj", newer)
    assert load_project(tmp_path / "big.fsproj") == newer
