"""Training past one machine: TensorFlow's ``MultiWorkerMirroredStrategy`` from a TF_CONFIG.

Every worker runs the same command with the same run spec and its own TF_CONFIG (the same
``cluster``, its own ``task``). The run's batch size is the *global* batch: each global batch
is split between the workers (``batch_size / workers`` images each), their gradients are summed
by an all-reduce, and every worker applies the same update, so the model trained matches one
process's with the same batch and seed (up to the order of floating-point sums). Each worker
builds the whole input pipeline with the run's seed, and tf.data's ``DATA`` auto-shard policy
keeps each worker's share of every batch.

Only the chief (task ``chief``, or ``worker`` 0 when the cluster has no chief) writes the run
folder; the others save into a temporary folder that is removed afterwards (Keras's usual
multi-worker pattern: every worker saves, since saving may need them all). A worker that dies
is noticed by the coordination service's heartbeats, and a collective that waits longer than
``timeout_seconds`` fails: either way training stops with :class:`WorkerLostError`, never hangs.

Keras 3.15's ``fit`` under this strategy fails on two multi-worker paths (its symbolic build
reduces a whole input batch across workers, and it reduces the scalar logs along an axis they do
not have); :func:`keras_fixes` works around both while a multi-worker fit runs.

The strategy must be made before TensorFlow runs any other operation: :func:`make_strategy`
first, then the data and the model.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

from filterscope.core.training.runs import TrainingError

TIMEOUT_SECONDS = 120  # a collective waiting this long for a peer fails instead of hanging
_JOBS = ("chief", "worker")


class ClusterConfigError(ValueError):
    """A TF_CONFIG that cannot describe a multi-worker training cluster (one line)."""


class WorkerLostError(TrainingError):
    """A worker of the cluster stopped answering during training."""


@dataclass(frozen=True)
class Cluster:
    """A parsed TF_CONFIG.

    Attributes:
        addresses: ``host:port`` of every task, the chief first.
        task_type: ``chief`` or ``worker``.
        task_index: This task's index within its job.
        text: The TF_CONFIG as JSON, as TensorFlow reads it.
    """

    addresses: tuple[str, ...]
    task_type: str
    task_index: int
    text: str

    @property
    def workers(self) -> int:
        return len(self.addresses)

    @property
    def is_chief(self) -> bool:
        has_chief = json.loads(self.text)["cluster"].get("chief")
        return self.task_type == "chief" or (not has_chief and self.task_index == 0)

    @property
    def role(self) -> str:
        return f"{self.task_type} {self.task_index}" + (" (chief)" if self.is_chief else "")


def parse_tf_config(value: str, where: str = "--workers") -> Cluster:
    """A TF_CONFIG given as JSON text or as the path of a JSON file -> :class:`Cluster`.

    Raises:
        ClusterConfigError: Not JSON, not a file, or not a cluster of chief/worker tasks with
            this task among them (the message names what is wrong, on one line).
    """
    text = value.strip()
    if not text.startswith("{"):
        try:
            text = Path(text).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ClusterConfigError(f"{where}: neither TF_CONFIG JSON nor a readable file "
                                     f"({getattr(exc, 'strerror', None) or exc})") from None
    try:
        config = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ClusterConfigError(f"{where}: TF_CONFIG is not JSON ({exc})") from None
    cluster, task = _parts(config, where)
    addresses = [a for job in _JOBS for a in cluster.get(job, [])]
    if len(set(addresses)) < len(addresses):
        raise ClusterConfigError(f"{where}: an address appears twice in the cluster")
    return Cluster(tuple(addresses), task["type"], task["index"],
                   json.dumps({"cluster": cluster, "task": task}))


def _parts(config: Any, where: str) -> tuple[dict, dict]:
    if not isinstance(config, dict) or not isinstance(config.get("cluster"), dict) \
            or not isinstance(config.get("task"), dict):
        raise ClusterConfigError(f'{where}: TF_CONFIG needs a "cluster" object and a "task" object')
    cluster, task = config["cluster"], config["task"]
    other = sorted(set(cluster) - set(_JOBS))
    if other:
        raise ClusterConfigError(f"{where}: MultiWorkerMirroredStrategy takes chief and worker "
                                 f"tasks only, not {', '.join(other)}")
    for job, addresses in cluster.items():
        if not isinstance(addresses, list) or not addresses or not all(
                isinstance(a, str) and a.rpartition(":")[2].isdigit() and a.rpartition(":")[0]
                for a in addresses):
            raise ClusterConfigError(f'{where}: cluster "{job}" must be a list of "host:port" strings')
    if len(cluster.get("chief", [])) > 1:
        raise ClusterConfigError(f"{where}: a cluster has at most one chief")
    kind, index = task.get("type"), task.get("index")
    if kind not in cluster:
        raise ClusterConfigError(f"{where}: task type {kind!r} is not a job of the cluster "
                                 f"({', '.join(cluster)})")
    if not isinstance(index, int) or isinstance(index, bool) or not 0 <= index < len(cluster[kind]):
        raise ClusterConfigError(f"{where}: task index {index!r} is not one of 0..{len(cluster[kind]) - 1} "
                                 f"({kind} has {len(cluster[kind])} address(es))")
    return cluster, {"type": kind, "index": index}


def make_strategy(cluster: Cluster, timeout_seconds: float = TIMEOUT_SECONDS) -> Any:
    """The ``MultiWorkerMirroredStrategy`` of ``cluster``; call it before any other TensorFlow op.

    It waits for every worker of the cluster to start (TensorFlow's own behaviour).
    """
    from filterscope.core.training.tf_runtime import import_tensorflow

    os.environ["TF_CONFIG"] = cluster.text
    tf = import_tensorflow()
    options = tf.distribute.experimental.CommunicationOptions(timeout_seconds=timeout_seconds)
    return tf.distribute.MultiWorkerMirroredStrategy(communication_options=options)


def is_multi_worker(strategy: Any) -> bool:
    """True for a strategy spanning several workers."""
    extended = getattr(strategy, "extended", None)
    return bool(getattr(extended, "_num_workers", 1) > 1)


def chief(strategy: Any) -> bool:
    """Whether this worker is the cluster's chief (the one that writes the run)."""
    return bool(strategy.extended.should_checkpoint)


def sharded(dataset: Any) -> Any:
    """``dataset`` with tf.data's DATA auto-shard policy: each worker keeps its share of every
    (global) batch of the same, identically seeded stream."""
    import tensorflow as tf

    options = tf.data.Options()
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    return dataset.with_options(options)


def lost_worker(exc: BaseException, strategy: Any) -> WorkerLostError | None:
    """The plain error for a collective that failed because a worker died or stopped answering."""
    import tensorflow as tf

    if not isinstance(exc, (tf.errors.UnavailableError, tf.errors.DeadlineExceededError,
                            tf.errors.CancelledError, tf.errors.InternalError)):
        return None
    options = getattr(strategy.extended, "_communication_options", None)
    timeout = getattr(options, "timeout_seconds", None) or TIMEOUT_SECONDS
    text = str(exc)
    dead = re.search(r"unhealthy \(stopped sending heartbeats\):\s*/job:(\w+)/replica:\d+/task:(\d+)", text)
    if dead:
        detail = f"{dead[1]} {dead[2]} stopped sending heartbeats (it crashed or was stopped)"
    elif remote := re.search(r"remote target /job:(\w+)/replica:\d+/task:(\d+)", text):
        why = re.search(r"Collective ops is aborted by: ([^\n]+)", text)
        detail = f"the connection to {remote[1]} {remote[2]} was lost" + (f" ({why[1].strip()})" if why else "")
    elif isinstance(exc, tf.errors.DeadlineExceededError):
        detail = f"a step waited more than the collective timeout of {timeout:g} s"
    else:
        detail = (text.strip().splitlines() or [type(exc).__name__])[0][:200]
    return WorkerLostError(f"a worker of the cluster stopped answering, so training stopped: {detail}; "
                           "start every worker again to train")

@contextlib.contextmanager
def keras_fixes(model: Any, dataset: Any) -> Iterator[None]:
    """Let ``model.fit`` run under a multi-worker strategy (Keras 3.15 TF backend).

    Keras builds the model's metrics from a first batch it reduces across workers with
    ``strategy.reduce("MEAN", batch)``, which fails on a multi-worker batch: the model is built
    from the dataset's element spec instead. Its ``reduce_per_replica`` reduces the scalar logs
    with ``axis=0``, which fails on scalars: those are averaged over the replicas with
    ``axis=None`` (the same mean).
    """
    from keras import tree
    from keras.src.backend.tensorflow import trainer as tf_trainer

    spec = dataset.element_spec
    original_build, original_reduce = model._maybe_symbolic_build, tf_trainer.reduce_per_replica

    def build(iterator: Any = None, data_batch: Any = None) -> Any:
        return original_build(data_batch=spec if iterator is not None else data_batch)

    def reduce_per_replica(values: Any, strategy: Any, reduction: str) -> Any:
        def one(v: Any) -> Any:
            local = strategy.experimental_local_results(v)[0] if hasattr(v, "values") else v
            if reduction in ("auto", "mean") and getattr(local.shape, "rank", None) == 0:
                return strategy.reduce("MEAN", v, axis=None)
            return original_reduce(v, strategy, reduction)

        return tree.map_structure(one, values)

    model._maybe_symbolic_build, tf_trainer.reduce_per_replica = build, reduce_per_replica
    try:
        yield
    finally:
        del model._maybe_symbolic_build
        tf_trainer.reduce_per_replica = original_reduce
