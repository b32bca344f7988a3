"""``filterscope-score`` (the light scorer of exported ONNX models) against ``filterscope predict``
on the same run and folder: the same rows, classes and probabilities (within 1e-4), the same
broken-file rows and columns; its import graph at run time without TensorFlow, Keras, Qt or
SciPy; and ``predict``'s command-line conventions."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tests.onnx_exports import export_onnx
from tests.split_tree import damage_bodies, make_split_tree

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]
HEAVY = ("tensorflow", "keras", "PySide6", "scipy", "sklearn", "matplotlib", "imgaug")
_SCORE = """
import json, sys
from filterscope.score.cli import main
try:
    code = main(sys.argv[1:])
except SystemExit as exc:  # argparse's usage errors
    code = exc.code
sys.stdout.flush()
print(json.dumps({"code": code, "modules": sorted({m.split('.')[0] for m in sys.modules})}), file=sys.stderr)
"""


def score_cli(*argv: object) -> tuple[int, str, str, set[str]]:
    """``filterscope-score argv...`` in a fresh interpreter: exit code, stdout, stderr and the
    top-level modules it had imported when it ended."""
    env = {**os.environ, "PYTHONPATH": str(ROOT / "desktop")}
    proc = subprocess.run([sys.executable, "-c", _SCORE, *map(str, argv)], capture_output=True, text=True,
                          env=env, timeout=120)
    *err, last = proc.stderr.rstrip("\n").split("\n")
    tail = json.loads(last)
    return tail["code"], proc.stdout, "\n".join(err), set(tail["modules"])


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """New photos in sub-folders (five cats), one PNG with a damaged body and one file that is not
    an image: 7 files, 5 readable."""
    root = tmp_path_factory.mktemp("score") / "new"
    make_split_tree(root, {"batch": {"cat": 5, "dog": 5}}, png_only=True)
    damage_bodies(root / "batch" / "dog")[0]
    for extra in damage_bodies(root / "batch" / "dog")[1:]:
        extra.unlink()
    (root / "batch" / "notes.jpg").write_bytes(b"not a photo at all")
    return root


@pytest.fixture(scope="module", params=["results_run", "results_conv_run"])
def exported(request, tmp_path_factory) -> tuple[Path, Path]:
    """(run, its best model exported to ONNX): the logistic run and the masked ConvNet."""
    run = request.getfixturevalue(request.param)
    return run, export_onnx(run, tmp_path_factory.mktemp("export"))


def _rows(path: Path) -> tuple[list[str], list[dict]]:
    with path.open(encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f)
        return list(reader.fieldnames or []), list(reader)


def test_score_writes_what_predict_writes(run_cli, exported, folder, tmp_path) -> None:
    run, model = exported
    code, out, err = run_cli("predict", run, folder, "--out", tmp_path / "predict.csv", "--json")
    assert code == 0, err
    predicted = json.loads(out)
    code, out, err, modules = score_cli(model, folder, "--out", tmp_path / "score.csv", "--json")
    assert code == 0, err
    scored = json.loads(out)
    assert not modules & set(HEAVY), f"filterscope-score imported {sorted(modules & set(HEAVY))}"
    assert {"onnxruntime", "cv2", "PIL"} <= modules  # it did score, in that process

    header_p, rows_p = _rows(tmp_path / "predict.csv")
    header_s, rows_s = _rows(tmp_path / "score.csv")
    assert header_s == header_p and len(rows_s) == len(rows_p) == 7
    assert [r["path"] for r in rows_s] == [r["path"] for r in rows_p]
    errors = [(r["path"], r["error"]) for r in rows_s if r["error"]]
    assert errors == [(r["path"], r["error"]) for r in rows_p if r["error"]] and len(errors) == 2
    for p, s in zip(rows_p, rows_s):
        same = ("predicted", "decision", "class_1", "class_2", "error", "run_id")
        assert {k: s[k] for k in same} == {k: p[k] for k in same}, p["path"]
        for k in ("confidence", "calibrated_confidence", "probability_1", "probability_2"):
            assert (s[k] == "") == (p[k] == "") and (s[k] == "" or abs(float(s[k]) - float(p[k])) <= 1e-4)
    assert rows_p[0]["run_id"] == run.name
    assert {r["model_sha256"] for r in rows_s} == {scored["audit"]["model"]["sha256"]}
    assert scored["audit"]["model"]["path"] == str(model)

    full_p = np.array([[t["probability"] for t in sorted(r["top"], key=lambda t: t["class"])]
                       for r in predicted["rows"] if not r["error"]])
    full_s = np.array([[t["probability"] for t in sorted(r["top"], key=lambda t: t["class"])]
                       for r in scored["rows"] if not r["error"]])
    assert full_s.shape == full_p.shape == (5, 2)
    assert np.abs(full_s - full_p).max() <= 1e-4
    assert scored["temperature"] == pytest.approx(predicted["temperature"], rel=1e-9)
    assert scored["counts"] == predicted["counts"] and scored["decisions"] == predicted["decisions"]

    audit = json.loads((tmp_path / "score.csv.json").read_text(encoding="utf-8"))
    assert audit["format"] == "filterscope-predictions-audit" and audit["classes"] == predicted["classes"]
    import hashlib
    assert audit["csv"]["sha256"] == hashlib.sha256((tmp_path / "score.csv").read_bytes()).hexdigest()
    assert audit["counts"] == {**predicted["audit"]["counts"]}


def test_score_follows_predicts_conventions(exported, folder, tmp_path) -> None:
    _, model = exported
    out = tmp_path / "p.csv"
    out.write_text("keep me", encoding="utf-8")
    code, _, err, modules = score_cli(model, folder, "--out", out)
    assert code == 1 and "--overwrite" in err and out.read_text(encoding="utf-8") == "keep me"
    assert "onnxruntime" not in modules  # refused before the model was opened
    code, text, err, _ = score_cli(model, folder, "--out", out, "--overwrite", "--top-k", 1)
    assert code == 0, err
    header, rows = _rows(out)
    assert header == ["path", "predicted", "confidence", "calibrated_confidence", "decision",
                      "class_1", "probability_1", "error", "run_id", "model_sha256"]
    assert "scored 5 of 7 image(s); 2 could not be read" in text and f"wrote {out}" in text
    code, _, err, _ = score_cli(model, folder, "--out", folder / "inside.csv")
    assert code == 1 and "refusing to write inside" in err and not (folder / "inside.csv").exists()
    code, _, err, _ = score_cli(model, folder)
    assert code == 2 and "a folder needs --out" in err
    code, text, err, _ = score_cli(model, next(folder.rglob("cat*.png")), "--json")
    assert code == 0, err
    assert len(json.loads(text)["rows"]) == 1


def test_score_refuses_a_model_that_is_not_its_manifests(exported, folder, tmp_path) -> None:
    _, model = exported
    copy = tmp_path / "model.onnx"
    copy.write_bytes(model.read_bytes())
    code, _, err, _ = score_cli(copy, folder, "--out", tmp_path / "a.csv")
    assert code == 1 and "cannot read the export's manifest" in err
    manifest = json.loads(Path(f"{model}.filterscope.json").read_text(encoding="utf-8"))
    wrong = {**manifest, "classes": [*manifest["classes"], "cow"]}
    Path(f"{copy}.filterscope.json").write_text(json.dumps(wrong), encoding="utf-8")
    code, _, err, _ = score_cli(copy, folder, "--out", tmp_path / "a.csv")
    assert code == 1 and "3 classes" in err and not (tmp_path / "a.csv").exists()
    Path(f"{copy}.filterscope.json").write_text(json.dumps({**manifest, "version": 99}), encoding="utf-8")
    code, _, err, _ = score_cli(copy, folder, "--out", tmp_path / "a.csv")
    assert code == 1 and "export version 99" in err
    turbo = {**manifest, "onnxruntime": {"graph_optimization": "turbo"}}
    Path(f"{copy}.filterscope.json").write_text(json.dumps(turbo), encoding="utf-8")
    code, _, err, _ = score_cli(copy, folder, "--out", tmp_path / "a.csv")
    assert code == 1 and "graph optimisation 'turbo'" in err


def test_scoring_waits_without_spinning_and_feeds_no_padding(exported, folder) -> None:
    """ONNX Runtime's threads must not busy-wait on the cores the feed decodes on, and a batch is
    only its images (ONNX Runtime does not trace per shape as Keras does): same answers."""
    import threading

    from filterscope.core.base.jobs import NullReport
    from filterscope.score.onnx_model import default_threads, open_onnx
    from filterscope.score.score import score

    _, path = exported
    model = open_onnx(path)
    options = model.session.get_session_options()
    assert options.intra_op_num_threads == default_threads() >= 1
    assert options.get_session_config_entry("session.intra_op.allow_spinning") == "0"
    import onnxruntime as ort  # the export's measured choice, not ONNX Runtime's default

    level = model.manifest.onnxruntime["graph_optimization"]
    assert options.graph_optimization_level == getattr(ort.GraphOptimizationLevel, f"ORT_ENABLE_{level.upper()}")
    sizes, run = [], model.predict_on_batch

    def counted(x: np.ndarray) -> np.ndarray:
        sizes.append(len(x))
        return run(x)

    model.predict_on_batch = counted
    job = {"report": NullReport(), "cancel": threading.Event(), "opened": model}
    small = score(path, folder, batch_size=2, **job)
    assert sum(sizes) == 5 and len(sizes) >= 3  # 7 files, 5 readable, in batches of at most 2
    whole = score(path, folder, **job)
    assert sizes[-1] == 5 and small.errors == whole.errors
    read = ~np.isnan(whole.probabilities).any(axis=1)
    assert read.sum() == 5 and np.array_equal(read, ~np.isnan(small.probabilities).any(axis=1))
    assert np.abs(small.probabilities[read] - whole.probabilities[read]).max() <= 1e-6


def test_the_self_test_outside_a_bundle_says_what_it_needs() -> None:
    """Only the one-folder bundle ships the self-test's model: elsewhere a message, not a traceback."""
    code, out, err, _ = score_cli("--self-test")
    assert code == 2 and out == "" and "packaging/build-score-bundle.sh" in err and "Traceback" not in err
