"""View settings (where the user looks, e.g. a lesson's step) are kept with a project but are
not work to save: ``without_views`` and ``Project.work`` leave them out, and nothing else."""

from __future__ import annotations

from filterscope.core.base.settings import declared, without_views
from filterscope.core.data.dataset_settings import DatasetSettings
from filterscope.core.data.source import BuiltinSource
from filterscope.core.filters.settings import FiltersSettings
from filterscope.core.project.project import Project
from filterscope.core.training.settings import TrainSettings


def test_only_the_declared_views_are_left_out() -> None:
    views = {name for name, spec in declared(FiltersSettings).items() if spec.view}
    assert views == {"position", "channel"}
    moved = FiltersSettings(position=17, channel=2)
    assert moved != FiltersSettings() and without_views(moved) == FiltersSettings()
    assert without_views(FiltersSettings(stride=2)) == FiltersSettings(stride=2)  # the lesson itself
    assert {name for name, spec in declared(DatasetSettings).items() if spec.view} == {"class_name", "subset"}
    train = TrainSettings(epochs=3)
    assert without_views(train) is train  # a model without views is itself


def test_two_projects_that_differ_in_a_view_hold_the_same_work() -> None:
    source = BuiltinSource("mnist")
    stepped = Project(source, filters=FiltersSettings(position=40))
    assert stepped != Project(source, filters=FiltersSettings())
    assert stepped.work() == Project(source, filters=FiltersSettings()).work()
    assert stepped.work() != Project(source, filters=FiltersSettings(stride=3)).work()
    assert stepped.filters.position == 40  # the project itself keeps where the step was
