"""The benchmark harness end to end on a tiny suite: runs, reports, plots, determinism, and resume after a kill."""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import yaml

from agents.harness.bench.runs import RESULT_FILE, expand, read_result
from agents.harness.bench.suite import run_suite
from agents.harness.configs import parse_suite

TINY_PPO = {"n_envs": 2, "n_steps": 32, "batch_size": 32, "n_epochs": 1}
TINY_REINFORCE = {"n_envs": 2, "batch_episodes": 2, "policy_kwargs": {"controller_kwargs": {"hidden_size": 8}}}


def tiny_suite_data(seeds: list[int], timesteps: int = 128) -> dict:
    return {
        "name": "tiny",
        "tasks": [{"id": "memtape/ClassicCopy-v0", "eval_lengths": [2, 4]}],
        "algorithms": [
            {"name": "ppo", "algo": "ppo", "hyperparams": TINY_PPO},
            {"name": "reinforce_lstm", "algo": "reinforce", "controller": "lstm", "hyperparams": TINY_REINFORCE},
        ],
        "seeds": seeds,
        "budget": {"timesteps": timesteps},
        "eval": {"episodes": 2, "window": 5},
    }


def test_tiny_suite_end_to_end(tmp_path: Path) -> None:
    suite = parse_suite(tiny_suite_data([0]), "tiny")
    outcome = run_suite(suite, tmp_path / "out", progress=False)
    assert [r["status"] for r in outcome.results] == ["ok", "ok"], outcome.results
    for r in outcome.results:
        assert r["train"]["timesteps"] >= 128
        assert [e["length"] for e in r["eval"]] == [2, 4]
        assert all(0.0 <= e["success_rate"] <= 1.0 for e in r["eval"])
        assert r["curves"]["step"][-1] <= r["train"]["timesteps"] and r["curves"]["window"] == suite.eval.window
    for name in ("report.md", "summary.csv", "runs.csv", "curriculum.png", "learning_curves.png", "generalisation.png"):
        assert (tmp_path / "out" / name).stat().st_size > 0
    report = (tmp_path / "out" / "report.md").read_text()
    assert "| memtape/ClassicCopy-v0 | ppo | 0/1 |" in report and "reinforce_lstm" in report
    with (tmp_path / "out" / "summary.csv").open() as f:
        rows = list(csv.DictReader(f))
    assert [r["algorithm"] for r in rows] == ["ppo", "reinforce_lstm"]
    run_dir = tmp_path / "out" / expand(suite)[0].dirname
    assert {"model.zip", "run.json", "episodes.csv", RESULT_FILE, "tb"} <= {p.name for p in run_dir.iterdir()}
    assert not list((tmp_path / "out").rglob("*.tmp")), "atomic writes left temp files behind"

    # A second bench resumes everything and repeats nothing.
    before = {p: p.stat().st_mtime_ns for p in (tmp_path / "out").glob(f"*/{RESULT_FILE}")}
    again = run_suite(suite, tmp_path / "out", progress=False)
    assert again.resumed == 2
    assert before == {p: p.stat().st_mtime_ns for p in (tmp_path / "out").glob(f"*/{RESULT_FILE}")}


def test_same_seed_same_results(tmp_path: Path) -> None:
    suite = parse_suite(tiny_suite_data([3]), "tiny")
    first = run_suite(suite, tmp_path / "a", progress=False).results
    second = run_suite(suite, tmp_path / "b", progress=False).results

    def timeless(evals: list[dict]) -> list[dict]:
        return [{k: v for k, v in e.items() if k != "us_per_step"} for e in evals]

    for a, b in zip(first, second, strict=True):
        assert timeless(a["eval"]) == timeless(b["eval"])
        assert a["train"]["final_return"] == b["train"]["final_return"]
        assert a["train"]["episodes"] == b["train"]["episodes"]


def test_changed_budget_reruns_and_errors_are_reported(tmp_path: Path) -> None:
    data = tiny_suite_data([0])
    data["algorithms"] = data["algorithms"][:1]
    suite = parse_suite(data, "tiny")
    run_suite(suite, tmp_path, progress=False)
    run = expand(suite)[0]
    assert read_result(tmp_path, run) is not None
    data["budget"]["timesteps"] = 64
    changed = parse_suite(data, "tiny")
    assert read_result(tmp_path, expand(changed)[0]) is None  # another spec: not trusted, rerun
    # A run that fails records an error result (the report lists it) and is retried on resume.
    data["algorithms"][0]["hyperparams"] = {**TINY_PPO, "batch_size": 0}
    broken = parse_suite(data, "tiny", check=False)
    outcome = run_suite(broken, tmp_path / "broken", progress=False)
    assert outcome.results[0]["status"] == "error"
    assert "Failed runs" in outcome.report
    assert read_result(tmp_path / "broken", expand(broken)[0]) is None


def test_two_local_workers(tmp_path: Path) -> None:
    data = tiny_suite_data([0, 1])
    data["algorithms"] = data["algorithms"][:1]
    outcome = run_suite(parse_suite(data, "tiny"), tmp_path, workers=2, progress=False)
    assert [r["seed"] for r in outcome.results] == [0, 1]
    assert all(r["status"] == "ok" for r in outcome.results)


def test_killed_bench_resumes_without_losing_or_repeating_runs(tmp_path: Path) -> None:
    """Kill `memtape bench` after its first finished run, rerun it, and check every finished run survives."""
    suite_file = tmp_path / "tiny.yml"
    data = tiny_suite_data([0, 1, 2], timesteps=256)
    data["algorithms"] = data["algorithms"][:1]
    suite_file.write_text(yaml.safe_dump(data))
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "agents.harness.cli", "bench", str(suite_file), "--out", str(out), "--workers", "1"]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen([*cmd, "--no-progress"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 300
    while not list(out.glob(f"*/{RESULT_FILE}")):
        assert proc.poll() is None, proc.communicate()[0].decode()[-2000:]
        assert time.monotonic() < deadline, "no run finished in time"
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    finished = {p: p.read_bytes() for p in out.glob(f"*/{RESULT_FILE}")}
    assert 1 <= len(finished) < 3
    mtimes = {p: p.stat().st_mtime_ns for p in finished}

    done = subprocess.run([*cmd, "--no-progress"], env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert f"3 runs ({len(finished)} resumed)" in done.stdout
    results = sorted(out.glob(f"*/{RESULT_FILE}"))
    assert len(results) == 3
    for path, content in finished.items():  # not lost, not repeated
        assert path.read_bytes() == content and path.stat().st_mtime_ns == mtimes[path]
    assert all(json.loads(p.read_text())["status"] == "ok" for p in results)


def test_mini_suite_two_tasks_two_seeds_run_part_by_part(tmp_path: Path) -> None:
    """The 2-task, 2-seed mini suite: run one part (--tasks/--algorithms), then the rest; the report covers both."""
    data = tiny_suite_data([0, 1], timesteps=64)
    data["tasks"].append({"id": "memtape/ClassicReverse-v0", "eval_lengths": [2]})
    suite = parse_suite(data, "tiny")
    part = run_suite(suite, tmp_path / "out", progress=False, tasks=["memtape/ClassicReverse-v0"], algorithms=["ppo"])
    assert [(r["task_id"], r["algo_name"], r["seed"]) for r in part.results] == [
        ("memtape/ClassicReverse-v0", "ppo", 0),
        ("memtape/ClassicReverse-v0", "ppo", 1),
    ]
    rest = run_suite(suite, tmp_path / "out", progress=False)
    assert rest.resumed == 2 and len(rest.results) == 8
    assert all(r["status"] == "ok" for r in rest.results)
    assert "| memtape/ClassicReverse-v0 | reinforce_lstm | 0/2 |" in rest.report


def test_selection_names_what_the_suite_lacks(tmp_path: Path) -> None:
    suite = parse_suite(tiny_suite_data([0]), "tiny")
    for kwargs, named in (({"tasks": ["memtape/Copy-v0"]}, "memtape/Copy-v0"), ({"algorithms": ["dqn"]}, "dqn")):
        try:
            run_suite(suite, tmp_path / "out", progress=False, **kwargs)
        except ValueError as err:
            assert named in str(err) and "it has" in str(err)
        else:
            raise AssertionError(f"{kwargs} was accepted")
    assert not list((tmp_path / "out").glob(f"*/{RESULT_FILE}")) if (tmp_path / "out").exists() else True


def test_editing_a_preset_reruns_its_cells(tmp_path: Path, monkeypatch) -> None:
    """A run's spec hash covers the resolved preset entry: a changed hyperparameter file invalidates old results."""
    monkeypatch.chdir(tmp_path)
    suite = parse_suite(tiny_suite_data([0]), "tiny")
    before = {run.dirname: run.spec_hash() for run in expand(suite)}
    conf = tmp_path / "configs" / "hyperparams"
    conf.mkdir(parents=True)
    (conf / "ppo.yml").write_text("default:\n  n_envs: 2\n  policy: MlpPolicy\n  ent_coef: 0.05\n")
    after = {run.dirname: run.spec_hash() for run in expand(suite)}
    changed = {name for name in before if before[name] != after[name]}
    assert changed == {run.dirname for run in expand(suite) if run.algo_name == "ppo"}


def test_a_row_cap_lowers_only_that_rows_budget() -> None:
    data = tiny_suite_data([0], timesteps=500)
    data["algorithms"][0]["timesteps"] = 200
    suite = parse_suite(data, "tiny")
    assert {run.algo_name: run.train["timesteps"] for run in expand(suite)} == {"ppo": 200, "reinforce_lstm": 500}
    data["algorithms"].append({"name": "sup", "algo": "supervised", "controller": "lstm", "timesteps": 5})
    try:
        parse_suite(data, "tiny")
    except Exception as err:  # noqa: BLE001 - pydantic wraps it into the config error
        assert "hyperparams.steps" in str(err)
    else:
        raise AssertionError("a supervised row with timesteps was accepted")
