"""Training curves kept in result.json: the plots of a committed leaderboard rebuild from its result files alone."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from agents.harness.bench.curves import CURVE_POINTS, read_curve, read_episodes, rolling_mean, summarise


def _episodes_csv(run_dir: Path, n: int, curriculum: bool = True) -> None:
    run_dir.mkdir(parents=True, exist_ok=True)
    lines = ["step,time_s,return,length,curriculum"]
    for i in range(n):
        level = str(2 + i // 100) if curriculum else ""
        lines.append(f"{8 * (i + 1)},{0.01 * i:.3f},{(-1) ** i * 0.5 + i / n},{1},{level}")
    (run_dir / "episodes.csv").write_text("\n".join(lines) + "\n")


def test_rolling_mean_averages_the_last_window() -> None:
    np.testing.assert_allclose(rolling_mean(np.array([1.0, 3.0, 5.0, 7.0]), 2), [1.0, 2.0, 4.0, 6.0])
    np.testing.assert_allclose(rolling_mean(np.array([2.0, 4.0]), 100), [2.0, 3.0])


def test_summary_keeps_evenly_spaced_points_and_the_last_episode(tmp_path: Path) -> None:
    _episodes_csv(tmp_path, 1234)
    full = read_episodes(tmp_path, 100)
    kept = summarise(tmp_path)
    assert kept is not None and full is not None
    assert kept["episodes"] == 1234 and kept["window"] == 100
    assert len(kept["step"]) == CURVE_POINTS and kept["step"][0] == 8 and kept["step"][-1] == 8 * 1234
    idx = np.round(np.linspace(0, 1233, CURVE_POINTS)).astype(int)
    for key in ("step", "time_s", "return", "curriculum"):
        np.testing.assert_allclose(kept[key], full[key][idx], rtol=1e-5)


def test_short_runs_keep_every_episode_and_no_curriculum_is_null(tmp_path: Path) -> None:
    _episodes_csv(tmp_path, 7, curriculum=False)
    kept = summarise(tmp_path)
    assert kept is not None and len(kept["step"]) == 7 and kept["curriculum"] == [None] * 7
    json.dumps(kept, allow_nan=False)  # valid JSON: no NaN
    assert summarise(tmp_path / "missing") is None


def test_result_json_stands_in_for_episodes_csv(tmp_path: Path) -> None:
    full_dir, kept_dir = tmp_path / "full", tmp_path / "kept"
    _episodes_csv(full_dir, 500)
    kept_dir.mkdir()
    (kept_dir / "result.json").write_text(json.dumps({"status": "ok", "curves": summarise(full_dir)}))
    for x in ("step", "time_s"):
        for y in ("return", "curriculum"):
            fx, fy = read_curve(full_dir, 100, x, y)
            kx, ky = read_curve(kept_dir, 100, x, y)
            assert len(kx) == CURVE_POINTS and kx[-1] == fx[-1]
            np.testing.assert_allclose(np.interp(fx, kx, ky)[-1], fy[-1], rtol=1e-5)
    assert read_curve(kept_dir, 50, "step", "return") is None  # kept with another rolling window
    assert read_curve(kept_dir, 50, "step", "curriculum") is not None
    with pytest.raises(ValueError, match="curve axes"):
        read_curve(kept_dir, 100, "episode", "return")


def test_a_report_from_result_files_with_curves_redraws_the_training_plots(tmp_path: Path) -> None:
    from agents.harness.bench.runs import expand, write_result
    from agents.harness.bench.suite import report_suite
    from agents.harness.configs import parse_suite

    suite = parse_suite(
        {
            "name": "known",
            "tasks": [{"id": "memtape/Copy-v0", "eval_lengths": [30]}],
            "algorithms": [{"name": "a", "algo": "ppo"}],
            "seeds": [0, 1],
            "budget": {"timesteps": 1000},
        },
        "test",
        check=False,
    )
    out = tmp_path / "runs"
    for run in expand(suite):
        _episodes_csv(tmp_path / "full" / run.dirname, 300)
        train = {"top_step": None, "threshold_step": None, "threshold": None, "final_return": 0.0,
                 "max_curriculum": 4.0, "us_per_step": 100.0, "timesteps": 1000, "stopped_by": "budget"}  # fmt: skip
        result = {"task_id": run.task_id, "algo_name": run.algo_name, "seed": run.seed, "status": "ok",
                  "solved": False, "train": train, "top_eval": None, "eval": [], "spec_hash": run.spec_hash(),
                  "curves": summarise(tmp_path / "full" / run.dirname)}  # fmt: skip
        write_result(out, run, result)
    (out / "curriculum.png").write_bytes(b"stale")
    outcome = report_suite(suite, out)
    assert {"curriculum", "learning_curves", "learning_curves_time"} <= set(outcome.files)
    assert (out / "curriculum.png").read_bytes()[:4] == b"\x89PNG"
