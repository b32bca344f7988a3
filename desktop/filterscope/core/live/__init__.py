"""The live view: a camera or a video file read frame by frame (OpenCV's VideoCapture), each frame
predicted (with Grad-CAM and feature maps when asked) by a model loaded once, frames dropped
rather than queued; its settings, and what it writes (a CSV per frame, saved frames)."""
