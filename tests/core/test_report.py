"""The run report: every section, the Results tab's numbers (accuracy, baseline, per class, matrix)
on the validation images, pictures of the mask and chain, escaped names, and what a run without
its model or its dataset still gets."""

from __future__ import annotations

import json
import re
import shutil
from html import escape
import threading
from pathlib import Path

import pytest
from filterscope.core.augment.chain import builtin_chain
from filterscope.core.base.formats import percent
from filterscope.core.base.jobs import Cancelled, NullReport, RecordingReport
from filterscope.core.masking.colordist import MaskParams, Target
from filterscope.core.project.report import ReportError, write_report
from filterscope.core.project.report_parts import MAX_SAMPLES, VERSIONS
from filterscope.core.results.evaluate import evaluate
from filterscope.core.results.metrics import accuracy_sentence
from filterscope.core.results.settings import EvaluateSettings
from filterscope.core.results.store import save_evaluation

from tests.corpus import tree_digest
from tests.results_runs import constant_model, copy_run, train_run
from tests.split_tree import make_split_tree

ALL_SECTIONS = ["Model card", "Data", "Mask and augmentation", "Model", "Training", "Evaluation",
                "Calibration and decisions", "Per-class metrics", "Confusion matrix", "Most confidently wrong",
                "Environment"]
WITHOUT_EVALUATION = ["Model card", "Data", "Mask and augmentation", "Model", "Training", "Evaluation",
                      "Environment"]
ODD = "<i>cat & co"  # a class folder name that is markup (no '/': folder names cannot hold one)
UNICODE = "Ünïcødé 植物"
ODD_FILE = "<img src=x onerror=alert(1)> & more"  # file names: no '/' on POSIX


def report(run: Path, out: Path, **kwargs):
    return write_report(run, out, report=NullReport(), cancel=threading.Event(), **kwargs)


def headings(page: str) -> list[str]:
    return re.findall(r"<h2 id=\"[^\"]*\">([^<]*)</h2>", page)


def test_every_section_with_the_held_out_test_figures_of_evaluate(results_run, tmp_path) -> None:
    progress = RecordingReport()
    result = write_report(results_run, tmp_path / "out" / "report.html", report=progress,
                          cancel=threading.Event())
    page = result.path.read_text(encoding="utf-8")
    assert result.sections == ALL_SECTIONS and headings(page) == ALL_SECTIONS
    assert result.html == page and result.evaluation_skipped is None
    fractions = [f for f, _ in progress.progress_calls]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0

    ev = evaluate(results_run, report=NullReport(), cancel=threading.Event())  # the Results tab's default
    assert ev.eval_set["subset"] == "test"
    assert ev.n_images == result.n_images == 7  # test/ holds 4 + 3: the held-out images
    assert result.accuracy == ev.scores.accuracy and result.intervals == ev.intervals
    assert result.baseline == ev.baseline.accuracy
    sentence = accuracy_sentence(ev.scores.accuracy, ev.intervals["accuracy"], ev.baseline)
    assert f"<b>{escape(sentence[0].upper() + sentence[1:])}</b>" in page
    assert "(95 % CI " in sentence and "(majority baseline 57.1 %: always 'cat'" in sentence
    assert f"Measured on 7 images: {escape(ev.eval_set['description'])}; model best.keras" in page
    assert result.evaluated["description"] == ev.eval_set["description"]
    assert result.evaluated["chose_epoch"] is False and "also chose the epoch" not in page
    assert f"Balanced accuracy (mean recall over the classes) {ev.intervals['balanced_accuracy'].describe()}. " \
           f"Macro-F1 (mean F1 over the classes) {ev.intervals['macro_f1'].describe()}." in page
    for c in ev.scores.per_class:
        assert (f"<td>{c.name}</td><td class=\"n\" align=\"right\">{percent(c.precision)}</td>"
                f"<td class=\"n\" align=\"right\">{percent(c.recall)}</td>") in page
    matrix = re.search(r"Confusion matrix</h2>(.*?)</table>", page, re.S).group(1)
    cells = [int(n) for n in re.findall(r"<td class=\"n\"[^>]*>([\d,]+)</td>", matrix)]
    assert cells == ev.scores.confusion.ravel().tolist()
    data = re.search(r"Data</h2>(.*?)</table>", page, re.S).group(1)
    assert re.findall(r"<td>(cat|dog)</td><td class=\"n\" align=\"right\">(\d+)</td>"
                      r"<td class=\"n\" align=\"right\">(\d+)</td>", data) == [("cat", "8", "3"),
                                                                               ("dog", "8", "3")]
    assert "evaluated images were misclassified" in page or "No image of the 7 evaluated" in page
    assert "Keras" in page and "flatten (Flatten)" in page  # environment, the Train tab's layer rows
    assert page.count('src="data:image/png;base64,') >= 1 + 2 * (1 + VERSIONS)  # curves, samples
    assert not re.search(r"<script|(src|href)=\"(?!data:)", page)  # self-contained, no script


@pytest.fixture(scope="module")
def odd_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A masked, augmented run on classes and files named with markup and unicode, whose model
    then answers the markup class for every image (so every other image is wrong)."""
    root = tmp_path_factory.mktemp("odd")
    make_split_tree(root / "photos", {"train": {ODD: 6, UNICODE: 8}, "val": {ODD: 2, UNICODE: 3}},
                    png_only=True)
    for path in (root / "photos" / "val" / UNICODE).iterdir():
        path.rename(path.with_name(f"{ODD_FILE} {path.name}"))
    mask = MaskParams(targets=(Target((220, 80, 80), 20000.0),), median=3, output="alpha")
    run = train_run(root / "photos", root / "runs", mask=mask.to_json(),
                    chain=builtin_chain("chapter").to_json(), image_size=(20, 20))
    constant_model(run, 0)  # classes sort as '<i>cat & co' < 'Ü...'
    return run, root / "photos"


def test_names_are_escaped_and_the_mask_and_chain_are_shown(odd_run, tmp_path) -> None:
    run, photos = odd_run
    before = tree_digest(photos)
    result = report(run, tmp_path / "odd.html")
    page = result.path.read_text(encoding="utf-8")
    assert result.sections == ALL_SECTIONS
    assert "<i>cat" not in page and "<img src=x" not in page
    assert "&lt;i&gt;cat &amp; co" in page and UNICODE in page
    assert "&lt;img src=x onerror=alert(1)&gt; &amp; more" in page
    assert result.accuracy == pytest.approx(2 / 5) and result.baseline == pytest.approx(3 / 5)
    wrong = re.search(r"Most confidently wrong</h2>(.*?)<h2", page, re.S).group(1)
    assert wrong.startswith("<p>3 of 5 evaluated images were misclassified")
    assert wrong.count("<img ") == 3 and wrong.count(f"true <b>{UNICODE}</b>") == 3
    mask = re.search(r"Mask and augmentation</h2>(.*?)<h2", page, re.S).group(1)
    assert "220, 80, 80" in mask and "Fliplr(" in mask and "%\">Masked</th>" in mask
    assert mask.count("as fed to the model") == VERSIONS * min(2, MAX_SAMPLES)
    assert tree_digest(photos) == before


def test_a_run_without_its_model_still_gets_data_model_curves_and_environment(results_run, tmp_path) -> None:
    run = copy_run(results_run, tmp_path / "run")
    for name in ("best.keras", "last.keras"):
        (run / name).unlink()
    result = report(run, tmp_path / "r.html")
    assert result.sections == WITHOUT_EVALUATION and result.accuracy is None
    assert "has no best.keras" in result.evaluation_skipped
    page = result.path.read_text(encoding="utf-8")
    assert "Evaluation was skipped: " in page and "Share of training" in page
    assert 'alt="Loss and accuracy per epoch"' in page and "flatten (Flatten)" in page


def test_a_run_whose_dataset_moved_says_why_evaluation_was_skipped(results_run, tmp_path) -> None:
    run = copy_run(results_run, tmp_path / "run")
    info = json.loads((run / "run.json").read_text(encoding="utf-8"))
    gone = tmp_path / "moved-away"
    info["run"]["data"]["source"] = f"folder:{gone}"
    (run / "run.json").write_text(json.dumps(info), encoding="utf-8")
    result = report(run, tmp_path / "r.html")
    assert result.sections == WITHOUT_EVALUATION
    assert str(gone) in result.evaluation_skipped
    page = result.html
    assert "Share of training" in page  # the counts come from the split the run recorded
    assert "No pictures: the pictures need the run&#x27;s dataset and model" in page


def test_refusals_name_the_folder_and_write_nothing(results_run, results_photos, tmp_path) -> None:
    with pytest.raises(ReportError, match=re.escape(str(tmp_path))):
        report(tmp_path, tmp_path / "r.html")
    before = tree_digest(results_photos)
    with pytest.raises(ReportError, match="refusing to write inside the dataset folder"):
        report(results_run, results_photos / "report.html")
    assert tree_digest(results_photos) == before
    cancel = threading.Event()
    cancel.set()
    with pytest.raises(Cancelled):
        write_report(results_run, tmp_path / "c.html", report=NullReport(), cancel=cancel)
    assert not (tmp_path / "c.html").exists()


def test_an_unwritable_folder_is_a_clear_error(results_run, tmp_path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(ReportError, match=f"cannot write {re.escape(str(blocker / 'r.html'))}"):
        report(results_run, blocker / "r.html")


def test_a_run_on_built_in_digits_shows_them_from_memory(mnist_run, tmp_path) -> None:
    result = report(mnist_run, tmp_path / "digits.html")
    assert result.sections == ALL_SECTIONS and result.n_images == 1000  # a fifth of the 5,000
    page = result.html
    samples = re.search(r"<h3>Pictures</h3>(.*?)</table>", page, re.S).group(1)
    assert samples.count("as fed to the model") == VERSIONS * MAX_SAMPLES  # ten classes, four shown
    assert "Masked</th>" not in samples and "No mask: the model saw the whole photos." in page
    wrong = re.search(r"Most confidently wrong</h2>(.*?)<h2", page, re.S).group(1)
    assert wrong.count('src="data:image/png;base64,') == wrong.count("true <b>") > 0


def test_the_saved_evaluation_open_is_the_one_shown(results_run, results_photos, tmp_path) -> None:
    run = copy_run(results_run, tmp_path / "run")
    ev = evaluate(run, data=str(results_photos / "train"), report=NullReport(), cancel=threading.Event())
    saved = save_evaluation(ev)
    settings = EvaluateSettings(run=str(run), evaluation=saved.stem)
    result = report(run, tmp_path / "saved.html", settings=settings)
    page = result.html
    assert (result.n_images, result.accuracy) == (16, ev.scores.accuracy)  # not the 7 of test/
    assert result.evaluated["saved_evaluation"] == saved.stem
    assert result.evaluated["description"] == ev.eval_set["description"]
    assert f"the saved evaluation {saved.stem}" in page
    assert "are images the run trained on" in page  # its own warnings come with it
    assert page.count('src="data:image/png;base64,') >= 1 + 1 + VERSIONS  # its images found again
    other = EvaluateSettings(run=str(results_run), evaluation=saved.stem)  # another run's: ignored
    assert report(run, tmp_path / "default.html", settings=other).n_images == 7


def test_validation_images_that_chose_the_epoch_are_called_optimistic(results_photos, tmp_path) -> None:
    shutil.copytree(results_photos / "train", tmp_path / "photos" / "train")
    shutil.copytree(results_photos / "val", tmp_path / "photos" / "val")  # no test/ folder
    run = train_run(tmp_path / "photos", tmp_path / "runs")
    result = report(run, tmp_path / "val.html")
    ev = evaluate(run, report=NullReport(), cancel=threading.Event())
    assert ev.eval_set["kind"] == "val" and result.n_images == ev.n_images == 6
    assert result.accuracy == ev.scores.accuracy and result.evaluated["chose_epoch"] is True
    assert [w.kind for w in ev.warnings].count("chose-epoch") == 1  # evaluate says it too
    assert ("These images also chose the epoch (best.keras): the figure is optimistic.</b> Try: "
            "evaluate on a test/ folder for a held-out figure.") in result.html
    evaluation = re.search(r">Evaluation</h2>(.*?)<h2", result.html, re.S).group(1)
    card = re.search(r">Model card</h2>(.*?)<h2", result.html, re.S).group(1)
    assert evaluation.count("also chose the epoch") == 1  # said once there, not again in the list
    assert card.count("also chose the epoch") == 1  # and once among the card's known limits
