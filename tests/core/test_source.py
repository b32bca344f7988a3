"""Dataset sources: one typed value, read from and written back to exactly the text that run
files, project files, split manifests and the settings hold today."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from filterscope.core.data.source import (
    DEFAULT_SOURCE,
    BuiltinSource,
    FolderSource,
    ManifestSource,
    Source,
    SourceError,
)
from filterscope.core.data.splits import load_manifest, save_manifest
from filterscope.core.project.project import Project
from filterscope.core.project.store import load_project
from filterscope.core.training.data_spec import DataSpec, PipelineError

FIXTURES = Path(__file__).parent / "fixtures"

STORED = [
    ("builtin:mnist", BuiltinSource("mnist")),
    ("builtin:plant-seedlings", BuiltinSource("plant-seedlings")),
    ("folder:/data/plants", FolderSource("/data/plants")),
    ("folder:photos", FolderSource("photos")),  # a project's folder, relative to its file
    ("folder:C:\\Users\\ana\\Ünïcødé 植物", FolderSource("C:\\Users\\ana\\Ünïcødé 植物")),
    ("folder:/a path/with: colon", FolderSource("/a path/with: colon")),
    ("manifest:split.json", ManifestSource("split.json")),
]


@pytest.mark.parametrize("text, source", STORED)
def test_stored_text_reads_as_a_typed_value_and_writes_back_unchanged(text: str, source: Source) -> None:
    parsed = Source.parse(text)
    assert parsed == source == Source.parse_or_none(text) and type(parsed) is type(source)
    assert str(parsed) == parsed.to_json() == text
    assert json.loads(json.dumps(parsed.to_json())) == text


def test_sources_compare_by_kind_and_target() -> None:
    assert FolderSource("mnist") != BuiltinSource("mnist")
    assert ManifestSource("/x") != FolderSource("/x")
    assert {Source.parse("builtin:mnist"), DEFAULT_SOURCE} == {BuiltinSource("mnist")}
    assert DEFAULT_SOURCE.folder() is None and ManifestSource("m.json").folder() is None
    assert FolderSource("/data/plants").folder() == Path("/data/plants")


@pytest.mark.parametrize("text", ["", "   ", "folder:", "builtin: ", "manifest:", None, 3,
                                  "/data/plants", "mnist"])
def test_text_naming_no_source_is_refused_with_the_text(text: object) -> None:
    with pytest.raises(SourceError, match="must"):
        Source.parse(text)
    assert Source.parse_or_none(text) is None


def test_bare_text_is_a_manifest_file_a_builtin_id_or_a_folder(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "split.json").write_text("{}")
    assert Source.parse("split.json", bare=True) == ManifestSource("split.json")
    assert Source.parse("other.json", bare=True) == FolderSource("other.json")  # no such file
    assert Source.parse("mnist", bare=True) == BuiltinSource("mnist")
    assert Source.parse("nothing-built-in", bare=True) == FolderSource("nothing-built-in")
    (tmp_path / "mnist").mkdir()
    assert Source.parse("mnist", bare=True) == FolderSource("mnist")  # a folder of that name wins
    assert Source.parse("builtin:mnist", bare=True) == BuiltinSource("mnist")


def test_a_folder_source_made_from_a_path_is_absolute(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert FolderSource.at("photos") == FolderSource(str(tmp_path / "photos"))
    with pytest.raises(SourceError):
        FolderSource("")


def test_a_data_spec_reads_stored_and_bare_text_and_writes_the_stored_form(tmp_path: Path) -> None:
    for text, source in STORED:
        spec = DataSpec.from_json({"source": text})
        assert spec.source == source and spec.to_json()["source"] == text
        assert DataSpec.from_json(json.loads(json.dumps(spec.to_json()))) == spec
    assert DataSpec(str(tmp_path)).source == FolderSource(str(tmp_path))
    assert DataSpec("mnist").source == DEFAULT_SOURCE
    assert DataSpec(BuiltinSource("leaves")).to_json()["source"] == "builtin:leaves"
    with pytest.raises(PipelineError, match="^source: must name a dataset, not 'folder:'"):
        DataSpec("folder:")


def test_a_manifest_of_todays_format_loads_and_saves_unchanged(tmp_path: Path) -> None:
    stored = json.loads((FIXTURES / "manifest_v1.json").read_text(encoding="utf-8"))
    manifest = load_manifest(FIXTURES / "manifest_v1.json")
    assert manifest.source == FolderSource("/data/shapes")
    save_manifest(manifest, tmp_path / "again.json")
    assert json.loads((tmp_path / "again.json").read_text(encoding="utf-8")) == stored


def test_a_manifest_must_name_a_folder_or_a_builtin(tmp_path: Path) -> None:
    from filterscope.core.data.splits import SplitError, manifest_from_json

    stored = json.loads((FIXTURES / "manifest_v1.json").read_text(encoding="utf-8"))
    for bad in ("manifest:other.json", "", None):
        with pytest.raises(SplitError, match="^source: "):
            manifest_from_json({**stored, "source": bad})


def test_a_project_of_todays_format_keeps_its_dataset_text(tmp_path: Path) -> None:
    stored = json.loads((FIXTURES / "project_v2.fsproj").read_text(encoding="utf-8"))
    project = load_project(FIXTURES / "project_v2.fsproj")
    assert project.dataset == project.split.source == FolderSource(str(FIXTURES / "photos"))
    again = project.to_json(FIXTURES)
    assert again["dataset"] == stored["dataset"] == {"source": "folder:photos"}
    assert again["split"] == stored["split"]
    assert project.to_json(None)["dataset"] == {"source": f"folder:{FIXTURES / 'photos'}"}


def test_a_project_names_a_folder_or_a_builtin_only() -> None:
    from filterscope.core.project.versions import ProjectError

    with pytest.raises(ProjectError, match="dataset"):
        Project(ManifestSource("split.json"))
    stored = json.loads((FIXTURES / "project_v2.fsproj").read_text(encoding="utf-8"))
    for bad, message in (("manifest:split.json", "must be builtin:<id> or folder:<path>"), ("folder:", "must be"),
                         ("photos", "must be builtin:<id>"), (3, "must be text")):
        with pytest.raises(ProjectError, match=f"^dataset.source: {message}"):
            Project.from_json({**stored, "dataset": {"source": bad}}, FIXTURES)


def test_a_builtin_project_keeps_its_text() -> None:
    project = Project(DEFAULT_SOURCE)
    assert project.to_json(None)["dataset"] == {"source": "builtin:mnist"}
    assert Project.from_json(project.to_json(None), Path("/")).dataset == DEFAULT_SOURCE


def test_a_manifest_source_opens_the_dataset_it_was_made_of(tmp_path: Path) -> None:
    import threading

    from filterscope.core.base.jobs import NullReport
    from filterscope.core.data.datasets import DatasetError
    from filterscope.core.data.sources import open_source
    from filterscope.core.data.splits import make_split

    from PIL import Image

    root = tmp_path / "shapes"
    for name in "ab":
        (root / name).mkdir(parents=True)
        for i in range(3):
            Image.new("RGB", (8, 8), (40 * i, 0, 0)).save(root / name / f"{i}.png")
    dataset = open_source(FolderSource(str(root)), report=NullReport(), cancel=threading.Event())
    assert dataset.source == FolderSource.at(root)
    save_manifest(make_split(dataset, val_per_class=1), tmp_path / "split.json")
    again = open_source(ManifestSource(str(tmp_path / "split.json")), report=NullReport(),
                        cancel=threading.Event())
    assert again.source == dataset.source and again.keys == dataset.keys
    with pytest.raises(DatasetError, match="missing.json"):
        open_source(ManifestSource(str(tmp_path / "missing.json")), report=NullReport(),
                    cancel=threading.Event())
