#!/usr/bin/env bash
# One command: set up (first time) and run the checks and the test suite (benchmarks excluded).
set -euo pipefail
cd "$(dirname "$0")/.."
packaging/bootstrap.sh test
.venv/bin/ruff check desktop tests
.venv/bin/lint-imports
exec .venv/bin/python -m pytest "$@"
