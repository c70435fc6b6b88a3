#!/usr/bin/env bash
# Install the project with its test dependencies (CPU build of torch first) and run lint and the default tests.
set -euo pipefail
cd "$(dirname "$0")/.."
python -m pip install --quiet torch==2.13.0
python -m pip install --quiet -e ".[test]"
ruff check .
python -m pytest -q
