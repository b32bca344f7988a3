"""Visualise: gradient ascent per filter and class, activation maps, weights, Grad-CAM."""
