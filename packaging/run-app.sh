#!/usr/bin/env bash
# One command: set up (first time) and start Filterscope on its built-in data.
set -euo pipefail
cd "$(dirname "$0")/.."
packaging/bootstrap.sh app
# With arguments (a command, --self-test) no screen is needed: commands are headless and the
# self-test draws offscreen by itself. The window alone needs one; on a virtual screen it would
# run unseen until killed, so say why not and what works instead.
if [ $# -eq 0 ] && [ -z "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ]; then
  cat >&2 <<EOF
Not starting the window: there is no display (DISPLAY and WAYLAND_DISPLAY are not set, as in an
SSH session without X forwarding), so it would open on no screen. Filterscope is installed in
.venv; from here you can:
  - use the command line:   source $(printf %q "$PWD/.venv/bin/activate") && filterscope --help
  - check the app works:    packaging/run-app.sh --self-test   (draws offscreen, about a minute)
  - see the window: run this on the machine's own desktop, or log in with ssh -X.
EOF
  exit 1
fi
exec .venv/bin/filterscope "$@"
