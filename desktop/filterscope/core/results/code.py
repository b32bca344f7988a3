"""The Results tab's evaluation as plain Keras, OpenCV and scikit-learn code a learner can run.

The code loads the run's model file, prepares each image as the run's
:class:`~filterscope.core.training.model_input.InputRule` says (its mask at the image's own
resolution, gray for one-channel models, INTER_AREA resizing, the model's scaling), predicts, and
scores with scikit-learn: accuracy, the majority-class baseline and the confusion matrix in the
run's class order. An evaluation with test-time augmentation averages the same views
(:data:`~filterscope.core.results.tta.VIEWS`, in pixels for the run's size). On the evaluation's images it gives the tab's numbers (a test runs it against
:func:`~filterscope.core.results.evaluate.evaluate`).
"""

from __future__ import annotations

from pathlib import Path

from filterscope.core.data.source import BuiltinSource, Source
from filterscope.core.masking.code import mask_function
from filterscope.core.masking.colordist import MaskParams
from filterscope.core.results.evaluate import Evaluation
from filterscope.core.results.store import EVALUATIONS
from filterscope.core.results.tta import VIEWS, shift_pixels
from filterscope.core.training.model_input import preprocess_code

INLINE_ROWS = 50  # up to this many images are listed in the code itself when no CSV is saved


def _images_lines(evaluation: Evaluation, rows_csv: Path | None) -> list[str]:
    """``paths`` and ``y_true``: the images evaluated and their true classes, in row order."""
    rows = evaluation.rows
    if rows_csv is not None:
        return ["# the images this evaluation scored and their true classes: its per-image CSV",
                f"with open({str(rows_csv)!r}, newline='', encoding='utf-8') as f:",
                "    rows = list(csv.DictReader(f))",
                "paths = [row['path'] for row in rows]",
                "y_true = np.array([CLASSES.index(row['true']) for row in rows])"]
    shown = min(len(rows), INLINE_ROWS)
    listed = [f"    ({rows.paths[i]!r}, {evaluation.classes[rows.true[i]]!r})," for i in range(shown)]
    more = [f"    # ... and {len(rows) - shown:,} more: save the evaluation to list them all in its CSV"] \
        if len(rows) > shown else []
    return ["IMAGES = [  # (image, true class)", *listed, *more, "]",
            "paths = [path for path, _ in IMAGES]",
            "y_true = np.array([CLASSES.index(true) for _, true in IMAGES])"]


def _read_lines(evaluation: Evaluation) -> list[str]:
    """``read(path)``: one image as RGB uint8 (a file, or an item of an in-memory dataset)."""
    source = evaluation.eval_set.get("source", "")
    if isinstance(Source.parse_or_none(source), BuiltinSource) and evaluation.rows.paths and \
            not Path(evaluation.rows.paths[0]).is_absolute():
        return ["# the images are items of a built-in dataset held in memory: read with the app's loader",
                "import threading", "",
                "from filterscope.core.base.jobs import NullReport",
                "from filterscope.core.data.source import Source",
                "from filterscope.core.data.sources import open_source", "",
                f"dataset = open_source(Source.parse({source!r}), report=NullReport(),",
                "                      cancel=threading.Event())",
                "index = {key: i for i, key in enumerate(dataset.keys)}", "", "",
                "def read(name):", "    return dataset.load(index[name])  # RGB uint8"]
    return ["def read(path):",
            "    \"\"\"An image file as RGB uint8 (transparent pixels: the app puts them on black).\"\"\"",
            "    return cv2.cvtColor(cv2.imread(path, cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)"]


def _prepare_lines(rule: dict) -> list[str]:
    size, channels = tuple(rule["size"]), rule["channels"]
    lines = ["def prepare(path):", "    \"\"\"An image as the run's model takes it.\"\"\"",
             "    image = read(path)"]
    if channels == 1:
        lines.append("    image = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)  # one channel: the luma")
    if rule.get("mask"):
        lines.append("    image, _ = mask_image(image)  # the run's mask, at the image's own resolution")
    return lines + [f"    if image.shape[:2] != {size}:",
                    f"        image = cv2.resize(image, ({size[1]}, {size[0]}), interpolation=cv2.INTER_AREA)",
                    f"    x = image.reshape({size[0]}, {size[1]}, {channels}).astype(np.float32)",
                    *preprocess_code(rule.get("preprocessing", "unit"))]


def _predict_lines(evaluation: Evaluation) -> list[str]:
    """``probabilities``: of the images, or averaged over the views of test-time augmentation."""
    if not evaluation.tta:
        return ["probabilities = model.predict(x, batch_size=64, verbose=0)"]
    height, width = evaluation.input["size"]
    views = [f"    ({v.flip}, {shift_pixels(height, v.dy)}, {shift_pixels(width, v.dx)}),  # {v.name}"
             for v in VIEWS]
    return ["# test-time augmentation: (mirrored, pixels down, pixels right) of each view",
            "VIEWS = [", *views, "]", "", "",
            "def view(x, flip, down, right):",
            "    \"\"\"A batch mirrored left-right, then shifted, the uncovered edge reflected.\"\"\"",
            "    if flip:",
            "        x = x[:, :, ::-1]",
            "    for axis, n in ((1, down), (2, right)):",
            "        if n:",
            "            pad = [(0, 0)] * x.ndim",
            "            pad[axis] = (n, 0) if n > 0 else (0, -n)",
            "            start = max(-n, 0)",
            "            x = np.take(np.pad(x, pad, mode='reflect'), range(start, start + x.shape[axis]), axis=axis)",
            "    return x", "", "",
            "probabilities = np.mean([model.predict(view(x, *v), batch_size=64, verbose=0) for v in VIEWS],",
            "                        axis=0)"]


def _baseline_lines(evaluation: Evaluation) -> list[str]:
    baseline = evaluation.baseline
    if baseline.basis == "training":
        choose = [f"MAJORITY = CLASSES.index({baseline.name!r})  # the class the run saw most in "
                  f"training ({baseline.count:,} images)"]
    else:
        choose = ["# the run's training class counts are unknown: the largest class of these images",
                  "MAJORITY = int(np.argmax(np.bincount(y_true, minlength=len(CLASSES))))"]
    return ["# the majority baseline: always answering the largest class", *choose,
            "baseline = float(np.mean(y_true == MAJORITY))"]


def results_code(evaluation: Evaluation, rows_csv: str | Path | None = None) -> str:
    """Python that evaluates the run's model on the evaluation's images as the tab did.

    Args:
        evaluation: The result shown.
        rows_csv: Its per-image CSV; None takes the one saved beside the run (when the
            evaluation has a name), else the images are listed in the code.

    Returns:
        The code; it defines ``y_true``, ``probabilities``, ``y_pred``, ``accuracy``, ``baseline`` and ``matrix``.
    """
    run = Path(evaluation.run_dir)
    if rows_csv is None and evaluation.name:
        rows_csv = run / EVALUATIONS / f"{evaluation.name}.csv"
    rule = evaluation.input
    mask = [] if not rule.get("mask") else \
        [*mask_function(MaskParams.from_json(rule["mask"])), "", ""]
    lines = ["import csv", "", "import cv2", "import keras", "import numpy as np",
             "from sklearn.metrics import accuracy_score, confusion_matrix", "",
             "# safe mode (the default): a file with Lambda layers or custom code is refused",
             f"model = keras.saving.load_model({str(run / f'{evaluation.model}.keras')!r})",
             f"CLASSES = {list(evaluation.classes)!r}  # the run's order: the model's outputs", "",
             *_images_lines(evaluation, Path(rows_csv) if rows_csv is not None else None), "", "",
             *_read_lines(evaluation), "", "", *mask, *_prepare_lines(rule), "", "",
             "x = np.stack([prepare(path) for path in paths])",
             *_predict_lines(evaluation),
             "y_pred = probabilities.argmax(axis=1)", "",
             "accuracy = accuracy_score(y_true, y_pred)", *_baseline_lines(evaluation),
             "# rows: true classes, columns: predicted ones, every class of the run",
             "matrix = confusion_matrix(y_true, y_pred, labels=list(range(len(CLASSES))))",
             "print(f'accuracy {accuracy:.1%}, majority baseline {baseline:.1%}')",
             "print(matrix)", ""]
    return "\n".join(lines)
