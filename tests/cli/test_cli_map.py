"""``filterscope map DATA --out map.csv``: the points as CSV, JSON, never inside the dataset."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from tests.corpus import tree_digest


def test_map_writes_every_photo_as_a_point(run_cli, results_photos: Path, tmp_path: Path) -> None:
    before = tree_digest(results_photos)
    out, cache = tmp_path / "map.csv", tmp_path / "cache"
    code, stdout, err = run_cli("map", results_photos, "--out", out, "--cache-dir", cache)
    assert code == 0, err
    assert f"map: {out}" in stdout and "29 photos in 2 classes (train 16, val 6, test 7)" in stdout
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert list(rows[0]) == ["x", "y", "path", "subset", "label", "predicted"] and len(rows) == 29
    assert {r["label"] for r in rows} == {"cat", "dog"} and {r["subset"] for r in rows} == {"train", "val", "test"}
    assert all(Path(r["path"]).is_file() and 0 <= float(r["x"]) <= 1 and 0 <= float(r["y"]) <= 1 for r in rows)
    assert all(r["label"] == Path(r["path"]).parent.name for r in rows)
    code, stdout, err = run_cli("map", results_photos, "--out", tmp_path / "again.csv", "--cache-dir", cache, "--json")
    assert code == 0, err
    data = json.loads(stdout)
    assert data["points"] == 29 and [r["path"] for r in data["rows"]] == [r["path"] for r in rows]
    assert [r["x"] for r in data["rows"]] == [float(r["x"]) for r in rows]  # seeded: the same map
    assert tree_digest(results_photos) == before


def test_map_is_saved_for_the_report(run_cli, results_photos: Path, tmp_path: Path) -> None:
    from filterscope.core.quality.embedding import saved_map

    out, cache = tmp_path / "map.csv", tmp_path / "cache"
    assert saved_map(f"folder:{results_photos}", cache) is None
    code, _stdout, err = run_cli("map", results_photos, "--out", out, "--cache-dir", cache)
    assert code == 0, err
    saved = saved_map(f"folder:{results_photos}", cache)
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert saved is not None and saved.created and saved.paths == [r["path"] for r in rows]
    assert [round(float(x), 6) for x in saved.xy[:, 0]] == [float(r["x"]) for r in rows]
    assert [saved.classes[k] for k in saved.labels] == [r["label"] for r in rows]


def test_map_refuses_to_write_inside_the_dataset(run_cli, results_photos: Path, tmp_path: Path) -> None:
    before = tree_digest(results_photos)
    code, _out, err = run_cli("map", results_photos, "--out", results_photos / "map.csv",
                              "--cache-dir", tmp_path / "cache")
    assert code == 1 and "refusing to write inside the dataset folder" in err
    assert tree_digest(results_photos) == before
