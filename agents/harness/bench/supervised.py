"""The supervised trainer as a bench algorithm: each architecture's backprop-only upper bound beside its RL row.

A suite row with `algo: supervised` and a `controller` (lstm, gru, dnc, neural_gpu, ...) trains that controller
by backprop on the task's (input, target) pairs (`agents.supervised.Trainer`) with the same length curriculum top
as the env (`curriculum.top_level`), then scores it with the bench's one success test: the curriculum reached its
top and at least `SOLVED_SUCCESS` of fresh sequences at that length are answered exactly, and the success rate at
each evaluation length is the fraction of whole answers correct, as an env episode succeeds when its whole output
is correct. The budget is in optimizer steps (`hyperparams.steps`, batches of `batch_size` sequences), not env
steps: the report's step columns count updates for these rows.
"""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path
from typing import Any

from agents.harness.controller_setup import task_name
from agents.harness.evaluate import SOLVED_SUCCESS, LengthResult, longest_solved

DEFAULTS = {"steps": 5_000, "batch_size": 32, "lr": 1e-3, "eval_every": 50, "eval_samples": 64}
"""Bench defaults under a row's `hyperparams` (see `agents.supervised.SupervisedConfig` for every field)."""
OWNED = ("task", "controller", "seed", "max_length", "checkpoint", "test_lengths", "time_budget", "stop_accuracy")
"""Config fields the bench sets from the suite itself; a row's hyperparams may not set them."""


def top_length(env_id: str) -> int:
    """The env's curriculum top level: the length a supervised run must reach, as an RL run must."""
    import gymnasium as gym

    import memtape_env  # noqa: F401 - registers the ids

    env = gym.make(env_id)
    try:
        return int(env.unwrapped.curriculum.top_level)
    finally:
        env.close()


def supervised_config(
    env_id: str,
    controller: str,
    hyperparams: dict[str, Any],
    seed: int,
    wall_time_s: float | None = None,
    stop_when_solved: bool = False,
    checkpoint: str | None = None,
) -> Any:
    """The validated `SupervisedConfig` of one cell (raises ValueError naming a bad or bench-owned field)."""
    from agents.supervised import SupervisedConfig

    names = {f.name for f in dataclasses.fields(SupervisedConfig)}
    for key in hyperparams:
        if key not in names:
            raise ValueError(f"supervised: unknown hyperparameter {key!r} (known: {sorted(names - set(OWNED))})")
        if key in OWNED:
            raise ValueError(f"supervised: hyperparameter {key!r} is set by the suite, not by the row")
    cfg = SupervisedConfig(
        **{**DEFAULTS, **hyperparams},
        task=task_name(env_id),
        controller=controller,
        seed=seed,
        max_length=top_length(env_id),
        checkpoint=checkpoint,
        time_budget=float(wall_time_s or 0.0),
        stop_accuracy=SOLVED_SUCCESS if stop_when_solved else 0.0,
        threads=1,
        device="cpu",
    )
    cfg.validate()
    return cfg


def check_supervised_run(train: dict[str, Any]) -> None:
    """Build one cell's config and model, so that what would fail at run time fails now (`memtape bench --check`)."""
    from agents.supervised import Trainer

    Trainer(supervised_config(train["env_id"], train["controller"], train["hyperparams"], train["seed"]))


def execute_supervised(train: dict[str, Any], eval_lengths: tuple[int, ...], episodes: int, out: Path) -> dict:
    """Train one supervised cell into `out` and return the result fields the report reads (`train`, `solved`, ...)."""
    from agents.supervised import Trainer

    out.mkdir(parents=True, exist_ok=True)
    cfg = supervised_config(
        train["env_id"],
        train["controller"],
        train["hyperparams"],
        train["seed"],
        train.get("wall_time_s"),
        train.get("stop_at_threshold", False),
        checkpoint=str(out / "supervised.pt"),
    )
    cfg.test_samples = cfg.test_batch = episodes
    trainer = Trainer(cfg)
    start = time.monotonic()
    trainer.train(log=False)
    wall = time.monotonic() - start
    top = cfg.max_length
    test_lengths = sorted(eval_lengths)
    rates = trainer.test([top, *test_lengths], log=False)
    evals = [_length_result(r) for r in rates]
    at_top = evals[0] if trainer.top_step is not None else None
    return {
        "train": {
            "timesteps": trainer.step,
            "wall_time_s": wall,
            "episodes": trainer.step * cfg.batch_size,
            "final_return": None,
            "threshold": None,
            "threshold_step": None,
            "threshold_time_s": None,
            "max_curriculum": float(trainer.length),
            "stopped_by": {"time_budget": "wall_time"}.get(trainer.stopped_by, trainer.stopped_by),
            "us_per_step": 1e6 * wall / max(trainer.step, 1),
            "top_length": float(top),
            "top_step": trainer.top_step,
            "top_time_s": None,
            "unit": "updates",
        },
        "top_eval": None if at_top is None else dataclasses.asdict(at_top),
        "solved": at_top is not None and at_top.success_rate >= SOLVED_SUCCESS,
        "eval": [dataclasses.asdict(e) for e in evals[1:]],
        "longest_solved": longest_solved(evals[1:]),
    }


def _length_result(rates: Any) -> LengthResult:
    """A supervised test (`ErrorRates`) as the bench's per-length result: success = the whole answer correct."""
    return LengthResult(
        length=int(rates.length),
        episodes=int(rates.n),
        success_rate=1.0 - float(rates.sequence_error),
        mean_return=None,  # type: ignore[arg-type] # no env, no return
        mean_correct=None,  # type: ignore[arg-type]
        truncated=0.0,
        us_per_step=None,  # type: ignore[arg-type]
    )
