"""Data an analyst can trust: suspect labels, near-copies across subsets, and a map of the data,
all on a pretrained base's cached features (:mod:`.features`)."""
