"""Length generalisation: play a trained model on fixed lengths (curriculum="none", length=L), far beyond training.

All episodes of one length run side by side in one vector env (one episode per sub-env), with the deterministic
policy and, for recurrent models, the SB3 recurrent `predict(obs, state, episode_start)` protocol. An episode is a
success when it terminates with the whole output written and no wrong symbol (no negative reward).

The benchmark's one success test for a run (`is_solved`): its curriculum reached the top level during training,
and the trained policy then succeeds on at least `SOLVED_SUCCESS` of the episodes at that length.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.vec_env import VecEnv

from agents.harness.registry import canonical_algo


@dataclass
class LengthResult:
    """Outcome of the episodes played at one fixed length."""

    length: int
    episodes: int
    success_rate: float  # whole output correct
    mean_return: float
    mean_correct: float  # correct symbols written per episode (before the first error)
    truncated: float  # fraction that ran out of steps
    us_per_step: float  # wall time per env step (policy + env), batched over the episodes


SOLVED_SUCCESS = 0.9
"""Success rate at the top curriculum length above which a run counts as solved."""


def is_solved(top_step: int | None, at_top: LengthResult | None) -> bool:
    """A run is solved when its curriculum reached the top (`top_step`) and it succeeds there (`at_top`)."""
    return top_step is not None and at_top is not None and at_top.success_rate >= SOLVED_SUCCESS


def eval_env_kwargs(env_kwargs: dict[str, Any], length: int, max_steps: int) -> dict[str, Any]:
    """Training env kwargs turned into fixed-length evaluation kwargs.

    The registered `max_episode_steps` (200 for the classic tasks) is lifted to `max_steps` so that long inputs
    are limited only by the task's own internal step limit.
    """
    drop = ("curriculum", "length", "max_length", "max_episode_steps")
    kwargs = {k: v for k, v in env_kwargs.items() if k not in drop}
    return {**kwargs, "curriculum": "none", "length": int(length), "max_episode_steps": int(max_steps)}


def evaluate_length(
    model: BaseAlgorithm,
    algo: str,
    env_id: str,
    env_kwargs: dict[str, Any],
    length: int,
    episodes: int,
    seed: int = 0,
    max_steps_factor: int = 20,
) -> LengthResult:
    """Play `episodes` episodes at `length` and score them."""
    return evaluate_episodes(model, algo, env_id, env_kwargs, length, episodes, seed, max_steps_factor)[0]


def evaluate_episodes(
    model: BaseAlgorithm,
    algo: str,
    env_id: str,
    env_kwargs: dict[str, Any],
    length: int,
    episodes: int,
    seed: int = 0,
    max_steps_factor: int = 20,
    vec_wrapper: Callable[[VecEnv], VecEnv] | None = None,
) -> tuple[LengthResult, np.ndarray]:
    """`evaluate_length`, also returning each episode's success (episode i is the one sub-env i played).

    The per-episode outcomes let an experiment split the score by what the inputs held; `vec_wrapper` wraps the
    evaluation env (an experiment that scripts part of the action, or records what the policy does).
    """
    from agents.harness.train import check_spaces, make_vec_env

    limit = max_steps_factor * int(length) + 100  # a guard: the env truncates on its own
    base = make_vec_env(canonical_algo(algo), env_id, episodes, seed, eval_env_kwargs(env_kwargs, length, limit))
    env = base
    try:  # the env is closed whatever raises: the wrapper, the space check or the policy
        if vec_wrapper is not None:
            env = vec_wrapper(base)
        check_spaces(model, env, f"{env_id} at length {length}")
        obs = env.reset()
        state = None
        starts = np.ones(episodes, dtype=bool)
        active = np.ones(episodes, dtype=bool)
        returns = np.zeros(episodes)
        correct = np.zeros(episodes)
        wrong = np.zeros(episodes, dtype=bool)
        truncated = np.zeros(episodes, dtype=bool)
        steps = 0
        start = time.perf_counter()
        for _ in range(limit):
            actions, state = model.predict(obs, state=state, episode_start=starts, deterministic=True)
            obs, rewards, dones, infos = env.step(actions)
            steps += 1
            rewards = np.where(active, rewards, 0.0)
            returns += rewards
            correct += rewards > 0
            wrong |= active & (rewards < 0) & (rewards > -1)
            for i in np.flatnonzero(active & dones):
                truncated[i] = bool(infos[i].get("TimeLimit.truncated", False)) or rewards[i] <= -1
            active &= ~dones
            starts = dones
            if not active.any():
                break
        elapsed = time.perf_counter() - start
    finally:
        env.close()
    truncated |= active  # never finished within our own cap
    success = ~wrong & ~truncated
    result = LengthResult(
        length=int(length),
        episodes=episodes,
        success_rate=float(success.mean()),
        mean_return=float(returns.mean()),
        mean_correct=float(correct.mean()),
        truncated=float(truncated.mean()),
        us_per_step=1e6 * elapsed / max(steps * episodes, 1),
    )
    return result, success


def longest_solved(results: list[LengthResult]) -> int | None:
    """The longest evaluated length with zero errors in every episode (None if none)."""
    solved = [r.length for r in results if r.success_rate == 1.0]
    return max(solved) if solved else None
