"""packaging/bootstrap.sh and run-app.sh as a new user meets them: what they say and do.

Installing 3 GB and opening a window cannot run in a test, so these run the real scripts in a
copy of the repo whose ``dpkg``, ``.venv/bin/python`` (pip) and ``.venv/bin/filterscope`` are
small stand-ins that log their calls; ``.venv/bin/activate`` is a real venv's.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.skipif(sys.platform == "win32" or not shutil.which("bash"),
                                reason="the Debian/Ubuntu set-up scripts")

PIP = """#!/usr/bin/env bash
echo "python $*" >> "$(dirname "$0")/../../calls"
case "$*" in
  *"pip show"*) [ -e "$(dirname "$0")/../installed" ] ;;
  *"--progress-bar on"*) echo "Installing collected packages: filterscope"; touch "$(dirname "$0")/../installed" ;;
esac
"""
FILTERSCOPE = """#!/usr/bin/env bash
echo "filterscope $*" | tee -a "$(dirname "$0")/../../calls"
"""


def _stub(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    path.chmod(0o755)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A copy of the scripts in a folder whose name has a space, with the stand-ins."""
    root = tmp_path / "my repo"
    (root / "packaging").mkdir(parents=True)
    for name in ("bootstrap.sh", "run-app.sh"):
        shutil.copy2(REPO / "packaging" / name, root / "packaging" / name)
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(root / ".venv")], check=True)
    (root / ".venv" / "bin" / "python").unlink()
    _stub(root / ".venv" / "bin" / "python", PIP)
    _stub(root / ".venv" / "bin" / "filterscope", FILTERSCOPE)
    _stub(tmp_path / "bin" / "dpkg", "#!/usr/bin/env bash\nexit 0\n")  # every package is there
    return root


def _run(repo: Path, script: str, *args: str, display: str | None = None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items()
           if k not in ("DISPLAY", "WAYLAND_DISPLAY", "VIRTUAL_ENV", "PYTHONPATH")}
    env["PATH"] = f"{repo.parent / 'bin'}{os.pathsep}{env['PATH']}"
    if display:
        env["DISPLAY"] = display
    return subprocess.run(["bash", str(repo / "packaging" / script), *args], env=env,
                          capture_output=True, text=True, timeout=60)


def test_bootstrap_says_the_install_goes_quiet_and_how_to_get_the_command(repo: Path) -> None:
    done = _run(repo, "bootstrap.sh", "app")
    assert done.returncode == 0, done.stderr
    out = done.stdout.splitlines()
    quiet = next(i for i, line in enumerate(out) if "it is still working" in line)
    assert quiet < out.index("Installing collected packages: filterscope")
    source = next(line.strip() for line in out if line.strip().startswith("source "))
    # The printed line, pasted into a new shell, makes the README's `filterscope ...` work.
    shell = subprocess.run(["bash", "-c", f"cd / && {source} && filterscope scan mnist"],
                           capture_output=True, text=True, timeout=60,
                           env={"PATH": "/usr/bin:/bin", "HOME": str(repo.parent)})
    assert shell.returncode == 0 and shell.stdout == "filterscope scan mnist\n", shell.stderr
    again = _run(repo, "bootstrap.sh", "app")  # installed: quiet, no instructions again
    assert again.returncode == 0 and again.stdout == ""


def test_run_app_without_a_display_says_why_and_does_not_start_the_window(repo: Path) -> None:
    done = _run(repo, "run-app.sh")
    assert done.returncode == 1
    assert "Not starting the window: there is no display" in done.stderr
    assert "source " in done.stderr and "--self-test" in done.stderr and "ssh -X" in done.stderr
    assert "filterscope" not in (repo / "calls").read_text().replace("pip show -q filterscope", "")


def test_run_app_runs_commands_without_a_display_and_the_window_with_one(repo: Path) -> None:
    headless = _run(repo, "run-app.sh", "--self-test")
    assert headless.returncode == 0 and headless.stdout.endswith("filterscope --self-test\n")
    shown = _run(repo, "run-app.sh", display=":0")
    assert shown.returncode == 0 and shown.stdout.endswith("filterscope \n"), shown.stderr
