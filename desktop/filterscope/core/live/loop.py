"""The live view's loop: frames from a camera or a video, each predicted (and, when asked, its
Grad-CAM and a layer's feature maps computed), one partial result per frame.

:func:`run_live` is a long job like any other (``report``, ``cancel``). Frames are dropped,
never queued: a camera holds one frame (:func:`~filterscope.core.live.video.open_source`), and
a video played in ``realtime`` skips the frames its clock has passed while the model was busy,
so what is shown is what is on screen now. Without ``realtime`` (the command line, tests) every
frame is processed in order, so the result does not depend on the machine's speed.

What may change while the loop runs (Grad-CAM on or off, the layer, frozen, one step, a tap
for every frame) is held by a :class:`~filterscope.core.live.control.LiveControl`, which the tab
sets from its thread and the loop reads before each frame: thread-safe, Qt-free.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from typing import Any, Callable

import numpy as np

from filterscope.core.base.jobs import Cancel, Report, check_cancel
from filterscope.core.live.control import LiveControl
from filterscope.core.live.model import LiveModel
from filterscope.core.live.settings import LiveOptions
from filterscope.core.live.video import (
    Camera,
    Frame,
    Source,
    frame_rate,
    open_source,
    read_frame,
    skip_frames,
)
from filterscope.core.visualize.gradcam import grad_cam
from filterscope.core.visualize.layers import VisualizeError

TOP_K = 3
MAPS_SHOWN = 16  # feature maps drawn a frame: a 4 x 4 mosaic stays readable and costs little
_IDLE_S = 0.02  # how often a frozen loop looks at its control and cancel token


@dataclass(frozen=True)
class LiveFrame:
    """One frame processed.

    Attributes:
        index: The frame's number in the source (frames skipped count too).
        rgb: (H, W, 3) uint8, the frame as read.
        classes: The ``top_k`` most probable classes, best first.
        probabilities: Their probabilities, the model's own.
        calibrated: The same with the run's temperature (equal to ``probabilities`` without one).
        heatmap: Grad-CAM of the best class over the frame, (H, W, 3) uint8, or None.
        maps: The chosen layer's first feature maps as a mosaic (RGB uint8), or None.
        layer: That layer's name, or None.
        dropped: Frames skipped since the previous one processed (to keep up).
        seconds: Time to predict (and explain) this frame.
        note: Why the Grad-CAM or the feature maps asked for are missing, or None.
    """

    index: int
    rgb: np.ndarray
    classes: tuple[str, ...]
    probabilities: tuple[float, ...]
    calibrated: tuple[float, ...]
    heatmap: np.ndarray | None = None
    maps: np.ndarray | None = None
    layer: str | None = None
    dropped: int = 0
    seconds: float = 0.0
    note: str | None = None

    def row(self) -> dict:
        """A JSON-able row: frame, predicted, confidence, calibrated confidence, top classes."""
        return {"frame": self.index, "predicted": self.classes[0], "confidence": self.probabilities[0],
                "calibrated_confidence": self.calibrated[0],
                "top": [{"class": c, "probability": p} for c, p in zip(self.classes, self.probabilities)]}


@dataclass(frozen=True)
class LiveSummary:
    """How a live run went: frames processed and dropped, its wall time and frame rate."""

    source: str
    model: str
    processed: int
    dropped: int
    seconds: float

    @property
    def fps(self) -> float:
        """Frames processed per second."""
        return self.processed / self.seconds if self.seconds > 0 else 0.0

    def to_json(self) -> dict:
        """A JSON-able dict."""
        return {"source": self.source, "model": self.model, "frames": self.processed,
                "dropped": self.dropped, "seconds": round(self.seconds, 3), "fps": round(self.fps, 2)}


def process_frame(model: LiveModel, predict: Callable[[np.ndarray], np.ndarray], frame: Frame,
                  options: LiveOptions, top_k: int = TOP_K) -> LiveFrame:
    """Predict ``frame`` (with Grad-CAM and feature maps as ``options`` say).

    With Grad-CAM the probabilities come from the Grad-CAM pass itself (the same forward pass,
    the gradient added), so a frame runs the model once either way. A Grad-CAM or feature maps
    the model cannot give (no convolution, a layer of another model) leave a note, and the
    prediction stands.
    """
    began = time.perf_counter()
    heat = maps = probabilities = note = None
    try:
        if options.gradcam:
            cam = grad_cam(model.session, frame.rgb)
            probabilities, heat = cam.output, cam.overlay()
        if options.layer:
            maps = model.feature_maps(frame.rgb, options.layer).picture(limit=MAPS_SHOWN)
    except VisualizeError as exc:  # a model without convolutions, a layer of another model
        note = str(exc)
    if probabilities is None:
        probabilities = predict(frame.rgb)
    order = np.argsort(-probabilities, kind="stable")[:top_k]
    calibrated = model.calibrated(probabilities)
    return LiveFrame(frame.index, frame.rgb, tuple(model.classes[i] for i in order),
                     tuple(float(probabilities[i]) for i in order), tuple(float(calibrated[i]) for i in order),
                     heat, maps, options.layer if maps is not None else None,
                     seconds=time.perf_counter() - began, note=note)


class _Clock:
    """A video's own clock while played in real time: which frame is due now (paused time not
    counted, so a frozen video goes on where it stopped). Frame ``i`` is due from ``i / fps``
    seconds after the start."""

    def __init__(self, fps: float) -> None:
        self.fps, self._start, self._first = fps, time.perf_counter(), 0

    def due(self) -> int:
        return self._first + int((time.perf_counter() - self._start) * self.fps)

    def restart(self, at: int) -> None:
        self._start, self._first = time.perf_counter(), at


def _keep_time(clock: _Clock, index: int, cancel: Cancel) -> int:
    """Wait until frame ``index`` is due; how many frames to skip when it is past due."""
    while (early := index - clock.due()) > 0:
        check_cancel(cancel)
        time.sleep(min(early / clock.fps, _IDLE_S))
    return clock.due() - index


def _wait_to_read(control: LiveControl, cancel: Cancel) -> bool:
    """Wait while frozen without a step; True if the loop was frozen (its clock must restart)."""
    waited = False
    while not control.may_read():
        check_cancel(cancel)
        waited = True
        time.sleep(_IDLE_S)
    return waited


def run_live(source: Source, model: LiveModel, *, frames: int | None = None, realtime: bool = False,
             control: LiveControl | None = None, on_frame: Callable[[Frame], None] | None = None,
             top_k: int = TOP_K, report: Report, cancel: Cancel) -> LiveSummary:
    """Read ``source`` and predict each frame, reporting a :class:`LiveFrame` per frame.

    Args:
        source: A camera or a video file.
        model: The model, loaded once (:func:`~filterscope.core.live.model.open_live_model`).
        frames: Stop after this many frames processed (None: until the video ends or ``cancel``).
        realtime: Play a video at its own speed, skipping the frames that fall due while a frame
            is processed (a camera always gives its newest frame).
        control: Options and freezing, changed while the loop runs; None: predictions only.
        on_frame: Called in this thread with every frame read, before it is predicted (saving
            frames while a button is held).
        top_k: Classes per frame.
        report: A partial :class:`LiveFrame` per frame; progress when ``frames`` is given.
        cancel: Polled before every frame.

    Raises:
        SourceError: The source cannot be opened, or a camera stops giving frames.
        Cancelled: ``cancel`` was set.
    """
    control = control or LiveControl()
    predict = model.predictor()
    capture = open_source(source)
    try:
        fps = frame_rate(capture) if realtime and not isinstance(source, Camera) else None
        return _loop(source, capture, model, predict, fps, frames, control, on_frame, top_k, report, cancel)
    finally:
        capture.release()


def _loop(source: Source, capture: Any, model: LiveModel, predict: Callable, fps: float | None,
          limit: int | None, control: LiveControl, on_frame: Callable[[Frame], None] | None, top_k: int,
          report: Report, cancel: Cancel) -> LiveSummary:
    """The loop of :func:`run_live` on an opened capture."""
    began, index, processed, dropped = time.perf_counter(), 0, 0, 0
    clock = None if fps is None else _Clock(fps)
    report.progress(0.0, f"Reading {source}")
    while limit is None or processed < limit:
        check_cancel(cancel)
        if _wait_to_read(control, cancel) and clock is not None:
            clock.restart(index)
        skipped = 0 if clock is None or control.frozen else _keep_time(clock, index, cancel)
        skipped = skip_frames(capture, skipped)
        frame = read_frame(capture, source, index + skipped)
        if frame is None:
            break
        index = frame.index + 1
        if on_frame is not None:
            on_frame(frame)
        result = process_frame(model, predict, frame, control.options, top_k)
        processed, dropped = processed + 1, dropped + skipped
        report.partial(replace(result, dropped=skipped))
        if limit is not None:
            report.progress(processed / limit, f"Frame {processed:,} of {limit:,}")
    return LiveSummary(str(source), model.name, processed, dropped, time.perf_counter() - began)
