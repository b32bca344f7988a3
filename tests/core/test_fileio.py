"""Tests for filterscope.core.base.fileio's atomic writes."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from filterscope.core.base.fileio import atomic_write_bytes, make_temp_dir

LONG_NAME = "é" * 125 + ".png"  # 254 bytes in UTF-8: legal, one byte under the limit


@pytest.mark.parametrize("durable", [True, False])
def test_a_name_near_the_limit_is_written_with_no_temp_file_left(tmp_path: Path, durable: bool) -> None:
    assert len(LONG_NAME.encode()) == 254
    target = tmp_path / LONG_NAME
    atomic_write_bytes(target, b"old", durable=durable)
    atomic_write_bytes(target, b"new", durable=durable)
    assert target.read_bytes() == b"new"
    assert [p.name for p in tmp_path.iterdir()] == [LONG_NAME]


def test_a_failed_write_leaves_the_destination_and_no_temp_file(tmp_path: Path) -> None:
    (tmp_path / "taken").mkdir()  # a folder sits at the name
    (tmp_path / "taken" / "inside").write_bytes(b"keep")
    with pytest.raises(OSError):
        atomic_write_bytes(tmp_path / "taken", b"data")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["taken"]
    assert (tmp_path / "taken" / "inside").read_bytes() == b"keep"


@pytest.mark.skipif(os.name != "posix", reason="POSIX permission bits")
@pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")
def test_output_folders_get_the_permissions_of_any_new_folder(tmp_path: Path) -> None:
    """Not mkdtemp's 0700: an extracted dataset or a feature cache must be readable like a copy."""
    plain = tmp_path / "plain"
    plain.mkdir()
    if stat.S_IMODE(plain.stat().st_mode) == 0o700:
        pytest.skip("umask 077: every new folder is 0700")
    made = make_temp_dir(tmp_path, ".out.", ".tmp")
    assert made.parent == tmp_path and made.name.startswith(".out.") and made.name.endswith(".tmp")
    assert stat.S_IMODE(made.stat().st_mode) == stat.S_IMODE(plain.stat().st_mode)


def test_outputs_get_the_permissions_of_any_new_file(tmp_path: Path) -> None:
    """Not mkstemp's owner-only 0600: a masked dataset must be readable like any copied file."""
    plain = tmp_path / "plain.txt"
    plain.write_bytes(b"x")
    written = atomic_write_bytes(tmp_path / "out.png", b"data")
    assert stat.S_IMODE(written.stat().st_mode) == stat.S_IMODE(plain.stat().st_mode)
