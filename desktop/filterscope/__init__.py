"""Filterscope: a desktop workbench for the ConvNet chapter's computer-vision systems."""

__version__ = "0.1.0"
