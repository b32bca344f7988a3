"""Live sources: a camera or a video file read frame by frame (OpenCV's VideoCapture)."""
