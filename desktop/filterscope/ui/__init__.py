"""Thin PySide6 layer: widgets and signal wiring; all maths lives in filterscope.core."""
