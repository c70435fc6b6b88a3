"""Supervised rows of a suite: the trainer as a bench algorithm, scored by the bench's success test."""

from __future__ import annotations

from pathlib import Path

import pytest

from agents.harness.bench.runs import RESULT_FILE, expand
from agents.harness.bench.suite import run_suite
from agents.harness.bench.supervised import execute_supervised, top_length
from agents.harness.configs import ConfigError, parse_suite


def suite_data(algorithms: list[dict]) -> dict:
    return {
        "name": "sup",
        "tasks": [{"id": "memtape/ClassicCopy-v0", "eval_lengths": [3, 40]}],
        "algorithms": algorithms,
        "seeds": [0],
        "budget": {"timesteps": 100},
        "eval": {"episodes": 8},
    }


LSTM_ROW = {
    "name": "supervised_lstm",
    "algo": "supervised",
    "controller": "lstm",
    "hyperparams": {"steps": 6, "batch_size": 4, "eval_every": 3, "eval_samples": 4},
}


def test_supervised_row_runs_and_reports(tmp_path: Path) -> None:
    suite = parse_suite(suite_data([LSTM_ROW]), "sup")
    outcome = run_suite(suite, tmp_path / "out", progress=False)
    (result,) = outcome.results
    assert result["status"] == "ok", result.get("error")
    assert result["train"]["unit"] == "updates" and result["train"]["timesteps"] == 6
    assert result["train"]["top_length"] == top_length("memtape/ClassicCopy-v0") == 30
    assert [e["length"] for e in result["eval"]] == [3, 40]
    assert all(0.0 <= e["success_rate"] <= 1.0 and e["episodes"] == 8 for e in result["eval"])
    assert result["solved"] is False  # 6 updates do not reach length 30
    assert "| memtape/ClassicCopy-v0 | supervised_lstm | 0/1 |" in outcome.report
    assert (tmp_path / "out" / expand(suite)[0].dirname / RESULT_FILE).is_file()


def test_supervised_cell_is_deterministic(tmp_path: Path) -> None:
    (run,) = expand(parse_suite(suite_data([LSTM_ROW]), "sup"))
    one = execute_supervised(run.train, run.eval_lengths, run.eval_episodes, tmp_path / "a")
    two = execute_supervised(run.train, run.eval_lengths, run.eval_episodes, tmp_path / "b")
    assert one["eval"] == two["eval"] and one["train"]["max_curriculum"] == two["train"]["max_curriculum"]


def test_neural_gpu_answers_longer_than_its_input(tmp_path: Path) -> None:
    """RepeatCopy's answer is longer than its input: the Neural GPU's tape is padded with blanks, as in the paper."""
    row = {**LSTM_ROW, "name": "supervised_ngpu", "controller": "neural_gpu", "hyperparams": {"steps": 2}}
    data = suite_data([row])
    data["tasks"] = [{"id": "memtape/RepeatCopy-v0", "eval_lengths": [4]}]
    outcome = run_suite(parse_suite(data, "sup"), tmp_path / "out", progress=False)
    assert outcome.results[0]["status"] == "ok", outcome.results[0].get("error")


@pytest.mark.parametrize(
    ("row", "named"),
    [
        ({**LSTM_ROW, "hyperparams": {"stepz": 3}}, "stepz"),
        ({**LSTM_ROW, "hyperparams": {"max_length": 3}}, "max_length"),
        ({**LSTM_ROW, "hyperparams": {"steps": 0}}, "steps"),
        ({**LSTM_ROW, "controller": "transformer"}, "transformer"),
        ({k: v for k, v in LSTM_ROW.items() if k != "controller"}, "controller"),
    ],
)
def test_bad_supervised_rows_are_named(row: dict, named: str) -> None:
    with pytest.raises(ConfigError, match=named):
        parse_suite(suite_data([row]), "sup")
