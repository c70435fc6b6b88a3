"""The suite report's aggregates and intervals on results whose answers are known."""

from __future__ import annotations

from agents.harness.bench.report import aggregate, markdown, summarise
from agents.harness.configs import parse_suite

SUITE = parse_suite(
    {
        "name": "known",
        "tasks": [{"id": "memtape/Copy-v0"}, {"id": "memtape/Reverse-v0"}],
        "algorithms": [{"name": "a", "algo": "ppo"}],
        "seeds": list(range(10)),
        "budget": {"timesteps": 1000},
    },
    "test",
    check=False,
)


def _result(task: str, seed: int, solved: bool, top_step: int | None, capped: bool = False) -> dict:
    train = {
        "top_step": top_step,
        "threshold_step": None,
        "threshold": None,
        "final_return": 1.0,
        "max_curriculum": 30.0 if top_step else 5.0,
        "us_per_step": 100.0,
        "timesteps": 1000,
        "stopped_by": "wall_time" if capped else "budget",
    }
    top_eval = {"success_rate": 1.0 if solved else 0.5} if top_step else None
    return {"task_id": task, "algo_name": "a", "seed": seed, "status": "ok", "solved": solved, "train": train,
            "top_eval": top_eval, "eval": []}  # fmt: skip


RESULTS = [_result("memtape/Copy-v0", s, s < 5, 1000 * (s + 1) if s < 5 else None) for s in range(10)] + [
    _result("memtape/Reverse-v0", s, True, 100, capped=s == 0) for s in range(10)
]


def test_fraction_solved_and_steps_to_top_carry_their_intervals() -> None:
    copy, reverse = summarise(SUITE, RESULTS)
    assert (copy["solved"], copy["runs"]) == (5, 10)
    assert (copy["solved_fraction"], copy["solved_low"], copy["solved_high"]) == (0.5, 0.2, 0.8)
    assert copy["steps_to_top_iqm"] == 3000.0  # IQM of 1000..5000: the mean of 2000, 3000, 4000
    assert copy["steps_to_top_low"] <= 3000.0 <= copy["steps_to_top_high"]
    assert copy["success_at_top"] == 0.5  # five runs at 1.0, five that never reached the top at 0
    assert (reverse["solved_fraction"], reverse["solved_low"], reverse["solved_high"]) == (1.0, 1.0, 1.0)
    assert reverse["wall_time_capped"] == 1 and copy["wall_time_capped"] == 0


def test_aggregate_across_tasks() -> None:
    (row,) = aggregate(SUITE, RESULTS)
    assert row["tasks"] == 2 and row["solved"].point == 0.75
    assert 0.5 < row["solved"].low < 0.75 < row["solved"].high <= 0.9  # only Copy's stratum varies


def test_markdown_shows_the_intervals() -> None:
    text = markdown(SUITE, RESULTS)
    assert "| memtape/Copy-v0 | a | 5/10 | 0.50 [0.20, 0.80] |" in text
    assert "Across tasks" in text and "0.75 [" in text


def test_per_task_budgets_and_per_algorithm_seeds_expand_into_the_grid() -> None:
    from agents.harness.bench.runs import expand

    suite = parse_suite(
        {
            "name": "mixed",
            "tasks": [{"id": "memtape/Copy-v0", "timesteps": 2e3}, {"id": "memtape/Reverse-v0"}],
            "algorithms": [{"name": "tuned", "algo": "ppo", "seeds": [0, 1, 2]}, {"name": "other", "algo": "a2c"}],
            "seeds": [0],
            "budget": {"timesteps": 1000},
        },
        "test",
        check=False,
    )
    cells = {(r.task_id, r.algo_name, r.seed): r.train["timesteps"] for r in expand(suite)}
    assert len(cells) == 2 * (3 + 1)
    assert cells[("memtape/Copy-v0", "tuned", 2)] == 2000 and cells[("memtape/Reverse-v0", "other", 0)] == 1000
    assert "1 to 3 seeds per cell, 1,000 to 2,000 (per task) env steps per run" in markdown(suite, [])


def test_repeated_algorithm_seeds_are_named() -> None:
    import pytest

    from agents.harness.configs import ConfigError

    data = {
        "name": "dup",
        "tasks": [{"id": "memtape/Copy-v0"}],
        "algorithms": [{"name": "a", "algo": "ppo", "seeds": [1, 1]}],
        "seeds": [0],
        "budget": {"timesteps": 1000},
    }
    with pytest.raises(ConfigError, match=r"algorithms\.0\.seeds"):
        parse_suite(data, "test", check=False)


def _finished_runs(root, suite) -> None:
    """Write result.json files for every run of `suite`, as finished runs would (Copy solved on even seeds)."""
    from agents.harness.bench.runs import expand, write_result

    for run in expand(suite):
        solved = run.task_id == "memtape/Copy-v0" and run.seed % 2 == 0
        result = _result(run.task_id, run.seed, solved, 500 if solved else None)
        write_result(root, run, {**result, "algo_name": run.algo_name, "spec_hash": run.spec_hash()})


def test_memtape_report_renders_finished_runs_without_running(tmp_path, capsys) -> None:
    from agents.harness.cli import main

    suite_file = tmp_path / "known.yml"
    data = {
        "name": "known",
        "tasks": [{"id": "memtape/Copy-v0"}, {"id": "memtape/Reverse-v0"}],
        "algorithms": [{"name": "a", "algo": "ppo"}],
        "seeds": list(range(10)),
        "budget": {"timesteps": 1000},
    }
    import yaml

    suite_file.write_text(yaml.safe_dump(data))
    out = tmp_path / "runs"
    _finished_runs(out, parse_suite(data, "test", check=False))
    readme = tmp_path / "README.md"
    readme.write_text("# Results\n<!-- memtape report: known -->\nstale\n<!-- end memtape report: known -->\nrest\n")
    assert main(["report", str(suite_file), "--out", str(out), "--readme", str(readme)]) == 0
    text = readme.read_text()
    assert "stale" not in text and text.endswith("rest\n")
    assert "| task | a |" in text
    assert "| Copy-v0 | 5/10 [0.20, 0.80] |" in text and "| Reverse-v0 | 0/10 [0.00, 0.00] |" in text
    assert f"`memtape bench known --out {out.as_posix()}`" in text and "the 20 finished runs (of 20)" in text
    assert (out / "report.md").is_file() and (out / "generalisation.png").is_file()


def test_readme_without_markers_is_an_error(tmp_path) -> None:
    import pytest

    from agents.harness.bench.report import update_readme

    readme = tmp_path / "README.md"
    readme.write_text("# no markers\n")
    with pytest.raises(ValueError, match="memtape report: known"):
        update_readme(readme, "known", "table")
    assert readme.read_text() == "# no markers\n"


def test_report_from_result_files_alone_keeps_the_training_plots(tmp_path) -> None:
    """A committed leaderboard keeps only result.json per run: its report rebuilds the tables and the
    generalisation plot, and leaves the training-curve plots made from the full runs untouched."""
    from agents.harness.bench.suite import report_suite

    data = {
        "name": "known",
        "tasks": [{"id": "memtape/Copy-v0", "eval_lengths": [30]}],
        "algorithms": [{"name": "a", "algo": "ppo"}],
        "seeds": [0, 1],
        "budget": {"timesteps": 1000},
    }
    suite = parse_suite(data, "test", check=False)
    out = tmp_path / "runs"
    _finished_runs(out, suite)
    (out / "curriculum.png").write_bytes(b"made from the full runs")
    outcome = report_suite(suite, out)
    assert "curriculum" not in outcome.files and (out / "generalisation.png").is_file()
    assert (out / "curriculum.png").read_bytes() == b"made from the full runs"
    assert "| memtape/Copy-v0 | a | 1/2 |" in outcome.report
