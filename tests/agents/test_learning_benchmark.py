"""The learning benchmark script (benchmarks/bench_learning.py) runs end to end on a tiny budget."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_learning.py"


@pytest.mark.filterwarnings("ignore")
def test_tiny_run_writes_a_row_per_agent(tmp_path: Path) -> None:
    out = tmp_path / "results.md"
    cmd = [sys.executable, str(SCRIPT), "--tasks", "ForwardReverse", "--agents", "reinforce-rlntm-ff",
           "reinforce-mlp", "--seeds", "0", "--timesteps", "1000", "--chunk", "500", "--eval-episodes", "4",
           "--hyperparams", "ent_coef=0.1", "--out", str(out)]  # fmt: skip
    subprocess.run(cmd, check=True, capture_output=True, text=True, timeout=300)
    rows = out.read_text().splitlines()
    assert "success at it, greedy / sampled" in rows[0]
    agents = [row.split(" | ")[1] for row in rows[2:]]
    assert agents == ["reinforce-rlntm-ff", "reinforce-mlp"]
    for row in rows[2:]:
        greedy, sampled = row.split(" | ")[4].split(" / ")
        assert 0.0 <= float(greedy) <= 1.0 and 0.0 <= float(sampled) <= 1.0


def test_bad_override_is_named() -> None:
    cmd = [sys.executable, str(SCRIPT), "--tasks", "Copy", "--agents", "reinforce-mlp", "--hyperparams", "ent_coef"]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert proc.returncode != 0 and "--hyperparams" in proc.stderr


def test_repeat_copy_diagnosis_runs(tmp_path: Path) -> None:
    script = SCRIPT.parent / "diagnose_repeat_copy.py"
    cmd = [sys.executable, str(script), "--agent", "reinforce-mlp-heads", "--timesteps", "1000", "--length", "4",
           "--episodes", "16"]  # fmt: skip
    out = subprocess.run(cmd, check=True, capture_output=True, text=True, timeout=300).stdout
    assert "curriculum length" in out and "left-to-right turns:" in out
    runs = [line for line in out.splitlines() if "greedy success" in line]
    assert sum(int(line.split(": ")[1].split()[0]) for line in runs) >= 16


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore")
def test_mlp_with_head_features_solves_repeat_copy(tmp_path: Path) -> None:
    """The memoryless MLP that sees its input head position reaches RepeatCopy's top length (seed 1: 0.65M steps)."""
    out = tmp_path / "results.md"
    cmd = [sys.executable, str(SCRIPT), "--tasks", "RepeatCopy", "--agents", "reinforce-mlp-heads", "--seeds", "1",
           "--timesteps", "2000000", "--time-limit", "3600", "--chunk", "50000", "--eval-episodes", "64",
           "--out", str(out)]  # fmt: skip
    subprocess.run(cmd, check=True, capture_output=True, text=True, timeout=3600)
    row = out.read_text().splitlines()[2].split(" | ")
    assert row[3] == "30 (30)", row
    assert float(row[4].split(" / ")[0]) >= 0.9, row
