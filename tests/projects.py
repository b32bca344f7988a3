"""Sample projects for the project-file tests (also imported by the writer process the kill
test starts, so it must stay free of Qt and pytest)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from filterscope.core.augment.chain import builtin_chain
from filterscope.core.augment.settings import AugmentSettings
from filterscope.core.data.dataset_settings import DatasetSettings
from filterscope.core.data.source import FolderSource
from filterscope.core.data.splits import SplitManifest
from filterscope.core.filters.kernels import preset
from filterscope.core.filters.settings import FiltersSettings, as_kernel
from filterscope.core.masking.colordist import builtin_preset
from filterscope.core.project.project import Project
from filterscope.core.results.settings import EvaluateSettings
from filterscope.core.training.fit_options import FitOptions
from filterscope.core.training.model_spec import OptimizerSpec, templates
from filterscope.core.live.capture_train import CaptureSettings
from filterscope.core.live.settings import LiveSettings
from filterscope.core.training.settings import TrainSettings
from filterscope.core.visualize.settings import VisualizeSettings


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
    training = TrainSettings(templates()["convnet-dropout"], OptimizerSpec("sgd", 0.02, 0.8),
                             FitOptions(True, 3, 2, 0.5), epochs=version + 1, batch_size=16, seed=3,
                             longest_side=96, val_fraction=0.25, use_mask=True)
    runs_dir = root / "runs"
    run = runs_dir / "20260502-101500-chapter-convnet-sgd"
    visualize = VisualizeSettings(model=str(run), layer="block2_conv", filter=3, mosaic=True,
                                  mosaic_count=8, preset="clean", steps=120, lr=0.05, seed=9)
    augment = AugmentSettings(replace(builtin_chain("photos"), name=f"v{version}"), versions=12, seed=2**32 - 1,
                              random_images=True)
    evaluate = EvaluateSettings(run=str(run), model="last", data=str(root / "photos" / "test"), subset="test",
                                evaluation="test-best-2")
    lesson = FiltersSettings(colour=True, size=5, second=True, stride=2, padding="same", image=str(root / "leaf.png"),
                             digit=3, crop=40, crop_centre=(12, 300), stage="relu", filter_index=1, position=123,
                             kernels=(as_kernel(preset("Sobel x", 5, 3) * 0.5), as_kernel(preset("Box blur", 5, 3))),
                             biases=(-0.25, 1.0))
    live = LiveSettings(kind="video", video=str(root / "clips" / "mug.avi"), realtime=False, model=str(run),
                        gradcam=True, maps=True, layer="block1_conv", save_folder=str(root / "frames"))
    capture = CaptureSettings(every=3, epochs=5)
    browse = DatasetSettings(class_name="Ünïcødé 植物", subset="val")
    return Project(source, split, mask, augment, training, visualize, evaluate, runs_dir,
                   (run, root / "elsewhere" / "run2"), lesson, live, capture, browse)


def big_per_class(version: int) -> int:
    """The split size of the kill test's ``version``: tens of thousands of files, a different
    number each version, so that a file cut short cannot pass for another version."""
    return 15_000 + (version * 997) % 5_000
