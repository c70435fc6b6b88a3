#!/usr/bin/env bash
# Build the wheel, install it with its agents extra into a fresh virtual environment, and run quick checks from
# an empty directory outside the source tree: what a user of the installed package runs. Prints its wall time.
set -euo pipefail
cd "$(dirname "$0")/.."
start=$SECONDS
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

python -m pip wheel --quiet --no-deps --wheel-dir "$work/dist" .
wheels=("$work"/dist/memtape-*.whl)
python -m venv "$work/venv"
bin="$work/venv/bin"
# As the README: the CPU build of torch first, then the package with its agents extra.
"$bin/python" -m pip install --quiet torch==2.13.0
"$bin/python" -m pip install --quiet "${wheels[0]}[agents]"

mkdir "$work/empty"
cd "$work/empty"
export MPLBACKEND=Agg
"$bin/memtape" --version
"$bin/memtape" list
"$bin/memtape" bench quick --check
"$bin/memtape" train --algo ppo --env memtape/ClassicCopy-v0 --timesteps 2000 --no-progress --out runs/ppo
"$bin/memtape" train --algo ppo_lstm --env memtape/ClassicCopy-v0 --timesteps 2000 --no-progress --out runs/ppo_lstm
for run in runs/ppo runs/ppo_lstm; do
    test -f "$run/model.zip" && test -f "$run/monitor.csv" && test -f "$run/episodes.csv"
done
if [ -n "$(ls -A "$work/empty/configs" 2>/dev/null)" ]; then
    echo "check_wheel: configs/ appeared in the working directory" >&2
    exit 1
fi
echo "wheel checks passed in $((SECONDS - start)) s"
