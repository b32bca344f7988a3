"""Sample projects for the project-file tests (also imported by the writer process the kill
test starts, so it must stay free of Qt and pytest)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from filterscope.core.augment.chain import builtin_chain
from filterscope.core.data.source import FolderSource
from filterscope.core.data.splits import SplitManifest
from filterscope.core.masking.colordist import builtin_preset
from filterscope.core.project.project import Project, TrainingSettings
from filterscope.core.training.data_spec import DataSpec
from filterscope.core.training.fit_options import FitOptions
from filterscope.core.training.model_spec import OptimizerSpec, templates
from filterscope.core.training.runs import RunSpec


def sample_project(root: Path, version: int = 0, per_class: int = 6) -> Project:
    """A project with every part set, its dataset, runs folder and runs inside ``root``.

    ``version`` changes the chain's name (``v<version>``), the epochs and a mask threshold;
    ``per_class`` sets the split's size (a big one makes a big file).
    """
    source = FolderSource(str(root / "photos"))
    classes = ["Charlock", "Maize", "Ünïcødé 植物"]
    train = {c: [f"{c}/{i:06d}.png" for i in range(per_class)] for c in classes}
    val = {c: [f"{c}/v{i:06d}.png" for i in range(max(per_class // 5, 1))] for c in classes}
    split = SplitManifest(source, classes, "per-class", 12, 3, {"train": train, "val": val},
                          created="2026-05-02T10:00:00+00:00")
    mask = builtin_preset("chapter")
    mask = mask.with_target(0, threshold=1000.0 + version)
    run = RunSpec(DataSpec(source, val_fraction=0.25, seed=3, longest_side=96),
                  templates()["convnet-dropout"], OptimizerSpec("sgd", 0.02, 0.8),
                  epochs=version + 1, batch_size=16, seed=3, fit=FitOptions(True, 3, 2, 0.5))
    runs_dir = root / "runs"
    return Project(source, split, mask, True, replace(builtin_chain("photos"), name=f"v{version}"),
                   False, TrainingSettings(run, cache_features=False, use_split=True, use_mask=True,
                                           use_chain=False),
                   runs_dir, (runs_dir / "20260502-101500-chapter-convnet-sgd", root / "elsewhere" / "run2"))


def big_per_class(version: int) -> int:
    """The split size of the kill test's ``version``: tens of thousands of files, a different
    number each version, so that a file cut short cannot pass for another version."""
    return 15_000 + (version * 997) % 5_000
