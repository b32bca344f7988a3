"""The run report in a real browser: headless Chromium (Debian's ``chromium`` package, installed
by ``packaging/bootstrap.sh test``) lays the page out, every section heading is in its DOM and it
takes a screenshot. Skipped where Chromium is not installed."""

from __future__ import annotations

import re
import shutil
import subprocess
import threading
from pathlib import Path

import pytest
from filterscope.core.base.jobs import NullReport
from filterscope.core.project.report import write_report

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(CHROMIUM is None,
                                reason="Chromium is not installed (apt-get install chromium)")
# Offline and quiet: no first-run pages, no updates, no sync, no QUIC probes.
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def chromium(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    profile = tmp_path / "chromium-profile"
    return subprocess.run([CHROMIUM, *FLAGS, f"--user-data-dir={profile}", *args],
                          capture_output=True, text=True, timeout=120, check=True)


def test_chromium_renders_every_section_of_the_report(results_run, tmp_path) -> None:
    result = write_report(results_run, tmp_path / "report.html", report=NullReport(),
                          cancel=threading.Event())
    url = result.path.as_uri()
    dom = chromium(tmp_path, "--dump-dom", url).stdout
    shown = [re.sub(r"<[^>]+>", "", h) for h in re.findall(r"<h2[^>]*>(.*?)</h2>", dom)]
    assert shown == result.sections and len(shown) == 11
    assert dom.count("<img ") == result.html.count("<img ")
    shot = tmp_path / "report.png"
    chromium(tmp_path, f"--screenshot={shot}", "--window-size=1200,3000", url)
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 50_000
