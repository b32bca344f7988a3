"""``filterscope export``: the JSON a script reads, the human summary, and failures as one line
with nothing written."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np


def test_export_json_reports_the_verification_and_the_sidecar(run_cli, results_run, tmp_path) -> None:
    out = tmp_path / "model.onnx"
    code, stdout, _ = run_cli("export", results_run, "--format", "onnx", "--out", out, "--model", "last", "--json")
    assert code == 0
    data = json.loads(stdout)
    check = data["manifest"]["verification"]
    assert check["classes_identical"] is True and 0 <= check["max_abs_diff"] <= 1e-4
    assert check["n_images"] == 6 and check["runtime"] == "onnxruntime"
    assert data["manifest"]["run"]["which"] == "last" and data["manifest"]["input"]["size"] == [12, 16]
    assert data["size_bytes"] == out.stat().st_size > 0
    assert json.loads(Path(data["sidecar"]).read_text()) == data["manifest"]

    import onnxruntime

    session = onnxruntime.InferenceSession(str(out), providers=["CPUExecutionProvider"])
    probs = session.run([data["manifest"]["output_name"]],
                        {data["manifest"]["input_name"]: np.zeros((2, 12, 16, 3), np.float32)})[0]
    assert probs.shape == (2, 2) and np.allclose(probs.sum(axis=1), 1, atol=1e-5)


def test_export_human_summary_and_refusals(run_cli, results_run, tmp_path) -> None:
    out = tmp_path / "model.tflite"
    code, stdout, _ = run_cli("export", results_run, "--format", "tflite", "--out", out)
    assert code == 0 and f"wrote {out}" in stdout and "classes identical" in stdout
    code, _, stderr = run_cli("export", results_run, "--format", "tflite", "--out", out)
    assert code == 1 and "exists" in stderr and stderr.count("\n") == 1
    code, _, stderr = run_cli("export", tmp_path / "no-run", "--format", "onnx", "--out", tmp_path / "x.onnx")
    assert code == 1 and "no such run folder" in stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.tflite", "model.tflite.filterscope.json"]
