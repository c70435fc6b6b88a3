"""Flatten a MultiDiscrete action space into one Discrete space, for algorithms that need it (SB3 DQN).

Action index i maps to the MultiDiscrete action `numpy.unravel_index(i, nvec)` (C order, so the last component
varies fastest). Use it as rl_zoo3's `env_wrapper: agents.policies.discrete_actions.DiscreteActions`.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np


class DiscreteActions(gym.ActionWrapper):
    """Expose `Discrete(prod(nvec))` over an env whose action space is `MultiDiscrete(nvec)`."""

    def __init__(self, env: gym.Env) -> None:
        super().__init__(env)
        space = env.action_space
        if not isinstance(space, gym.spaces.MultiDiscrete) or space.nvec.ndim != 1:
            raise TypeError(f"DiscreteActions needs a 1-D MultiDiscrete action space, got {space}")
        self.nvec = space.nvec.astype(np.int64)
        self.action_space = gym.spaces.Discrete(int(np.prod(self.nvec)))

    def action(self, action: Any) -> np.ndarray:
        """The MultiDiscrete action for a flat index."""
        index = int(np.asarray(action).reshape(()))
        if not 0 <= index < self.action_space.n:
            raise ValueError(f"action {index} out of range for Discrete({self.action_space.n})")
        return np.array(np.unravel_index(index, tuple(self.nvec)), dtype=np.int64)
