"""Pretrained bases: weight sources (offline first), models on a base, the feature cache."""
