#!/usr/bin/env bash
# Build the one-folder light scorer and test it: dist/filterscope-score/filterscope-score.
#
#   packaging/build-score-bundle.sh
#
# 1. A build environment in build/score-venv with only packaging/score-requirements.txt (ONNX
#    Runtime, numpy, Pillow, OpenCV headless...), Filterscope without its dependencies, PyInstaller,
#    and onnx (to make the self-test's model; left out of the bundle).
# 2. The self-test's model and expected answers (packaging/score_selftest_model.py), shipped as
#    filterscope/score/selftest/.
# 3. PyInstaller -> dist/filterscope-score/; a bundle over MAX_BYTES (150 MB) fails.
# 4. Its self-test (`--self-test`: scores generated images and a broken file, probabilities
#    within 1e-4, no TensorFlow, Keras, Qt or SciPy imported); JSON in dist/score-self-test.json,
#    with the wall time from launch to exit (which includes the first prediction) measured here.
# Exits non-zero when a step fails. Takes 2-5 minutes on two cores.
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
  packaging/filterscope_score_main.py
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
