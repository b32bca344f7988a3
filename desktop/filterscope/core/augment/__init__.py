"""Augmentation chains: the JSON spec, its imgaug build, previews, numpy-2 compat."""
