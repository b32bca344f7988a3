"""Class weights, early stopping and the learning-rate schedule: settings, JSON, and real training."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from filterscope.core.base.jobs import RecordingReport, never_cancel
from filterscope.core.training.data_spec import DataSpec
from filterscope.core.training.fit_options import FitOptions, FitOptionsError, class_weight_map
from filterscope.core.training.frames import StoppedEarlyFrame
from filterscope.core.training.model_spec import ModelSpec, OptimizerSpec
from filterscope.core.training.runs import RunSpec, RunSpecError, load_run
from filterscope.core.training.train import train

DATA = DataSpec("builtin:mnist")  # never opened: the tests hand train() their own inputs


def test_defaults_are_the_chapters_fixed_schedule() -> None:
    options = FitOptions()
    assert (options.class_weights, options.early_stopping, options.reduce_lr_patience) == (False, 0, 0)
    assert options.describe() == []
    assert RunSpec(DATA).fit == options


def test_json_round_trip_and_old_run_specs() -> None:
    fit = FitOptions(True, 7, 2, 0.25)
    run = RunSpec(DATA, fit=fit)
    data = json.loads(json.dumps(run.to_json()))
    assert data["fit"] == {"class_weights": True, "early_stopping": 7, "reduce_lr_patience": 2,
                           "reduce_lr_factor": 0.25, "warmup_epochs": 0}
    assert RunSpec.from_json(data) == run
    del data["fit"]  # a run.json written before these settings existed
    assert RunSpec.from_json(data).fit == FitOptions()
    assert "early stopping after 7 epochs" in "; ".join(fit.describe())


@pytest.mark.parametrize(("fit", "field"), [
    ({"early_stopping": -1}, "fit.early_stopping"),
    ({"early_stopping": 2.5}, "fit.early_stopping"),
    ({"reduce_lr_patience": "3"}, "fit.reduce_lr_patience"),
    ({"reduce_lr_factor": 1.0}, "fit.reduce_lr_factor"),
    ({"reduce_lr_factor": 0}, "fit.reduce_lr_factor"),
    ({"class_weights": "yes"}, "fit.class_weights"),
    ({"patience": 3}, "fit"),
])
def test_bad_settings_name_their_field(fit: dict, field: str) -> None:
    data = RunSpec(DATA).to_json()
    data["fit"] = fit
    with pytest.raises(RunSpecError) as caught:
        RunSpec.from_json(data)
    assert caught.value.field == field
    with pytest.raises(FitOptionsError):
        FitOptions.from_json(fit)


def test_balanced_weights_are_sklearns_and_a_missing_class_weighs_one() -> None:
    labels = np.array([0] * 60 + [1] * 30 + [3] * 10)
    weights = class_weight_map(labels, 4)
    n = len(labels)
    assert weights[0] == pytest.approx(n / (3 * 60))
    assert weights[1] == pytest.approx(n / (3 * 30))
    assert weights[3] == pytest.approx(n / (3 * 10))
    assert weights[2] == 1.0  # no training images: nothing to weigh
    assert sum(weights[c] * np.sum(labels == c) for c in (0, 1, 3)) == pytest.approx(n)
    assert class_weight_map(np.array([], int), 3) == {}


def inverted_inputs(n: int = 64, seed: int = 0):
    """Bright images are class 0 and dark ones class 1 for training; the validation images have
    the labels swapped, so the better the model learns, the worse it validates: the best epoch is
    the first, and validation loss only rises."""
    import tensorflow as tf

    rng = np.random.default_rng(seed)
    y = (np.arange(n) % 2).astype(np.int32)
    x = np.where(y[:, None, None, None] == 0, 0.8, 0.2).astype(np.float32) \
        + rng.normal(0, 0.02, (n, 8, 8, 1)).astype(np.float32)
    val_y = 1 - y[: n // 2]
    return SimpleNamespace(
        train=tf.data.Dataset.from_tensor_slices((x, y)).shuffle(n, seed=seed).batch(8),
        val=tf.data.Dataset.from_tensor_slices((x[: n // 2], val_y)).batch(16),
        classes=["bright", "dark"], input_shape=(8, 8, 1), n_train=n, n_val=n // 2,
        train_labels=y)


LOGISTIC = ModelSpec("logistic", (), name="logistic")


def test_early_stopping_stops_patience_epochs_after_the_best_and_keeps_its_weights(tmp_path: Path) -> None:
    import keras

    report = RecordingReport()
    run = RunSpec(DATA, LOGISTIC, OptimizerSpec("sgd", 0.5), epochs=30, batch_size=8,
                  fit=FitOptions(early_stopping=3))
    result = train(run, tmp_path, report=report, cancel=never_cancel(), inputs=inverted_inputs())
    best = result.best_epoch
    assert result.stopped_early == best + 3 == result.epochs_run < 30
    assert result.status == "finished"
    stops = [p for p in report.partials if isinstance(p, StoppedEarlyFrame)]
    assert len(stops) == 1 and f"epoch {best}'s" in stops[0].message
    assert (stops[0].epoch, stops[0].best_epoch) == (best + 3, best)
    saved = keras.saving.load_model(result.run_dir / "best.keras")
    for mine, theirs in zip(result.model.get_weights(), saved.get_weights()):
        np.testing.assert_array_equal(mine, theirs)  # the model handed back is the best epoch's
    last = keras.saving.load_model(result.run_dir / "last.keras")
    assert any(not np.array_equal(a, b) for a, b in zip(last.get_weights(), saved.get_weights()))
    loaded = load_run(result.run_dir)
    assert loaded.stopped_early == result.stopped_early
    assert "early stopping" in loaded.tags()


def test_without_early_stopping_every_epoch_runs(tmp_path: Path) -> None:
    run = RunSpec(DATA, LOGISTIC, OptimizerSpec("sgd", 0.5), epochs=6, batch_size=8)
    result = train(run, None, report=RecordingReport(), cancel=never_cancel(), inputs=inverted_inputs())
    assert result.epochs_run == 6 and result.stopped_early is None


def test_learning_rate_is_reduced_on_a_plateau_down_to_its_floor() -> None:
    run = RunSpec(DATA, LOGISTIC, OptimizerSpec("sgd", 0.4), epochs=14, batch_size=8,
                  fit=FitOptions(reduce_lr_patience=2, reduce_lr_factor=0.1))
    result = train(run, None, report=RecordingReport(), cancel=never_cancel(), inputs=inverted_inputs())
    rates = [row["learning_rate"] for row in result.history]
    # Keras's rule, replayed on the recorded validation losses: two epochs without a lower loss
    # multiply the rate by 0.1, never below a hundredth of the start.
    expected, lr, best, wait = [], 0.4, float("inf"), 0
    for row in result.history:
        expected.append(lr)
        if row["val_loss"] < best:
            best, wait = row["val_loss"], 0
        else:
            wait += 1
            if wait >= 2:
                lr, wait = max(lr * 0.1, 0.004), 0
    assert rates == pytest.approx(expected, rel=1e-6)
    assert rates[0] == pytest.approx(0.4) and rates[-1] == pytest.approx(0.004)  # it fell to the floor
    assert len(set(np.round(rates, 6))) == 3


def test_class_weights_reach_the_loss_and_are_recorded(tmp_path: Path) -> None:
    import tensorflow as tf

    rng = np.random.default_rng(1)
    y = np.array([0] * 40 + [1] * 8, np.int32)
    x = rng.random((48, 8, 8, 1), dtype=np.float32)
    inputs = SimpleNamespace(train=tf.data.Dataset.from_tensor_slices((x, y)).batch(8),
                             val=tf.data.Dataset.from_tensor_slices((x[:8], y[:8])).batch(8),
                             classes=["many", "few"], input_shape=(8, 8, 1), n_train=48, n_val=8,
                             train_labels=y)
    losses = {}
    for weighted in (False, True):
        run = RunSpec(DATA, LOGISTIC, epochs=1, batch_size=8, fit=FitOptions(class_weights=weighted),
                      name=f"weighted-{weighted}")
        result = train(run, tmp_path, report=RecordingReport(), cancel=never_cancel(), inputs=inputs)
        losses[weighted] = result.history[0]["loss"]
        recorded = json.loads((result.run_dir / "run.json").read_text())["class_weights"]
        if weighted:
            assert recorded == {"many": pytest.approx(48 / 80), "few": pytest.approx(48 / 16)}
            assert "class weights" in load_run(result.run_dir).tags()
        else:
            assert recorded is None
    assert losses[True] != pytest.approx(losses[False], rel=1e-3)


def test_without_validation_images_the_schedule_watches_training_and_says_so() -> None:
    import tensorflow as tf

    inputs = inverted_inputs()
    inputs.val, inputs.n_val = tf.data.Dataset.from_tensor_slices(
        (np.zeros((0, 8, 8, 1), np.float32), np.zeros(0, np.int32))).batch(8), 0
    run = RunSpec(DATA, LOGISTIC, epochs=2, batch_size=8, fit=FitOptions(early_stopping=1,
                                                                       reduce_lr_patience=1))
    result = train(run, None, report=RecordingReport(), cancel=never_cancel(), inputs=inputs)
    assert any("watch the training accuracy" in w for w in result.warnings)


def test_warm_up_raises_the_rate_over_its_epochs_then_keeps_it(tmp_path: Path) -> None:
    """Added as the issue's demonstration that a setting is declared once: only fit_options.py
    changed, and the Train tab's control, the --warmup-epochs flag, run.json, the Keras code
    and the run's tags follow."""
    run = RunSpec(DATA, LOGISTIC, OptimizerSpec("sgd", 0.4), epochs=6, batch_size=8,
                  fit=FitOptions(warmup_epochs=4))
    result = train(run, tmp_path, report=RecordingReport(), cancel=never_cancel(), inputs=inverted_inputs())
    rates = [row["learning_rate"] for row in result.history]
    assert rates == pytest.approx([0.1, 0.2, 0.3, 0.4, 0.4, 0.4], rel=1e-6)
    assert load_run(result.run_dir).tags()[-1] == "warm-up"
    assert RunSpec.from_json(json.loads(json.dumps(run.to_json()))).fit.warmup_epochs == 4
    assert "warmed up over the first 4 epochs" in "; ".join(run.fit.describe())
    with pytest.raises(FitOptionsError, match="fit.warmup_epochs: must be from 0 to 1,000"):
        FitOptions(warmup_epochs=-1)


def test_the_warm_up_code_is_kerass_own_schedule() -> None:
    """The Keras code's lambda gives the rates the app's schedule gives."""
    from filterscope.core.training.fit_options import WarmUp

    code = FitOptions(warmup_epochs=3).code(0.3)
    (callback,) = code.callbacks
    schedule = eval(callback[callback.index("lambda"):-1])  # noqa: S307 (the generated code)
    app = WarmUp(0.3, 3)
    assert [schedule(e, 0.05) for e in range(5)] == pytest.approx([app(e, 0.05) for e in range(5)])
    assert [app(e, 0.05) for e in range(5)] == pytest.approx([0.1, 0.2, 0.3, 0.05, 0.05])
