#!/usr/bin/env bash
# Build the one-folder light scorer and test it: dist/filterscope-score/filterscope-score.
#
#   packaging/build-score-bundle.sh
#
# 1. A build environment in build/score-venv with only packaging/score-requirements.txt (ONNX
#    Runtime, numpy, Pillow, OpenCV headless...), Filterscope without its dependencies, PyInstaller,
#    and onnx (to make the self-test's model; left out of the bundle).
# 2. OpenCV with only what the scorer runs: opencv-python-headless's OpenCV of the same
#    version's source (from its sdist) built with CMake with the modules core, imgproc and
#    imgcodecs (PNG and JPEG built in) and no FFmpeg, AVIF, OpenBLAS, TIFF, WebP or IPP: 24 MB
#    against the wheel's 179 MB (kept in build/opencv-minimal/ and reused: the first build
#    compiles for 15-40 minutes on two cores). It replaces the wheel's cv2/ in the build venv. The scorer decodes only plain PNG
#    and JPEG with OpenCV (Pillow reads every other format), resizes, converts colours and masks.
#    Checked, not assumed: packaging/score_pixels.py prepares a corpus of images (odd sizes, gray,
#    alpha, 16-bit, JPEG; SCORE_PIXELS_FOLDER adds a folder of yours) under several input rules and
#    both mask distances with the official wheel, then with this build; one differing pixel
#    level fails the build.
# 3. The self-test's model and expected answers (packaging/score_selftest_model.py), shipped as
#    filterscope/score/selftest/.
# 4. PyInstaller -> dist/filterscope-score/, without what scoring never runs (numpy's f2py and
#    distutils, Pillow's fonts, colour management and GUI glue, SSL and OpenSSL's hashes: hashlib
#    falls back to Python's own SHA-256, readline); the Python library (pyenv's keeps its
#    debugging symbols) is stripped, nothing else is (see the test of this script); a bundle over
#    MAX_BYTES (150 MB) fails.
# 5. Its self-test (`--self-test`: scores generated images and a broken file, probabilities
#    within 1e-4, no TensorFlow, Keras, Qt or SciPy imported); JSON in dist/score-self-test.json,
#    with the wall time from launch to exit (which includes the first prediction) measured here.
# Exits non-zero when a step fails. Takes 3-6 minutes on two cores once OpenCV is built.
set -euo pipefail
cd "$(dirname "$0")/.."

MAX_BYTES=150000000  # 150 MB (decimal)
MAX_START_S=2.0
venv=build/score-venv
py="$venv/bin/python"
if [ ! -x "$py" ]; then
  echo "== Creating the build environment in $venv"
  "${PYTHON:-python3}" -m venv "$venv"
  "$py" -m pip install -q --upgrade pip
fi
echo "== Installing the scorer's dependencies, Filterscope (--no-deps) and PyInstaller into $venv"
"$py" -m pip install -q -r packaging/score-requirements.txt "pyinstaller>=6.10" onnx
"$py" -m pip install -q --no-deps --force-reinstall .
if "$py" -c 'import tensorflow' 2>/dev/null || "$py" -c 'import PySide6' 2>/dev/null; then
  echo "build-score-bundle.sh: $venv has TensorFlow or Qt; remove it and build again" >&2; exit 1
fi

echo "== OpenCV with core, imgproc and imgcodecs only"
cv_version="$("$py" -c 'import importlib.metadata as m; print(m.version("opencv-python-headless"))')"
cv_dir="$PWD/build/opencv-minimal/$cv_version"
cv_package="$cv_dir/install/python/cv2"
if [ ! -f "$cv_package/__init__.py" ]; then
  echo "Building OpenCV $cv_version from opencv-python-headless's source (once; reused from $cv_dir)"
  rm -rf "$cv_dir" && mkdir -p "$cv_dir"
  "$py" -m pip download -q --no-deps --no-binary opencv-python-headless "opencv-python-headless==$cv_version" -d "$cv_dir"
  tar -xzf "$cv_dir"/opencv_python_headless-*.tar.gz -C "$cv_dir"
  source_dir="$(ls -d "$cv_dir"/opencv_python_headless-*/opencv)"
  numpy_include="$("$py" -c 'import numpy; print(numpy.get_include())')"
  python_include="$("$py" -c 'import sysconfig; print(sysconfig.get_path("include"))')"
  cmake -S "$source_dir" -B "$cv_dir/build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_INSTALL_PREFIX="$cv_dir/install" -DBUILD_LIST=core,imgproc,imgcodecs,python3 \
    -DBUILD_SHARED_LIBS=OFF -DBUILD_TESTS=OFF -DBUILD_PERF_TESTS=OFF -DBUILD_DOCS=OFF -DBUILD_EXAMPLES=OFF \
    -DBUILD_opencv_apps=OFF -DBUILD_JAVA=OFF -DBUILD_opencv_python2=OFF -DBUILD_opencv_python3=ON \
    -DPYTHON3_EXECUTABLE="$py" -DPYTHON3_INCLUDE_DIR="$python_include" -DPYTHON3_NUMPY_INCLUDE_DIRS="$numpy_include" \
    -DPYTHON3_LIMITED_API=ON -DOPENCV_PYTHON3_INSTALL_PATH=python -DOPENCV_SKIP_PYTHON_LOADER=OFF \
    -DBUILD_JPEG=ON -DBUILD_PNG=ON -DBUILD_ZLIB=ON -DWITH_IPP=OFF -DWITH_FFMPEG=OFF -DWITH_V4L=OFF \
    -DWITH_GSTREAMER=OFF -DWITH_GTK=OFF -DWITH_QT=OFF -DWITH_TIFF=OFF -DWITH_WEBP=OFF -DWITH_OPENJPEG=OFF \
    -DWITH_JASPER=OFF -DWITH_OPENEXR=OFF -DWITH_AVIF=OFF -DWITH_JPEGXL=OFF -DWITH_LAPACK=OFF -DWITH_EIGEN=OFF \
    -DWITH_OPENCL=OFF -DWITH_ITT=OFF -DWITH_PROTOBUF=OFF -DWITH_KLEIDICV=OFF -DWITH_FASTCV=OFF -DWITH_GDAL=OFF \
    -DWITH_GDCM=OFF -DWITH_VA=OFF -DWITH_VA_INTEL=OFF -DWITH_1394=OFF -DWITH_OBSENSOR=OFF \
    -DWITH_IMGCODEC_HDR=OFF -DWITH_IMGCODEC_SUNRASTER=OFF -DWITH_IMGCODEC_PXM=OFF -DWITH_IMGCODEC_PFM=OFF \
    -DWITH_IMGCODEC_GIF=OFF > "$cv_dir/configure.log"
  cmake --build "$cv_dir/build" --parallel "$(nproc)"
  cmake --install "$cv_dir/build" > "$cv_dir/install.log"
  strip --strip-unneeded "$cv_package"/python-3*/cv2*.so  # built here, not grafted: safe to strip
fi
echo "== The same pixels as the official OpenCV $cv_version"
site_packages="$("$py" -c 'import sysconfig; print(sysconfig.get_path("purelib"))')"
rm -rf "$site_packages/cv2"  # a previous build's minimal cv2/ (its loader files are not the wheel's)
"$py" -m pip install -q --no-deps --force-reinstall --only-binary :all: "opencv-python-headless==$cv_version"
"$py" packaging/score_pixels.py dump build/score-pixels-official.npz ${SCORE_PIXELS_FOLDER:+"$SCORE_PIXELS_FOLDER"}
"$py" -m pip uninstall -q -y opencv-python-headless  # its cv2/ goes; the minimal build's takes its place
cp -r "$cv_package" "$site_packages/cv2"
"$py" packaging/score_pixels.py dump build/score-pixels-bundle.npz ${SCORE_PIXELS_FOLDER:+"$SCORE_PIXELS_FOLDER"}
"$py" packaging/score_pixels.py compare build/score-pixels-official.npz build/score-pixels-bundle.npz

echo "== The self-test's model"
rm -rf build/score-selftest
"$py" packaging/score_selftest_model.py build/score-selftest

echo "== PyInstaller"
rm -rf dist/filterscope-score build/score-pyinstaller
"$py" -m PyInstaller --noconfirm --clean --log-level WARN --onedir --name filterscope-score \
  --distpath dist --workpath build/score-pyinstaller --specpath build/score-pyinstaller \
  --add-data "$PWD/build/score-selftest:filterscope/score/selftest" \
  --collect-submodules filterscope.score \
  --exclude-module onnx --exclude-module tkinter --exclude-module PyInstaller \
  --exclude-module numpy.f2py --exclude-module numpy.distutils --exclude-module PIL.ImageFont \
  --exclude-module PIL.ImageCms --exclude-module PIL.ImageTk --exclude-module PIL.ImageQt \
  --exclude-module ssl --exclude-module _ssl --exclude-module _hashlib --exclude-module readline \
  packaging/filterscope_score_main.py
libpython="$(ls dist/filterscope-score/_internal/libpython3*.so* 2>/dev/null | head -1 || true)"
if [ -n "$libpython" ]; then strip --strip-debug "$libpython"; fi
bytes="$(du -sb dist/filterscope-score | cut -f1)"
echo "dist/filterscope-score: $((bytes / 1000000)) MB ($bytes bytes; at most $((MAX_BYTES / 1000000)) MB)"
echo "The largest parts (bytes):"
du -sb dist/filterscope-score/_internal/* | sort -rn | head -8
if [ "$bytes" -gt "$MAX_BYTES" ]; then
  echo "build-score-bundle.sh: the bundle is over $((MAX_BYTES / 1000000)) MB" >&2; exit 1
fi

echo "== Self-test"
exe=dist/filterscope-score/filterscope-score
"$exe" --self-test > /dev/null  # the first run after a build reads the files from disk: not timed
start=$(date +%s.%N)
"$exe" --self-test > dist/score-self-test.json
end=$(date +%s.%N)
"$py" - "$bytes" "$start" "$end" "$MAX_START_S" <<'PY'
import json, sys
path = "dist/score-self-test.json"
report = json.load(open(path))
report["bundle_bytes"] = int(sys.argv[1])
report["launch_to_exit_s"] = round(float(sys.argv[3]) - float(sys.argv[2]), 3)
json.dump(report, open(path, "w"), indent=2)
print(json.dumps(report, indent=2))
if not report["passed"] or report["launch_to_exit_s"] > float(sys.argv[4]):
    sys.exit("build-score-bundle.sh: the self-test failed or took longer than the target")
PY
