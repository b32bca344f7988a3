"""Gradient ascent: the app's compiled step on a cut model against the chapter's recipe in TF2,
timed in the same run, on VGG16 with random weights (the timing does not depend on the weights).

Targets (issue), each a ratio of medians, app / reference:

1. block5_conv1 at 224x224: a step of ``ascend`` (compiled, on the model cut at the layer)
   against the chapter's loop ported to an eager ``tf.GradientTape`` on the same cut model
   (``tests.chapter_reference.chapter_gradient_ascent``): <= 0.5 (at least 2x faster). Eager
   ``tape.gradient`` also computes every convolution's kernel gradient, which the traced graph
   prunes.
2. block1_conv1 at 224x224: a step of ``ascend`` against an eager step through the whole network
   (the layer's activation read from a model with both outputs, as without a cut): <= 0.1.
3. 16 filters of block1_conv1 at 128x128 optimised as one batch against 16 runs one by one
   (both compiled): <= 1 / 1.5; at block3_conv1 the batch must not be slower (<= 1.1).

Steps are timed through the public job (``ascend`` with a NullReport), so the per-step Python
work (schedule, NaN check, partial frames) is included; one extra step evaluates the final
objective and is counted.
"""

from __future__ import annotations

import os
import threading

import numpy as np
import pytest
from filterscope.core.base.jobs import NullReport
from filterscope.core.visualize.ascent import ascend, start_images
from filterscope.core.visualize.model_source import load_pretrained
from filterscope.core.visualize.session import VisualSession
from filterscope.core.visualize.settings import Target, preset

from tests.chapter_reference import chapter_gradient_ascent

ROUNDS = 3


def _session(size: int) -> VisualSession:
    return VisualSession(load_pretrained("vgg16", "random", size=size))


@pytest.fixture(scope="module")
def vgg224() -> VisualSession:
    return _session(224)


@pytest.fixture(scope="module")
def vgg128() -> VisualSession:
    return _session(128)


def _per_step(session: VisualSession, target: Target, steps: int, batch: int = 16) -> float:
    result = ascend(session, target, preset("chapter", steps=steps), batch=batch, report=NullReport(),
                    cancel=threading.Event())
    return result.seconds / (steps + 1)


def _eager_per_step(model, start: np.ndarray, index: int, steps: int) -> float:
    import time

    began = time.perf_counter()
    chapter_gradient_ascent(model, start, index, alpha=0.1, steps=steps)
    return (time.perf_counter() - began) / steps


def _load() -> float:
    return round(os.getloadavg()[0], 2)


def test_compiled_cut_step_against_the_chapters_eager_step(paired, benchmark, vgg224) -> None:
    """Target 1: block5_conv1 filter 110 (the chapter's), >= 2x faster than eager."""
    layer, index, steps = "block5_conv1", 110, 3
    target = Target.filters(layer, index)
    cut = vgg224.cut(("layer", layer), lambda: vgg224.output_of(layer))
    start = start_images(vgg224, preset("chapter"), [index])
    project, reference = paired(lambda: _per_step(vgg224, target, steps),
                                lambda: _eager_per_step(cut, start, index, steps),
                                rounds=ROUNDS, warmup_rounds=1)
    ratio = benchmark.extra_info["ratio"]
    print(f"\n{layer} at 224: compiled {np.median(project):.3f} s/step, eager "
          f"{np.median(reference):.3f} s/step, ratio {ratio:.2f} (load {_load()})")
    assert ratio <= 0.5


def test_cut_at_block1_against_stepping_the_full_network(paired, benchmark, vgg224) -> None:
    """Target 2: block1_conv1 on the cut model >= 10x faster than through the whole VGG16."""
    import keras

    layer, index = "block1_conv1", 0
    model = vgg224.model
    whole = keras.Model(model.inputs[0], [model.get_layer(layer).output, model.output])

    def through_everything(x):
        return whole(x)[0]

    start = start_images(vgg224, preset("chapter"), [index])
    project, reference = paired(lambda: _per_step(vgg224, Target.filters(layer, index), 20),
                                lambda: _eager_per_step(through_everything, start, index, 3),
                                rounds=ROUNDS, warmup_rounds=1)
    ratio = benchmark.extra_info["ratio"]
    print(f"\n{layer} at 224: cut {np.median(project) * 1000:.1f} ms/step, whole network "
          f"{np.median(reference) * 1000:.1f} ms/step, ratio {ratio:.3f} (load {_load()})")
    assert ratio <= 0.1


@pytest.mark.parametrize("layer, target_ratio, steps", [("block1_conv1", 1 / 1.5, 10),
                                                        ("block3_conv1", 1.1, 2)])
def test_a_batch_of_16_filters_against_16_single_runs(paired, benchmark, vgg128, layer, target_ratio,
                                                      steps) -> None:
    """Target 3: the mosaic as one batch of 16 against 16 runs one by one, at 128x128."""
    batch = Target.filters(layer, range(16))

    def one_by_one() -> float:
        return sum(_per_step(vgg128, Target.filters(layer, k), steps) for k in range(16))

    project, reference = paired(lambda: _per_step(vgg128, batch, steps), one_by_one,
                                rounds=ROUNDS, warmup_rounds=1)
    ratio = benchmark.extra_info["ratio"]
    print(f"\n{layer} at 128, 16 filters: batch {np.median(project):.3f} s/step, one by one "
          f"{np.median(reference):.3f} s/step, ratio {ratio:.2f} (load {_load()})")
    assert ratio <= target_ratio
