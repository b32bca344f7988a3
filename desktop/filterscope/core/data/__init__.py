"""Datasets: the one image reader, scanning, splits, built-in data, thumbnails, downloads."""
