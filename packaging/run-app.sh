#!/usr/bin/env bash
# One command: set up (first time) and start Filterscope on its built-in data.
set -euo pipefail
cd "$(dirname "$0")/.."
packaging/bootstrap.sh app
if [ -z "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ] && command -v xvfb-run >/dev/null 2>&1; then
  echo "No display found: starting Filterscope on a virtual screen (xvfb-run)."
  exec xvfb-run -a -s "-screen 0 1400x900x24" .venv/bin/filterscope "$@"
fi
exec .venv/bin/filterscope "$@"
