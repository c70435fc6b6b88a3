"""The training throughput benchmark (benchmarks/bench_training_speed.py) runs its controller table, checks flags."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_training_speed.py"


@pytest.mark.filterwarnings("ignore")
def test_controller_table_has_a_row_per_controller_and_ratios() -> None:
    cmd = [sys.executable, str(SCRIPT), "--controllers", "lstm,mlp", "--task", "memtape/ClassicCopy-v0",
           "--n-envs", "4", "--steps", "200", "--warmup", "50", "--rounds", "2"]  # fmt: skip
    out = subprocess.run(cmd, check=True, capture_output=True, text=True, timeout=300).stdout
    rows = [line for line in out.splitlines() if line.startswith("| ")]
    assert rows[0] == "| controller | us per env step | x lstm |"
    assert [row.split(" | ")[0] for row in rows[1:]] == ["| lstm", "| mlp"]
    assert rows[1].endswith("| 1.0x |")
    assert out.count("round 2:") == 2


@pytest.mark.parametrize("flags", [["--scaling", "16,0"], ["--scaling", "a"], ["--rounds", "0"]])
def test_bad_flags_are_named(flags: list[str]) -> None:
    proc = subprocess.run([sys.executable, str(SCRIPT), *flags], capture_output=True, text=True, timeout=300)
    assert proc.returncode != 0 and flags[0] in proc.stderr
