#!/usr/bin/env bash
# Install the project with its test dependencies (CPU build of torch first) and run lint and the default tests.
set -euo pipefail
cd "$(dirname "$0")/.."
python -m pip install --quiet torch==2.13.0
python -m pip install --quiet -e ".[test]"
ruff check .
# The environment tests alone, with the agents' dependencies blocked (tests/env/conftest.py), then everything.
MEMTAPE_ENV_ONLY=1 python -m pytest -q tests/env
python -m pytest -q
