"""Gradient ascent on the input: the picture a filter or a class responds to most.

:func:`ascend` is a long job (see :mod:`filterscope.core.base.jobs`). Filters (or classes) are
optimised ``batch`` at a time as one batch; every ``every`` steps it sends an
:class:`AscentFrame` (the pictures so far and the objective's history) through
``report.partial``, and when a batch is done a :class:`MosaicTiles` with its finished pictures.
``cancel`` is polled before every step, so Stop takes effect within one step. A gradient that
turns NaN or infinite stops the ascent with a sentence saying why (``status`` ``diverged``).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from filterscope.core.base.jobs import Cancel, Report, check_cancel
from filterscope.core.visualize.layers import check_indices, conv_layer
from filterscope.core.visualize.render import as_rgb, deprocess, mosaic
from filterscope.core.visualize.session import VisualSession
from filterscope.core.visualize.settings import CLASS, FILTER, PRESETS, AscentSettings, Target
from filterscope.core.visualize.steps import (
    blur_kernel,
    build_step,
    chosen_filters_objective,
    class_objective,
    filter_objective,
    plain_conv,
)

DEFAULT_BATCH = 16
DEFAULT_EVERY = 5
GRAY_NOISE = 0.1  # of the input's range, around mid-gray, for the clean start


@dataclass
class AscentFrame:
    """A partial result: the pictures of the batch being optimised, as they are now.

    Attributes:
        step: Steps done in this batch.
        steps: Steps per batch.
        positions: Where the batch's pictures go among the target's (0-based).
        images: (B, H, W, 3) uint8, deprocessed.
        history: (step, B) objective of each picture before each step done so far.
    """

    step: int
    steps: int
    positions: list[int]
    images: np.ndarray
    history: np.ndarray


@dataclass
class MosaicTiles:
    """A partial result: pictures that are finished (a whole batch).

    Attributes:
        positions: Where they go among the target's pictures (0-based).
        images: (B, H, W, 3) uint8, deprocessed.
        history: (steps + 1, B) their objective before each step and after the last (NaN past
            a stop).
    """

    positions: list[int]
    images: np.ndarray
    history: np.ndarray


@dataclass
class AscentResult:
    """The pictures and how the objective rose.

    Attributes:
        target: What was maximised.
        labels: One label per picture ("block1_conv1 filter 0", "class 184 Irish Terrier").
        images: (N, H, W, 3) uint8, deprocessed as the chapter does (gray models repeated to RGB).
        raw: (N, H, W, C) float32, the optimised inputs in the model's units.
        history: (steps + 1, N) objective before each step and after the last (NaN past a stop).
        settings: The recipe.
        lr: The step size used.
        status: ``finished`` or ``diverged``.
        diverged: Why the ascent stopped, or None.
        notes: Plain sentences (a filter whose gradient is zero...).
        seconds: Time the ascent took.
    """

    target: Target
    labels: list[str]
    images: np.ndarray
    raw: np.ndarray
    history: np.ndarray
    settings: AscentSettings
    lr: float
    status: str = "finished"
    diverged: str | None = None
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def objective_start(self) -> np.ndarray:
        """Objective of each start image."""
        return self.history[0]

    @property
    def objective_end(self) -> np.ndarray:
        """Objective of each final picture (the last finite value)."""
        ends = []
        for column in self.history.T:
            finite = column[np.isfinite(column)]
            ends.append(finite[-1] if len(finite) else np.nan)
        return np.asarray(ends, np.float32)

    def picture(self, columns: int | None = None) -> np.ndarray:
        """The one picture, or the mosaic of all of them."""
        return self.images[0] if len(self.images) == 1 else mosaic(self.images, columns=columns)

    def to_json(self) -> dict:
        """A JSON-able summary (without the pixels)."""
        t = self.target
        return {"kind": t.kind, "layer": t.layer, "indices": list(t.indices), "labels": self.labels,
                "objective_start": [float(v) for v in self.objective_start],
                "objective_end": [float(v) for v in self.objective_end],
                "steps": self.settings.steps, "lr": self.lr, "seed": self.settings.seed,
                "preset": self.settings.preset, "settings": self.settings.to_json(),
                "status": self.status, "diverged": self.diverged, "notes": list(self.notes),
                "size": list(self.images.shape[1:3]), "seconds": round(self.seconds, 3)}


def display(session: VisualSession, x: np.ndarray) -> np.ndarray:
    """Optimised inputs (B, H, W, C) in model units -> (B, H, W, 3) uint8 through the chapter's
    deprocessing (channels in RGB order)."""
    rgb_order = session.loaded.to_rgb01(x) if session.loaded.preprocessing == "caffe" else x
    return np.stack([as_rgb(deprocess(image)) for image in rgb_order])


def _step_for(session: VisualSession, target: Target, settings: AscentSettings):
    """The compiled step of the target's layer (or class head), cached in the session."""
    shape = session.loaded.input_shape
    if target.kind == FILTER:
        layer = conv_layer(session.model, target.layer)
        if plain_conv(layer):
            before = session.input_of(target.layer)
            cut = None if before is None else session.cut(("before", target.layer), lambda: before)
            objective = chosen_filters_objective(cut, layer)
        else:
            objective = filter_objective(session.cut(("layer", target.layer),
                                                     lambda: session.output_of(target.layer)))
        return session.compiled(("ascent", FILTER, target.layer), lambda: build_step(objective, shape))
    head = session.head()
    cut = session.cut(("head",), session.head_tensor)
    logits = settings.class_score == "logit"
    return session.compiled(("ascent", CLASS, logits),
                            lambda: build_step(class_objective(cut, head.to_logits, head.softmax, logits),
                                               shape))


def labels_for(session: VisualSession, target: Target) -> list[str]:
    """A label per picture, and the target's indices checked against the layer or the output.

    Raises:
        VisualizeError: No such layer, not a convolution, an index out of range.
    """
    if target.kind == FILTER:
        layer = conv_layer(session.model, target.layer)
        count = int(layer.output.shape[-1])
        check_indices(target.indices, count, "filter", target.layer)
        return [f"{target.layer} filter {i}" for i in target.indices]
    names = session.class_names()
    check_indices(target.indices, len(names), "class", "the model")
    return [f"class {i}" + ("" if names[i] == f"class {i}" else f" ({names[i]})") for i in target.indices]


def start_images(session: VisualSession, settings: AscentSettings, indices: list[int]) -> np.ndarray:
    """Start images, one seeded stream per index, so a picture does not depend on its batch."""
    shape = session.loaded.input_shape
    images = []
    for index in indices:
        rng = np.random.default_rng([settings.seed, index])
        noise = rng.random(shape, dtype=np.float32)
        if settings.start == "uniform":
            images.append(noise)  # the chapter: np.random.rand, in the model's units
        else:
            images.append(session.loaded.to_model(0.5 + GRAY_NOISE * (noise - 0.5)))
    return np.stack(images).astype(np.float32)


def _params(session: VisualSession, settings: AscentSettings, lr: float) -> dict:
    loaded = session.loaded
    channels = loaded.input_shape[2]
    ones = np.ones((1, 1, channels), np.float32)
    low, high, mid = (loaded.to_model(v * ones).reshape(channels) for v in (0.0, 1.0, 0.5))
    return {"lr": np.float32(lr), "shift": np.zeros(2, np.int32), "coarse": np.zeros(2, np.int32),
            "smooth": False, "blur": False, "kernel": blur_kernel(settings.blur_sigma),
            "tv": np.float32(settings.tv), "decay": np.float32(settings.decay), "clip": settings.clip,
            "low": low, "high": high, "mid": mid}


def _schedule(settings: AscentSettings, shape: tuple[int, int, int], step: int,
              rng: np.random.Generator) -> dict:
    """What changes with the step: the jitter shift, the octave's coarse size, the blur."""
    octave = step * settings.octaves // settings.steps
    scale = settings.octave_scale ** (settings.octaves - 1 - octave)
    coarse = [max(1, round(shape[0] / scale)), max(1, round(shape[1] / scale))]
    shift = rng.integers(-settings.jitter, settings.jitter + 1, 2) if settings.jitter else (0, 0)
    blur = settings.blur_every > 0 and (step + 1) % settings.blur_every == 0
    return {"shift": np.asarray(shift, np.int32), "coarse": np.asarray(coarse, np.int32),
            "smooth": scale > 1.0, "blur": blur}


def ascend(session: VisualSession, target: Target, settings: AscentSettings | None = None, *,
           batch: int = DEFAULT_BATCH, every: int = DEFAULT_EVERY, report: Report,
           cancel: Cancel) -> AscentResult:
    """Maximise each of the target's filters (or classes) by gradient ascent on the input.

    Args:
        session: The model and its caches.
        target: Filters of a convolution layer, or classes.
        settings: The recipe; None is the chapter's.
        batch: Pictures optimised together as one batch.
        every: Steps between :class:`AscentFrame` partials.
        report: Progress, frames and finished tiles.
        cancel: Polled before every step.

    Raises:
        VisualizeError: A bad layer, index or setting; a model without class scores.
        Cancelled: ``cancel`` was set (the last frame holds the pictures so far).
    """
    run = _Ascent(session, target, PRESETS["chapter"] if settings is None else settings, every,
                  report, cancel)
    diverged, size = None, max(1, int(batch))
    for start in range(0, run.n, size):
        positions = list(range(start, min(run.n, start + size)))
        diverged = run.batch(positions)
        report.partial(MosaicTiles(positions, display(session, run.raw[positions]),
                                   run.history[:, positions].copy()))
        if diverged:
            run.keep(positions[-1] + 1)
            break
    result = AscentResult(run.target, run.labels, display(session, run.raw), run.raw, run.history,
                          run.settings, run.lr, "diverged" if diverged else "finished", diverged,
                          seconds=time.perf_counter() - run.began)
    still = [label for label, first, last in zip(run.labels, run.history[0], run.history[-1])
             if first == last]
    if still and not diverged:
        result.notes.append(f"{', '.join(still)}: the objective did not move; its gradient is zero "
                            "everywhere (it never responds to these inputs)")
    report.progress(1.0, result.diverged or "Done")
    return result


class _Ascent:
    """The state of one :func:`ascend` call: the compiled step, its fixed arguments, the
    pictures and the objective's history of every target."""

    def __init__(self, session: VisualSession, target: Target, settings: AscentSettings, every: int,
                 report: Report, cancel: Cancel) -> None:
        self.session, self.target, self.settings = session, target, settings
        self.every, self.report, self.cancel = max(1, int(every)), report, cancel
        self.labels = labels_for(session, target)
        self.step = _step_for(session, target, settings)
        self.lr = settings.step_size(target.kind, session.loaded.pixel_range)
        self.params = _params(session, settings, self.lr)
        self.n, self.began = len(target.indices), time.perf_counter()
        self.raw = np.zeros((self.n, *session.loaded.input_shape), np.float32)
        self.history = np.full((settings.steps + 1, self.n), np.nan, np.float32)

    def keep(self, count: int) -> None:
        """Keep only the first ``count`` targets (those reached before a stop)."""
        self.raw, self.history, self.labels = self.raw[:count], self.history[:, :count], \
            self.labels[:count]
        self.target = Target(self.target.kind, self.target.indices[:count], self.target.layer)

    def batch(self, positions: list[int]) -> str | None:
        """Optimise the targets at ``positions`` as one batch into ``raw`` and ``history``;
        returns why it stopped early, if it did (the pictures are then the last finite ones)."""
        import tensorflow as tf

        settings, shape, steps = self.settings, self.session.loaded.input_shape, self.settings.steps
        indices = [self.target.indices[p] for p in positions]
        x = tf.constant(start_images(self.session, settings, indices))
        idx = tf.constant(indices, tf.int32)
        jitter = np.random.default_rng([settings.seed, 2**31])  # one shift sequence, batch or not
        for i in range(steps):
            check_cancel(self.cancel)
            new, scores, finite = self.step(x, idx, {**self.params, **_schedule(settings, shape, i, jitter)})
            self.history[i, positions] = scores.numpy()
            if not bool(np.all(finite.numpy())):
                self.raw[positions] = x.numpy()
                bad = [self.labels[p] for p, ok in zip(positions, finite.numpy()) if not ok]
                return (f"stopped at step {i + 1}: the gradient of {', '.join(bad)} is NaN or infinite "
                        "(the model's activations overflow: weights that are not finite, or a "
                        "learning rate too large for this model); the pictures are the last finite ones")
            x = new
            if (i + 1) % self.every == 0 or i + 1 == steps:
                self.report.partial(AscentFrame(i + 1, steps, positions, display(self.session, x.numpy()),
                                                self.history[:i + 1, positions].copy()))
                self.report.progress((positions[0] + len(positions) * (i + 1) / steps) / self.n,
                                     f"Step {i + 1} of {steps}")
        frozen = {**self.params, "lr": np.float32(0.0), "tv": np.float32(0.0),
                  "decay": np.float32(0.0), "clip": False}  # no move, shift or blur: just measure
        _, scores, _ = self.step(x, idx, frozen)
        self.history[steps, positions] = scores.numpy()
        self.raw[positions] = x.numpy()
        return None
