"""Training runs on tiny in-memory data: partials, saving, cancel, divergence, strategies, leaks."""

from __future__ import annotations

import gc
import hashlib
import json
import os
import random
import re
import subprocess
import sys
import threading
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from filterscope.core.base.jobs import Cancelled, RecordingReport, never_cancel
from filterscope.core.training import keras_bridge
from filterscope.core.training.data_spec import DataSpec
from filterscope.core.training.frames import BatchFrame, DivergedFrame, EpochFrame, StartFrame
from filterscope.core.training.keras_bridge import divergence
from filterscope.core.training.model_spec import ModelSpec, ModelSpecError, OptimizerSpec, templates
from filterscope.core.training.runs import RunResult, RunSpec, TrainingError
from filterscope.core.training.train import default_strategy, train

from tests.corpus import run_without_read_permission

DATA = DataSpec("builtin:mnist")  # never opened: every test hands train() its own inputs


def tiny_inputs(n_train: int = 48, n_val: int = 16, size: int = 28, channels: int = 1,
                n_classes: int = 10, batch: int | None = 8, seed: int = 0, nan: bool = False):
    """Random images in [0, 1] with random labels, batched like pipeline.build_inputs() (or
    single images with ``batch=None``)."""
    import tensorflow as tf

    rng = np.random.default_rng(seed)
    x = rng.random((n_train + n_val, size, size, channels), dtype=np.float32)
    if nan:
        x[:] = np.nan
    y = rng.integers(0, n_classes, n_train + n_val).astype(np.int32)

    def stream(a: slice):
        ds = tf.data.Dataset.from_tensor_slices((x[a], y[a]))
        return ds if batch is None else ds.batch(batch)

    return SimpleNamespace(train=stream(slice(0, n_train)), val=stream(slice(n_train, None)),
                           classes=[f"c{i}" for i in range(n_classes)],
                           input_shape=(size, size, channels), n_train=n_train, n_val=n_val)


def spec(epochs: int = 1, batch: int = 8, **kwargs) -> RunSpec:
    return RunSpec(DATA, epochs=epochs, batch_size=batch, **kwargs)


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def run_dirs(out: Path) -> list[Path]:
    return sorted(p for p in out.iterdir() if p.is_dir()) if out.exists() else []


def assert_whole(out: Path) -> None:
    """No temp file anywhere; every saved model loads; history matches what is there."""
    import keras

    leftovers = [p for p in out.rglob("*") if p.name.startswith(".")]
    assert not leftovers, leftovers
    for run in run_dirs(out):
        assert json.loads((run / "run.json").read_text())["version"] == 1
        history = json.loads((run / "history.json").read_text())
        assert history["epochs"], "a run folder without a saved epoch should have been removed"
        for name in ("best.keras", "last.keras"):
            keras.saving.load_model(run / name)


class Trip(RecordingReport):
    """Records everything; sets ``cancel`` when ``when(kind, payload)`` first says so.

    ``kind`` is ``"partial"`` (payload: the partial) or ``"progress"`` (payload: the message). At
    that moment it notes the hash of every saved best.keras, to compare after the cancel.
    """

    def __init__(self, when, out: Path | None = None) -> None:
        super().__init__()
        self.cancel = threading.Event()
        self.when, self.out = when, out
        self.best_at_cancel: dict[Path, str] = {}
        self.events = 0

    def _event(self, kind: str, payload) -> None:
        self.events += 1
        if not self.cancel.is_set() and self.when(kind, payload, self.events):
            if self.out is not None:
                self.best_at_cancel = {p: sha(p) for p in self.out.rglob("best.keras")}
            self.cancel.set()

    def partial(self, payload) -> None:
        super().partial(payload)
        self._event("partial", payload)

    def progress(self, fraction: float, message: str = "") -> None:
        super().progress(fraction, message)
        self._event("progress", message)


@pytest.fixture(autouse=True)
def every_batch(monkeypatch: pytest.MonkeyPatch) -> None:
    """Batch partials unthrottled, so that tests can count on one per batch."""
    monkeypatch.setattr(keras_bridge, "BATCH_REPORT_INTERVAL", 0.0)


def test_a_run_reports_saves_and_loads_back(tmp_path: Path) -> None:
    import keras

    report = RecordingReport()
    result = train(spec(epochs=2), tmp_path, report=report, cancel=never_cancel(),
                   inputs=tiny_inputs())
    assert result.status == "finished" and result.epochs_run == 2 and result.diverged is None
    (run,) = run_dirs(tmp_path)
    assert result.run_dir == run and re.fullmatch(r"\d{8}-\d{6}-chapter-convnet-adam", run.name)
    assert sorted(p.name for p in run.iterdir()) == ["best.keras", "history.json", "last.keras",
                                                     "run.json"]
    info = json.loads((run / "run.json").read_text())
    assert RunSpec.from_json(info["run"]) == spec(epochs=2)
    assert info["classes"] == [f"c{i}" for i in range(10)] and info["params"] == 3730
    history = json.loads((run / "history.json").read_text())
    assert history["status"] == "finished" and history["epochs"] == result.history

    kinds = [type(p) for p in report.partials]
    assert kinds == [StartFrame] + ([BatchFrame] * 6 + [EpochFrame]) * 2
    start = report.partials[0]
    assert start.steps == 6 and start.params == 3730 and len(start.summary) == 9
    assert start.run_dir == run and start.input_shape == (28, 28, 1)
    batches = [p for p in report.partials if isinstance(p, BatchFrame)]
    assert [(b.epoch, b.step) for b in batches[:7]] == [(1, s) for s in range(1, 7)] + [(2, 1)]
    epochs = [p for p in report.partials if isinstance(p, EpochFrame)]
    assert [e.row() for e in epochs] == result.history  # the frames are what history.json holds
    for row in result.history:  # the last running mean of an epoch is the epoch's loss
        last = [b for b in batches if b.epoch == row["epoch"]][-1]
        assert last.running_loss == pytest.approx(row["loss"], rel=1e-5)
        assert set(row) == {"epoch", "loss", "accuracy", "val_loss", "val_accuracy", "learning_rate",
                            "seconds"}
        assert all(isinstance(row[k], float) for k in ("loss", "val_loss", "val_accuracy"))
    assert any("left" in m for _, m in report.progress_calls)
    fractions = [f for f, _ in report.progress_calls]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0

    assert issubclass(keras_bridge.KerasBridge, keras.callbacks.Callback)
    best = keras.saving.load_model(run / "best.keras")
    last = keras.saving.load_model(run / "last.keras")
    x = np.random.default_rng(1).random((5, 28, 28, 1), dtype=np.float32)
    np.testing.assert_allclose(last.predict(x, verbose=0), result.model.predict(x, verbose=0),
                               rtol=1e-5, atol=1e-6)
    assert best.count_params() == 3730
    data = result.to_json()
    assert data["best_val_accuracy"] == result.history[result.best_epoch - 1]["val_accuracy"]
    json.dumps(data)


def test_best_keras_of_a_one_epoch_run_predicts_like_the_trained_model(tmp_path: Path) -> None:
    import keras

    result = train(spec(), tmp_path, report=RecordingReport(), cancel=never_cancel(),
                   inputs=tiny_inputs(size=16, channels=3, n_classes=3))
    loaded = keras.saving.load_model(result.run_dir / "best.keras")
    x = np.random.default_rng(2).random((4, 16, 16, 3), dtype=np.float32)
    np.testing.assert_allclose(loaded.predict(x, verbose=0), result.model.predict(x, verbose=0),
                               rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", sorted(templates()))
def test_each_template_trains_an_epoch_with_validation(name: str) -> None:
    report = RecordingReport()
    result = train(spec(model=templates()[name]), None, report=report, cancel=never_cancel(),
                   inputs=tiny_inputs(size=20, n_classes=4))
    assert result.run_dir is None and result.status == "finished"
    (row,) = result.history
    assert row["val_loss"] is not None and 0.0 <= row["val_accuracy"] <= 1.0
    assert result.best_epoch == 1


def test_without_validation_data_best_follows_training_metrics() -> None:
    inputs = tiny_inputs(n_val=0)
    result = train(spec(epochs=2), None, report=RecordingReport(), cancel=never_cancel(),
                   inputs=inputs)
    assert [r["val_accuracy"] for r in result.history] == [None, None]
    assert result.best_epoch in (1, 2)


def test_unbatched_streams_are_batched_with_the_run_batch_size() -> None:
    inputs = tiny_inputs(n_train=20, n_val=4, batch=None)
    report = RecordingReport()
    train(spec(batch=5), None, report=report, cancel=never_cancel(), inputs=inputs)
    assert [p.steps for p in report.partials if isinstance(p, BatchFrame)] == [4] * 4


def test_too_small_input_says_so_before_anything_is_written(tmp_path: Path) -> None:
    with pytest.raises(ModelSpecError) as info:
        train(spec(), tmp_path, report=RecordingReport(), cancel=never_cancel(),
              inputs=tiny_inputs(size=8))
    assert info.value.message.startswith("a 8x8 input shrinks to 0x0 at block 2's pooling; use at "
                                         "least 10x10")
    assert list(tmp_path.iterdir()) == []


def test_runs_folder_that_is_a_file_is_a_clear_error(tmp_path: Path) -> None:
    occupied = tmp_path / "runs"
    occupied.write_text("not a folder")
    with pytest.raises(TrainingError, match=f"cannot write to the runs folder {occupied}"):
        train(spec(), occupied, report=RecordingReport(), cancel=never_cancel(), inputs=None)


@pytest.mark.skipif(os.name != "posix", reason="file modes only deny writes on POSIX")
def test_read_only_runs_folder_fails_before_data_or_tensorflow(tmp_path: Path) -> None:
    locked = tmp_path / "runs"
    locked.mkdir()
    os.chmod(locked, 0o555)
    code = (
        "import sys, threading\n"
        "from pathlib import Path\n"
        "from filterscope.core.base.jobs import NullReport\n"
        "from filterscope.core.training.data_plan import DataSpec\n"
        "from filterscope.core.training.runs import RunSpec, TrainingError\n"
        "from filterscope.core.training.train import train\n"
        "try:\n"
        "    train(RunSpec(DataSpec('builtin:mnist')), Path(sys.argv[1]), report=NullReport(),\n"
        "          cancel=threading.Event())\n"
        "except TrainingError as exc:\n"
        "    print(exc)\n"
        "print('tensorflow' in sys.modules)\n"
    )
    try:
        result = run_without_read_permission(code, str(locked))
    finally:
        os.chmod(locked, 0o755)
    assert result.returncode == 0, result.stderr
    message, tf_loaded = result.stdout.strip().splitlines()
    assert message == f"cannot write to the runs folder {locked}: Permission denied"
    assert tf_loaded == "False"
    assert list(locked.iterdir()) == []


# --- cancel ---------------------------------------------------------------------------------


def is_batch(epoch: int, step: int):
    return lambda kind, p, n: kind == "partial" and isinstance(p, BatchFrame) \
        and (p.epoch, p.step) == (epoch, step)


def says(text: str, epoch: int):
    return lambda kind, m, n: kind == "progress" and m.startswith(f"Epoch {epoch}/") and text in m


def test_cancel_in_the_first_batch_leaves_no_run_folder(tmp_path: Path) -> None:
    trip = Trip(is_batch(1, 1), tmp_path)
    with pytest.raises(Cancelled):
        train(spec(epochs=2), tmp_path, report=trip, cancel=trip.cancel, inputs=tiny_inputs())
    assert list(tmp_path.iterdir()) == []
    after = [p for p in trip.partials if isinstance(p, BatchFrame)]
    assert after[-1].step <= 2  # latency: one batch


@pytest.mark.parametrize("when", ["mid-epoch", "validating", "epoch-partial"])
def test_cancel_in_the_second_epoch_keeps_the_first_best_model(tmp_path: Path, when: str) -> None:
    trigger = {"mid-epoch": is_batch(2, 3), "validating": says("validating", 2),
               "epoch-partial": lambda kind, p, n: kind == "partial" and isinstance(p, EpochFrame)
               and p.epoch == 2}[when]
    trip = Trip(trigger, tmp_path)
    with pytest.raises(Cancelled):
        train(spec(epochs=3), tmp_path, report=trip, cancel=trip.cancel, inputs=tiny_inputs())
    (run,) = run_dirs(tmp_path)
    assert trip.best_at_cancel == {run / "best.keras": sha(run / "best.keras")}
    history = json.loads((run / "history.json").read_text())
    assert [r["epoch"] for r in history["epochs"]] == [1] and history["status"] == "stopped"
    assert not [p for p in trip.partials if isinstance(p, BatchFrame) and p.epoch == 3]
    assert_whole(tmp_path)


def test_cancel_while_saving_finishes_that_save_and_stops(tmp_path: Path) -> None:
    trip = Trip(says("saving", 2), tmp_path)
    with pytest.raises(Cancelled):
        train(spec(epochs=3), tmp_path, report=trip, cancel=trip.cancel, inputs=tiny_inputs())
    (run,) = run_dirs(tmp_path)
    history = json.loads((run / "history.json").read_text())
    assert [r["epoch"] for r in history["epochs"]] == [1, 2] and history["status"] == "stopped"
    assert not [p for p in trip.partials if isinstance(p, BatchFrame) and p.epoch == 3]
    assert_whole(tmp_path)


@pytest.mark.parametrize("error", [OSError(28, "No space left on device"), KeyboardInterrupt()])
def test_a_save_that_breaks_halfway_leaves_the_previous_files(tmp_path: Path, monkeypatch,
                                                              error: BaseException) -> None:
    import keras

    real_save = keras.Model.save
    calls = []

    def breaking_save(model, path, *args, **kwargs):
        calls.append(path)
        if len(calls) > 2:  # epoch 1 saves best and last; epoch 2 breaks halfway through
            Path(path).write_bytes(b"PK\x03\x04 half a zip")
            raise error
        return real_save(model, path, *args, **kwargs)

    monkeypatch.setattr(keras.Model, "save", breaking_save)
    trip = Trip(lambda *a: False, tmp_path)
    inputs = tiny_inputs()
    first = {}

    def snapshot(kind, p, n):
        if kind == "partial" and isinstance(p, EpochFrame) and p.epoch == 2:
            first.update({q.name: sha(q) for q in tmp_path.rglob("*.keras")})
        return False

    trip.when = snapshot
    expected = TrainingError if isinstance(error, OSError) else KeyboardInterrupt
    with pytest.raises(expected) as info:
        train(spec(epochs=2), tmp_path, report=trip, cancel=trip.cancel, inputs=inputs)
    if expected is TrainingError:
        message = str(info.value)
        assert "No space left on device" in message and ("best.keras" in message
                                                         or "last.keras" in message)
    (run,) = run_dirs(tmp_path)
    assert {q.name: sha(q) for q in run.glob("*.keras")} == first
    assert json.loads((run / "history.json").read_text())["status"] == "running"  # interrupted
    assert_whole(tmp_path)


@pytest.mark.parametrize("seed", [1, 2])
def test_cancel_at_a_random_point(tmp_path: Path, seed: int) -> None:
    # 2 epochs of 6 batches: 1 start + 14 batch/epoch partials + progress events, about 40
    point = random.Random(seed).randint(1, 40)
    trip = Trip(lambda kind, p, n: n >= point, tmp_path)
    try:
        train(spec(epochs=2), tmp_path, report=trip, cancel=trip.cancel, inputs=tiny_inputs())
    except Cancelled:
        pass
    else:
        assert not trip.cancel.is_set()
    for path, digest in trip.best_at_cancel.items():
        assert sha(path) == digest or len(json.loads(
            (path.parent / "history.json").read_text())["epochs"]) == 2
    assert_whole(tmp_path)


def test_cancel_before_start_raises_at_once(tmp_path: Path) -> None:
    cancel = threading.Event()
    cancel.set()
    with pytest.raises(Cancelled):
        train(spec(), tmp_path, report=RecordingReport(), cancel=cancel, inputs=tiny_inputs())
    assert list(tmp_path.iterdir()) == []


# --- divergence -----------------------------------------------------------------------------


def test_huge_learning_rate_stops_with_a_plain_message(tmp_path: Path) -> None:
    report = RecordingReport()
    result = train(spec(epochs=3, optimizer=OptimizerSpec("sgd", 1e6)), tmp_path, report=report,
                   cancel=never_cancel(), inputs=tiny_inputs())
    assert result.status == "diverged" and result.epochs_run == 0 and result.best_epoch is None
    assert result.run_dir.name.endswith("-chapter-convnet-sgd")  # told apart from an adam run
    assert result.diverged.startswith("Training stopped in epoch 1, batch ")
    assert "learning rate (1e+06) is probably too high" in result.diverged
    assert report.partials[-1] == DivergedFrame(1, report.partials[-1].step, result.diverged)
    assert report.partials[-1].step <= 3
    history = json.loads((result.run_dir / "history.json").read_text())
    assert history["status"] == "diverged" and history["diverged"] == result.diverged
    assert not (result.run_dir / "best.keras").exists()
    assert result.to_json()["diverged"] == result.diverged


def test_nan_loss_stops_at_the_first_batch() -> None:
    # The logistic model: TensorFlow's max pooling can turn NaN inputs into numbers on some CPUs,
    # so a ConvNet does not reliably show a NaN loss from NaN pixels.
    report = RecordingReport()
    result = train(spec(epochs=2, model=templates()["logistic"]), None, report=report, cancel=never_cancel(),
                   inputs=tiny_inputs(nan=True))
    assert result.status == "diverged"
    assert "Training stopped in epoch 1, batch 1: the loss became NaN" in result.diverged
    assert not [p for p in report.partials if isinstance(p, (BatchFrame, EpochFrame))]


def test_divergence_rule() -> None:
    assert divergence(2.3, 2.3, 0.01) is None
    assert divergence(60_000.0, 60_628.0, 0.001) is None  # the chapter's unscaled L2 start
    assert divergence(900.0, 2.3, 0.01) is None
    assert "exploded to 7,707" in divergence(7707.0, 2.3, 0.001)
    assert "infinite" in divergence(float("inf"), None, 0.1)
    assert "NaN" in divergence(float("nan"), None, 0.1)


# --- strategies and memory --------------------------------------------------------------------


MIRRORED = """
import json, sys, threading
from types import SimpleNamespace
import numpy as np
import tensorflow as tf
cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
from filterscope.core.training.data_spec import DataSpec
from filterscope.core.base.jobs import NullReport
from filterscope.core.training.runs import RunSpec
from filterscope.core.training.train import default_strategy, train
rng = np.random.default_rng(0)
x = rng.random((48, 16, 16, 1), dtype=np.float32)
y = rng.integers(0, 3, 48).astype(np.int32)
ds = lambda a, b: tf.data.Dataset.from_tensor_slices((x[a:b], y[a:b])).batch(8)
inputs = SimpleNamespace(train=ds(0, 32), val=ds(32, 48), classes=["a", "b", "c"],
                         input_shape=(16, 16, 1), n_train=32, n_val=16)
strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
result = train(RunSpec(DataSpec("builtin:mnist"), epochs=1, batch_size=8), sys.argv[1],
               report=NullReport(), cancel=threading.Event(), inputs=inputs, strategy=strategy)
print(json.dumps({"replicas": strategy.num_replicas_in_sync, **result.to_json()}))
"""


def test_mirrored_strategy_over_two_logical_cpus(tmp_path: Path) -> None:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        filter(None, [str(Path(__file__).resolve().parents[2] / "desktop"), os.environ.get("PYTHONPATH")])))
    out = subprocess.run([sys.executable, "-c", MIRRORED, str(tmp_path)], capture_output=True,
                         text=True, timeout=120, env=env)
    assert out.returncode == 0, out.stderr[-3000:]
    data = json.loads(out.stdout.strip().splitlines()[-1])
    assert data["replicas"] == 2 and data["status"] == "finished" and data["epochs_run"] == 1
    assert data["history"][0]["val_accuracy"] is not None
    assert_whole(tmp_path)


def test_default_strategy_without_gpus_is_the_default_one() -> None:
    import tensorflow as tf

    assert default_strategy() is tf.distribute.get_strategy()


@pytest.mark.slow
def test_ten_trainings_do_not_grow_memory_without_bound(tmp_path: Path) -> None:
    psutil = pytest.importorskip("psutil")
    process = psutil.Process()
    inputs = tiny_inputs(n_train=16, n_val=8, size=16, n_classes=3)
    rss = []
    for i in range(10):
        result = train(spec(seed=i), tmp_path if i % 2 else None, report=RecordingReport(),
                       cancel=never_cancel(), inputs=inputs)
        assert isinstance(result, RunResult)
        del result
        gc.collect()
        rss.append(process.memory_info().rss)
    assert rss[-1] < rss[1] + 150 * 2**20, [r // 2**20 for r in rss]
    assert len(run_dirs(tmp_path)) == 5  # names never collide, even within one second


def test_partial_shapes_for_a_model_from_json() -> None:
    spec_json = ModelSpec().to_json()
    spec_json["dense"] = [{"units": 8, "dropout": 0.5, "batchnorm": True}]
    model = ModelSpec.from_json(spec_json)
    report = RecordingReport()
    result = train(replace(spec(), model=model), None, report=report, cancel=never_cancel(),
                   inputs=tiny_inputs(n_classes=2))
    summary = report.partials[0].summary
    assert [r["layer"] for r in summary][-6:] == ["dense1", "dense1_relu", "dense1_batchnorm",
                                                  "dense1_dropout", "output", "softmax"]
    assert result.model.count_params() == sum(r["params"] for r in summary)


def test_time_left_is_timed_from_the_end_of_the_first_batch(monkeypatch) -> None:
    """The first batch traces the model (seconds): counting it would promise an hour's wait."""
    now = [0.0]
    monkeypatch.setattr(keras_bridge, "time", SimpleNamespace(monotonic=lambda: now[0]))
    report = RecordingReport()
    bridge = keras_bridge.KerasBridge(report, never_cancel(), epochs=2, steps=10, learning_rate=0.001)
    bridge.set_params({"steps": 10})
    bridge.on_epoch_begin(0)
    for batch, at in enumerate((50.0, 51.0, 52.0)):  # tracing, then one second a batch
        now[0] = at
        bridge.on_train_batch_end(batch, {"loss": 2.3, "accuracy": 0.1})
    messages = [m for _, m in report.progress_calls]
    assert "left" not in messages[0]
    assert messages[1].endswith("about 18 s left") and messages[2].endswith("about 17 s left")
