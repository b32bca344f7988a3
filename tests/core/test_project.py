"""Project files: every part round-trips, paths travel with the project, older versions migrate,
and every fault is a ProjectError naming the file."""

from __future__ import annotations

import json
import shutil
from dataclasses import replace
from pathlib import Path

import pytest
from filterscope.core.augment.settings import AugmentSettings
from filterscope.core.data.source import DEFAULT_SOURCE, FolderSource
from filterscope.core.masking.colordist import MaskParams
from filterscope.core.project.project import Project
from filterscope.core.project.store import load_project, save_project
from filterscope.core.project.versions import FORMAT_VERSION, MIGRATIONS, ProjectError, migrate
from filterscope.core.results.settings import EvaluateSettings

from tests.projects import sample_project

V1 = Path(__file__).parent / "fixtures" / "project_v1.fsproj"
V2 = Path(__file__).parent / "fixtures" / "project_v2.fsproj"  # written by the app before format 3
# Written by the app before projects kept the Dataset tab's filters and the Filters tab's crop centre.
V3 = Path(__file__).parent / "fixtures" / "project_v3.fsproj"


def test_every_part_round_trips(tmp_path: Path) -> None:
    project = sample_project(tmp_path)
    save_project(tmp_path / "p.fsproj", project)
    loaded = load_project(tmp_path / "p.fsproj")
    assert loaded == project
    for name in Project.__dataclass_fields__:  # each part, so a failure says which
        assert getattr(loaded, name) == getattr(project, name), name
    assert loaded.training.model.name == "convnet-dropout" and loaded.visualize.preset == "clean"
    assert (loaded.evaluate.model, loaded.evaluate.subset, loaded.evaluate.evaluation) == ("last", "test", "test-best-2")
    assert loaded.training.fit.class_weights and loaded.mask.targets[0].threshold == 1000.0
    assert (loaded.live.kind, loaded.live.layer, loaded.capture.every) == ("video", "block1_conv", 3)
    lesson = loaded.filters
    assert (lesson.size, lesson.colour, lesson.stride, lesson.padding, lesson.position) == (5, True, 2, "same", 123)
    assert lesson.kernels == project.filters.kernels and lesson.biases == (-0.25, 1.0)
    assert lesson.crop_centre == (12, 300)
    assert (loaded.browse.class_name, loaded.browse.subset) == ("Ünïcødé 植物", "val")


def test_paths_inside_the_project_folder_are_relative_and_travel_with_it(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    save_project(tmp_path / "a" / "p.fsproj", sample_project(tmp_path / "a"))
    stored = json.loads((tmp_path / "a" / "p.fsproj").read_text(encoding="utf-8"))
    assert stored["dataset"]["source"] == "folder:photos"
    assert stored["runs"] == {"folder": "runs", "runs": ["runs/20260502-101500-chapter-convnet-sgd",
                                                         "elsewhere/run2"]}
    assert stored["visualize"]["model"] == "runs/20260502-101500-chapter-convnet-sgd"
    assert stored["evaluate"] == {"run": "runs/20260502-101500-chapter-convnet-sgd", "model": "last",
                                  "data": "folder:photos/test", "subset": "test", "evaluation": "test-best-2",
                                  "top_k": 3, "tta": False}
    assert stored["filters"]["image"] == "leaf.png" and len(stored["filters"]["kernels"][1][4][4]) == 3
    assert (stored["live"]["video"], stored["live"]["model"], stored["live"]["save_folder"]) == \
        ("clips/mug.avi", "runs/20260502-101500-chapter-convnet-sgd", "frames")
    assert (stored["capture"]["every"], stored["capture"]["epochs"]) == (3, 5)
    assert stored["browse"] == {"class_name": "Ünïcødé 植物", "subset": "val"}
    assert stored["filters"]["crop_centre"] == [12, 300]
    (tmp_path / "a" / "photos").mkdir()
    (tmp_path / "a").rename(tmp_path / "b")  # the whole project folder moves
    moved = load_project(tmp_path / "b" / "p.fsproj")
    assert moved == sample_project(tmp_path / "b")
    assert moved.split.source == moved.dataset == FolderSource(str(tmp_path / 'b' / 'photos'))
    assert moved.missing_dataset() is None


def test_paths_outside_the_project_folder_stay_absolute(tmp_path: Path) -> None:
    project = sample_project(tmp_path / "data")
    (tmp_path / "projects").mkdir()
    save_project(tmp_path / "projects" / "p.fsproj", project)
    stored = json.loads((tmp_path / "projects" / "p.fsproj").read_text(encoding="utf-8"))
    assert stored["dataset"]["source"] == f"folder:{tmp_path / 'data' / 'photos'}"
    assert stored["runs"]["folder"] == str(tmp_path / "data" / "runs")
    assert stored["evaluate"]["data"] == f"folder:{tmp_path / 'data' / 'photos' / 'test'}"
    assert stored["filters"]["image"] == str(tmp_path / "data" / "leaf.png")
    assert load_project(tmp_path / "projects" / "p.fsproj") == project


def test_a_builtin_dataset_and_a_project_without_optional_parts(tmp_path: Path) -> None:
    project = Project(DEFAULT_SOURCE)
    save_project(tmp_path / "p.fsproj", project)
    assert load_project(tmp_path / "p.fsproj") == project
    assert project.missing_dataset() is None and project.dataset_folder() is None


def test_a_moved_dataset_is_reported_and_relocated(tmp_path: Path) -> None:
    project = sample_project(tmp_path / "old")
    (tmp_path / "old" / "photos").mkdir(parents=True)
    save_project(tmp_path / "p.fsproj", project)
    (tmp_path / "old" / "photos").rename(tmp_path / "moved")
    loaded = load_project(tmp_path / "p.fsproj")
    assert loaded.missing_dataset() == tmp_path / "old" / "photos"
    relocated = loaded.relocated(tmp_path / "moved")
    source = FolderSource(str(tmp_path / "moved"))
    assert relocated.dataset == relocated.split.source == source
    assert relocated.missing_dataset() is None
    assert relocated.split.subsets == project.split.subsets and relocated.mask == project.mask


def test_version_1_migrates(tmp_path: Path) -> None:
    shutil.copy(V1, tmp_path / "old.fsproj")
    project = load_project(tmp_path / "old.fsproj")
    assert project.dataset == FolderSource("/home/ana/photos/seedlings")
    assert project.missing_dataset() == Path("/home/ana/photos/seedlings")
    assert project.split.source == project.dataset and project.split.seed == 7
    assert project.split.subsets["val"] == {"Charlock": ["Charlock/3.png"], "Maize": ["Maize/2.png"]}
    training = project.training
    assert project.mask.name == "seedlings, by eye" and training.use_mask
    assert project.mask.targets[0].threshold == 1400.0
    assert project.augment.chain.name == "flips" and training.use_chain
    assert (training.epochs, training.batch_size, training.seed) == (12, 16, 7)
    assert training.optimizer.kind == "sgd" and training.model.name == "chapter-convnet"
    assert (training.val_fraction, training.longest_side) == (0.25, 96)
    assert training.use_split and not training.cache_features
    assert project.runs_dir == Path("/home/ana/filterscope-runs")
    assert project.runs == (Path("/home/ana/filterscope-runs/20260502-101500-chapter-convnet-sgd"),)
    # Saved again, it is a current file with the same content; the old file is left as it was.
    before = (tmp_path / "old.fsproj").read_bytes()
    save_project(tmp_path / "new.fsproj", project)
    assert json.loads((tmp_path / "new.fsproj").read_text(encoding="utf-8"))["version"] == FORMAT_VERSION
    assert load_project(tmp_path / "new.fsproj") == project
    assert (tmp_path / "old.fsproj").read_bytes() == before


def test_version_2_migrates_to_one_switch_each_for_mask_and_chain(tmp_path: Path) -> None:
    """Format 2 stored the Train tab's settings as a run spec and two switches per decision
    (the Mask tab's and the Train tab's); training used the mask only when both were on."""
    shutil.copy(V2, tmp_path / "old.fsproj")
    (tmp_path / "photos").mkdir()
    project = load_project(tmp_path / "old.fsproj")
    written = sample_project(tmp_path, version=2, per_class=2)  # what wrote the file
    # Format 2 kept the chain but not the preview's settings, nor the Visualise, Results, Filters and Live tabs'.
    assert project == replace(written, augment=AugmentSettings(written.augment.chain), visualize=None,
                              evaluate=None, filters=None, live=None, capture=None, browse=None)
    training = project.training
    assert training.use_mask  # "mask": {"train": true} and "use_mask": true
    assert not training.use_chain  # "augment": {"train": false}
    assert (training.epochs, training.batch_size, training.seed, training.longest_side) == (3, 16, 3, 96)
    assert training.optimizer.learning_rate == 0.02 and training.fit.early_stopping == 3
    both = json.loads(V2.read_text(encoding="utf-8"))
    both["augment"]["train"], both["training"]["use_chain"] = True, False
    assert not Project.from_json(migrate(both), tmp_path).training.use_chain  # one off: off
    both["training"]["use_chain"] = True
    assert Project.from_json(migrate(both), tmp_path).training.use_chain


def test_a_version_3_file_from_before_the_dataset_filters_and_the_crop_centre_opens(tmp_path: Path) -> None:
    """Format 3 as written before projects kept the Dataset tab's class and subset and the
    Filters tab's crop centre: no migration is needed (a part or a setting a file lacks takes
    its default), and the defaults are what the app then showed: all of the dataset, the
    crop about the image's centre."""
    stored = json.loads(V3.read_text(encoding="utf-8"))
    assert stored["version"] == 3 and "browse" not in stored and "crop_centre" not in stored["filters"]
    shutil.copy(V3, tmp_path / "old.fsproj")
    project = load_project(tmp_path / "old.fsproj")
    written = sample_project(tmp_path, version=3, per_class=2)  # what wrote the file
    assert project == replace(written, browse=None, filters=replace(written.filters, crop_centre=None))
    assert project.filters.kernels == written.filters.kernels and project.filters.position == 123
    save_project(tmp_path / "new.fsproj", project)
    assert load_project(tmp_path / "new.fsproj") == project


def test_every_older_version_has_a_migration() -> None:
    assert set(MIGRATIONS) == set(range(1, FORMAT_VERSION))
    current = sample_project(Path("/x")).to_json(Path("/x"))
    assert migrate(current) is current


def test_a_v1_project_without_mask_or_chain_uses_none() -> None:
    data = migrate({"filterscope_project": 1, "dataset": "builtin:mnist"})
    project = Project.from_json(data, Path("/x"))
    assert (project.mask, project.augment, project.split) == (None, None, None)
    assert not project.training.use_mask and not project.training.use_chain
    assert project.training.epochs == 10  # RunSpec's own default


@pytest.mark.parametrize("content, words", [
    ('{"kind": "filterscope-project", "version": 2, "dataset": {"sou', "cannot read the project"),
    (b"\xff\xfe\x00garbage", "cannot read the project"),
    ('{"kind": "filterscope-project", "version": 4, "dataset": {}}', "newer Filterscope"),
    ('{"version": 1, "targets": [], "distance": "redmean"}', "not a Filterscope project"),
    ('[1, 2]', "not a Filterscope project"),
    ('{"kind": "filterscope-project", "version": "2"}', "version must be a whole number"),
    ('{"kind": "filterscope-project", "version": 2, "dataset": {"source": "photos"}}',
     "must be builtin:<id> or folder:<path>"),
    ('{"kind": "filterscope-project", "version": 2, "dataset": {"source": "builtin:mnist"}, '
     '"mask": {"params": {"median": 4}, "train": true}}', "mask.params: median: must be an odd"),
    ('{"kind": "filterscope-project", "version": 2, "dataset": {"source": "builtin:mnist"}, '
     '"training": {"run": {"epochs": 0}}}', "training: epochs"),
    ('{"kind": "filterscope-project", "version": 3, "dataset": {"source": "builtin:mnist"}, '
     '"training": {"fit": {"early_stopping": -2}}}', "training: fit.early_stopping: must be from 0"),
    ('{"kind": "filterscope-project", "version": 3, "dataset": {"source": "builtin:mnist"}, '
     '"training": {"epoch": 3}}', "training: unknown field(s) epoch"),
    ('{"kind": "filterscope-project", "version": 2, "dataset": {"source": "builtin:mnist"}, '
     '"extra": 1}', "unknown field(s) extra"),
])
def test_bad_files_are_refused_naming_the_file(tmp_path: Path, content: str | bytes, words: str) -> None:
    path = tmp_path / "bad.fsproj"
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    with pytest.raises(ProjectError) as error:
        load_project(path)
    assert str(error.value).startswith(str(path)) and words in str(error.value)


def test_a_missing_file_is_refused_naming_it(tmp_path: Path) -> None:
    with pytest.raises(ProjectError, match="nothing.fsproj: cannot read the project"):
        load_project(tmp_path / "nothing.fsproj")


def test_a_project_is_never_saved_inside_its_dataset(tmp_path: Path) -> None:
    project = sample_project(tmp_path)
    (tmp_path / "photos").mkdir()
    with pytest.raises(ProjectError, match="refusing to write inside the dataset folder"):
        save_project(tmp_path / "photos" / "p.fsproj", project)
    assert list((tmp_path / "photos").iterdir()) == []


def test_a_failed_save_is_a_project_error_and_leaves_no_temp_file(tmp_path: Path) -> None:
    (tmp_path / "taken.fsproj").mkdir()  # the rename over a folder fails after the temp file is written
    with pytest.raises(ProjectError, match="taken.fsproj: cannot save the project"):
        save_project(tmp_path / "taken.fsproj", sample_project(tmp_path))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["taken.fsproj"]
    with pytest.raises(ProjectError, match="cannot save the project"):
        save_project(tmp_path / "no such folder" / "p.fsproj", sample_project(tmp_path))


def test_a_split_for_another_dataset_is_refused() -> None:
    project = sample_project(Path("/x"))
    with pytest.raises(ProjectError, match="split: made for"):
        replace(project, dataset=DEFAULT_SOURCE)
    assert replace(project, mask=MaskParams()).mask == MaskParams()


def test_the_evaluation_open_is_stored_with_its_images_as_a_typed_source(tmp_path: Path) -> None:
    project = sample_project(tmp_path)
    for data in ("", "builtin:mnist", str(tmp_path / "split.json")):
        (tmp_path / "split.json").write_text("{}", encoding="utf-8")  # a manifest is an existing .json
        with_data = replace(project, evaluate=EvaluateSettings(run=str(tmp_path / "runs" / "r"), data=data))
        stored = with_data.to_json(tmp_path)["evaluate"]
        assert stored["data"] == {"": "", "builtin:mnist": "builtin:mnist"}.get(data, "manifest:split.json")
        assert Project.from_json(stored_project(with_data, tmp_path), tmp_path).evaluate == with_data.evaluate
    bad = project.to_json(tmp_path)
    for key, value, message in (("subset", "train", "evaluate: subset: must be one of val, test"),
                                ("model", "first", "evaluate: model: must be one of best, last"),
                                ("data", "photos/test", "evaluate.data: must be builtin:<id>, folder:<path>"),
                                ("colour", 1, r"evaluate: unknown field\(s\) colour")):
        with pytest.raises(ProjectError, match=message):
            Project.from_json({**bad, "evaluate": {**bad["evaluate"], key: value}}, tmp_path)


def stored_project(project: Project, base: Path) -> dict:
    return json.loads(json.dumps(project.to_json(base)))


def test_a_bad_filters_lesson_is_named(tmp_path: Path) -> None:
    save_project(tmp_path / "p.fsproj", sample_project(tmp_path))
    data = json.loads((tmp_path / "p.fsproj").read_text(encoding="utf-8"))
    data["filters"]["kernels"][0][0][0][0] = "x"
    (tmp_path / "p.fsproj").write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(ProjectError, match=r"filters: kernels\[0\]: must be K × K × C numbers"):
        load_project(tmp_path / "p.fsproj")
    data["filters"] = {"stride": 9}
    (tmp_path / "p.fsproj").write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(ProjectError, match=r"filters: stride: must be from 1 to 6 \(got 9\)"):
        load_project(tmp_path / "p.fsproj")
