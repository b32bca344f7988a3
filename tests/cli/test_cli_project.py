"""``filterscope project show``: a project file as the app reads it, older versions migrated."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from filterscope.core.project.store import save_project
from filterscope.core.project.versions import FORMAT_VERSION

from tests.projects import sample_project

V1 = Path(__file__).parents[1] / "core" / "fixtures" / "project_v1.fsproj"


def test_show_a_current_project_as_json_with_absolute_paths(run_cli, tmp_path: Path) -> None:
    save_project(tmp_path / "p.fsproj", sample_project(tmp_path))
    code, out, err = run_cli("project", "show", tmp_path / "p.fsproj", "--json")
    assert code == 0, err
    shown = json.loads(out)
    assert shown["file_version"] == shown["version"] == FORMAT_VERSION
    assert shown["project"]["dataset"]["source"] == f"folder:{tmp_path / 'photos'}"
    assert shown["project"]["runs"]["folder"] == str(tmp_path / "runs")
    assert shown["missing_dataset"] == str(tmp_path / "photos")
    assert shown["project"]["training"]["epochs"] == 1


def test_show_migrates_a_version_1_file_and_leaves_it_alone(run_cli, tmp_path: Path) -> None:
    shutil.copy(V1, tmp_path / "old.fsproj")
    before = (tmp_path / "old.fsproj").read_bytes()
    code, out, err = run_cli("project", "show", tmp_path / "old.fsproj")
    assert code == 0, err
    assert f"project version {FORMAT_VERSION} (file version 1)" in out
    assert "folder:/home/ana/photos/seedlings  (missing)" in out and "sgd, 12 epochs of 16" in out
    assert (tmp_path / "old.fsproj").read_bytes() == before


def test_show_a_bad_file_fails_naming_it(run_cli, tmp_path: Path) -> None:
    (tmp_path / "bad.fsproj").write_text("{}", encoding="utf-8")
    code, out, err = run_cli("project", "show", tmp_path / "bad.fsproj")
    assert code == 1 and out == ""
    assert f"{tmp_path / 'bad.fsproj'}: not a Filterscope project" in err
