"""The Ray Tune backend runs the same suite file on a local Ray instance, writes the same results, and resumes."""

from __future__ import annotations

from pathlib import Path

import pytest

from agents.harness.bench.runs import RESULT_FILE
from agents.harness.bench.suite import run_suite
from agents.harness.configs import parse_suite

ray = pytest.importorskip("ray")


def test_tiny_suite_on_local_ray(tmp_path: Path) -> None:
    """The 2-task, 2-seed mini suite on a local Ray instance."""
    data = {
        "name": "tiny",
        "tasks": [{"id": "memtape/ClassicCopy-v0", "eval_lengths": [2]}, {"id": "memtape/ClassicReverse-v0"}],
        "algorithms": [{"name": "ppo", "algo": "ppo", "hyperparams": {"n_envs": 2, "n_steps": 32, "batch_size": 32}}],
        "seeds": [0, 1],
        "budget": {"timesteps": 64},
        "eval": {"episodes": 2, "window": 5},
    }
    suite = parse_suite(data, "tiny")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        outcome = run_suite(suite, tmp_path / "out", backend="ray", progress=False)
        assert [r["status"] for r in outcome.results] == ["ok"] * 4, outcome.results
        assert [(r["task_id"], r["seed"]) for r in outcome.results] == [
            ("memtape/ClassicCopy-v0", 0),
            ("memtape/ClassicCopy-v0", 1),
            ("memtape/ClassicReverse-v0", 0),
            ("memtape/ClassicReverse-v0", 1),
        ]
        assert len(list((tmp_path / "out").glob(f"*/{RESULT_FILE}"))) == 4
        assert "| memtape/ClassicCopy-v0 | ppo | 0/2 |" in outcome.report
        assert "| memtape/ClassicReverse-v0 | ppo | 0/2 |" in outcome.report

        # The same directory resumes on either backend without running anything again.
        before = {p: p.stat().st_mtime_ns for p in (tmp_path / "out").glob(f"*/{RESULT_FILE}")}
        again = run_suite(suite, tmp_path / "out", backend="ray", progress=False)
        assert again.resumed == 4
        local = run_suite(suite, tmp_path / "out", backend="local", progress=False)
        assert local.resumed == 4
        assert before == {p: p.stat().st_mtime_ns for p in (tmp_path / "out").glob(f"*/{RESULT_FILE}")}
    finally:
        ray.shutdown()
