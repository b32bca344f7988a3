"""Core fixtures: every file the training pipeline reads, recorded."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """Every file the training streams decode (the real reader, recorded)."""
    from filterscope.core.training import pipeline  # only for the tests that ask for it

    calls: list[Path] = []
    real = pipeline.read_image

    def recording(path, *args, **kwargs):
        calls.append(Path(path))
        return real(path, *args, **kwargs)

    monkeypatch.setattr(pipeline, "read_image", recording)
    return calls
