"""The experiments in benchmarks/experiments run end to end on a tiny budget and write their documented fields."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

EXPERIMENTS = Path(__file__).resolve().parents[2] / "benchmarks" / "experiments"
LENGTH_FIELDS = {"length", "episodes", "success_rate", "mean_return", "mean_correct", "truncated", "us_per_step"}


def run(script: str, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, str(EXPERIMENTS / script), *args]
    return subprocess.run(cmd, check=check, capture_output=True, text=True, timeout=300)


def read(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text())


def test_forward_reverse_scripted_memory(tmp_path: Path) -> None:
    out = tmp_path / "result.json"
    run("forward_reverse_memory.py", "scripted-memory", "--timesteps", "300", "--length", "3", "--episodes", "8",
        "--json", str(out))  # fmt: skip
    result = read(out)
    assert {"experiment", "check", "env_id", "core", "seed", "controller_kwargs", "timesteps", "curriculum",
            "top_length", "top_step", "at_top", "solved", "at_length", "episode"} <= set(result)  # fmt: skip
    assert result["check"] == "scripted-memory" and result["controller_kwargs"]["core"] == "lstm"
    assert result["timesteps"] >= 300 and result["top_length"] == 30
    assert set(result["at_length"]) == LENGTH_FIELDS and result["at_length"]["episodes"] == 8
    assert result["solved"] is (result["at_top"] is not None and result["at_top"]["success_rate"] >= 0.9)
    # the memory move in the trace is the scripted one: right with the input head, stay, left from the first blank
    blank, right, (left, stay, forward) = 30, 1, (0, 1, 2)
    past_input = False
    for symbol, sent, reward in result["episode"]:
        past_input |= symbol == blank
        expected = left if past_input else (forward if sent[0] == right else stay)
        assert sent[1] == expected and reward in (-1.0, -0.5, 0.0, 1.0), result["episode"]


def test_forward_reverse_supervised_prints_json(tmp_path: Path) -> None:
    proc = run("forward_reverse_memory.py", "supervised", "--updates", "2", "--core", "feedforward")
    result = json.loads(proc.stdout.splitlines()[-1])
    assert result["check"] == "supervised" and result["controller_kwargs"]["core"] == "feedforward"
    assert result["updates"] == 2 and result["test_length"] == 20
    assert [row["update"] for row in result["curve"]] == [2]
    assert 0.0 <= result["accuracy"] <= 1.0 and result["accuracy"] == result["curve"][-1]["accuracy"]


def test_repeat_copy_trains_then_loads(tmp_path: Path) -> None:
    out, run_dir = tmp_path / "result.json", tmp_path / "run"
    run("repeat_copy_heads.py", "--timesteps", "300", "--length", "4", "--episodes", "32", "--out", str(run_dir),
        "--json", str(out))  # fmt: skip
    result = read(out)
    assert {"experiment", "env_id", "variant", "seed", "run_dir", "train", "at_top", "solved", "length",
            "at_length", "by_kind", "turns"} <= set(result)  # fmt: skip
    assert result["variant"] == "preset" and result["train"]["timesteps"] >= 300
    assert (run_dir / "run.json").is_file()
    assert sum(row["episodes"] for row in result["by_kind"]) == 32
    assert {row["m"] for row in result["by_kind"]} <= {2, 3}
    assert set(result["turns"]) == {"at_start", "at_x1", "further_in", "false_turn_symbols"}
    assert result["turns"]["further_in"] == sum(result["turns"]["false_turn_symbols"].values())

    loaded = tmp_path / "loaded.json"
    run("repeat_copy_heads.py", "--load", str(run_dir), "--length", "4", "--episodes", "32", "--json", str(loaded))
    again = read(loaded)
    assert again["train"] is None and again["solved"] is None and again["variant"] is None
    assert again["by_kind"] == result["by_kind"] and again["turns"] == result["turns"]  # same model, same inputs


@pytest.mark.parametrize(
    ("script", "args", "named"),
    [
        ("forward_reverse_memory.py", ["scripted-memory", "--timesteps", "0"], "--timesteps"),
        ("forward_reverse_memory.py", ["supervised", "--hyperparams", "policy_kwargs.controller_kwargs.size=3"],
         "size"),
        ("repeat_copy_heads.py", ["--load", "no_such_run"], "--load"),
    ],
)  # fmt: skip
def test_bad_input_is_named(script: str, args: list[str], named: str) -> None:
    proc = run(script, *args, check=False)
    assert proc.returncode == 2 and named in proc.stderr, proc.stderr
