"""`MemTapeVecEnv`: a Stable-Baselines3 `VecEnv` over the batched `TapeMachine`.

SB3 cannot take a Gymnasium `VectorEnv` (SB3 issues 1608, 1568, 1745), so this view speaks SB3's protocol: done
environments reset within the same step, `infos[i]["terminal_observation"]` holds the last observation and
`infos[i]["TimeLimit.truncated"]` marks truncation. It equals a `DummyVecEnv` of `MemTapeEnv`s seeded the same
way (env i gets seed + i). Importing this module imports SB3; `import memtape_env` does not.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces
from gymnasium.utils import seeding
from stable_baselines3.common.vec_env.base_vec_env import VecEnv, VecEnvIndices

import memtape_env  # noqa: F401  (registers the ids)
from memtape_env.machine import build_machine
from memtape_env.render import render_rgb
from memtape_env.validation import check_actions
from memtape_env.view import MachineView


class MemTapeVecEnv(MachineView, VecEnv):
    """`num_envs` environments of `env_id` (a memtape id or task name) for SB3 algorithms."""

    def __init__(
        self, env_id: str, num_envs: int, seed: int | None = None, render_mode: str | None = None, **env_kwargs: Any
    ) -> None:
        spec_kwargs: dict[str, Any] = {}
        if "/" in env_id:
            spec = gym.spec(env_id)
            spec_kwargs = dict(spec.kwargs)
            if spec.max_episode_steps is not None:
                spec_kwargs.setdefault("max_episode_steps", spec.max_episode_steps)
        else:
            spec_kwargs = {"task": env_id}
        spec_kwargs.update(env_kwargs)
        if render_mode not in (None, "rgb_array"):
            raise ValueError(f"MemTapeVecEnv renders rgb_array only, got render_mode={render_mode!r}")
        self._adopt(build_machine(num_envs=num_envs, **spec_kwargs))
        lay = self.machine.layout
        self.render_mode = render_mode  # before VecEnv.__init__, which reads it through get_attr
        super().__init__(num_envs, spaces.MultiDiscrete(lay.observation_nvec), spaces.MultiDiscrete(lay.action_nvec))
        self._actions: np.ndarray | None = None
        self._all = np.arange(num_envs)
        self._has_reset = False
        if seed is not None:
            self.seed(seed)

    def reset(self) -> np.ndarray:
        m = self.machine
        for i, s in enumerate(self._seeds):
            if s is not None or not self._has_reset:
                m.streams.use(i, seeding.np_random(s)[0])
        self._reset_seeds()
        self._reset_options()
        self._has_reset = True
        m.reset(self._all)
        return m.observe()

    def step_async(self, actions: np.ndarray) -> None:
        m = self.machine
        self._actions = check_actions(actions, m.layout.action_nvec, m.layout.action_names, self.num_envs)

    def step_wait(self):
        if not self._has_reset:
            raise RuntimeError("call reset() before step()")
        if self._actions is None:
            raise RuntimeError("step_wait() called without step_async()")
        m = self.machine
        reward, terminated, truncated, target = m.step(self._actions)
        self._actions = None
        done = terminated | truncated
        cut = (truncated & ~terminated).tolist()
        infos: list[dict[str, Any]] = [{"TimeLimit.truncated": c} for c in cut]  # as DummyVecEnv, every step
        for i in np.flatnonzero(target >= 0).tolist():
            infos[i]["target_symbol"] = int(target[i])
        if done.any():
            final = m.observe()
            idx = np.flatnonzero(done)
            for i in idx.tolist():
                infos[i]["terminal_observation"] = final[i]
            m.reset(idx)
        return m.observe(), reward.astype(np.float32), done, infos

    def close(self) -> None:
        """Nothing to release: the machine is plain arrays."""

    def get_images(self) -> Sequence[np.ndarray | None]:
        return [render_rgb(self.machine, i) for i in range(self.num_envs)]

    def get_attr(self, attr_name: str, indices: VecEnvIndices = None) -> list[Any]:
        return [getattr(self, attr_name) for _ in self._get_indices(indices)]

    def set_attr(self, attr_name: str, value: Any, indices: VecEnvIndices = None) -> None:
        raise AttributeError(f"MemTapeVecEnv environments share one machine; cannot set {attr_name!r} per env")

    def env_method(self, method_name: str, *method_args, indices: VecEnvIndices = None, **method_kwargs) -> list[Any]:
        method = getattr(self, method_name)
        return [method(*method_args, **method_kwargs) for _ in self._get_indices(indices)]

    def env_is_wrapped(self, wrapper_class: type[gym.Wrapper], indices: VecEnvIndices = None) -> list[bool]:
        return [False for _ in self._get_indices(indices)]
