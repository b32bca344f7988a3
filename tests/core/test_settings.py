"""Settings declared once (core/base/settings.py) and the evented models built on it: one range
checker, one unknown-field check, flags from the declaration, events, and every model's JSON
round trip with every setting away from its default."""

from __future__ import annotations

import argparse
from dataclasses import dataclass, fields

import numpy as np
import pytest
from filterscope.core.augment.settings import AugmentSettings
from filterscope.core.base.settings import (
    Setting,
    SettingError,
    Settings,
    add_flag,
    check_keys,
    check_number,
    declared,
    declared_default,
    like,
    setting,
)
from filterscope.core.data.dataset_settings import DatasetSettings
from filterscope.core.data.datasets import Dataset
from filterscope.core.data.source import FolderSource
from filterscope.core.data.split_settings import SplitSettings
from filterscope.core.results.settings import EvaluateSettings
from filterscope.core.filters.settings import FiltersSettings, default_kernels
from filterscope.core.training.data_spec import DataSpec
from filterscope.core.training.fit_options import FitOptions
from filterscope.core.training.model_spec import ModelSpecError, OptimizerSpec
from filterscope.core.training.runs import RunSpec
from filterscope.core.training.settings import TrainSettings
from filterscope.core.visualize.settings import AscentSettings, VisualizeSettings


@dataclass
class Demo(Settings):
    count: int = setting(3, "Count", low=1, high=9, help="How many")
    share: float = setting(0.5, "Share", low=0.0, high=1.0, high_open=True)
    side: int | None = setting(None, "Side", kind=int, optional=True, low=1, high=4096, special="Own")
    mode: str = setting("a", "Mode", kind=str, choices=(("a", "A"), ("b", "B")))
    on: bool = setting(False, "On")
    copy_of: int = like(RunSpec, "epochs")


def test_the_one_range_checker_names_the_field_the_value_and_the_range() -> None:
    assert check_number("n", 3, 1, 9, integer=True) == 3 and check_number("x", 1, 0, 2) == 1.0
    cases = [(dict(value=0, low=1, high=9, integer=True), "n: must be from 1 to 9 (got 0)"),
             (dict(value=2.5, low=1, high=9, integer=True), "n: must be a whole number, not 2.5"),
             (dict(value=True, low=0, high=1), "n: must be a number, not True"),
             (dict(value=float("nan"), low=0, high=1), "n: must be a number, not nan"),
             (dict(value=1.0, low=0, high=1, high_open=True), "n: must be at least 0 and below 1 (got 1)"),
             (dict(value=5_000_000_000, low=0, high=2**32 - 1, integer=True),
              "n: must be from 0 to 4,294,967,295 (got 5,000,000,000)")]
    for kwargs, message in cases:
        value = kwargs.pop("value")
        with pytest.raises(SettingError) as caught:
            check_number("n", value, **kwargs)
        assert str(caught.value) == message and caught.value.field == "n"
    with pytest.raises(ModelSpecError):  # a domain's own error, from the same checker
        check_number("n", 0, 1, 2, error=ModelSpecError)


def test_the_one_unknown_field_check() -> None:
    assert check_keys("fit", {"a": 1}, {"a", "b"}) == {"a": 1}
    with pytest.raises(SettingError, match=r"^fit: unknown field\(s\) c, d$"):
        check_keys("fit", {"a": 1, "d": 2, "c": 3}, {"a"})
    with pytest.raises(SettingError, match="^fit: must be a JSON object"):
        check_keys("fit", [1], {"a"})


def test_assigning_validates_first_and_an_event_fires_only_on_a_change() -> None:
    demo, heard = Demo(), []
    demo.events.count.connect(heard.append)
    demo.count = 4
    demo.count = 4
    assert heard == [4]
    with pytest.raises(SettingError, match=r"^count: must be from 1 to 9 \(got 10\)$"):
        demo.count = 10
    assert demo.count == 4 and heard == [4]  # refused: nothing changed, nothing heard
    demo.share = 0  # a whole number is a float setting's float
    assert isinstance(demo.share, float)
    with pytest.raises(SettingError, match="mode: must be one of a, b"):
        demo.mode = "c"
    demo.side = None  # optional
    with pytest.raises(SettingError, match="must be true or false"):
        demo.on = 1


def test_update_checks_everything_before_setting_anything_and_rules_stand_aside() -> None:
    demo, seen = Demo(), []
    demo.events.connect(lambda info: seen.append((info.signal.name, demo.updating)))
    with pytest.raises(SettingError, match="share"):
        demo.update({"count": 5, "share": 2.0})
    assert demo.count == 3 and not seen
    demo.update({"count": 5, "mode": "b"})
    assert seen == [("count", True), ("mode", True)] and not demo.updating
    demo.reset()
    assert demo == Demo()
    twin = demo.copy()
    twin.count = 8
    assert demo.count == 3  # a copy has its own values and events


def test_like_reuses_the_declaration_and_flags_come_from_it() -> None:
    spec = declared(Demo)["copy_of"]
    assert spec == declared(RunSpec)["epochs"] and declared_default(Demo, "copy_of") == 10
    parser = argparse.ArgumentParser(exit_on_error=False)
    for name in ("count", "share", "side", "mode", "on"):
        add_flag(parser, Demo, name)
    args = parser.parse_args(["--count", "7", "--mode", "b", "--on"])
    assert (args.count, args.mode, args.on, args.share, args.side) == (7, "b", True, None, None)
    with pytest.raises(argparse.ArgumentError, match="must be from 1 to 9"):
        parser.parse_args(["--count", "0"])
    text = " ".join(parser.format_help().split())
    assert "--count N How many. From 1 to 9; default 3" in text and "--on, --no-on" in text


def _other_value(name: str, spec: Setting, default: object) -> object:
    """A valid value of a setting other than its default."""
    if spec.choices:
        return next(value for value, _ in spec.choices if value != default)
    if spec.kind is bool:
        return not default
    if spec.kind is str:
        return "elsewhere"
    if spec.kind is tuple:
        return (int(spec.low) + 1, int(spec.low) + 2)
    low = spec.low if spec.low is not None else 0
    if spec.kind is int:
        return int(low) + 1 if default != int(low) + 1 else int(low) + 2
    high = spec.high if spec.high is not None else low + 2
    value = low + (high - low) / 3
    return value if value != default else low + (high - low) / 4


@pytest.mark.parametrize("model", [AugmentSettings, DatasetSettings, EvaluateSettings, FiltersSettings,
                                   SplitSettings, TrainSettings, VisualizeSettings])
def test_every_model_round_trips_with_every_setting_changed(model: type) -> None:
    settings = model()
    values = {name: _other_value(name, spec, getattr(settings, name))
              for name, spec in declared(model).items()}
    if model is TrainSettings:  # exclusive pairs: one of each
        values.pop("image_size")
        values.update(optimizer=OptimizerSpec("sgd", 0.3, 0.5), fit=FitOptions(True, 2, 3, 0.25, 4))
    if model is FiltersSettings:  # the weights, at the new size and colour mode
        kernels = [[[[r - c + 0.25 * ch + f for ch in range(3)] for c in range(5)] for r in range(5)]
                   for f in range(2)]
        values.update(kernels=kernels, biases=(-1.5, 2))
    settings.update(values)
    for name in values:
        assert getattr(settings, name) != getattr(model(), name), name
    assert model.from_json(settings.to_json()) == settings
    assert model.from_json({}) == model()  # missing keys: the defaults


@pytest.mark.parametrize("cls", [FitOptions, AscentSettings])
def test_frozen_records_validate_every_declared_field(cls: type) -> None:
    for name, spec in declared(cls).items():
        if spec.kind in (int, float) and spec.high is not None:
            with pytest.raises(ValueError, match=name):
                cls(**{name: spec.high * 2 + 1})


def test_run_records_keep_their_json_and_seeds_up_to_two_to_the_32() -> None:
    run = RunSpec(DataSpec("builtin:mnist", seed=2**32 - 1), seed=2**32 - 1, epochs=3)
    assert RunSpec.from_json(run.to_json()) == run
    assert {f.name for f in fields(FitOptions)} == set(run.to_json()["fit"])
    assert declared(DataSpec)["val_fraction"] is declared(SplitSettings)["val_fraction"]  # one declaration


def test_the_mask_model_keeps_its_rules() -> None:
    """A new distance starts every target from its default threshold; an edit is no longer the
    named preset, a preset put back keeps its name; the last target stays."""
    from filterscope.core.masking.colordist import DEFAULT_THRESHOLD, builtin_preset
    from filterscope.core.masking.settings import MaskSettings

    mask = MaskSettings()
    assert mask.params == builtin_preset("chapter") and mask.params.name
    mask.edit(distance="cielab")
    assert {t.threshold for t in mask.params.targets} == {DEFAULT_THRESHOLD["cielab"]}
    assert mask.params.name == ""
    mask.use(builtin_preset("chapter"))
    assert mask.params == builtin_preset("chapter")  # as it is, name and thresholds
    mask.set_target(1, rgb=(1, 2, 3), threshold=42)
    assert mask.params.targets[1].rgb == (1, 2, 3) and mask.params.targets[1].threshold == 42.0
    while mask.remove_target(0):
        pass
    assert len(mask.params.targets) == 1
    with pytest.raises(ValueError, match="median: must be an odd number"):
        mask.edit(median=4)


def test_evaluate_settings_validate_and_give_the_evaluate_commands_flags() -> None:
    settings = EvaluateSettings()
    assert (settings.model, settings.subset, settings.data, settings.evaluation) == ("best", None, "", "")
    assert settings.run_dir() is None and settings.saved_file() is None
    with pytest.raises(SettingError, match=r"^subset: must be one of val, test \(got 'train'\)$"):
        settings.subset = "train"
    with pytest.raises(SettingError, match="^model: must be one of best, last"):
        settings.model = "first"
    with pytest.raises(SettingError, match="^run: must be text"):
        settings.run = None
    settings.update({"run": "/runs/a", "evaluation": "test-best"})
    assert str(settings.saved_file()) == "/runs/a/evaluations/test-best.json"
    from filterscope.cli.main import build_parser

    parser = build_parser()
    args = parser.parse_args(["evaluate", "run", "--subset", "val", "--model", "last"])
    assert (args.subset, args.model, args.data) == ("val", "last", None)
    args = parser.parse_args(["evaluate", "run"])
    assert (args.subset, args.model) == (None, "best")
    assert parser.parse_args(["predict", "run", "x.png"]).model == "best"


def test_the_filters_model_holds_valid_kernels_and_keeps_its_rules() -> None:
    """Two K x K x C kernels of finite numbers matching the size and colour mode; a new size or
    colour mode re-makes them (a preset as itself, typed weights centred); turning the second
    filter off steps through the first; a new stage starts from the whole result."""
    from filterscope.core.base.settings import SettingError
    from filterscope.core.filters.kernels import preset

    lesson = FiltersSettings()
    assert lesson.layer_weights()[0].shape == (3, 3, 1, 1)
    bad = {"kernels": ([[[1.0]] * 3] * 3, [[[float("nan")]] * 3] * 3)}
    with pytest.raises(SettingError, match=r"^kernels\[1\]: must be finite numbers"):
        lesson.update(bad)
    with pytest.raises(SettingError, match=r"^kernels\[0\]: must be 3 × 3 × 1 \(the kernel size"):
        lesson.kernels = default_kernels(5, 1)
    with pytest.raises(SettingError, match=r"^kernels\[0\]: must be 3 × 3 or 5 × 5 weights"):
        lesson.kernels = ([[1, 2], [3, 4]], lesson.kernels[1])
    with pytest.raises(SettingError, match=r"^kernels\[1\]: must be K × K × C numbers"):
        lesson.kernels = (lesson.kernels[0], [[["1"] * 1] * 3] * 3)
    with pytest.raises(SettingError, match=r"^kernels\[0\]: must be 3 × 3 or 5 × 5 weights .*, not shape 3$"):
        lesson.kernels = ([[[1], [2], [3]], [[4], [5]], [[6], [7], [8]]], lesson.kernels[1])
    with pytest.raises(SettingError, match=r"^kernels: must be 2 kernels"):
        lesson.kernels = lesson.kernels[:1]
    with pytest.raises(SettingError, match=r"^biases\[0\]: must be a number"):
        lesson.biases = ("x", 0)
    with pytest.raises(SettingError, match=r"^size: must be one of 3, 5 \(got 4\)"):
        lesson.size = 4
    with pytest.raises(SettingError, match="stride: must be from 1 to 6"):
        lesson.stride = 7
    assert lesson == FiltersSettings()  # refused: nothing changed
    with pytest.raises(SettingError, match="kernels"):
        FiltersSettings.from_json({"size": 5, "kernels": [np.ones((3, 3, 1)).tolist()] * 2})
    with pytest.raises(SettingError, match="unknown field"):
        FiltersSettings.from_json({"kernel": []})
    lesson.set_filter(0, np.full((3, 3, 1), 2.0), 0.5)
    lesson.update({"second": True, "filter_index": 1, "stage": "relu", "position": 9})
    lesson.size = 5  # the typed weights centred, the chapter's horizontal filter has no 5 x 5: centred
    assert lesson.kernel_array(0)[1:4, 1:4].tolist() == np.full((3, 3, 1), 2.0).tolist()
    assert lesson.kernel_array(0)[0].sum() == 0 and lesson.biases == (0.5, 0.0)
    lesson.set_filter(1, preset("Sobel x", 5, 1), 0)
    lesson.colour = True  # a preset stays that preset
    np.testing.assert_array_equal(lesson.kernel_array(1), preset("Sobel x", 5, 3))
    lesson.second = False
    assert lesson.filter_index == 0 and lesson.position == 9
    lesson.stage = "pooling"
    assert lesson.position is None
    lesson.update({"colour": False, "stride": 2})  # without kernels: re-made at the new shape
    np.testing.assert_array_equal(lesson.kernel_array(1), preset("Sobel x", 5, 1))
    restored = FiltersSettings()
    restored.update(lesson.values())  # a project's values: the rules stand aside
    assert restored == lesson


def test_the_filters_crop_centre_follows_the_image_and_is_never_moved_into_it() -> None:
    """A new file or digit set alone is cropped about its own centre; a project's values keep
    theirs; a centre outside the image is refused by name, never moved into it."""
    from filterscope.core.filters.source import crop_box

    lesson = FiltersSettings(image="/a.png", crop_centre=(5, 7))
    assert FiltersSettings.from_json(lesson.to_json()).crop_centre == (5, 7)
    assert lesson.to_json()["crop_centre"] == [5, 7]
    with pytest.raises(SettingError, match=r"^crop_centre: must be \[row, column\], each at least 0, not"):
        lesson.crop_centre = (1, 2, 3)
    with pytest.raises(SettingError, match=r"^crop_centre: must be at least 0 \(got -1\)$"):
        lesson.crop_centre = (-1, 2)
    lesson.digit = 4  # the file stays the image: its crop stays where it is
    assert lesson.crop_centre == (5, 7)
    lesson.image = "/b.png"
    assert lesson.crop_centre is None
    lesson.update({"image": "", "crop_centre": (9, 9)})
    lesson.digit = 5  # another digit shown
    assert lesson.crop_centre is None
    project = FiltersSettings(image="/c.png", crop_centre=(40, 1))
    lesson.update(project.values())  # a project's lesson: its image with its centre
    assert (lesson.image, lesson.crop_centre) == ("/c.png", (40, 1))
    assert crop_box((30, 50, 3), 10, (29, 49)) == crop_box((30, 50, 3), 10, (25, 45))  # moved inside
    with pytest.raises(SettingError, match=r"^crop_centre: \(30, 4\) lies outside the image \(30 × 50 pixels: "
                                           r"rows 0 to 29, columns 0 to 49\)$"):
        crop_box((30, 50, 3), 10, (30, 4))


def test_the_dataset_tabs_filters_name_a_class_and_subset_the_dataset_lacks() -> None:
    """A class by its name, a subset by what it is (``val`` in a ``Valid/`` folder); what the
    dataset lacks selects nothing and is named."""
    keys = ["train/a/1.png", "train/b/2.png", "Valid/a/3.png", "Valid/b/4.png", "train/a/5.png"]
    dataset = Dataset("plants", FolderSource("/data/plants"), ["a", "b"], keys, np.array([0, 1, 0, 1, 0]),
                      np.ones((5, 2), np.int32), split_folders={"train": "train", "val": "Valid"})
    browse = DatasetSettings()
    assert browse.select(dataset).tolist() == [0, 1, 2, 3, 4] and browse.missing(dataset) == {}
    browse.update({"class_name": "a", "subset": "train"})
    assert browse.label(dataset) == 0 and browse.select(dataset).tolist() == [0, 4]
    browse.subset = "val"
    assert browse.select(dataset).tolist() == [2]
    browse.update({"class_name": "Maize", "subset": "test"})
    assert browse.select(dataset).tolist() == [] and browse.label(dataset) is None
    assert browse.missing(dataset) == {"class_name": "plants has no class 'Maize': no image is shown",
                                       "subset": "plants has no test/ folder: no image is shown"}
    with pytest.raises(SettingError, match=r"^subset: must be one of train, val, test \(got 'Valid'\)$"):
        browse.subset = "Valid"
    with pytest.raises(SettingError, match="^class_name: must be text, not 3"):
        DatasetSettings.from_json({"class_name": 3})
    assert DatasetSettings.from_json({"class_name": "Maize", "subset": None}).class_name == "Maize"


def test_during_update_each_fields_listener_sees_every_value_set() -> None:
    """A field's own listener (not only ``events.connect``) hears after all values are set, in
    the order they were given."""
    demo, seen = Demo(), []
    demo.events.count.connect(lambda value: seen.append(("count", value, demo.mode)))
    demo.events.mode.connect(lambda value: seen.append(("mode", value, demo.count)))
    demo.update({"count": 5, "mode": "b"})
    assert seen == [("count", 5, "b"), ("mode", "b", 5)]


def test_limits_the_ui_shows_are_the_declarations() -> None:
    """Predict's top-k, a chain step's ``sometimes`` and the Filters play speed are declared
    once: the CLI refuses what the declaration refuses, and the chain checks ``sometimes`` by it."""
    from filterscope.cli.main import build_parser
    from filterscope.core.augment.chain import ChainError, ChainSpec

    parser = build_parser()
    assert parser.parse_args(["predict", "run", "x.png"]).top_k == EvaluateSettings().top_k == 3
    with pytest.raises(SystemExit):
        parser.parse_args(["predict", "run", "x.png", "--top-k", "0"])
    with pytest.raises(ChainError, match=r"step 1 \(Fliplr\): sometimes: must be from 0 to 1 \(got 2\)"):
        ChainSpec.from_json({"steps": [{"name": "Fliplr", "sometimes": 2}]})
    with pytest.raises(SettingError, match="interval: must be from 20 to 3,000"):
        FiltersSettings(interval=10)
