"""The Live tab's settings as an evented model: the source (a camera or a video file), the model,
what each frame shows besides its prediction, and where saved frames go."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from filterscope.core.base.settings import Settings, like, setting
from filterscope.core.live.video import Camera, Source, SourceError, VideoFile
from filterscope.core.visualize.settings import VisualizeSettings

CAMERA, VIDEO = "camera", "video"


@dataclass(frozen=True)
class LiveOptions:
    """What each frame gets besides its prediction.

    Attributes:
        gradcam: Grad-CAM of the predicted class, drawn over the frame.
        layer: The layer whose feature maps are drawn, or None for none.
    """

    gradcam: bool = False
    layer: str | None = None


@dataclass
class LiveSettings(Settings):
    """What the Live tab reads and shows.

    Attributes:
        kind: ``camera`` or ``video``.
        camera: The camera's index (0 is the first).
        video: The video file's path ("" for none chosen).
        realtime: Play a video at its own speed, dropping the frames the model has no time for.
        model: A run folder, a ``.keras`` file or an ImageNet model; "" for none.
        weights: An ImageNet model's weights (``imagenet`` or ``random``); "" for other models.
        size: VGG16's input side (its classes only at 224 px).
        gradcam: Draw Grad-CAM of the predicted class over the frame.
        maps: Draw the feature maps of ``layer``.
        layer: The layer whose feature maps are drawn ("" for none chosen).
        save_folder: Where Save frame writes PNG files ("" asks).
    """

    kind: str = setting(CAMERA, "Source", kind=str,
                        choices=((CAMERA, "Camera"), (VIDEO, "Video file")),
                        help="A camera attached to this computer, or a video file")
    camera: int = setting(0, "Camera", low=0, high=63,
                          help="The camera's number: 0 is the first one the system lists")
    video: str = setting("", "Video file", kind=str, help="A video file OpenCV can read (.mp4, .avi, ...)")
    realtime: bool = setting(True, "Real time",
                             help="Play a video at its own speed, skipping the frames the model has "
                             "no time for (off: every frame, as slowly as it takes)")
    model: str = like(VisualizeSettings, "model")
    weights: str = like(VisualizeSettings, "weights")
    size: int = like(VisualizeSettings, "size")
    gradcam: bool = setting(False, "Grad-CAM",
                            help="Draw where the evidence for the predicted class lies, over the frame")
    maps: bool = setting(False, "Feature maps", help="Draw the feature maps of the chosen layer")
    layer: str = setting("", "Layer", kind=str, help="The layer whose feature maps are drawn")
    save_folder: str = setting("", "Save frames to", kind=str,
                               help="The folder Save frame writes PNG files into (never a dataset folder)")

    def source(self) -> Source:
        """The chosen camera or video file.

        Raises:
            SourceError: No video file chosen.
        """
        if self.kind == CAMERA:
            return Camera(self.camera)
        if not self.video.strip():
            raise SourceError("no video file chosen: choose one, or a camera")
        return VideoFile(Path(self.video.strip()).expanduser())  # a file named "0" too

    def options(self) -> LiveOptions:
        """What each frame gets besides its prediction."""
        return LiveOptions(self.gradcam, (self.layer or None) if self.maps else None)
