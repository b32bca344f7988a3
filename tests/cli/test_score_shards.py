"""How the cluster scorer's driver puts shards back together (:class:`Merge`), without a cluster:
every input once, by path, in the order listed; a second answer for a path is ignored; a shard
that could not be scored marks its unanswered images failed with the reason."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from filterscope.score.cluster import shard_size
from filterscope.score.shards import Merge, ShardResult, split


def _answer(paths: list[str], value: float, errors: dict[int, str] | None = None) -> ShardResult:
    return ShardResult(paths, np.full((len(paths), 2), value, np.float32), errors or {})


def test_merge_keeps_one_answer_a_path_and_accounts_for_every_input() -> None:
    paths = [Path(f"/in/{i}.png") for i in range(7)]
    names = [str(p) for p in paths]
    merge = Merge(paths, 2)
    assert merge.add(_answer(names[0:3], 0.1, {1: "not an image"})) == 3
    assert merge.add(_answer(names[0:3], 0.9)) == 0 and merge.duplicates == 3  # a retried shard
    assert merge.add(_answer(names[3:5], 0.2)) == 2
    assert merge.missing() == [5, 6]
    assert merge.fail(names[4:7], "KilledWorker: gone") == 2  # 4 was answered: kept
    assert merge.missing() == []
    assert merge.errors == {1: "not an image", 5: "not scored: KilledWorker: gone",
                            6: "not scored: KilledWorker: gone"}
    assert np.allclose(merge.probabilities[[0, 2]], 0.1) and np.allclose(merge.probabilities[[3, 4]], 0.2)
    assert np.isnan(merge.probabilities[[1, 5, 6]]).all()


def test_shards_cover_every_position_once() -> None:
    assert [list(r) for r in split(7, 3)] == [[0, 1, 2], [3, 4, 5], [6]]
    assert split(0, 3) == []
    assert shard_size(500, 2, 64) == 64 and shard_size(20, 2, 64) == 20 and shard_size(100_000, 2, 64) == 1024
