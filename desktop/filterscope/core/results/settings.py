"""The Results tab's settings as an evented model: the run evaluated, its model, the images it
is evaluated on, and the saved evaluation open. The fields are named as ``filterscope evaluate``
names them (``RUN_DIR``, ``--model``, ``--data``, ``--subset``), whose flags come from these
declarations; a project stores them, so reopening it shows the same evaluation (read from its
file, not computed again).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from filterscope.core.base.settings import Settings, declaration, setting

EVALUATIONS = "evaluations"  # a run's folder of saved evaluations (<name>.json and <name>.csv)


@dataclass
class EvaluateSettings(Settings):
    """What the Results tab evaluates, and the evaluation it shows.

    Attributes:
        run: The run folder, "" for none chosen yet.
        model: ``best`` (best.keras) or ``last`` (last.keras).
        data: The images to evaluate on: a dataset folder, a split parent (its ``test/``
            folder by default), a split manifest or a built-in dataset; "" for the run's own.
        subset: ``val`` or ``test``; None lets the images decide (``test/`` if any, else the
            validation images).
        evaluation: The saved evaluation open (its name in the run's ``evaluations`` folder),
            "" for none.
        top_k: Classes listed per image when predicting (at most the model's classes).
        tta: Test-time augmentation when evaluating and predicting (off by default: it costs
            six predictions an image, and its gain is measured, not assumed).
    """

    run: str = setting("", "Run", kind=str, help="A run folder (made by filterscope train or the Train tab)")
    model: str = setting("best", "Model", kind=str, choices=(("best", "best"), ("last", "last")),
                         help="best.keras (the best validation epoch) or last.keras (the last epoch)")
    data: str = setting("", "Images", kind=str,
                        help="The images to evaluate on: a folder with the run's class folders, a "
                        "folder split into train/, val/, test/ folders (its test/ by default), a "
                        "split manifest (.json) or a built-in dataset id; empty: the run's own "
                        "dataset (its test/ folder when it has one, else the run's validation images)")
    subset: str | None = setting(None, "Subset", kind=str, optional=True,
                                 choices=(("val", "The validation images"), ("test", "The test/ folder")),
                                 special="Default: test/ if any, else validation",
                                 help="val: the run's validation images (or a split folder's val/); "
                                 "test: the test/ folder")
    evaluation: str = setting("", "Evaluation", kind=str,
                              help="The saved evaluation shown (its name in the run's evaluations folder)")
    top_k: int = setting(3, "Top classes", low=1, help="Classes listed per image, most probable first "
                         "(at most the model's classes)")
    tta: bool = setting(False, "Test-time augmentation",
                        help="Average each image's probabilities over six views (itself, its "
                        "mirror, shifts of 4 % left, right, up and down); six times slower. An "
                        "evaluation reports the accuracy with and without it")

    def run_dir(self) -> Path | None:
        """The run folder, or None."""
        return Path(self.run) if self.run else None

    def saved_file(self) -> Path | None:
        """The saved evaluation's JSON file, or None when none is open."""
        if not (self.run and self.evaluation):
            return None
        return Path(self.run) / EVALUATIONS / f"{self.evaluation}.json"


@dataclass(frozen=True)
class DecisionLimits:
    """The needs-review shares, declared once: a run's policy holds them
    (:class:`~filterscope.core.results.policy.Policy`, with :func:`like`), the command line
    describes them and the Results tab's controls take their limits from here."""

    threshold: float | None = setting(None, "Threshold", kind=float, optional=True, low=0.0, high=1.0,
                                      help="Needs review below this calibrated confidence")
    target_accuracy: float | None = setting(None, "Target accuracy", kind=float, optional=True, low=0.0,
                                            high=1.0, help="The lowest threshold at which the accepted "
                                            "validation images are at least this accurate")


def share_help(name: str) -> str:
    """A command-line flag's help for the share ``name`` (``threshold``, ``target_accuracy``):
    its declared help and limits."""
    spec = declaration(DecisionLimits, name)
    return f"{spec.help[:1].lower()}{spec.help[1:]} ({spec.low:g}-{spec.high:g}, e.g. 0.95)"
