"""One benchmark run = one (algorithm, task, seed) cell of a suite: its spec, its directory, its result file.

A run's `result.json` is written atomically as its very last act, so its presence means the run finished. On
resume, a run whose result exists with the same spec hash is skipped; a run without one (never started, or
killed midway) starts again from scratch in a clean directory, which keeps results deterministic per seed.
"""

from __future__ import annotations

import hashlib
import json
import traceback
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from agents.harness.atomic import atomic_write_json
from agents.harness.configs import Suite, resolved_entry, with_controller
from agents.harness.controller_setup import longest_input
from agents.harness.registry import SUPERVISED

RESULT_FILE = "result.json"
SUPERVISED_KEYS = ("algo", "env_id", "seed", "hyperparams", "wall_time_s", "stop_at_threshold")
"""The training fields of a supervised cell (`agents.harness.bench.supervised`); it adds its controller."""


@dataclass(frozen=True)
class Run:
    """A cell of the grid: labels, the training spec (as a dict for pickling) and the eval settings."""

    algo_name: str
    task_id: str
    seed: int
    train: dict[str, Any]
    eval_lengths: tuple[int, ...]
    eval_episodes: int
    max_steps_factor: int
    config: str = ""  # hash of the resolved hyperparameters (the preset file's entry): editing a preset reruns

    @property
    def dirname(self) -> str:
        return f"{self.algo_name}__{self.task_id.replace('/', '_')}__s{self.seed}"

    @property
    def label(self) -> str:
        return f"{self.algo_name} {self.task_id} seed={self.seed}"

    def spec_hash(self) -> str:
        """Hash of everything that determines the result (changing a budget invalidates old results)."""
        blob = json.dumps(asdict(self), sort_keys=True, default=str)
        return hashlib.sha256(blob.encode()).hexdigest()[:16]


def expand(suite: Suite, trust_imports: bool = False) -> list[Run]:
    """The suite's grid in a fixed order: task, then algorithm, then seed (`trust_imports`: see harness.train)."""
    runs = []
    for task in suite.tasks:
        for algo in suite.algorithms:
            if not algo.runs_on(task.id):
                continue
            lengths = [n for n in task.eval_lengths if algo.max_length is None or n <= algo.max_length]
            hyperparams = with_controller(algo.hyperparams, algo.controller)
            env_kwargs = {**task.env_kwargs, **algo.env_kwargs}
            longest = longest_input(task.id, lengths, algo.max_length) if algo.algo == "reinforce" else None
            if algo.algo == SUPERVISED:  # its own budget (hyperparams.steps, in updates) and the suite's controller
                hyperparams = dict(algo.hyperparams)
            timesteps = task.timesteps or suite.budget.timesteps
            if algo.timesteps is not None:
                timesteps = min(timesteps, algo.timesteps)
            config = config_hash(algo.algo, task.id, hyperparams, longest)
            for seed in algo.seeds or suite.seeds:
                train = {
                    "algo": algo.algo,
                    "env_id": task.id,
                    "seed": seed,
                    "timesteps": timesteps,
                    "hyperparams": hyperparams,
                    "env_kwargs": env_kwargs,
                    "threshold": task.threshold,
                    "window": suite.eval.window,
                    "stop_at_threshold": suite.budget.stop_at_threshold,
                    "wall_time_s": suite.budget.wall_time_s,
                    "checkpoint_freq": max(timesteps // 4, 1),
                    "max_length": longest,
                }
                if algo.algo == SUPERVISED:
                    train = {k: train[k] for k in SUPERVISED_KEYS}
                    train["controller"] = algo.controller
                if trust_imports:
                    train["trust_imports"] = True
                runs.append(
                    Run(
                        algo_name=algo.name,
                        task_id=task.id,
                        seed=seed,
                        train=train,
                        eval_lengths=tuple(lengths),
                        eval_episodes=suite.eval.episodes,
                        max_steps_factor=suite.eval.max_steps_factor,
                        config=config,
                    )
                )
    return runs


def config_hash(algo: str, env_id: str, hyperparams: dict[str, Any], longest: int | None) -> str:
    """Hash of the hyperparameters a cell really trains with: its row's overrides on the preset file's entry."""
    if algo == SUPERVISED:
        from agents.harness.bench.supervised import DEFAULTS

        resolved = {**DEFAULTS, **hyperparams}
    else:
        resolved = resolved_entry(algo, env_id, hyperparams, max_length=longest)
    blob = json.dumps(resolved, sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def read_result(root: str | Path, run: Run) -> dict[str, Any] | None:
    """The finished result of `run` under `root`, or None if missing, unreadable, failed or from another spec."""
    path = Path(root) / run.dirname / RESULT_FILE
    if not path.is_file():
        return None
    try:
        result = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError):
        return None
    ok = result.get("spec_hash") == run.spec_hash() and result.get("status") == "ok"
    return result if ok else None


def execute(run: Run, root: str | Path) -> dict[str, Any]:
    """Train and evaluate `run` in a clean `root/<run.dirname>` and write its result.json (atomically).

    `solved` is the benchmark's success test (`agents.harness.evaluate.is_solved`): the curriculum reached its top level
    and the trained policy then succeeds there. A run that raises still gets a result (status "error", with the
    traceback) so the report can show it; a resumed bench retries it. A run stopped by SIGINT/SIGTERM gets status
    "interrupted" and no result file, so a resumed bench runs it again.
    """
    from agents.harness.bench.curves import summarise
    from agents.harness.evaluate import LengthResult, evaluate_length, is_solved, longest_solved
    from agents.harness.train import TrainSpec, load_run, train

    out = Path(root) / run.dirname
    result: dict[str, Any] = {
        "algo_name": run.algo_name,
        "algo": run.train["algo"],
        "task_id": run.task_id,
        "seed": run.seed,
        "spec_hash": run.spec_hash(),
    }
    try:
        if run.train["algo"] == SUPERVISED:
            from agents.harness.bench.supervised import execute_supervised

            result.update(execute_supervised(run.train, run.eval_lengths, run.eval_episodes, out))
            result["status"] = "ok"
            write_result(root, run, result)
            return result
        trained = train(TrainSpec(**run.train), out, force=True)
        if trained.stopped_by == "interrupted":
            result["status"] = "interrupted"
            return result
        result["train"] = asdict(trained)
        result["curves"] = summarise(out, window=run.train["window"])  # the plots' input, kept without episodes.csv
        model, spec = load_run(out, device="cpu", trust_imports=bool(run.train.get("trust_imports")))

        def play(length: int, seed: int) -> LengthResult:
            return evaluate_length(
                model, spec.algo, run.task_id, spec.env_kwargs, length, run.eval_episodes, seed, run.max_steps_factor
            )

        at_top = None
        if trained.top_step is not None and trained.top_length is not None:
            at_top = play(int(trained.top_length), seed=20_000 + run.seed)
        result["top_eval"] = None if at_top is None else asdict(at_top)
        result["solved"] = is_solved(trained.top_step, at_top)
        evals = [play(n, seed=10_000 + run.seed + i) for i, n in enumerate(sorted(run.eval_lengths))]
        result["eval"] = [asdict(e) for e in evals]
        result["longest_solved"] = longest_solved(evals)
        result["status"] = "ok"
    except Exception:
        result["status"] = "error"
        result["error"] = traceback.format_exc()
    write_result(root, run, result)
    return result


def write_result(root: str | Path, run: Run, result: dict[str, Any]) -> None:
    """Write `result` as the run's result.json (creating its directory if the run never got that far)."""
    atomic_write_json(Path(root) / run.dirname / RESULT_FILE, result)


def failed_result(run: Run, error: str) -> dict[str, Any]:
    """The result of a run that ended without writing its own (its worker process died)."""
    return {
        "algo_name": run.algo_name,
        "algo": run.train["algo"],
        "task_id": run.task_id,
        "seed": run.seed,
        "spec_hash": run.spec_hash(),
        "status": "error",
        "error": error,
    }


def execute_in_worker(run: Run, root: str) -> dict[str, Any]:
    """Worker entry point: one torch thread, then `execute`."""
    import torch

    torch.set_num_threads(1)
    return execute(run, root)
