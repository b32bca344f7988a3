"""The built wheel carries the resources and the entry points, found without the source tree."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_wheel_ships_resources_found_through_importlib(tmp_path: Path) -> None:
    wheel_dir, target = tmp_path / "wheel", tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation",
                    "--no-index", "-w", str(wheel_dir), str(ROOT)], check=True, capture_output=True)
    wheel = next(wheel_dir.glob("filterscope-*.whl"))
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
        entry_points = zf.read(next(n for n in names if n.endswith("entry_points.txt"))).decode()
    assert "filterscope/resources/icons/filterscope.svg" in names
    assert "filterscope/resources/imagenet/classes.json" in names
    assert "filterscope/core/visualize/ascent.py" in names
    for preset in ("mask/chapter", "mask/seedlings-tuned", "augment/chapter", "augment/keras",
                   "augment/none"):
        assert f"filterscope/resources/presets/{preset}.json" in names
    assert "filterscope = filterscope.cli.main:main" in entry_points
    assert "filterscope-gui = filterscope.app:main" in entry_points
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-index",
                    "--target", str(target), str(wheel)], check=True, capture_output=True)
    code = ("import filterscope, importlib.resources as r; "
            "print(filterscope.__file__); "
            "print((r.files('filterscope.resources') / 'icons' / 'filterscope.svg').read_text()[:4])")
    # -S: no site-packages, so neither the editable install nor the source tree can answer.
    out = subprocess.run([sys.executable, "-S", "-c", code], check=True, capture_output=True,
                         text=True, env={"PYTHONPATH": str(target)}, cwd=tmp_path).stdout.split("\n")
    assert out[0].startswith(str(target))
    assert out[1] == "<svg"
