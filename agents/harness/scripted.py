"""Scripted agents for `memtape play`: a random agent (any task) and the copy algorithm (1-D copy tasks).

Each is a callable from an observation (and the env, for its component names) to a MultiDiscrete action.
"""

from __future__ import annotations

from collections.abc import Callable

import gymnasium as gym
import numpy as np

ScriptedAgent = Callable[[np.ndarray], np.ndarray]


def random_agent(env: gym.Env) -> ScriptedAgent:
    """Uniform random actions from the env's action space."""
    return lambda obs: env.action_space.sample()


def copy_agent(env: gym.Env) -> ScriptedAgent:
    """Write the symbol under the input head, then move right: solves Copy and ClassicCopy."""
    base = env.unwrapped
    task = base.task
    if task.rows != 1 or "right" not in task.input_moves:
        raise ValueError(f"the copy agent needs a 1-D tape with a 'right' move; {task.name} has none")
    names = base.action_names
    right = task.input_moves.index("right")
    symbol_at = base.observation_names.index("input_symbol")

    def act(obs: np.ndarray) -> np.ndarray:
        action = np.zeros(len(names), dtype=np.int64)
        action[names.index("input_move")] = right
        action[names.index("output_write")] = 1
        action[names.index("output_symbol")] = min(int(obs[symbol_at]), task.output_base - 1)
        return action

    return act


SCRIPTED: dict[str, Callable[[gym.Env], ScriptedAgent]] = {"random": random_agent, "copy": copy_agent}
