#!/usr/bin/env bash
# Build the one-folder app for this platform and smoke-test it: dist/filterscope/filterscope.
#
#   packaging/build-bundle.sh [--vgg16-weights FILE]
#
# 1. A build environment in build/venv with Filterscope installed (not editable) and PyInstaller
#    (the `bundle` extra); made the first time, the project reinstalled on later runs.
# 2. PyInstaller with packaging/filterscope.spec -> dist/filterscope/; its size is printed, and
#    a bundle over MAX_BYTES (1.5 GB) fails. It ships EfficientNet-Lite0's ImageNet weights (its
#    package's .pth): the bundle must report them from source `package`, converted into a data
#    folder outside the bundle.
# 3. The bundle's self-test (main window, built-in digits, one epoch of training, gradient
#    ascent on a filter, then EfficientNet-Lite0 painting ImageNet's goldfish), offscreen when
#    there is no display; its JSON result in dist/self-test.json.
# 4. Start-up to the main window, bundle against the same app run from build/venv (medians).
# 5. dist/filterscope-VERSION-OS-ARCH.tar.xz (tar keeps the bundle's symlinks); its size.
# --vgg16-weights FILE ships VGG16's ImageNet weights without the classifier (Keras's
# vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5), checked by the app first.
# Exits non-zero when a step fails. Takes 10-20 minutes on two cores.
set -euo pipefail
cd "$(dirname "$0")/.."

MAX_BYTES=1500000000  # 1.5 GB (decimal, as the README's sizes): the bundle's limit
weights=""
while [ $# -gt 0 ]; do
  case "$1" in
    --vgg16-weights) weights="$(realpath "$2")"; shift 2 ;;
    -h|--help) sed -n '2,19p' "$0"; exit 0 ;;
    *) echo "build-bundle.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done

venv=build/venv
py="$venv/bin/python"
if [ ! -x "$py" ]; then
  echo "== Creating the build environment in $venv"
  "${PYTHON:-python3}" -m venv "$venv"
  "$py" -m pip install -q --upgrade pip
fi
echo "== Installing Filterscope and PyInstaller into $venv"
"$py" packaging/bundle_rules.py pyproject.toml "$(uname -s)" "$(uname -m)" > build/requirements.txt
if grep -q '^tensorflow-cpu' build/requirements.txt && "$py" -m pip show -q tensorflow 2>/dev/null; then
  "$py" -m pip uninstall -q -y tensorflow  # both own tensorflow/: the CPU wheel replaces it
fi
"$py" -m pip install -q -r build/requirements.txt
"$py" -m pip install -q --no-deps --force-reinstall .
version="$("$py" -c 'import filterscope; print(filterscope.__version__)')"

export FILTERSCOPE_BUNDLE_WEIGHTS=""
if [ -n "$weights" ]; then
  echo "== Checking $weights (the app's own check, as when a user picks the file)"
  checked="$(mktemp -d)"
  trap 'rm -rf "$checked"' EXIT
  KERAS_HOME="$checked" FILTERSCOPE_DATA_DIR="$checked/data" \
    "$venv/bin/filterscope" weights vgg16 --download --from "$weights" --json >/dev/null
  export FILTERSCOPE_BUNDLE_WEIGHTS="$checked/models"
fi

echo "== PyInstaller"
rm -rf dist/filterscope build/pyinstaller
"$py" -m PyInstaller --noconfirm --clean --log-level WARN --distpath dist \
  --workpath build/pyinstaller packaging/filterscope.spec
exe=dist/filterscope/filterscope
[ -x "$exe" ] || { echo "build-bundle.sh: $exe was not built" >&2; exit 1; }
bytes="$(du -sb dist/filterscope | cut -f1)"
echo "== Bundle: $("$py" -c "print(f'{$bytes / 1e9:.2f} GB ({$bytes / 2**30:.2f} GiB)')") in dist/filterscope ($bytes bytes)"
if [ "$bytes" -gt "$MAX_BYTES" ]; then
  echo "build-bundle.sh: the bundle is $bytes bytes, over the limit of $MAX_BYTES (1.5 GB)" >&2
  exit 1
fi

echo "== The bundle finds EfficientNet-Lite0's ImageNet weights in the package it ships"
lite_data="$(mktemp -d)"
KERAS_HOME="$lite_data/keras" FILTERSCOPE_DATA_DIR="$lite_data/data" "$exe" weights efficientnet-lite0 --json | \
  "$py" -c 'import json, sys; row = json.load(sys.stdin)["bases"][0]; print("  ", {k: row.get(k) for k in ("origin", "file", "package")})
sys.exit(row.get("origin") != "package" or not row.get("file", "").startswith(sys.argv[1] + "/"))' "$lite_data/data" || {
  echo "build-bundle.sh: the bundle's EfficientNet-Lite0 weights are not its package's, converted into" \
    "the data folder $lite_data/data (kept)" >&2
  exit 1
}
rm -rf "$lite_data"

if [ -n "$weights" ]; then
  echo "== The bundle finds the weights it ships"
  KERAS_HOME="$(mktemp -d)" "$exe" weights vgg16 --json | "$py" -c \
    'import json, sys; row = json.load(sys.stdin)["bases"][0]; print(row); sys.exit(row.get("origin") != "bundled")'
fi

# Runs a self-test (extra arguments after --); prints the seconds from launch to the main window.
self_test() {
  local out="$1"; shift
  local start
  rm -f "$out"  # a result left from an earlier build must not pass for this one
  start="$(date +%s.%N)"
  "$@" --self-test --self-test-out "$out" >/dev/null 2>"$out.log" || [ -n "${WINDOW_ONLY:-}" ] || {
    echo "build-bundle.sh: the self-test of $* failed:" >&2
    tail -n 20 "$out.log" >&2
    [ -f "$out" ] && cat "$out" >&2
    exit 1
  }
  "$py" -c 'import json, sys; print(round(json.load(open(sys.argv[1]))["window_shown_unix"] - float(sys.argv[2]), 2))' \
    "$out" "$start"
}

echo "== Self-test of the bundle"
self_test dist/self-test.json "$exe" >/dev/null
"$py" packaging/check_selftest.py dist/self-test.json
echo "== Start-up to the main window: bundle and the same app from $venv, 5 rounds, medians"
# Each round stops on purpose 5 s in (--self-test-timeout): only the window's time is read.
bundle_runs="" venv_runs=""
for _ in 1 2 3 4 5; do
  bundle_runs+=" $(WINDOW_ONLY=1 self_test build/start-up.json "$exe" --self-test-timeout 5)"
  venv_runs+=" $(WINDOW_ONLY=1 self_test build/start-up.json "$py" -m filterscope --self-test-timeout 5)"
done
"$py" -c 'import statistics as s, sys; b, v = (list(map(float, a.split())) for a in sys.argv[1:])
print(f"   bundle {s.median(b):.2f} s {b}, venv {s.median(v):.2f} s {v}, ratio {s.median(b) / s.median(v):.2f}")' \
  "$bundle_runs" "$venv_runs"

os="$(uname -s | tr '[:upper:]' '[:lower:]')"
archive="dist/filterscope-${version}-${os}-$(uname -m).tar.xz"
echo "== Archive"
# xz: a third smaller than gzip -9 on this bundle (TensorFlow's libraries), 7 minutes on two cores.
tar -C dist -cf - filterscope | xz -T0 -6 > "$archive"
echo "== $archive: $(du -h "$archive" | cut -f1) ($(stat -c %s "$archive") bytes)"
echo "== Done: $exe passed its self-test"
