"""Filters: what one convolution filter computes, step by step, exactly as Keras's Conv2D does."""
