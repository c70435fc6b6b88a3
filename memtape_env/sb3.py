"""`MemTapeVecEnv`: a Stable-Baselines3 `VecEnv` over the batched `TapeMachine`.

SB3 cannot take a Gymnasium `VectorEnv` (SB3 issues 1608, 1568, 1745), so this view speaks SB3's protocol: done
environments reset within the same step, `infos[i]["terminal_observation"]` holds the last observation and
`infos[i]["TimeLimit.truncated"]` marks truncation. It equals a `DummyVecEnv` of `Monitor`-wrapped `MemTapeEnv`s
seeded the same way (env i gets seed + i), as `stable_baselines3.common.env_util.make_vec_env` builds it: every
episode end carries Monitor's `info["episode"]` (`r`, `l`, `t`) and `info["is_success"]`, so SB3's logger and
`evaluate_policy` need no extra wrapper. Importing this module imports SB3; `import memtape_env` does not.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces
from gymnasium.utils import seeding
from stable_baselines3.common.monitor import Monitor
from stable_baselines3.common.vec_env.base_vec_env import VecEnv, VecEnvIndices

import memtape_env  # noqa: F401  (registers the ids)
from memtape_env.machine import build_machine, machine_options
from memtape_env.render import render_rgb
from memtape_env.validation import check_actions
from memtape_env.view import MachineView, episode_success


class MemTapeVecEnv(MachineView, VecEnv):
    """`num_envs` environments of `env_id` for SB3 algorithms.

    The keyword-only arguments are those of `MemTapeEnv` (see its `## Arguments` table).

    :param env_id: a memtape id (its registration's `max_episode_steps` applies) or a task name
    :param num_envs: the number of environments
    :param seed: the seed of the first `reset` (env i gets seed + i), as `VecEnv.seed` sets it
    :param render_mode: None or "rgb_array" (the only mode an SB3 `VecEnv` renders)
    """

    def __init__(
        self,
        env_id: str,
        num_envs: int,
        seed: int | None = None,
        render_mode: str | None = None,
        *,
        curriculum: str | None = None,
        length: int | tuple[int, int] | None = None,
        max_length: int | None = None,
        memory: bool | None = None,
        memory_size: int | None = None,
        observe_prev_action: bool = False,
        observe_heads: bool = False,
        observe_tape: int | None = None,
        max_episode_steps: int | None = None,
    ) -> None:
        options = machine_options(locals())
        task = env_id
        if "/" in env_id:
            spec = gym.spec(env_id)
            task = spec.kwargs.get("task", env_id)
            if options["max_episode_steps"] is None:
                options["max_episode_steps"] = spec.max_episode_steps
        if render_mode not in (None, "rgb_array"):
            raise ValueError(f"MemTapeVecEnv renders rgb_array only, got render_mode={render_mode!r}")
        self._adopt(build_machine(task, num_envs, **options))
        lay = self.machine.layout
        self.render_mode = render_mode  # before VecEnv.__init__, which reads it through get_attr
        super().__init__(num_envs, spaces.MultiDiscrete(lay.observation_nvec), spaces.MultiDiscrete(lay.action_nvec))
        self._actions: np.ndarray | None = None
        self._all = np.arange(num_envs)
        self._has_reset = False
        self._t_start = time.time()  # Monitor's clock for info["episode"]["t"]
        if seed is not None:
            self.seed(seed)

    def reset(self) -> np.ndarray:
        m = self.machine
        given = [sorted(o) for o in self._options if o]
        if given:  # as DummyVecEnv passes them on to MemTapeEnv.reset, which takes none
            raise ValueError(f"MemTapeVecEnv.reset takes no options, got {given[0]} (set with set_options)")
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
            success = episode_success(reward, terminated)
            elapsed = round(time.time() - self._t_start, 6)
            for i in idx.tolist():
                info = infos[i]
                info["is_success"] = bool(success[i])
                info["episode"] = {"r": round(float(m.ep_return[i]), 6), "l": int(m.t[i]), "t": elapsed}
                info["terminal_observation"] = final[i]
            m.reset(idx)
        return m.observe(), reward.astype(np.float32), done, infos

    def close(self) -> None:
        """Nothing to release: the machine is plain arrays."""

    def get_images(self) -> Sequence[np.ndarray | None]:
        return [render_rgb(self.machine, i) for i in range(self.num_envs)]

    def _get_indices(self, indices: VecEnvIndices) -> list[int]:
        """`indices` as a list, each checked as DummyVecEnv's list lookup does (negative ones count from the end)."""
        out = list(super()._get_indices(indices))
        for i in out:
            if not isinstance(i, int | np.integer) or not -self.num_envs <= i < self.num_envs:
                raise IndexError(f"env index {i!r} out of range for {self.num_envs} envs")
        return out

    def get_attr(self, attr_name: str, indices: VecEnvIndices = None) -> list[Any]:
        """The attribute once per index; the environments share one machine, so every env has the same value."""
        return [getattr(self, attr_name) for _ in self._get_indices(indices)]

    def set_attr(self, attr_name: str, value: Any, indices: VecEnvIndices = None) -> None:
        raise AttributeError(f"MemTapeVecEnv environments share one machine; cannot set {attr_name!r} per env")

    def env_method(self, method_name: str, *method_args, indices: VecEnvIndices = None, **method_kwargs) -> list[Any]:
        """Call a method of the whole batch once, and return its result once per index. The environments share
        one machine, so a call on some of them only (`indices` a strict subset) is refused, not applied to all."""
        idx = self._get_indices(indices)
        if len({i % self.num_envs for i in idx}) != self.num_envs:
            raise ValueError(
                f"MemTapeVecEnv environments share one machine: env_method({method_name!r}) applies to all "
                f"{self.num_envs} envs at once, not to indices {idx}"
            )
        result = getattr(self, method_name)(*method_args, **method_kwargs)
        return [result for _ in idx]

    def env_is_wrapped(self, wrapper_class: type[gym.Wrapper], indices: VecEnvIndices = None) -> list[bool]:
        """True for `Monitor` only: the infos carry Monitor's `episode` entry, as if each env were wrapped."""
        return [issubclass(Monitor, wrapper_class) for _ in self._get_indices(indices)]
