#!/usr/bin/env bash
# Set up Filterscope on a fresh Debian/Ubuntu machine: the system libraries Qt needs, a virtual
# environment in .venv, and the package with its dependencies. Safe to run again (it only adds
# what is missing). Usage: packaging/bootstrap.sh [app|test]
set -euo pipefail
cd "$(dirname "$0")/.."
mode="${1:-app}"

# Qt (PySide6) and OpenCV load these at run time; without fonts every label renders as boxes.
apt_packages=(libxcb1 libgl1 libegl1 libxkbcommon0 libfontconfig1 libglib2.0-0 libdbus-1-3
              fontconfig-config fonts-dejavu-core python3-venv python3-pip util-linux)
# A real window on X11 (and a virtual screen when there is no display).
apt_packages+=(libxkbcommon-x11-0 libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxcb-shape0
               libxcb-render-util0 libxcb-image0 libxcb-randr0 libxcb-xinerama0 xvfb xauth)
# Tests only: a real browser renders the run report, poppler reads the PDF back.
if [ "$mode" = "test" ]; then apt_packages+=(chromium poppler-utils); fi

if command -v dpkg >/dev/null 2>&1; then
  missing=()
  for pkg in "${apt_packages[@]}"; do
    dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    sudo=""
    [ "$(id -u)" -ne 0 ] && sudo="sudo"
    echo "Installing system packages: ${missing[*]}"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
  fi
fi

python="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  echo "Creating a virtual environment in .venv"
  "$python" -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip
target="."
if [ "$mode" = "test" ]; then target=".[test]"; fi
if .venv/bin/python -m pip show -q filterscope >/dev/null 2>&1; then
  # Installed before: only what a changed pyproject.toml adds, quietly.
  .venv/bin/python -m pip install -q -e "$target"
else
  echo "Installing Filterscope and its dependencies (TensorFlow, Qt, OpenCV, ...): about 3 GB"
  echo "in .venv, a few minutes on a fast connection. pip shows each download below. After its"
  echo "last line, \"Installing collected packages: ...\", it unpacks them for about a minute"
  echo "without printing anything: it is still working, let it finish."
  .venv/bin/python -m pip install --progress-bar on -e "$target"
  echo "Filterscope is installed in .venv. To use the filterscope command in a shell, first run:"
  printf '  source %q\n' "$PWD/.venv/bin/activate"
  echo "(or run $PWD/.venv/bin/filterscope directly)."
fi
