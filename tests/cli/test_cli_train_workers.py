"""``filterscope train --spec RUN.json --workers TF_CONFIG``: two worker processes on loopback.

Each cluster test starts real ``python -m filterscope train`` processes (TensorFlow's
MultiWorkerMirroredStrategy needs one process per worker), on two free loopback ports, training
the logistic template on tiny generated photos. The global batch divides the training images, so
every worker's share of every batch is the same size and the all-reduced gradient is the one a
single process computes; what can still differ is the order of floating-point sums (a ring
all-reduce adds the workers' halves, one process sums the whole batch), hence a tolerance of
1e-6 on weights of order 0.1 (about a hundred float32 ulps; measured: 7.5e-9, one ulp).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from filterscope.core.training.data_spec import DataSpec
from filterscope.core.training.model_spec import templates
from filterscope.core.training.multiworker import ClusterConfigError, parse_tf_config
from filterscope.core.training.runs import RunSpec

from tests.results_runs import make_photos

DESKTOP = Path(__file__).resolve().parents[2] / "desktop"
WEIGHT_TOLERANCE = 1e-6
PROCESS_TIMEOUT = 90  # seconds; a cluster test that hangs fails instead


def _free_ports(n: int) -> list[int]:
    sockets = [socket.socket() for _ in range(n)]
    try:
        for s in sockets:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


def _tf_config(ports: list[int], index: int) -> str:
    return json.dumps({"cluster": {"worker": [f"127.0.0.1:{p}" for p in ports]},
                       "task": {"type": "worker", "index": index}})


@pytest.fixture(scope="module")
def spec(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("workers")
    photos = make_photos(root / "photos")
    run = RunSpec(DataSpec(f"folder:{photos}", image_size=(12, 16)), templates()["logistic"],
                  epochs=2, batch_size=8, name="dist", seed=7)  # 16 training photos: 2 whole batches
    path = root / "run.json"
    path.write_text(json.dumps(run.to_json()), encoding="utf-8")
    return path


def _start(spec: Path, out: Path, tmp: Path, *extra: str, epochs: int | None = None) -> subprocess.Popen:
    tmp.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if k != "TF_CONFIG"}
    env.update(PYTHONPATH=os.pathsep.join(filter(None, [str(DESKTOP), env.get("PYTHONPATH")])),
               FILTERSCOPE_DATA_DIR=str(tmp / "appdata"), TMPDIR=str(tmp), TF_CPP_MIN_LOG_LEVEL="3")
    more = [] if epochs is None else ["--epochs", str(epochs)]
    return subprocess.Popen([sys.executable, "-m", "filterscope", "train", "--spec", str(spec), "--out",
                             str(out), "--json", *more, *extra], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _finish(proc: subprocess.Popen) -> tuple[int, str, str]:
    try:
        out, err = proc.communicate(timeout=PROCESS_TIMEOUT)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        pytest.fail(f"a worker hung for {PROCESS_TIMEOUT} s: {err[-2000:]}")
    return proc.returncode, out, err


def _weights(path: Path) -> list[np.ndarray]:
    import keras

    return keras.models.load_model(path, compile=False).get_weights()


@pytest.mark.slow
def test_two_workers_train_the_weights_one_process_trains(spec: Path, tmp_path: Path) -> None:
    ports = _free_ports(2)
    started = time.monotonic()
    procs = [_start(spec, tmp_path / f"out{i}", tmp_path / f"tmp{i}", "--workers", _tf_config(ports, i))
             for i in range(2)]
    single = _start(spec, tmp_path / "single", tmp_path / "tmp-single")
    (code0, out0, err0), (code1, out1, err1) = (_finish(p) for p in procs)
    seconds = time.monotonic() - started
    assert code0 == 0, err0[-3000:]
    assert code1 == 0, err1[-3000:]
    code, _, err = _finish(single)
    assert code == 0, err[-3000:]
    chief, worker = json.loads(out0), json.loads(out1)
    assert chief["workers"] == {"count": 2, "task": {"type": "worker", "index": 0}, "chief": True,
                                "global_batch": 8, "per_worker_batch": 4.0}
    assert worker["run_dir"] is None and worker["workers"]["chief"] is False
    assert worker["status"] == chief["status"] == "finished"
    # Only the chief writes: the other worker's runs folder stays empty, its scratch folder is gone.
    assert not any((tmp_path / "out1").iterdir())
    assert not [p for p in (tmp_path / "tmp1").iterdir() if p.name.startswith("filterscope-worker-")]
    run_dir = Path(chief["run_dir"])
    assert run_dir.parent == tmp_path / "out0"
    assert {p.name for p in run_dir.iterdir()} >= {"run.json", "history.json", "best.keras", "last.keras"}
    record = json.loads((run_dir / "run.json").read_text(encoding="utf-8"))
    assert record["workers"] == {"count": 2, "global_batch": 8, "per_worker_batch": 4.0}
    alone = tmp_path / "single" / "dist"
    for name in ("last.keras", "best.keras"):
        distributed, single_weights = _weights(run_dir / name), _weights(alone / name)
        diff = max(float(np.max(np.abs(a - b))) for a, b in zip(distributed, single_weights))
        print(f"{name}: max weight difference {diff:.2e}; two workers took {seconds:.1f} s")
        assert diff <= WEIGHT_TOLERANCE
    # The chief's history (averaged over the workers' shares) is the single process's.
    histories = [json.loads((d / "history.json").read_text(encoding="utf-8")) for d in (run_dir, alone)]
    assert [len(h["epochs"]) for h in histories] == [2, 2]
    assert histories[0]["best_epoch"] == histories[1]["best_epoch"]
    for mine, theirs in zip(*(h["epochs"] for h in histories)):
        for key in ("loss", "accuracy", "val_loss", "val_accuracy"):
            assert mine[key] == pytest.approx(theirs[key], abs=1e-5), key


@pytest.mark.slow
@pytest.mark.parametrize(("killed", "messages"), [
    # the chief notices a lost worker by its heartbeats, or first by a collective call that fails
    (1, ("worker 1 stopped sending heartbeats (it crashed or was stopped)",
         "the connection to worker 1 was lost")),
    (0, ("the connection to worker 0 was lost",)),  # then gRPC's reason: "(Socket closed)", ...
], ids=["worker", "chief"])
def test_a_worker_killed_stops_the_other_with_a_clear_error(spec: Path, tmp_path: Path, killed: int,
                                                           messages: tuple[str, ...]) -> None:
    ports = _free_ports(2)
    procs = [_start(spec, tmp_path / f"out{i}", tmp_path / f"tmp{i}", "--workers", _tf_config(ports, i),
                    epochs=5000) for i in range(2)]
    history = tmp_path / "out0" / "dist" / "history.json"
    deadline = time.monotonic() + PROCESS_TIMEOUT
    while not history.exists():  # the first epoch has ended on every worker
        assert time.monotonic() < deadline, "the cluster never finished an epoch"
        assert procs[0].poll() is None, procs[0].communicate()[1][-3000:]
        time.sleep(0.2)
    survivor = 1 - killed
    procs[killed].send_signal(signal.SIGKILL)
    started = time.monotonic()
    code, _, err = _finish(procs[survivor])
    seconds = time.monotonic() - started
    procs[killed].wait()
    last = err.strip().splitlines()[-1]
    print(f"{last}\nthe survivor stopped {seconds:.1f} s after its peer was killed")
    assert code == 1
    assert any(last.startswith("filterscope train: error: a worker of the cluster stopped answering, so "
                               f"training stopped: {message}") for message in messages), err[-3000:]
    assert last.endswith("; start every worker again to train")
    assert seconds < PROCESS_TIMEOUT
    if survivor == 0:  # the chief's saved epochs stay, marked stopped
        saved = json.loads(history.read_text(encoding="utf-8"))
        assert saved["status"] == "stopped" and saved["epochs"]
    else:  # the other worker wrote nothing and left no scratch folder
        assert not any((tmp_path / "out1").iterdir())
        assert not [p for p in (tmp_path / "tmp1").iterdir() if p.name.startswith("filterscope-worker-")]


@pytest.mark.parametrize(("text", "message"), [
    ("{", "TF_CONFIG is not JSON"),
    ('{"cluster": {"worker": ["a:1"]}}', 'needs a "cluster" object and a "task" object'),
    ('{"cluster": {"ps": ["a:1"], "worker": ["b:2"]}, "task": {"type": "worker", "index": 0}}',
     "chief and worker tasks only, not ps"),
    ('{"cluster": {"worker": ["a"]}, "task": {"type": "worker", "index": 0}}', '"host:port"'),
    ('{"cluster": {"worker": ["a:1", "b:2"]}, "task": {"type": "worker", "index": 2}}',
     "task index 2 is not one of 0..1"),
    ('{"cluster": {"worker": ["a:1", "a:1"]}, "task": {"type": "worker", "index": 0}}', "appears twice"),
    ("no-such-file.json", "neither TF_CONFIG JSON nor a readable file"),
])
def test_a_bad_tf_config_is_one_clear_line(text: str, message: str) -> None:
    with pytest.raises(ClusterConfigError, match=message) as info:
        parse_tf_config(text)
    assert "\n" not in str(info.value) and str(info.value).startswith("--workers: ")


def test_tf_config_from_a_file_and_the_chief(tmp_path: Path) -> None:
    path = tmp_path / "tf_config.json"
    path.write_text(json.dumps({"cluster": {"chief": ["h0:1"], "worker": ["h1:1", "h2:1"]},
                                "task": {"type": "worker", "index": 0}}), encoding="utf-8")
    cluster = parse_tf_config(str(path))
    assert (cluster.workers, cluster.is_chief, cluster.addresses) == (3, False, ("h0:1", "h1:1", "h2:1"))
    assert parse_tf_config(_tf_config([5, 6], 0)).is_chief


def test_a_bad_tf_config_stops_the_command_before_training(run_cli, tmp_path: Path, spec: Path) -> None:
    code, _, err = run_cli("train", "--spec", spec, "--out", tmp_path, "--workers", '{"cluster": 1}')
    assert code == 1
    assert err.strip().splitlines()[-1] == ('filterscope train: error: --workers: TF_CONFIG needs a '
                                            '"cluster" object and a "task" object')
