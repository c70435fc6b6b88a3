"""Run benchmark runs with Ray Tune as the experiment runner, for grids that outgrow one machine.

Each run becomes one Tune trial (a grid over run indices) that calls the same `execute` as the local runner and
writes the same `result.json`, so resume, reports and plots do not care which backend ran a run. On a cluster,
`root` must be storage every node can write (a shared filesystem path).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from agents.harness.bench.local import OnDone
from agents.harness.bench.runs import RESULT_FILE, Run, execute_in_worker, read_result


def _trial(config: dict[str, Any], runs: list[Run], root: str) -> None:
    """One Tune trial: execute the run its config points at and report its headline numbers."""
    from ray import tune

    result = execute_in_worker(runs[config["run"]], root)
    train = result.get("train", {})
    tune.report(
        {
            "status_ok": float(result["status"] == "ok"),
            "solved": float(bool(result.get("solved"))),
            "final_return": train.get("final_return") or 0.0,
            "timesteps_total": train.get("timesteps", 0),
        }
    )


def run_ray(
    runs: list[Run],
    root: str | Path,
    cpus_per_run: float = 1.0,
    address: str | None = None,
    num_cpus: int | None = None,
    on_done: OnDone | None = None,
) -> list[dict]:
    """Execute `runs` as Tune trials on the Ray cluster at `address` (None starts a local instance)."""
    import ray
    from ray import tune

    root = Path(root).resolve()
    if not runs:
        return []
    started = False
    if not ray.is_initialized():
        ray.init(address=address, num_cpus=num_cpus, include_dashboard=False, log_to_driver=False)
        started = True
    try:
        trainable = tune.with_resources(tune.with_parameters(_trial, runs=runs, root=str(root)), {"cpu": cpus_per_run})
        tuner = tune.Tuner(
            trainable,
            param_space={"run": tune.grid_search(list(range(len(runs))))},
            run_config=tune.RunConfig(name="tune", storage_path=str(root / "_ray"), verbose=0),
        )
        grid = tuner.fit()
        errors = [r.error for r in grid if r.error is not None]
        if errors:
            raise RuntimeError(f"{len(errors)} Ray trial(s) failed; first error: {errors[0]}")
    finally:
        if started:
            ray.shutdown()
    results = []
    for run in runs:
        result = read_result(root, run)
        if result is None:  # an errored run: read its file anyway for the report
            path = root / run.dirname / RESULT_FILE
            result = json.loads(path.read_text()) if path.is_file() else {"status": "missing"}
        results.append(result)
        if on_done:
            on_done(run, result)
    return results
