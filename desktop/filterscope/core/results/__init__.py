"""Results: a trained model applied to held-out and new images (evaluation, metrics, warnings,
prediction), always through the run's own preprocessing. Above ``training``."""
