"""Filterscope's data files (presets, icons, stylesheets), shipped as package data."""
